"""Ticket statistics: pure functions over facts the caller has already loaded.

Counted per group (company, compound, community, street, or the whole county): received, claimed and resolved on
time, mean and p90 handling time, satisfaction, escalations and the share solved at each level; plus CSV export.

Rules, kept simple so the numbers can be explained to a street office:
- received: every ticket in the input.
- claimed on time: claimed, and either claimed by its claim deadline or it had no claim deadline (a ticket nobody
  set a deadline for cannot be late). Resolved on time likewise with the resolve deadline.
- the on-time rates are over *received* tickets, so unclaimed/unresolved tickets pull the rate down.
- handling time: `handling_hours` of resolved tickets (working hours, computed by the caller); mean and
  nearest-rank p90.
- satisfaction rate: (satisfied + basically satisfied) / rated tickets.
- solved-at shares are over resolved tickets.
Rates are rounded to 4 decimals and are 0.0 when the denominator is 0; hours are rounded to 2 decimals.
"""
import csv
import io
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from kit.errors import ValidationFailed

__all__ = ["TicketFacts", "GROUPINGS", "LEVELS", "SATISFACTION", "summarize", "group_statistics", "to_csv", "p90",
           "ratio"]

GROUPINGS = ("company", "compound", "community", "street", "county")
LEVELS = ("compound", "community", "street", "bureau", "department")
SATISFACTION = ("satisfied", "basically_satisfied", "dissatisfied")

_GROUP_FIELD = {"company": "company_id", "compound": "compound_id", "community": "community_id",
                "street": "street_id"}


@dataclass(frozen=True)
class TicketFacts:
    ticket_id: int
    compound_id: int
    community_id: int
    street_id: int
    company_id: int | None
    created_at: datetime
    claimed_at: datetime | None
    resolved_at: datetime | None
    claim_deadline: datetime | None
    resolve_deadline: datetime | None
    status: str
    satisfaction: str | None
    escalations: int
    solved_level: str | None
    handling_hours: float | None

    def __post_init__(self):
        # Fail loudly on a value the counters would silently ignore.
        if self.satisfaction is not None and self.satisfaction not in SATISFACTION:
            raise ValidationFailed("unknown satisfaction", details={"satisfaction": self.satisfaction})
        if self.solved_level is not None and self.solved_level not in LEVELS:
            raise ValidationFailed("unknown solved level", details={"solved_level": self.solved_level})
        if self.escalations < 0:
            raise ValidationFailed("escalations cannot be negative", details={"escalations": self.escalations})

    @property
    def claimed_on_time(self) -> bool:
        return self.claimed_at is not None and (self.claim_deadline is None or self.claimed_at <= self.claim_deadline)

    @property
    def resolved_on_time(self) -> bool:
        return self.resolved_at is not None and (
            self.resolve_deadline is None or self.resolved_at <= self.resolve_deadline)


def ratio(a, b) -> float:
    """a / b rounded to 4 decimals; 0.0 when b is 0 so an empty group reads as a number, not an error."""
    return round(a / b, 4) if b else 0.0


