"""Routing a new ticket to its first answerer, and escalating overdue ones one level up."""
import pytest

from kit.errors import ValidationFailed
from services.tickets.domain.routing import (
    HANDLER_KIND_LEVEL, LEVEL_LABELS, LEVEL_ORDER, RESPONSIBLE_LABELS, Assignment, CompoundFacts, HandlerKind, Level,
    Responsible, escalate, level_rank, route,
)

MANAGED = CompoundFacts(compound_id=1, community_id=10, street_id=100, county_id=371526,
                        company_id=7, owner_organization_id=8, three_without=False)
NO_COMPANY = CompoundFacts(compound_id=2, community_id=10, street_id=100, county_id=371526,
                           company_id=None, owner_organization_id=8, three_without=False)
NO_OWNERS_ORG = CompoundFacts(compound_id=3, community_id=10, street_id=100, county_id=371526,
                              company_id=7, owner_organization_id=None, three_without=False)
THREE_WITHOUT = CompoundFacts(compound_id=4, community_id=11, street_id=101, county_id=371526,
                              company_id=None, owner_organization_id=None, three_without=True)


# ---- route -------------------------------------------------------------------------------------------------------

def test_company_category_goes_to_the_compound_company():
    assert route(Responsible.COMPANY, MANAGED) == Assignment(HandlerKind.COMPANY, 7, Level.COMPOUND)


def test_company_category_without_company_falls_back_to_owners_org():
    assert route(Responsible.COMPANY, NO_COMPANY) == Assignment(HandlerKind.OWNERS_ORG, 8, Level.COMPOUND)


def test_three_without_compound_falls_back_to_the_community():
    for responsible in (Responsible.COMPANY, Responsible.OWNERS_ORG, Responsible.COMMUNITY):
        assert route(responsible, THREE_WITHOUT) == Assignment(HandlerKind.COMMUNITY, 11, Level.COMMUNITY)


def test_three_without_flag_wins_over_stale_ids():
    stale = CompoundFacts(compound_id=5, community_id=12, street_id=101, county_id=371526,
                          company_id=70, owner_organization_id=80, three_without=True)
    assert route(Responsible.COMPANY, stale) == Assignment(HandlerKind.COMMUNITY, 12, Level.COMMUNITY)
    assert route(Responsible.OWNERS_ORG, stale) == Assignment(HandlerKind.COMMUNITY, 12, Level.COMMUNITY)


def test_owners_org_category():
    assert route(Responsible.OWNERS_ORG, MANAGED) == Assignment(HandlerKind.OWNERS_ORG, 8, Level.COMPOUND)
    # A company does not answer for the owners' own affairs: no owners' organization → community.
    assert route(Responsible.OWNERS_ORG, NO_OWNERS_ORG) == Assignment(HandlerKind.COMMUNITY, 10, Level.COMMUNITY)


def test_community_category():
    assert route(Responsible.COMMUNITY, MANAGED) == Assignment(HandlerKind.COMMUNITY, 10, Level.COMMUNITY)


def test_department_category():
    assert route(Responsible.DEPARTMENT, MANAGED, department_id=55) == Assignment(
        HandlerKind.DEPARTMENT, 55, Level.DEPARTMENT)
    assert route(Responsible.DEPARTMENT, THREE_WITHOUT, department_id=55).kind == HandlerKind.DEPARTMENT


def test_department_category_without_department_goes_to_the_community():
    assert route(Responsible.DEPARTMENT, MANAGED) == Assignment(HandlerKind.COMMUNITY, 10, Level.COMMUNITY)


def test_department_id_is_ignored_for_other_categories():
    assert route(Responsible.COMPANY, MANAGED, department_id=55).kind == HandlerKind.COMPANY


def test_unknown_responsible_party():
    with pytest.raises(ValidationFailed):
        route("mayor", MANAGED)


# ---- escalate ----------------------------------------------------------------------------------------------------

def test_escalation_ladder_from_the_company_to_the_top():
    chain, current = [], route(Responsible.COMPANY, MANAGED)
    while current is not None:
        chain.append((current.kind, current.target_id, current.level))
        current = escalate(current, MANAGED)
    assert chain == [(HandlerKind.COMPANY, 7, Level.COMPOUND), (HandlerKind.COMMUNITY, 10, Level.COMMUNITY),
                     (HandlerKind.STREET, 100, Level.STREET), (HandlerKind.BUREAU, 371526, Level.BUREAU)]


def test_owners_org_escalates_to_community():
    assert escalate(Assignment.of(HandlerKind.OWNERS_ORG, 8), MANAGED) == Assignment(
        HandlerKind.COMMUNITY, 10, Level.COMMUNITY)


def test_three_without_compound_escalates_from_its_community():
    first = route(Responsible.COMPANY, THREE_WITHOUT)
    assert escalate(first, THREE_WITHOUT) == Assignment(HandlerKind.STREET, 101, Level.STREET)


def test_department_escalates_to_the_bureau():
    assert escalate(Assignment.of(HandlerKind.DEPARTMENT, 55), MANAGED) == Assignment(
        HandlerKind.BUREAU, 371526, Level.BUREAU)


def test_bureau_is_the_top():
    assert escalate(Assignment.of(HandlerKind.BUREAU, 371526), MANAGED) is None


def test_unknown_handler_kind():
    with pytest.raises(ValidationFailed):
        escalate(Assignment("mayor", 1, Level.BUREAU), MANAGED)


# ---- constants ---------------------------------------------------------------------------------------------------

def test_level_order_and_labels():
    assert LEVEL_ORDER[:2] == (Level.COMPOUND, Level.COMMUNITY)      # 小事不出小区，大事不出社区
    assert set(LEVEL_ORDER) == set(Level.ALL) == set(LEVEL_LABELS)
    assert level_rank(Level.COMPOUND) == 0 and level_rank(Level.STREET) < level_rank(Level.BUREAU)
    assert LEVEL_LABELS[Level.BUREAU]["zh"] == "住建局"
    assert set(RESPONSIBLE_LABELS) == set(Responsible.ALL)


def test_every_handler_kind_has_a_level():
    assert set(HANDLER_KIND_LEVEL) == set(HandlerKind.ALL)
    assert set(HANDLER_KIND_LEVEL.values()) == set(Level.ALL)


def test_assignments_are_immutable_values():
    a = Assignment.of(HandlerKind.COMPANY, 7)
    assert a == Assignment(HandlerKind.COMPANY, 7, Level.COMPOUND)
    with pytest.raises(AttributeError):
        a.target_id = 8
