"""Registry use cases against an in-memory database: no broker needed."""
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from kit import auth
from kit.errors import Conflict, Unauthenticated
from kit.messaging import OutboxWriter
from services.organizations import demo, models as m
from services.organizations.registry import Registry


@pytest.fixture(scope="module")
def county():
    engine = create_engine("sqlite://")
    m.Base.metadata.create_all(engine)
    with Session(engine) as session:
        demo.load(session, OutboxWriter(m.OutboxEvent, "organizations", None), "demo")
        session.commit()
    yield engine
    engine.dispose()


SYSTEM = auth.Caller("system", "system", (auth.Membership(role=auth.SYSTEM),))


def test_demo_accounts_are_refused_in_production(county):
    with Session(county) as session:
        assert Registry(session, None).authenticate("bureau", "demo")["username"] == "bureau"
        with pytest.raises(Unauthenticated, match="production"):
            Registry(session, None, production=True).authenticate("bureau", "demo")
        with pytest.raises(Unauthenticated):
            Registry(session, None).authenticate("nobody", "demo")


def test_the_demo_county_is_deterministic():
    first, second = demo.plan(), demo.plan()
    assert first["compounds"] == second["compounds"] and first["districts"] == second["districts"]
    assert sum(len(d) for d in first["districts"]) == demo.OLD_COMPOUNDS


def test_every_change_wrote_an_event(county):
    with Session(county) as session:
        types = {e.event_type for e in session.scalars(select(m.OutboxEvent))}
    assert {"region_created", "compound_registered", "company_registered", "contract_signed", "compound_updated",
            "owner_organization_registered", "party_organization_registered", "account_created",
            "membership_granted", "department_created", "person_registered", "appointment_recorded"} <= types


def test_a_compound_keeps_one_active_owners_organization(county):
    with Session(county) as session:
        registry = Registry(session, SYSTEM, OutboxWriter(m.OutboxEvent, "organizations", None))
        compound = session.scalar(select(m.Compound).order_by(m.Compound.id))
        with pytest.raises(Conflict):
            registry.create_owner_organization({"compound_id": compound.id, "type": "owners_committee",
                                                "name": "第二个业委会"})
        session.rollback()
