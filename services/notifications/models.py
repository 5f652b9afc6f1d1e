"""Tables of the notifications service: who holds which role (copied from organizations), people's channel
preferences, inbox messages, outgoing deliveries with their log, other systems' webhook subscriptions, the
disclosure board (公示栏) and notices (公告) with activity sign-ups."""
import datetime as dt

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kit.db import declarative_base, standard_tables, utcnow
from kit.registry_copy import registry_copy_tables

Base = declarative_base()
OutboxEvent, InboxEntry, IdempotencyRecord = standard_tables(Base)
REGISTRY = registry_copy_tables(Base)
RegionCopy, CompoundCopy = REGISTRY.region, REGISTRY.compound


class MembershipCopy(Base):
    """Who holds which role where: enough to find the staff of a company, a community or an owners' organization."""
    __tablename__ = "membership_copies"
    __table_args__ = (Index("ix_membership_copies_role_scope", "role", "company_id", "region_id", "organization_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    account_id: Mapped[int] = mapped_column(Integer, index=True)
    role: Mapped[str] = mapped_column(String(20))
    region_id: Mapped[int | None] = mapped_column(Integer)
    company_id: Mapped[int | None] = mapped_column(Integer)
    compound_id: Mapped[int | None] = mapped_column(Integer)
    organization_id: Mapped[int | None] = mapped_column(Integer)
    department_id: Mapped[int | None] = mapped_column(Integer)
    building: Mapped[str | None] = mapped_column(String(20))  # a resident's building (楼), never the room
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    source_time: Mapped[dt.datetime] = mapped_column(DateTime)


class Preference(Base):
    """A person's channels. Addresses are personal data: they stay here, never in events, logs or views of others."""
    __tablename__ = "preferences"
    account_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    inbox: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[bool] = mapped_column(Boolean, default=False)
    sms: Mapped[bool] = mapped_column(Boolean, default=False)
    email_address: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Message(Base):
    """An in-app inbox message: one per person and event."""
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("account_id", "event_id", name="uq_messages_account_event"),
                      Index("ix_messages_account_unread", "account_id", "read_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    event_types: Mapped[list] = mapped_column(JSON)  # "source.event_type", or "source.*", or "*"
    region_path: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Delivery(Base):
    """One message to send over a channel (e-mail, SMS, webhook), and its log: at most one per event, channel and
    target, so a redelivered event sends nothing twice."""
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("event_id", "channel", "target", name="uq_deliveries_event_channel_target"),
                      Index("ix_deliveries_due", "status", "next_attempt_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(40))  # "account:<id>" or "webhook:<id>"
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_subscriptions.id"), index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, sent, failed, dropped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


# ----- the disclosure board -----
class DisclosurePeriod(Base):
    """A county's own freshness period for one item (days), overriding the platform default."""
    __tablename__ = "disclosure_periods"
    county_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    item_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    freshness_days: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class DisclosureObligation(Base):
    """That a publisher owes a compound an item, since a day: a missing item falls due a grace period after it.
    A new company (or owners' organization) owes afresh: its predecessor's disclosures are not its own."""
    __tablename__ = "disclosure_obligations"
    __table_args__ = (UniqueConstraint("compound_id", "item_code", "publisher_kind", "publisher_id",
                                       name="uq_disclosure_obligations"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(Integer, index=True)
    item_code: Mapped[str] = mapped_column(String(40))
    publisher_kind: Mapped[str] = mapped_column(String(20))
    publisher_id: Mapped[int] = mapped_column(Integer)
    since: Mapped[dt.date] = mapped_column(Date)


class Disclosure(Base):
    """One publication of an item on a compound's board; the newest by the current publisher is the one in force."""
    __tablename__ = "disclosures"
    __table_args__ = (Index("ix_disclosures_board", "compound_id", "item_code", "publisher_kind", "publisher_id",
                            "published_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(Integer)
    item_code: Mapped[str] = mapped_column(String(40))
    publisher_kind: Mapped[str] = mapped_column(String(20))
    publisher_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    period: Mapped[str | None] = mapped_column(String(40))  # what it covers, e.g. "2026年第三季度"
    attachments: Mapped[list] = mapped_column(JSON, default=list)  # [{name, filename, content_type, size}]
    published_by: Mapped[int | None] = mapped_column(Integer)  # never shown publicly
    published_at: Mapped[dt.datetime] = mapped_column(DateTime)


class DisclosureAlert(Base):
    """A reminder or lapse raised for one due date of one item: at most one of each kind, so a lapse is reported
    (and deducted) once however often the check runs."""
    __tablename__ = "disclosure_alerts"
    __table_args__ = (UniqueConstraint("compound_id", "item_code", "publisher_kind", "publisher_id", "due_on", "kind",
                                       name="uq_disclosure_alerts"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(Integer)
    item_code: Mapped[str] = mapped_column(String(40))
    publisher_kind: Mapped[str] = mapped_column(String(20))
    publisher_id: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))  # due_soon, overdue
    state: Mapped[str] = mapped_column(String(10))  # pending/current (due soon), missing, stale
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime)


# ----- notices and activities -----
class Notice(Base):
    """A notice (公告) or an activity for the residents of some compounds, or of some buildings of one compound."""
    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # notice, activity
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    compound_ids: Mapped[list] = mapped_column(JSON)
    buildings: Mapped[list] = mapped_column(JSON, default=list)
    region_path: Mapped[str] = mapped_column(String(200), index=True)
    publisher_kind: Mapped[str] = mapped_column(String(20))
    publisher_id: Mapped[int] = mapped_column(Integer)
    published_by: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    starts_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    ends_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    location: Mapped[str | None] = mapped_column(String(200))
    signup: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int | None] = mapped_column(Integer)
    signups: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class NoticeAudience(Base):
    """Where a notice goes: a compound, and a building of it or "" for all, one row each, so a resident's notices
    are an indexed lookup."""
    __tablename__ = "notice_audiences"
    __table_args__ = (Index("ix_notice_audiences_place", "compound_id", "building"),)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), primary_key=True)
    compound_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    building: Mapped[str] = mapped_column(String(20), primary_key=True, default="")


class Signup(Base):
    """A person's sign-up for an activity: one per account."""
    __tablename__ = "signups"
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signed_up_at: Mapped[dt.datetime] = mapped_column(DateTime)
