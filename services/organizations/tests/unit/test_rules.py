from datetime import date

import pytest

from services.organizations.domain.rules import (
    MANAGEMENT_MODE_LABELS,
    OWNER_ORGANIZATION_TYPE_LABELS,
    PARTY_ORGANIZATION_FORM_LABELS,
    PARTY_ORGANIZATION_KIND_LABELS,
    ManagementMode,
    OwnerOrganizationType,
    PartyFinding,
    PartyOrganizationForm,
    PartyOrganizationKind,
    active_residential_conflicts,
    contract_is_active,
    is_three_without,
    management_mode,
    party_organization_finding,
    periods_overlap,
)

D = date


def test_every_constant_has_a_chinese_label():
    assert set(MANAGEMENT_MODE_LABELS) == set(ManagementMode.ALL)
    assert MANAGEMENT_MODE_LABELS[ManagementMode.STATE_OWNED] == "国有企业兜底"
    assert set(OWNER_ORGANIZATION_TYPE_LABELS) == set(OwnerOrganizationType.ALL)
    assert OWNER_ORGANIZATION_TYPE_LABELS["management_committee"] == "物业管理委员会"
    assert set(PARTY_ORGANIZATION_FORM_LABELS) == set(PartyOrganizationForm.ALL)
    assert PARTY_ORGANIZATION_FORM_LABELS["joint"] == "联合组建"
    assert set(PARTY_ORGANIZATION_KIND_LABELS) == set(PartyOrganizationKind.ALL)
    assert PARTY_ORGANIZATION_KIND_LABELS["compound_branch"] == "小区党支部"


@pytest.mark.parametrize("state_owned, self_managed, expected", [
    (False, False, "professional"),
    (False, True, "professional"),  # a contract wins over the self-managed flag
    (True, False, "state_owned"),
    (None, True, "self_managed"),
    (None, False, "none"),
])
def test_management_mode(state_owned, self_managed, expected):
    assert management_mode(state_owned, self_managed) == expected


def test_three_without_needs_no_management_and_no_owners_organization():
    assert is_three_without("none", False) is True
    assert is_three_without("none", True) is False
    assert is_three_without("self_managed", False) is False
    assert is_three_without("state_owned", False) is False


@pytest.mark.parametrize("members, form, expected", [
    (0, "none", "needs_party_organization"),
    (2, "none", "needs_party_organization"),
    (3, "none", "needs_own_branch"),
    (3, "joint", "needs_own_branch"),
    (5, "functional", "needs_own_branch"),
    (3, "entity", None),
    (2, "joint", None),
    (0, "functional", None),
    (None, "joint", None),
])
def test_party_organization_finding(members, form, expected):
    assert party_organization_finding(members, form) == expected
    assert expected in (None, PartyFinding.NEEDS_OWN_BRANCH, PartyFinding.NEEDS_PARTY_ORGANIZATION)


@pytest.mark.parametrize("a, b, expected", [
    ((D(2024, 1, 1), D(2024, 12, 31)), (D(2025, 1, 1), D(2025, 12, 31)), False),
    ((D(2024, 1, 1), D(2024, 12, 31)), (D(2024, 12, 31), D(2025, 12, 31)), True),  # inclusive ends
    ((D(2024, 1, 1), None), (D(2030, 1, 1), D(2030, 2, 1)), True),
    ((D(2024, 1, 1), None), (D(2020, 1, 1), D(2023, 12, 31)), False),
    ((D(2024, 1, 1), None), (D(2020, 1, 1), None), True),
    ((D(2024, 3, 1), D(2024, 3, 31)), (D(2024, 1, 1), D(2024, 12, 31)), True),  # contained
])
def test_periods_overlap_is_symmetric(a, b, expected):
    assert periods_overlap(*a, *b) is expected
    assert periods_overlap(*b, *a) is expected


def test_contract_is_active():
    start, end = D(2024, 1, 1), D(2024, 12, 31)
    assert contract_is_active(start, end, None, D(2024, 1, 1))
    assert contract_is_active(start, end, None, D(2024, 12, 31))
    assert not contract_is_active(start, end, None, D(2023, 12, 31))
    assert not contract_is_active(start, end, None, D(2025, 1, 1))
    assert contract_is_active(start, None, None, D(2040, 1, 1))
    # the termination date is the first day without service
    assert contract_is_active(start, end, D(2024, 6, 1), D(2024, 5, 31))
    assert not contract_is_active(start, end, D(2024, 6, 1), D(2024, 6, 1))


def existing(contract_id, start, end, compounds, terminated_on=None, residential=True):
    return (contract_id, start, end, terminated_on, compounds, residential)


def test_new_contract_conflicts_on_shared_compound_with_overlapping_residential_contract():
    current = [existing(7, D(2023, 1, 1), D(2025, 12, 31), [1, 2])]
    assert active_residential_conflicts((D(2025, 6, 1), None, [2, 3]), current) == {2: 7}


def test_no_conflict_without_shared_compound_or_overlap_or_when_non_residential():
    new = (D(2025, 1, 1), D(2025, 12, 31), [1, 2])
    assert active_residential_conflicts(new, [existing(7, D(2023, 1, 1), D(2025, 12, 31), [3])]) == {}
    assert active_residential_conflicts(new, [existing(7, D(2023, 1, 1), D(2024, 12, 31), [1])]) == {}
    assert active_residential_conflicts(new, [existing(7, D(2023, 1, 1), None, [1], residential=False)]) == {}


def test_terminated_contract_only_conflicts_while_it_served():
    new = (D(2025, 6, 1), None, [1])
    handed_over = existing(7, D(2023, 1, 1), D(2026, 12, 31), [1], terminated_on=D(2025, 6, 1))
    assert active_residential_conflicts(new, [handed_over]) == {}
    late_handover = existing(7, D(2023, 1, 1), D(2026, 12, 31), [1], terminated_on=D(2025, 7, 1))
    assert active_residential_conflicts(new, [late_handover]) == {1: 7}
    never_started = existing(8, D(2025, 8, 1), None, [1], terminated_on=D(2025, 8, 1))
    assert active_residential_conflicts((D(2025, 1, 1), None, [1]), [never_started]) == {}


def test_bundled_contract_reports_each_conflicting_compound_and_skips_itself():
    current = [
        existing(7, D(2023, 1, 1), None, [1]),
        existing(8, D(2023, 1, 1), None, [2, 3]),
        existing(9, D(2023, 1, 1), None, [3]),
    ]
    conflicts = active_residential_conflicts((D(2024, 1, 1), None, [1, 2, 3, 4]), current)
    assert conflicts == {1: 7, 2: 8, 3: 8}
    assert active_residential_conflicts((D(2024, 1, 1), None, [2, 3]), current, exclude_contract_id=8) == {3: 9}
