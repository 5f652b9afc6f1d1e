"""Registry rules of the organizations service, as functions over plain values."""
from datetime import date


class ManagementMode:
    PROFESSIONAL = "professional"
    STATE_OWNED = "state_owned"  # a state-owned company takes over compounds nobody else will run
    SELF_MANAGED = "self_managed"
    NONE = "none"
    ALL = (PROFESSIONAL, STATE_OWNED, SELF_MANAGED, NONE)


MANAGEMENT_MODE_LABELS = {
    ManagementMode.PROFESSIONAL: "专业化物业服务",
    ManagementMode.STATE_OWNED: "国有企业兜底",
    ManagementMode.SELF_MANAGED: "业主自治管理",
    ManagementMode.NONE: "无人管理",
}


class OwnerOrganizationType:
    OWNERS_COMMITTEE = "owners_committee"
    MANAGEMENT_COMMITTEE = "management_committee"  # stands in where owners cannot elect a committee yet
    SELF_GOVERNING_COMMITTEE = "self_governing_committee"
    ALL = (OWNERS_COMMITTEE, MANAGEMENT_COMMITTEE, SELF_GOVERNING_COMMITTEE)


OWNER_ORGANIZATION_TYPE_LABELS = {
    OwnerOrganizationType.OWNERS_COMMITTEE: "业主委员会",
    OwnerOrganizationType.MANAGEMENT_COMMITTEE: "物业管理委员会",
    OwnerOrganizationType.SELF_GOVERNING_COMMITTEE: "自治管理委员会",
}


class PartyOrganizationForm:
    """How a company's party organization is set up."""
    ENTITY = "entity"
    FUNCTIONAL = "functional"
    JOINT = "joint"
    NONE = "none"
    ALL = (ENTITY, FUNCTIONAL, JOINT, NONE)
    ESTABLISHED = (ENTITY, FUNCTIONAL, JOINT)


PARTY_ORGANIZATION_FORM_LABELS = {
    PartyOrganizationForm.ENTITY: "单独组建",
    PartyOrganizationForm.FUNCTIONAL: "功能型",
    PartyOrganizationForm.JOINT: "联合组建",
    PartyOrganizationForm.NONE: "未建立",
}


class PartyOrganizationKind:
    COMPOUND_BRANCH = "compound_branch"
    COMPANY = "company"  # its form is one of PartyOrganizationForm.ESTABLISHED
    COMMUNITY = "community"
    ALL = (COMPOUND_BRANCH, COMPANY, COMMUNITY)


PARTY_ORGANIZATION_KIND_LABELS = {
    PartyOrganizationKind.COMPOUND_BRANCH: "小区党支部",
    PartyOrganizationKind.COMPANY: "企业党组织",
    PartyOrganizationKind.COMMUNITY: "社区党组织",
}


class PartyFinding:
    NEEDS_OWN_BRANCH = "needs_own_branch"
    NEEDS_PARTY_ORGANIZATION = "needs_party_organization"


PARTY_FINDING_LABELS = {
    PartyFinding.NEEDS_OWN_BRANCH: "党员3人以上应单独组建党组织",
    PartyFinding.NEEDS_PARTY_ORGANIZATION: "尚未建立党组织",
}

MEMBERS_FOR_OWN_BRANCH = 3  # 株洲: companies with 3+ party members set up their own branch


def management_mode(active_company_state_owned, self_managed):
    """The compound's management mode.

    active_company_state_owned: None when the compound has no active residential contract, otherwise whether the
    contracted company is state-owned.
    """
    if active_company_state_owned is not None:
        return ManagementMode.STATE_OWNED if active_company_state_owned else ManagementMode.PROFESSIONAL
    return ManagementMode.SELF_MANAGED if self_managed else ManagementMode.NONE


def is_three_without(mode, has_active_owner_organization):
    """三无小区: no property company, no owners' organization, no responsible unit."""
    return mode == ManagementMode.NONE and not has_active_owner_organization


def party_organization_finding(party_member_count, form):
    """What the company still has to do about its party organization; None when nothing.

    The 3+ members rule comes first, so a company with 3+ members and no organization at all needs its own branch.
    """
    if (party_member_count or 0) >= MEMBERS_FOR_OWN_BRANCH and form != PartyOrganizationForm.ENTITY:
        return PartyFinding.NEEDS_OWN_BRANCH
    if form == PartyOrganizationForm.NONE:
        return PartyFinding.NEEDS_PARTY_ORGANIZATION
    return None


def periods_overlap(start_a, end_a, start_b, end_b):
    """Whether two inclusive date periods share a day; a None start or end is open-ended."""
    a_starts_before_b_ends = start_a is None or end_b is None or start_a <= end_b
    b_starts_before_a_ends = start_b is None or end_a is None or start_b <= end_a
    return a_starts_before_b_ends and b_starts_before_a_ends


def _last_service_day(end, terminated_on):
    """The contract's real last day: its end, or the day before it was terminated if that is earlier."""
    if terminated_on is None:
        return end
    last_day = date.fromordinal(terminated_on.toordinal() - 1)  # terminated_on is the first day without service
    return last_day if end is None else min(end, last_day)


def contract_is_active(start, end, terminated_on, today):
    """Whether the contract serves on `today`: started, not past its end, and not yet terminated."""
    if start is not None and today < start:
        return False
    if end is not None and today > end:
        return False
    return terminated_on is None or today < terminated_on


def active_residential_conflicts(new_contract, existing, exclude_contract_id=None):
    """Compounds the new residential contract cannot take, mapped to the contract already serving them.

    Rule: at most one active residential contract per compound. new_contract is (start, end, compound_ids);
    existing yields (contract_id, start, end, terminated_on, compound_ids, residential). An existing residential
    contract conflicts on a shared compound when its service period (cut short by termination) overlaps the new one;
    a contract terminated on or before its start never served and never conflicts.
    exclude_contract_id skips the contract being edited.
    """
    new_start, new_end, new_compound_ids = new_contract
    new_compound_ids = set(new_compound_ids)
    conflicts = {}
    for contract_id, start, end, terminated_on, compound_ids, residential in existing:
        if not residential or contract_id == exclude_contract_id:
            continue
        shared = new_compound_ids.intersection(compound_ids)
        if not shared:
            continue
        last_day = _last_service_day(end, terminated_on)
        if start is not None and last_day is not None and last_day < start:
            continue
        if periods_overlap(new_start, new_end, start, last_day):
            for compound_id in shared:
                conflicts.setdefault(compound_id, contract_id)
    return conflicts
