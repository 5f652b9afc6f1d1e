"""The tickets service's own copy of the registry, kept from organizations' events and snapshot.

Each row remembers when organizations stated it (`source_time`); older news never overwrites newer, so a snapshot
and a backlog of events can arrive in any order and still converge.
"""
import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.tickets import models as m
from services.tickets.domain.routing import CompoundFacts


def parse_time(text):
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value


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


def apply_region(session, data, source_time):
    return _upsert(session, m.RegionCopy, data["region_id"], {
        "code": data["code"], "name": data["name"], "level": data["level"], "parent_id": data.get("parent_id"),
        "path": data["path"]}, source_time)


def apply_compound(session, data, source_time):
    return _upsert(session, m.CompoundCopy, data["compound_id"], {
        "code": data["code"], "name": data["name"], "community_id": data["community_id"],
        "region_path": data["region_path"], "company_id": data.get("company_id"),
        "owner_organization_id": data.get("owner_organization_id"), "management_mode": data["management_mode"],
        "three_without": data["three_without"]}, source_time)


def apply_department(session, data, source_time):
    return _upsert(session, m.DepartmentCopy, data["department_id"], {
        "code": data["code"], "name": data["name"], "region_id": data["region_id"]}, source_time)


def apply_snapshot(session, snapshot):
    taken_at = parse_time(snapshot["taken_at"])
    for region in snapshot["regions"]:
        apply_region(session, region, taken_at)
    session.flush()
    for compound in snapshot["compounds"]:
        apply_compound(session, compound, taken_at)
    for department in snapshot["departments"]:
        apply_department(session, department, taken_at)
    state = session.get(m.SyncState, "registry")
    if state is None:
        session.add(m.SyncState(name="registry", synced_at=taken_at))
    else:
        state.synced_at = taken_at
    return {"regions": len(snapshot["regions"]), "compounds": len(snapshot["compounds"]),
            "departments": len(snapshot["departments"])}


def is_synced(session):
    return session.get(m.SyncState, "registry") is not None


def path_ids(path):
    """"/1/2/3/" → [1, 2, 3]: county, street, community."""
    return [int(part) for part in path.strip("/").split("/") if part]


def compound_facts(compound):
    county_id, street_id, community_id = (path_ids(compound.region_path) + [None, None, None])[:3]
    return CompoundFacts(compound_id=compound.id, community_id=compound.community_id, street_id=street_id,
                         county_id=county_id, company_id=compound.company_id,
                         owner_organization_id=compound.owner_organization_id,
                         three_without=compound.three_without)


def department_id(session, code):
    if not code:
        return None
    return session.scalar(select(m.DepartmentCopy.id).where(m.DepartmentCopy.code == code))
