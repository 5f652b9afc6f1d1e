"""Yearly star rating (星级评定, 1–5 stars) from a weighted composite.

绛县 rates every company once a year: high stars are publicised, low stars are ordered to rectify (责令整改). The
composite weighs three numbers on a 0–100 scale — the owners' evaluation (业主评议), the credit score and the ticket
record (on-time handling and satisfaction) — by the county's rule table. A county that has not deployed tickets, or
a company without an evaluation this year, still gets a composite: the weights are renormalised over what exists,
rather than counting a missing number as zero, which would punish the company for the county's set-up.
"""
from __future__ import annotations

from dataclasses import dataclass

from .rules import STAR_COMPONENTS, RuleTable

STAR_LABELS: dict[int, str] = {
    5: "五星 five stars",
    4: "四星 four stars",
    3: "三星 three stars",
    2: "二星 two stars",
    1: "一星 one star",
}


@dataclass(frozen=True)
class TicketTally:
    received: int
    resolved: int
    resolved_on_time: int
    rated: int
    satisfied: int          # 满意 or 基本满意


def ticket_score(tally: TicketTally) -> float | None:
    """100 × the mean of the on-time rate (over resolved tickets) and the satisfaction rate (over rated ones).

    Only rates that have a denominator take part: a company with no rated ticket is judged on time alone.
    """
    rates = []
    if tally.resolved > 0:
        rates.append(tally.resolved_on_time / tally.resolved)
    if tally.rated > 0:
        rates.append(tally.satisfied / tally.rated)
    if not rates:
        return None
    return round(100 * sum(rates) / len(rates), 2)


@dataclass(frozen=True)
class Components:
    evaluation: float | None
    credit: float | None
    tickets: float | None
    veto: bool = False


def composite(table: RuleTable, components: Components) -> float | None:
    weighted = total_weight = 0.0
    for name in STAR_COMPONENTS:
        value = getattr(components, name)
        if value is None:
            continue
        weight = table.star_weights[name]
        weighted += weight * value
        total_weight += weight
    if total_weight <= 0:
        return None
    return round(weighted / total_weight, 2)


def stars_for(table: RuleTable, composite: float | None, veto: bool) -> int | None:
    """Stars of the first threshold the composite reaches; a one-vote veto (一票否决) caps them."""
    if composite is None:
        return None
    stars = table.star_thresholds[-1][0]
    for threshold_stars, minimum in table.star_thresholds:
        if composite >= minimum:
            stars = threshold_stars
            break
    if veto:
        stars = min(stars, table.veto_max_stars)
    return stars


def needs_rectification(table: RuleTable, stars: int | None) -> bool:
    """Low stars bring a rectification order (责令整改); no stars (nothing to rate) bring none."""
    return stars is not None and stars <= table.rectify_at_or_below
