"""A service's own copy of the registry, kept from organizations' events and snapshot (rule 2 of DESIGN.md §3).

Services that route or judge by the registry (tickets, ratings) each hold these tables in their own database.
Each row remembers when organizations stated it (`source_time`); older news never overwrites newer, so a snapshot
and a backlog of events can arrive in any order and still converge.
"""
import datetime as dt
import logging
from dataclasses import dataclass

from nameko.timer import timer
from sqlalchemy import Boolean, DateTime, Integer, String, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from kit import auth
from kit.errors import Forbidden, NotFound, ServiceNotDeployed, UpstreamTimeout
from kit.messaging import event_handler, first_delivery

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CopyTables:
    region: type
    compound: type
    company: type
    department: type
    sync_state: type


def registry_copy_tables(Base):
    """The copy's tables on a service's declarative base."""

    class RegionCopy(Base):
        __tablename__ = "region_copies"
        id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
        code: Mapped[str] = mapped_column(String(32))
        name: Mapped[str] = mapped_column(String(100))
        level: Mapped[str] = mapped_column(String(20))
        parent_id: Mapped[int | None] = mapped_column(Integer)
        path: Mapped[str] = mapped_column(String(200), index=True)
        source_time: Mapped[dt.datetime] = mapped_column(DateTime)  # when organizations stated this; older loses

    class CompoundCopy(Base):
        __tablename__ = "compound_copies"
        id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
        code: Mapped[str] = mapped_column(String(40))
        name: Mapped[str] = mapped_column(String(100))
        community_id: Mapped[int] = mapped_column(Integer, index=True)
        region_path: Mapped[str] = mapped_column(String(200), index=True)
        households: Mapped[int] = mapped_column(Integer, default=0)
        company_id: Mapped[int | None] = mapped_column(Integer, index=True)
        contract_id: Mapped[int | None] = mapped_column(Integer)
        owner_organization_id: Mapped[int | None] = mapped_column(Integer)
        management_mode: Mapped[str] = mapped_column(String(20))
        three_without: Mapped[bool] = mapped_column(Boolean)
        source_time: Mapped[dt.datetime] = mapped_column(DateTime)

    class CompanyCopy(Base):
        __tablename__ = "company_copies"
        id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
        name: Mapped[str] = mapped_column(String(100))
        credit_code: Mapped[str] = mapped_column(String(18))
        state_owned: Mapped[bool] = mapped_column(Boolean)
        party_organization_form: Mapped[str] = mapped_column(String(20))
        source_time: Mapped[dt.datetime] = mapped_column(DateTime)

    class DepartmentCopy(Base):
        __tablename__ = "department_copies"
        id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
        code: Mapped[str] = mapped_column(String(40), unique=True)
        name: Mapped[str] = mapped_column(String(100))
        region_id: Mapped[int] = mapped_column(Integer)
        source_time: Mapped[dt.datetime] = mapped_column(DateTime)

    class SyncState(Base):
        """When the registry copy was last rebuilt from organizations' snapshot."""
        __tablename__ = "sync_state"
        name: Mapped[str] = mapped_column(String(40), primary_key=True)
        synced_at: Mapped[dt.datetime] = mapped_column(DateTime)

    return CopyTables(region=RegionCopy, compound=CompoundCopy, company=CompanyCopy, department=DepartmentCopy,
                      sync_state=SyncState)


def parse_time(text):
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def region_in_reach(session, region_model, caller, region_id, roles):
    """A region of the copy inside the caller's reach under `roles` (404 otherwise, so its existence is not told)."""
    region = session.get(region_model, region_id)
    if region is None or not caller.reaches_path(region.path, roles):
        raise NotFound(f"region {region_id} does not exist or is outside your jurisdiction")
    return region


def home_region(session, region_model, caller, roles):
    """The widest region the caller works in (the county for the bureau; the first county for the platform
    itself), for requests that name none."""
    if caller.is_system:
        stmt = select(region_model).where(region_model.level == "county").order_by(region_model.id)
    else:
        paths = sorted(caller.region_paths(*roles), key=len)
        if not paths:
            raise Forbidden("name a region: your role has none of its own", details={"region_id": ["required"]})
        stmt = select(region_model).where(region_model.path == paths[0])
    region = session.scalars(stmt.limit(1)).first()
    if region is None:
        raise Forbidden("name a region: your role has none of its own", details={"region_id": ["required"]})
    return region


def path_ids(path):
    """"/1/2/3/" → [1, 2, 3]: county, street, community."""
    return [int(part) for part in path.strip("/").split("/") if part]


