"""Rankings (排名) and the choice of red-property demonstration projects (红色物业示范项目).

Rankings are published, so they must be stable and explainable: equal values share a rank (1, 2, 2, 4), ties are
listed by id so two runs print the same list, and a company without a value is listed last without a rank rather
than ranked as if it had scored zero.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .rules import RuleTable


def _id_key(row: dict):
    company_id, compound_id = row.get("company_id"), row.get("compound_id")
    return (company_id is None, company_id or 0, compound_id is None, compound_id or 0)


def rank(rows: Sequence[dict], key: str, descending: bool = True) -> list[dict]:
    """New dicts with "rank": standard competition ranking on row[key]; rows whose value is None get rank None."""
    present = [row for row in rows if row.get(key) is not None]
    missing = sorted((row for row in rows if row.get(key) is None), key=_id_key)
    present.sort(key=_id_key)
    present.sort(key=lambda row: row[key], reverse=descending)   # stable: ties keep id order
    ranked = []
    previous_value, previous_rank = object(), None
    for position, row in enumerate(present, start=1):
        value = row[key]
        current = previous_rank if value == previous_value else position
        ranked.append({**row, "rank": current})
        previous_value, previous_rank = value, current
    ranked.extend({**row, "rank": None} for row in missing)
    return ranked


@dataclass(frozen=True)
class ProjectCandidate:
    compound_id: int
    company_id: int
    stars: int | None
    evaluation: float | None
    credit: float | None
    veto: bool


def eligible_for_demonstration(table: RuleTable, candidate: ProjectCandidate) -> bool:
    bar = table.demonstration
    return (not candidate.veto
            and candidate.stars is not None and candidate.stars >= bar["min_stars"]
            and candidate.evaluation is not None and candidate.evaluation >= bar["min_evaluation"]
            and candidate.credit is not None and candidate.credit >= bar["min_credit"])


def select_demonstration(table: RuleTable, candidates: Iterable[ProjectCandidate]) -> list[ProjectCandidate]:
    """The best eligible projects by evaluation + credit, at most top_n (株洲 chooses 50 a year city-wide)."""
    eligible = [c for c in candidates if eligible_for_demonstration(table, c)]
    eligible.sort(key=lambda c: (-(c.evaluation + c.credit), c.compound_id))
    return eligible[:table.demonstration["top_n"]]
