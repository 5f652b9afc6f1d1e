"""Tables of the tickets service: tickets and their timeline, and its own copy of the registry."""
import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kit.db import declarative_base, standard_tables, utcnow
from kit.registry_copy import registry_copy_tables

Base = declarative_base()
OutboxEvent, InboxEntry, IdempotencyRecord = standard_tables(Base)


# ----- the registry copy, fed by organizations' events (rule 2 of DESIGN.md §3) -----
REGISTRY = registry_copy_tables(Base)
RegionCopy, CompoundCopy, CompanyCopy, DepartmentCopy, SyncState = (
    REGISTRY.region, REGISTRY.compound, REGISTRY.company, REGISTRY.department, REGISTRY.sync_state)


# ----- categories and tickets -----
class Category(Base):
    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    # a group (a category with children) has no rules of its own and cannot be chosen
    responsible: Mapped[str | None] = mapped_column(String(20))
    department_code: Mapped[str | None] = mapped_column(String(40))
    claim_hours: Mapped[float | None] = mapped_column(Float)
    resolve_hours: Mapped[float | None] = mapped_column(Float)
    photo_required: Mapped[bool] = mapped_column(Boolean, default=False)
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_open_by_place", "compound_id", "category_id", "status"),
        Index("ix_tickets_auto_close", "status", "resolved_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    compound_id: Mapped[int] = mapped_column(Integer, index=True)
    community_id: Mapped[int] = mapped_column(Integer, index=True)
    street_id: Mapped[int | None] = mapped_column(Integer, index=True)
    region_path: Mapped[str] = mapped_column(String(200), index=True)
    company_id: Mapped[int | None] = mapped_column(Integer, index=True)  # serving the compound when reported
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    location_detail: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    reporter_account_id: Mapped[int | None] = mapped_column(Integer, index=True)
    entered_by_account_id: Mapped[int | None] = mapped_column(Integer)
    reporter_name: Mapped[str | None] = mapped_column(String(60))   # personal: never in events, logs or public views
    reporter_phone: Mapped[str | None] = mapped_column(String(30))  # personal: masked for everyone but the reporter
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), index=True)
    level: Mapped[str] = mapped_column(String(20))
    handler_kind: Mapped[str] = mapped_column(String(20))
    handler_id: Mapped[int] = mapped_column(Integer)
    claim_deadline: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolve_deadline: Mapped[dt.datetime | None] = mapped_column(DateTime)
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)   # the running deadline, if any
    warn_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)  # when to warn, until warned
    paused_hours_left: Mapped[float | None] = mapped_column(Float)
    overdue_since: Mapped[dt.datetime | None] = mapped_column(DateTime)  # missed at the top level, no one above
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    solved_level: Mapped[str | None] = mapped_column(String(20))
    handling_hours: Mapped[float | None] = mapped_column(Float)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    urges: Mapped[int] = mapped_column(Integer, default=0)
    last_urged_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction: Mapped[str | None] = mapped_column(String(30))
    speed_score: Mapped[int | None] = mapped_column(Integer)
    attitude_score: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(String(500))
    rated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[Category] = relationship(lazy="joined")
    actions: Mapped[list["TicketAction"]] = relationship(order_by="TicketAction.id", back_populates="ticket")
    supervisions: Mapped[list["Supervision"]] = relationship(order_by="Supervision.id", back_populates="ticket")
    attachments: Mapped[list["Attachment"]] = relationship(order_by="Attachment.id", back_populates="ticket")


class TicketAction(Base):
    """The timeline: who did what, when, with what note and photos."""
    __tablename__ = "ticket_actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor_account_id: Mapped[int | None] = mapped_column(Integer)
    actor_party: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    ticket: Mapped[Ticket] = relationship(back_populates="actions")


class Attachment(Base):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ticket: Mapped[Ticket] = relationship(back_populates="attachments")


class Supervision(Base):
    """A supervision order (督办) from a community, street or bureau, with its own deadline and required reply."""
    __tablename__ = "supervisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    level: Mapped[str] = mapped_column(String(20))
    issued_by: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text)
    deadline: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    overdue_reported: Mapped[bool] = mapped_column(Boolean, default=False)
    ticket: Mapped[Ticket] = relationship(back_populates="supervisions")
