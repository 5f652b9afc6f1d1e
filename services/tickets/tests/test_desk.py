"""The desk against an in-memory database (no broker): rules that need rows but not the network."""
import datetime as dt

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from kit import auth, config
from kit.errors import TooManyRequests
from kit.messaging import OutboxWriter
from kit.schemas import load
from services.tickets import models as m, schemas
from services.tickets.desk import Desk
from services.tickets.domain.calendar import load_default_calendar
from services.tickets.seed import seed

NOW = dt.datetime(2026, 3, 2, 2, 0)  # a Monday, 10:00 in 高唐


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    m.Base.metadata.create_all(engine)
    with Session(engine) as session:
        seed(session)
        for region_id, level, path in ((1, "county", "/1/"), (2, "street", "/1/2/"), (3, "community", "/1/2/3/")):
            session.add(m.RegionCopy(id=region_id, code=str(region_id), name=level, level=level, path=path,
                                     source_time=NOW))
        session.add(m.CompoundCopy(id=10, code="C10", name="金座花园", community_id=3, region_path="/1/2/3/",
                                   company_id=7, owner_organization_id=None, management_mode="professional",
                                   three_without=False, source_time=NOW))
        session.flush()
        yield session


def desk(session, caller, now, tmp_path, **tickets):
    settings = config.load(environ={}, extra={"tickets": tickets} if tickets else None)
    return Desk(session, caller, OutboxWriter(m.OutboxEvent, "tickets", None), load_default_calendar(), settings,
                now=now, upload_dir=tmp_path)


RESIDENT = auth.Caller("5", "resident", (auth.Membership(role=auth.RESIDENT, compound_id=10),))


def test_every_third_urge_escalates_and_urges_are_spaced(session, tmp_path):
    ticket = desk(session, RESIDENT, NOW, tmp_path).submit(load(schemas.TicketIn, {
        "category_code": "repair.elevator", "title": "电梯", "description": "不动"}))
    assert (ticket.level, ticket.handler_id) == ("compound", 7)
    for hour in (0, 5, 10):
        desk(session, RESIDENT, NOW + dt.timedelta(hours=hour), tmp_path).act(ticket.id, "urge", {})
    assert (ticket.urges, ticket.level, ticket.escalations) == (3, "community", 1)
    with pytest.raises(TooManyRequests):
        desk(session, RESIDENT, NOW + dt.timedelta(hours=11), tmp_path).act(ticket.id, "urge", {})
    events = [e.event_type for e in session.scalars(select(m.OutboxEvent).order_by(m.OutboxEvent.id))]
    assert events == ["ticket_submitted", "ticket_urged", "ticket_urged", "ticket_urged", "ticket_escalated"]


def test_a_three_without_compound_goes_to_its_community(session, tmp_path):
    compound = session.get(m.CompoundCopy, 10)
    compound.company_id, compound.three_without, compound.management_mode = None, True, "none"
    ticket = desk(session, RESIDENT, NOW, tmp_path).submit(load(schemas.TicketIn, {
        "category_code": "repair.elevator", "title": "电梯", "description": "不动"}))
    assert (ticket.handler_kind, ticket.handler_id, ticket.level) == ("community", 3, "community")


def test_deadlines_run_in_working_hours(session, tmp_path):
    friday_afternoon = dt.datetime(2026, 3, 6, 8, 30)  # 16:30 local on a Friday
    ticket = desk(session, RESIDENT, friday_afternoon, tmp_path).submit(load(schemas.TicketIn, {
        "category_code": "repair.water_pressure", "title": "水压低", "description": "顶楼没水"}))  # claim in 2 h
    assert ticket.claim_deadline == dt.datetime(2026, 3, 9, 1, 30)  # Monday 09:30 local


def test_the_governance_gauges_read_the_tickets(session, tmp_path):
    from prometheus_client import REGISTRY
    from services.tickets import gauges
    first = desk(session, RESIDENT, NOW, tmp_path).submit(load(schemas.TicketIn, {
        "category_code": "repair.elevator", "title": "电梯", "description": "不动"}))
    for hour in (0, 5, 10):  # the third urge escalates it to the community
        desk(session, RESIDENT, NOW + dt.timedelta(hours=hour), tmp_path).act(first.id, "urge", {})
    desk(session, RESIDENT, NOW, tmp_path).submit(load(schemas.TicketIn, {
        "category_code": "repair.elevator", "title": "电梯二", "description": "异响"}))
    session.flush()
    gauges.measure(session, NOW + dt.timedelta(hours=11))
    assert REGISTRY.get_sample_value("redprop_tickets", {"status": "submitted"}) == 2
    assert REGISTRY.get_sample_value("redprop_tickets_escalated_30d", {"level": "community"}) == 1
    assert REGISTRY.get_sample_value("redprop_tickets_on_time_ratio_30d") == 1  # nothing resolved: nothing late
    gauges.measure(session, NOW + dt.timedelta(days=30))  # long past every deadline
    assert REGISTRY.get_sample_value("redprop_tickets_overdue") == 2