def _upsert(session, model, key, values, source_time):
    """Insert, or update unless the row already holds newer news. Events and the snapshot may race to insert the
    same row, so the insert gives way on a conflict instead of failing."""
    insert = (pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert)(model)
    inserted = session.execute(insert.values(id=key, source_time=source_time, **values)
                               .on_conflict_do_nothing(index_elements=["id"]))
    if inserted.rowcount:
        return True
    updated = session.execute(update(model).where(model.id == key, model.source_time <= source_time)
                              .values(source_time=source_time, **values))
    return updated.rowcount > 0


class RegistryCopy:
    """Writes organizations' news into one service's copy tables."""

    def __init__(self, tables):
        self.tables = tables

    def apply_region(self, session, data, source_time):
        return _upsert(session, self.tables.region, data["region_id"], {
            "code": data["code"], "name": data["name"], "level": data["level"], "parent_id": data.get("parent_id"),
            "path": data["path"]}, source_time)

    def apply_compound(self, session, data, source_time):
        return _upsert(session, self.tables.compound, data["compound_id"], {
            "code": data["code"], "name": data["name"], "community_id": data["community_id"],
            "region_path": data["region_path"], "households": data.get("households") or 0,
            "company_id": data.get("company_id"), "contract_id": data.get("contract_id"),
            "owner_organization_id": data.get("owner_organization_id"), "management_mode": data["management_mode"],
            "three_without": data["three_without"]}, source_time)

    def apply_company(self, session, data, source_time):
        return _upsert(session, self.tables.company, data["company_id"], {
            "name": data["name"], "credit_code": data["credit_code"], "state_owned": data["state_owned"],
            "party_organization_form": data["party_organization_form"]}, source_time)

    def apply_department(self, session, data, source_time):
        return _upsert(session, self.tables.department, data["department_id"], {
            "code": data["code"], "name": data["name"], "region_id": data["region_id"]}, source_time)

    def apply_snapshot(self, session, snapshot):
        taken_at = parse_time(snapshot["taken_at"])
        parts = (("regions", self.apply_region), ("compounds", self.apply_compound),
                 ("companies", self.apply_company), ("departments", self.apply_department))
        for key, apply in parts:
            for row in snapshot.get(key, ()):
                apply(session, row, taken_at)
        state = session.get(self.tables.sync_state, "registry")
        if state is None:
            session.add(self.tables.sync_state(name="registry", synced_at=taken_at))
        else:
            state.synced_at = taken_at
        return {key: len(snapshot.get(key, ())) for key, _ in parts}

    def is_synced(self, session):
        return session.get(self.tables.sync_state, "registry") is not None


class RegistryCopyEndpoints:
    """Service mixin: keep the copy from organizations' events and fetch the snapshot on first start.

    The service class provides `db`, `settings`, `rpc_client`, `registry` (a RegistryCopy), `inbox_model`, and may
    override `after_registry_sync(session, snapshot)`."""

    def after_registry_sync(self, session, snapshot):
        pass

    @timer(interval=20, eager=True)
    def resync_registry(self):
        """On first start (and until it succeeds) copy organizations' snapshot; events keep it current after."""
        with self.db.transaction() as session:
            if self.registry.is_synced(session):
                return
        try:
            snapshot = self.rpc_client.call("organizations", "export_registry",
                                            context={auth.TOKEN_CONTEXT_KEY: auth.system_token(self.settings)})
        except (ServiceNotDeployed, UpstreamTimeout):
            log.warning("organizations does not answer yet; the registry copy will be fetched later")
            return
        with self.db.transaction() as session:
            self.registry.apply_snapshot(session, snapshot)
            self.after_registry_sync(session, snapshot)

    def _copy(self, event, apply, handler):
        with self.db.transaction() as session:
            if first_delivery(session, self.inbox_model, event, handler):
                apply(session, event["data"], parse_time(event["occurred_at"]))

    @event_handler("organizations", "region_created")
    def on_region_created(self, event):
        self._copy(event, self.registry.apply_region, "on_region_created")

    @event_handler("organizations", "region_updated")
    def on_region_updated(self, event):
        self._copy(event, self.registry.apply_region, "on_region_updated")

    @event_handler("organizations", "compound_registered")
    def on_compound_registered(self, event):
        self._copy(event, self.registry.apply_compound, "on_compound_registered")

    @event_handler("organizations", "compound_updated")
    def on_compound_updated(self, event):
        self._copy(event, self.registry.apply_compound, "on_compound_updated")

    @event_handler("organizations", "company_registered")
    def on_company_registered(self, event):
        self._copy(event, self.registry.apply_company, "on_company_registered")

    @event_handler("organizations", "company_updated")
    def on_company_updated(self, event):
        self._copy(event, self.registry.apply_company, "on_company_updated")

    @event_handler("organizations", "department_created")
    def on_department_created(self, event):
        self._copy(event, self.registry.apply_department, "on_department_created")