def p90(values) -> float | None:
    """Nearest-rank 90th percentile: the smallest value with at least 90% of the values at or below it."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = math.ceil(0.9 * len(ordered))
    return ordered[rank - 1]


@dataclass
class Counters:
    """The sums a group's row is made of. A database can add them up itself (GROUP BY) for large counts; then
    `summary` turns them into the row, so both ways share the rates, shares and rounding."""
    received: int = 0
    claimed: int = 0
    claimed_on_time: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    hours_sum: float = 0.0
    hours_count: int = 0
    p90_hours: float | None = None
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    escalated: int = 0
    escalations: int = 0
    solved_at: dict = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))


def count(facts: Iterable[TicketFacts]) -> Counters:
    facts = list(facts)
    resolved_facts = [f for f in facts if f.resolved_at is not None]
    hours = [f.handling_hours for f in resolved_facts if f.handling_hours is not None]
    rating = {level: sum(1 for f in facts if f.satisfaction == level) for level in SATISFACTION}
    return Counters(
        received=len(facts), claimed=sum(1 for f in facts if f.claimed_at is not None),
        claimed_on_time=sum(1 for f in facts if f.claimed_on_time), resolved=len(resolved_facts),
        resolved_on_time=sum(1 for f in resolved_facts if f.resolved_on_time), hours_sum=sum(hours),
        hours_count=len(hours), p90_hours=p90(hours), escalated=sum(1 for f in facts if f.escalations > 0),
        escalations=sum(f.escalations for f in facts),
        solved_at={level: sum(1 for f in resolved_facts if f.solved_level == level) for level in LEVELS},
        **rating)


def summary(c: Counters) -> dict:
    rated = c.satisfied + c.basically_satisfied + c.dissatisfied
    return {
        "received": c.received,
        "claimed": c.claimed,
        "claimed_on_time": c.claimed_on_time,
        "claimed_on_time_rate": ratio(c.claimed_on_time, c.received),
        "resolved": c.resolved,
        "resolved_on_time": c.resolved_on_time,
        "resolved_on_time_rate": ratio(c.resolved_on_time, c.received),
        "mean_handling_hours": round(c.hours_sum / c.hours_count, 2) if c.hours_count else None,
        "p90_handling_hours": round(c.p90_hours, 2) if c.p90_hours is not None else None,
        "rated": rated,
        "satisfied": c.satisfied,
        "basically_satisfied": c.basically_satisfied,
        "dissatisfied": c.dissatisfied,
        "satisfaction_rate": ratio(c.satisfied + c.basically_satisfied, rated),
        "escalated": c.escalated,
        "escalations": c.escalations,
        "solved_at": dict(c.solved_at),
        "solved_at_share": {level: ratio(n, c.resolved) for level, n in c.solved_at.items()},
    }


def summarize(facts: Iterable[TicketFacts]) -> dict:
    return summary(count(facts))


def group_statistics(facts: Iterable[TicketFacts], by: str) -> list[dict]:
    """One row per group key, sorted by key with None (tickets of compounds without a company) last."""
    if by not in GROUPINGS:
        raise ValidationFailed("unknown grouping", details={"by": f"must be one of {', '.join(GROUPINGS)}"})
    facts = list(facts)
    if by == "county":
        return [{"key": "county", **summarize(facts)}]
    field = _GROUP_FIELD[by]
    groups = {}
    for fact in facts:
        groups.setdefault(getattr(fact, field), []).append(fact)
    keys = sorted(groups, key=lambda k: (k is None, k if k is not None else 0))
    return [{"key": key, **summarize(groups[key])} for key in keys]


def _flatten(row):
    flat = {}
    for name, value in row.items():
        if isinstance(value, dict):
            for sub, sub_value in value.items():
                flat[f"{name}_{sub}"] = sub_value
        else:
            flat[name] = value
    return flat


def _cell(value):
    if value is None:
        return ""
    # Spreadsheet formula injection: a text cell starting like a formula is shown, not evaluated.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(rows: list[dict]) -> str:
    """CSV text with a UTF-8 BOM (so Excel in Chinese locales detects UTF-8) and CRLF line endings.

    Nested dicts are flattened as `<name>_<key>` (solved_at_compound...). Without rows, the header alone is written.
    """
    flat_rows = [_flatten(row) for row in rows]
    header = list(_flatten({"key": None, **summarize([])}))
    for flat in flat_rows:
        for name in flat:
            if name not in header:
                header.append(name)
    out = io.StringIO()
    writer = csv.writer(out)  # default dialect: CRLF line endings, minimal quoting
    writer.writerow(header)
    for flat in flat_rows:
        writer.writerow([_cell(flat.get(name)) for name in header])
    return "\ufeff" + out.getvalue()
