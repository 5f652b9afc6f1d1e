"""Tables of the organizations service: the registry and the accounts."""
import datetime as dt
from decimal import Decimal

from sqlalchemy import (Boolean, Date, DateTime, Float, ForeignKey, Integer, Numeric, String, Table, Column,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kit.db import declarative_base, standard_tables, utcnow

Base = declarative_base()
OutboxEvent, InboxEntry, IdempotencyRecord = standard_tables(Base)


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Region(Timestamped, Base):
    """A node of the jurisdiction tree above compounds: county, street/town or community."""
    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    path: Mapped[str] = mapped_column(String(200), index=True, default="")  # "/1/4/17/"


contract_compounds = Table(
    "contract_compounds", Base.metadata,
    Column("contract_id", ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True),
    Column("compound_id", ForeignKey("compounds.id"), primary_key=True, index=True),
)


class Compound(Timestamped, Base):
    __tablename__ = "compounds"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    community_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    path: Mapped[str] = mapped_column(String(200), index=True)  # its community's path
    address: Mapped[str | None] = mapped_column(String(200))
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    year_built: Mapped[int | None] = mapped_column(Integer)
    building_count: Mapped[int] = mapped_column(Integer, default=0)
    households: Mapped[int] = mapped_column(Integer, default=0)
    floor_area: Mapped[float] = mapped_column(Float, default=0.0)
    old_compound: Mapped[bool] = mapped_column(Boolean, default=False)
    self_managed: Mapped[bool] = mapped_column(Boolean, default=False)

    community: Mapped[Region] = relationship(lazy="joined")
    buildings: Mapped[list["Building"]] = relationship(back_populates="compound", order_by="Building.id")
    contracts: Mapped[list["Contract"]] = relationship(secondary=contract_compounds, back_populates="compounds")
    owner_organizations: Mapped[list["OwnerOrganization"]] = relationship(back_populates="compound")
    party_organizations: Mapped[list["PartyOrganization"]] = relationship(back_populates="compound")


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("compound_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    units: Mapped[int] = mapped_column(Integer, default=1)
    households: Mapped[int] = mapped_column(Integer, default=0)
    compound: Mapped[Compound] = relationship(back_populates="buildings")


class PartyOrganization(Timestamped, Base):
    """A party organization: a compound's branch, a company's (entity/functional/joint) or a community's."""
    __tablename__ = "party_organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(30))
    form: Mapped[str | None] = mapped_column(String(20))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    founded_on: Mapped[dt.date | None] = mapped_column(Date)
    dissolved_on: Mapped[dt.date | None] = mapped_column(Date)
    compound: Mapped[Compound | None] = relationship(back_populates="party_organizations")
    companies: Mapped[list["Company"]] = relationship(back_populates="party_organization")


class Company(Timestamped, Base):
    __tablename__ = "companies"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    staff_count: Mapped[int] = mapped_column(Integer, default=0)
    state_owned: Mapped[bool] = mapped_column(Boolean, default=False)
    party_member_count: Mapped[int] = mapped_column(Integer, default=0)
    party_organization_id: Mapped[int | None] = mapped_column(ForeignKey("party_organizations.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    service_phone: Mapped[str | None] = mapped_column(String(30))  # the company's public line, not a person's
    party_organization: Mapped[PartyOrganization | None] = relationship(back_populates="companies",
                                                                         lazy="joined")
    contracts: Mapped[list["Contract"]] = relationship(back_populates="company")


class Contract(Timestamped, Base):
    """A property service project (物业服务项目): one company, one or several compounds (bundled tenders)."""
    __tablename__ = "contracts"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    residential: Mapped[bool] = mapped_column(Boolean, default=True)
    households: Mapped[int] = mapped_column(Integer, default=0)
    floor_area: Mapped[float] = mapped_column(Float, default=0.0)
    fee_standard: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))  # yuan per m² per month
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    terminated_on: Mapped[dt.date | None] = mapped_column(Date)
    termination_reason: Mapped[str | None] = mapped_column(String(200))
    company: Mapped[Company] = relationship(back_populates="contracts", lazy="joined")
    compounds: Mapped[list[Compound]] = relationship(secondary=contract_compounds, back_populates="contracts")


class OwnerOrganization(Timestamped, Base):
    __tablename__ = "owner_organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compounds.id"), index=True)
    type: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(120))
    term_start: Mapped[dt.date | None] = mapped_column(Date)
    term_end: Mapped[dt.date | None] = mapped_column(Date)
    dissolved_on: Mapped[dt.date | None] = mapped_column(Date)
    compound: Mapped[Compound] = relationship(back_populates="owner_organizations")


class Department(Timestamped, Base):
    """A county department that answers some tickets (城管, 公安, 消防, 市场监管, 生态环境 …)."""
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)


class Person(Timestamped, Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str | None] = mapped_column(String(30))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)  # who registered them


class Appointment(Timestamped, Base):
    """A person's position in a party organization, owners' organization or company (交叉任职 when several)."""
    __tablename__ = "appointments"
    __table_args__ = (UniqueConstraint("person_id", "organization_kind", "organization_id", "title"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    organization_kind: Mapped[str] = mapped_column(String(20))  # party | owners | company
    organization_id: Mapped[int] = mapped_column(Integer)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"), index=True)
    title: Mapped[str] = mapped_column(String(60))
    person: Mapped[Person] = relationship(lazy="joined")


class Account(Timestamped, Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    memberships: Mapped[list["Membership"]] = relationship(back_populates="account", lazy="selectin",
                                                           cascade="all, delete-orphan")


class Membership(Timestamped, Base):
    """A role an account holds somewhere: staff of a region, company or department; resident of a room; member of
    an owners' organization or party branch."""
    __tablename__ = "memberships"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compounds.id"))
    organization_id: Mapped[int | None] = mapped_column(Integer)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    room: Mapped[str | None] = mapped_column(String(40))
    account: Mapped[Account] = relationship(back_populates="memberships")


class ApiClient(Timestamped, Base):
    """Another system (12345 hotline, city platform, data warehouse) calling the API."""
    __tablename__ = "api_clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    client_id: Mapped[str] = mapped_column(String(40), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
