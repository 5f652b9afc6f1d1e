"""Who answers a ticket (派单), and where it goes when it is overdue (逐级升级).

"小事不出小区，大事不出社区，问题没有盲区": a ticket first goes to the body inside the compound that the category
names (the property company or the owners' organization); where the compound has none — a 三无小区 — it falls back
up the jurisdiction tree to the community, so no ticket is left without an answerer. Overdue tickets climb one level
at a time: compound → community → street → housing bureau; a department's ticket goes to the bureau, which
coordinates the county's departments.
"""
from __future__ import annotations

from dataclasses import dataclass

from kit.errors import ValidationFailed


class Level:
    COMPOUND = "compound"       # 小区: the property company or the owners' organization
    COMMUNITY = "community"     # 社区
    STREET = "street"           # 街道/乡镇
    BUREAU = "bureau"           # 住建局 (county housing bureau)
    DEPARTMENT = "department"   # 职能部门 (城管, 公安, 消防, 市场监管 ...)

    ALL = (COMPOUND, COMMUNITY, STREET, BUREAU, DEPARTMENT)


LEVEL_LABELS: dict[str, dict[str, str]] = {
    Level.COMPOUND: {"zh": "小区", "en": "Compound"},
    Level.COMMUNITY: {"zh": "社区", "en": "Community"},
    Level.STREET: {"zh": "街道", "en": "Street"},
    Level.BUREAU: {"zh": "住建局", "en": "Housing bureau"},
    Level.DEPARTMENT: {"zh": "职能部门", "en": "Department"},
}

# Order for "solved at which level" statistics, from closest to the resident outwards. The department is listed
# last: it sits at county level beside the bureau, and its tickets arrive there by category, not by escalation.
LEVEL_ORDER: tuple[str, ...] = (Level.COMPOUND, Level.COMMUNITY, Level.STREET, Level.BUREAU, Level.DEPARTMENT)


class HandlerKind:
    COMPANY = "company"
    OWNERS_ORG = "owners_org"
    COMMUNITY = "community"
    STREET = "street"
    BUREAU = "bureau"
    DEPARTMENT = "department"

    ALL = (COMPANY, OWNERS_ORG, COMMUNITY, STREET, BUREAU, DEPARTMENT)


HANDLER_KIND_LEVEL: dict[str, str] = {
    HandlerKind.COMPANY: Level.COMPOUND,
    HandlerKind.OWNERS_ORG: Level.COMPOUND,
    HandlerKind.COMMUNITY: Level.COMMUNITY,
    HandlerKind.STREET: Level.STREET,
    HandlerKind.BUREAU: Level.BUREAU,
    HandlerKind.DEPARTMENT: Level.DEPARTMENT,
}


class Responsible:
    """Who a category names as the first answerer."""
    COMPANY = "company"
    OWNERS_ORG = "owners_org"
    COMMUNITY = "community"
    DEPARTMENT = "department"

    ALL = (COMPANY, OWNERS_ORG, COMMUNITY, DEPARTMENT)


RESPONSIBLE_LABELS: dict[str, dict[str, str]] = {
    Responsible.COMPANY: {"zh": "物业服务企业", "en": "Property company"},
    Responsible.OWNERS_ORG: {"zh": "业主组织", "en": "Owners' organization"},
    Responsible.COMMUNITY: {"zh": "社区", "en": "Community"},
    Responsible.DEPARTMENT: {"zh": "职能部门", "en": "Department"},
}


@dataclass(frozen=True)
class CompoundFacts:
    """What routing needs to know about a compound, from the tickets service's copy of the registry."""
    compound_id: int
    community_id: int
    street_id: int
    county_id: int              # the bureau is addressed by its county
    company_id: int | None
    owner_organization_id: int | None
    three_without: bool         # 三无小区, derived by the registry


@dataclass(frozen=True)
class Assignment:
    kind: str                   # HandlerKind
    target_id: int              # id of the company, owners' organization, community, street, county or department
    level: str                  # Level

    @classmethod
    def of(cls, kind: str, target_id: int) -> Assignment:
        return cls(kind, target_id, HANDLER_KIND_LEVEL[kind])


def route(responsible: str, compound: CompoundFacts, department_id: int | None = None) -> Assignment:
    """The body that answers a new ticket of a category with `responsible` in `compound`.

    company → the compound's company, else its owners' organization, else the community;
    owners_org → the owners' organization, else the community; community → the community;
    department → the department when the category names one (`department_id`), else the community, which then
    coordinates with whichever department it is.
    A compound flagged 三无 answers nothing at compound level even if stale ids linger in the copy: the flag is
    derived by the registry, which is the authority on who actually serves the compound.
    """
    if responsible not in Responsible.ALL:
        raise ValidationFailed(f"unknown responsible party {responsible!r}",
                               details={"responsible": [f"must be one of {', '.join(Responsible.ALL)}"]})
    in_compound = not compound.three_without
    if responsible == Responsible.COMPANY and in_compound and compound.company_id is not None:
        return Assignment.of(HandlerKind.COMPANY, compound.company_id)
    if (responsible in (Responsible.COMPANY, Responsible.OWNERS_ORG) and in_compound
            and compound.owner_organization_id is not None):
        return Assignment.of(HandlerKind.OWNERS_ORG, compound.owner_organization_id)
    if responsible == Responsible.DEPARTMENT and department_id is not None:
        return Assignment.of(HandlerKind.DEPARTMENT, department_id)
    return Assignment.of(HandlerKind.COMMUNITY, compound.community_id)


def escalate(current: Assignment, compound: CompoundFacts) -> Assignment | None:
    """The next body up when `current` let a deadline pass; None at the top (the bureau).

    compound level (company or owners' organization) → community → street → bureau; a department → bureau.
    """
    kind = current.kind
    if kind in (HandlerKind.COMPANY, HandlerKind.OWNERS_ORG):
        return Assignment.of(HandlerKind.COMMUNITY, compound.community_id)
    if kind == HandlerKind.COMMUNITY:
        return Assignment.of(HandlerKind.STREET, compound.street_id)
    if kind in (HandlerKind.STREET, HandlerKind.DEPARTMENT):
        return Assignment.of(HandlerKind.BUREAU, compound.county_id)
    if kind == HandlerKind.BUREAU:
        return None
    raise ValidationFailed(f"unknown handler kind {kind!r}",
                           details={"kind": [f"must be one of {', '.join(HandlerKind.ALL)}"]})


def level_rank(level: str) -> int:
    """Position of `level` in LEVEL_ORDER (0 = compound), for sorting statistics."""
    return LEVEL_ORDER.index(level)
