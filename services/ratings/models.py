"""Tables of the ratings service. Inputs to scores are kept as facts with the time they became known
(`recorded_at`, `revoked_at`, `published_at`, …), so a year's stars can be recomputed as of the moment they were
drafted and give the same result."""
import datetime as dt

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kit.db import declarative_base, standard_tables, utcnow
from kit.registry_copy import registry_copy_tables

# PostgreSQL parses JSON text again at every `->>`; JSONB is parsed once, on write (publishing reads each answer)
ANSWERS = JSON().with_variant(JSONB(), "postgresql")

Base = declarative_base()
OutboxEvent, InboxEntry, IdempotencyRecord = standard_tables(Base)
REGISTRY = registry_copy_tables(Base)
RegionCopy, CompoundCopy, CompanyCopy = REGISTRY.region, REGISTRY.compound, REGISTRY.company


class RuleTableVersion(Base):
    """A county's credit rule table (加分减分表), one row per published version; none as county = platform default."""
    __tablename__ = "rule_tables"
    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int | None] = mapped_column(Integer, index=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[dict] = mapped_column(JSON)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    published_by: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# ----- owner evaluations (业主评议) -----
class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int] = mapped_column(Integer)
    region_path: Mapped[str] = mapped_column(String(200), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    dimensions: Mapped[list] = mapped_column(JSON)
    participation_threshold: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))  # open, published
    closes_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    compounds: Mapped[list["CampaignCompound"]] = relationship(order_by="CampaignCompound.compound_id",
                                                                back_populates="campaign")


class CampaignCompound(Base):
    """A compound in a campaign: its electorate (households) and company as of opening, its result once published."""
    __tablename__ = "campaign_compounds"
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    compound_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    households: Mapped[int] = mapped_column(Integer)
    votes: Mapped[int | None] = mapped_column(Integer)
    participation: Mapped[float | None] = mapped_column(Float)
    valid: Mapped[bool | None] = mapped_column(Boolean)
    score: Mapped[float | None] = mapped_column(Float)
    dimension_scores: Mapped[dict | None] = mapped_column(JSON)
    campaign: Mapped[Campaign] = relationship(back_populates="compounds")


