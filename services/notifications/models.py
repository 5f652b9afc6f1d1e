"""Tables of the notifications service: who holds which role (copied from organizations), people's channel
preferences, inbox messages, outgoing deliveries with their log, and other systems' webhook subscriptions."""
import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
