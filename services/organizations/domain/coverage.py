"""Coverage statistics for any node of the jurisdiction tree, computed from plain facts about its compounds and
the companies working there."""
from dataclasses import dataclass

from .rules import (
    ManagementMode,
    OwnerOrganizationType,
    PartyFinding,
    PartyOrganizationForm,
    party_organization_finding,
)


@dataclass(frozen=True)
class CompoundFacts:
    compound_id: object
    name: str
    management_mode: str
    owner_organization_type: str | None  # type of its active owners' organization, None without one
    has_party_branch: bool
    households: int
    floor_area: float
    three_without: bool
    old_compound: bool


@dataclass(frozen=True)
class CompanyFacts:
    company_id: object
    party_organization_form: str
    party_member_count: int
    state_owned: bool


def ratio(part, whole):
    """part / whole rounded to 4 decimals; 0.0 when there is nothing to divide by."""
    if not whole:
        return 0.0
    return round(part / whole, 4)


def _count(items, predicate):
    return sum(1 for item in items if predicate(item))


def _management(compounds):
    counts = {mode: _count(compounds, lambda c, mode=mode: c.management_mode == mode) for mode in ManagementMode.ALL}
    professionally_run = [c for c in compounds
                          if c.management_mode in (ManagementMode.PROFESSIONAL, ManagementMode.STATE_OWNED)]
    return {
        **counts,
        "professional_rate": ratio(len(professionally_run), len(compounds)),
        "households_served": sum(c.households or 0 for c in professionally_run),
    }


def _owner_organizations(compounds):
    counts = {kind: _count(compounds, lambda c, kind=kind: c.owner_organization_type == kind)
              for kind in OwnerOrganizationType.ALL}
    covered = _count(compounds, lambda c: c.owner_organization_type is not None)
    return {
        **counts,
        "covered": covered,
        "coverage_rate": ratio(covered, len(compounds)),
        "owners_committee_rate": ratio(counts[OwnerOrganizationType.OWNERS_COMMITTEE], len(compounds)),
    }


def _party_branches(compounds):
    covered = _count(compounds, lambda c: c.has_party_branch)
    return {"covered": covered, "coverage_rate": ratio(covered, len(compounds))}


def _companies(companies):
    counts = {form: _count(companies, lambda c, form=form: c.party_organization_form == form)
              for form in PartyOrganizationForm.ALL}
    covered = _count(companies, lambda c: c.party_organization_form in PartyOrganizationForm.ESTABLISHED)
    needing_own_branch = _count(
        companies,
        lambda c: party_organization_finding(c.party_member_count, c.party_organization_form)
        == PartyFinding.NEEDS_OWN_BRANCH,
    )
    return {
        "total": len(companies),
        **counts,
        "covered": covered,
        "coverage_rate": ratio(covered, len(companies)),
        "needing_own_branch": needing_own_branch,
    }


def compute_coverage(compounds, companies):
    """A JSON-ready summary; every rate is a float in [0, 1] rounded to 4 decimals."""
    compounds = list(compounds)
    companies = list(companies)
    three_without_ids = sorted((c.compound_id for c in compounds if c.three_without), key=_sort_key)
    return {
        "compounds": len(compounds),
        "households": sum(c.households or 0 for c in compounds),
        "floor_area": round(sum(c.floor_area or 0 for c in compounds), 2),
        "old_compounds": _count(compounds, lambda c: c.old_compound),
        "management": _management(compounds),
        "owner_organizations": _owner_organizations(compounds),
        "party_branches": _party_branches(compounds),
        "companies": _companies(companies),
        "three_without": {"count": len(three_without_ids), "compound_ids": three_without_ids},
    }


def _sort_key(compound_id):
    # ids may be ints, UUIDs or strings: ints numerically first, anything else by its text
    if isinstance(compound_id, int):
        return (0, compound_id, "")
    return (1, 0, str(compound_id))