class Ballot(Base):
    """One household's vote. The unique key is the household, not the account: two residents of one room share it."""
    __tablename__ = "ballots"
    __table_args__ = (UniqueConstraint("campaign_id", "compound_id", "room", name="uq_ballots_household"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    compound_id: Mapped[int] = mapped_column(Integer)
    company_id: Mapped[int] = mapped_column(Integer)
    room: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict] = mapped_column(ANSWERS)
    score: Mapped[float] = mapped_column(Float)
    cast_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# ----- credit (信用评价) -----
class CreditRecord(Base):
    __tablename__ = "credit_records"
    __table_args__ = (Index("ix_credit_records_company_dates", "company_id", "occurred_on", "valid_until"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer)
    compound_id: Mapped[int | None] = mapped_column(Integer, index=True)
    county_id: Mapped[int] = mapped_column(Integer, index=True)
    region_path: Mapped[str] = mapped_column(String(200))  # the compound's, or the county's for company-wide items
    rule_table_id: Mapped[int] = mapped_column(ForeignKey("rule_tables.id"))
    item_code: Mapped[str] = mapped_column(String(40))
    item_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    points: Mapped[float] = mapped_column(Float)   # positive, as the item said when recorded
    veto: Mapped[bool] = mapped_column(Boolean, default=False)
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)  # exclusive
    source: Mapped[str] = mapped_column(String(10))     # manual, automatic (from events and selections)
    authority: Mapped[str] = mapped_column(String(20))  # community, street, bureau, system
    evidence_kind: Mapped[str | None] = mapped_column(String(20))
    evidence_ref: Mapped[str | None] = mapped_column(String(100))
    evidence_note: Mapped[str | None] = mapped_column(Text)
    source_event_id: Mapped[str | None] = mapped_column(String(100), unique=True)  # one record per triggering event
    status: Mapped[str] = mapped_column(String(10), default="active")  # active, objected, revoked
    recorded_by: Mapped[int | None] = mapped_column(Integer)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    objection: Mapped[str | None] = mapped_column(Text)
    objected_by: Mapped[int | None] = mapped_column(Integer)
    objected_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decision: Mapped[str | None] = mapped_column(String(10))  # upheld, revoked
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class TicketOutcome(Base):
    """What tickets told us about one ticket a company received: enough for the yearly ticket performance."""
    __tablename__ = "ticket_outcomes"
    ticket_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    compound_id: Mapped[int] = mapped_column(Integer)
    year: Mapped[int] = mapped_column(Integer, index=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolved_on_time: Mapped[bool | None] = mapped_column(Boolean)
    rated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    satisfaction: Mapped[str | None] = mapped_column(String(30))


# ----- yearly star rating (星级评定) -----
class StarRating(Base):
    __tablename__ = "star_ratings"
    __table_args__ = (UniqueConstraint("county_id", "year", name="uq_star_ratings_county_year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(Integer)
    county_path: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    rule_table_id: Mapped[int] = mapped_column(ForeignKey("rule_tables.id"))
    status: Mapped[str] = mapped_column(String(10))  # draft, notice, final
    as_of: Mapped[dt.datetime] = mapped_column(DateTime)  # inputs known at this moment were counted
    notice_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    noticed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finalized_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    entries: Mapped[list["StarRatingEntry"]] = relationship(order_by="StarRatingEntry.company_id",
                                                            back_populates="star_rating")


class StarRatingEntry(Base):
    __tablename__ = "star_rating_entries"
    __table_args__ = (UniqueConstraint("star_rating_id", "company_id", name="uq_star_rating_entries_company"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    star_rating_id: Mapped[int] = mapped_column(ForeignKey("star_ratings.id"))
    company_id: Mapped[int] = mapped_column(Integer)
    evaluation_score: Mapped[float | None] = mapped_column(Float)
    credit_score: Mapped[float | None] = mapped_column(Float)
    credit_grade: Mapped[str | None] = mapped_column(String(10))
    ticket_score: Mapped[float | None] = mapped_column(Float)
    veto: Mapped[bool] = mapped_column(Boolean, default=False)
    composite: Mapped[float | None] = mapped_column(Float)
    computed_stars: Mapped[int | None] = mapped_column(Integer)
    stars: Mapped[int | None] = mapped_column(Integer)  # computed, or as the bureau decided on an objection
    objection: Mapped[str | None] = mapped_column(Text)
    objection_status: Mapped[str | None] = mapped_column(String(10))  # pending, upheld, rejected
    objected_by: Mapped[int | None] = mapped_column(Integer)
    objected_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    star_rating: Mapped[StarRating] = relationship(back_populates="entries")


# ----- rectification (责令整改) and elimination (末位淘汰) -----
class Rectification(Base):
    __tablename__ = "rectifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(Integer, index=True)
    compound_id: Mapped[int | None] = mapped_column(Integer)
    county_id: Mapped[int] = mapped_column(Integer)
    region_path: Mapped[str] = mapped_column(String(200), index=True)
    star_rating_id: Mapped[int | None] = mapped_column(ForeignKey("star_ratings.id"))
    items: Mapped[list] = mapped_column(JSON)
    deadline: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    level: Mapped[str] = mapped_column(String(10))  # who re-inspects: street or bureau
    failures: Mapped[int] = mapped_column(Integer, default=0)
    response: Mapped[str | None] = mapped_column(Text)
    issued_by: Mapped[int | None] = mapped_column(Integer)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    steps: Mapped[list["RectificationStep"]] = relationship(order_by="RectificationStep.id",
                                                             back_populates="rectification")


class RectificationStep(Base):
    __tablename__ = "rectification_steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectifications.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor_account_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    rectification: Mapped[Rectification] = relationship(back_populates="steps")


class EliminationRecommendation(Base):
    __tablename__ = "elimination_recommendations"
    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectifications.id"))
    company_id: Mapped[int] = mapped_column(Integer)
    compound_id: Mapped[int] = mapped_column(Integer, index=True)
    owner_organization_id: Mapped[int | None] = mapped_column(Integer)
    region_path: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class DemonstrationProject(Base):
    """A red-property demonstration project (红色物业示范项目) of a year."""
    __tablename__ = "demonstration_projects"
    __table_args__ = (UniqueConstraint("county_id", "year", "compound_id", name="uq_demonstration_projects"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(Integer)
    year: Mapped[int] = mapped_column(Integer)
    compound_id: Mapped[int] = mapped_column(Integer)
    company_id: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    stars: Mapped[int | None] = mapped_column(Integer)
    evaluation_score: Mapped[float | None] = mapped_column(Float)
    credit_score: Mapped[float | None] = mapped_column(Float)
    credit_record_id: Mapped[int | None] = mapped_column(ForeignKey("credit_records.id"))
    selected_by: Mapped[int | None] = mapped_column(Integer)
    selected_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
