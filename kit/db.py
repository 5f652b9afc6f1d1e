"""Engines, the unit of work, and the tables every service carries (outbox, inbox, idempotency records).

SQLite by default; PostgreSQL through pg8000, a pure-Python driver whose sockets eventlet makes cooperative
(psycopg2 would block every green thread in the process).
"""
import contextlib
import datetime as dt

from nameko.extensions import DependencyProvider
from sqlalchemy import JSON, DateTime, Integer, MetaData, String, create_engine, event, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from kit.config import settings_of


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def normalize_url(url):
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+pg8000://" + url[len(prefix):]
    return url


def make_engine(url, pool_size=10):
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                           pool_recycle=1800)
    # executemany INSERTs as multi-row VALUES pages: pg8000 would otherwise send one round trip per row
    engine.dialect.use_insertmanyvalues_wo_returning = True
    return engine


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s", "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def declarative_base():
    """A fresh declarative base, so each service has its own metadata and class registry."""
    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)
        type_annotation_map = {dict: JSON, list: JSON}
    return Base


class OutboxMixin:
    """Events written in the same transaction as the change they announce; the relay publishes them."""
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    source: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    envelope: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True, nullable=True)


class InboxMixin:
    """Event ids a consumer has applied, recorded in the same transaction as the effect."""
    __tablename__ = "inbox"
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    handler: Mapped[str] = mapped_column(String(120), primary_key=True)
    processed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class IdempotencyMixin:
    """The first response to a request that carried an Idempotency-Key."""
    __tablename__ = "idempotency_records"
    scope: Mapped[str] = mapped_column(String(300), primary_key=True)
    response: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


WROTE_EVENTS = "wrote_events"  # set in session.info by the outbox writer


def page(session, stmt, query, view):
    """One page of an ORM query in the list envelope. The total rides along as a window count, saving a second
    query; only a page past the end has to count apart."""
    rows = session.execute(stmt.add_columns(func.count().over())
                           .offset((query["page"] - 1) * query["page_size"]).limit(query["page_size"])).all()
    total = rows[0][1] if rows else session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return {"items": [view(row[0]) for row in rows], "total": total, "page": query["page"],
            "page_size": query["page_size"]}


def page_of_list(items, query, **extra):
    """The list envelope over a list already in memory (ranked or computed rows)."""
    start = (query["page"] - 1) * query["page_size"]
    return {"items": items[start:start + query["page_size"]], "total": len(items), "page": query["page"],
            "page_size": query["page_size"], **extra}


def standard_tables(base):
    """The outbox, inbox and idempotency tables every service carries, mapped on the service's own base."""
    return (type("OutboxEvent", (OutboxMixin, base), {}), type("InboxEntry", (InboxMixin, base), {}),
            type("IdempotencyRecord", (IdempotencyMixin, base), {}))


class UnitOfWork:
    """One worker's access to the database. `transaction()` commits on success and rolls back on error; nested
    transactions join the outer one, so a decorator (idempotency, inbox) and the code it wraps commit together."""

    def __init__(self, session_factory, on_commit=None):
        self._session_factory = session_factory
        self._session = None
        self._on_commit = on_commit

    @contextlib.contextmanager
    def transaction(self):
        if self._session is not None:
            yield self._session
            return
        session = self._session_factory()
        self._session = session
        try:
            yield session
            wrote_events = session.info.get(WROTE_EVENTS, False)
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            self._session = None
            session.close()
        if wrote_events and self._on_commit:  # reads and event-less writes leave the relay asleep
            self._on_commit()

    @property
    def in_transaction(self):
        return self._session is not None

    def fresh(self):
        """A unit of work of its own over the same database, for a green thread that outlives the worker."""
        return UnitOfWork(self._session_factory, self._on_commit)


class Database(DependencyProvider):
    """Gives each worker a UnitOfWork over the service's own database."""

    def __init__(self, on_commit=None):
        self.on_commit = on_commit
        self.engine = None
        self.session_factory = None

    def setup(self):
        settings = settings_of(self.container)
        service = self.container.config["REDPROP_SERVICE"]
        self.engine = make_engine(settings.db_url(service),
                                  pool_size=max(self.container.max_workers, 5))
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)

    def stop(self):
        if self.engine is not None:
            self.engine.dispose()

    def commit_listeners(self):
        return [ext for ext in self.container.extensions if hasattr(ext, "wake")]

    def get_dependency(self, worker_ctx):
        listeners = self.commit_listeners()

        def notify():
            for listener in listeners:
                listener.wake()
        return UnitOfWork(self.session_factory, on_commit=notify)
