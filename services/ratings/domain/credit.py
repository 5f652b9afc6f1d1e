"""Credit scores (信用分) and grades from credit records, by a county's rule table.

A record keeps the points, kind and veto flag it was recorded with and the day it stops counting, so a new version
of the table never rewrites history: what changes is how today's score adds the records up (item caps, bonus and
deduction caps, grades, lists). An item the current table no longer knows still counts its recorded points, without
a cap — the company was told those points when the record was made.

    score = clamp(base + min(Σ bonus, bonus_cap) − min(Σ deduction, deduction_cap), min_score, max_score)

where each item first counts at most its own cap. A one-vote-veto item (一票否决) in force caps the grade whatever
the score, and puts the company on the black list where the table says so.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from .rules import Item, RuleTable


@dataclass(frozen=True)
class RecordFact:
    item_code: str
    kind: str               # "bonus" | "deduction", as recorded
    points: float           # > 0, as recorded
    veto: bool
    occurred_on: date
    valid_until: date       # exclusive: the first day the record no longer counts


def in_force(record: RecordFact, on: date) -> bool:
    return record.occurred_on <= on < record.valid_until


def valid_until(item: Item, occurred_on: date) -> date:
    """A record with validity 365 that occurred on 1 March 2024 counts up to and including 28 February 2025."""
    return occurred_on + timedelta(days=item.validity_days)


@dataclass(frozen=True)
class ItemSum:
    """The in-force records of one item for one company (the service may sum them in SQL)."""
    item_code: str
    kind: str
    points: float
    veto: bool
    count: int


@dataclass(frozen=True)
class CreditScore:
    score: float
    grade: str
    bonus: float            # after bonus_cap
    deduction: float        # after deduction_cap, positive
    veto: bool
    records: int
    items: dict             # item_code -> signed points counted after the item's cap (+ bonus, − deduction)


def _round(value: float) -> float:
    return round(value + 0.0, 2)


def score_from_sums(table: RuleTable, sums: Iterable[ItemSum]) -> CreditScore:
    # Merge sums of the same item first, so a cap applies to the item once however the caller split it.
    merged: dict[str, ItemSum] = {}
    for item_sum in sums:
        known = merged.get(item_sum.item_code)
        if known is None:
            merged[item_sum.item_code] = item_sum
        else:
            merged[item_sum.item_code] = ItemSum(item_code=known.item_code, kind=known.kind,
                                                 points=known.points + item_sum.points,
                                                 veto=known.veto or item_sum.veto, count=known.count + item_sum.count)

    bonus = deduction = 0.0
    veto = False
    records = 0
    items: dict[str, float] = {}
    for code, item_sum in merged.items():
        item = table.find_item(code)
        counted = item_sum.points
        if item is not None and item.cap is not None:
            counted = min(counted, item.cap)
        counted = _round(counted)
        if item_sum.kind == "bonus":
            bonus += counted
            items[code] = counted
        else:
            deduction += counted
            items[code] = -counted
        veto = veto or item_sum.veto
        records += item_sum.count

    if table.bonus_cap is not None:
        bonus = min(bonus, table.bonus_cap)
    if table.deduction_cap is not None:
        deduction = min(deduction, table.deduction_cap)
    bonus, deduction = _round(bonus), _round(deduction)
    total = _round(min(max(table.base_score + bonus - deduction, table.min_score), table.max_score))
    grade = table.grade_for(total)
    if veto:
        grade = grade_at_most(table, grade, table.veto_grade)
    return CreditScore(score=total, grade=grade, bonus=bonus, deduction=deduction, veto=veto, records=records,
                       items=items)


def sums_in_force(records: Iterable[RecordFact], on: date) -> list[ItemSum]:
    """The in-force records summed per item, in the order items first appear."""
    sums: dict[str, ItemSum] = {}
    for record in records:
        if not in_force(record, on):
            continue
        known = sums.get(record.item_code)
        if known is None:
            sums[record.item_code] = ItemSum(item_code=record.item_code, kind=record.kind, points=record.points,
                                             veto=record.veto, count=1)
        else:
            sums[record.item_code] = ItemSum(item_code=record.item_code, kind=known.kind,
                                             points=known.points + record.points, veto=known.veto or record.veto,
                                             count=known.count + 1)
    return list(sums.values())


def score(table: RuleTable, records: Iterable[RecordFact], on: date) -> CreditScore:
    return score_from_sums(table, sums_in_force(records, on))


def standing(table: RuleTable, credit: CreditScore) -> str | None:
    """"black" (黑名单), "red" (红名单) or None. Black wins: a veto or a failing grade outweighs a good score."""
    black = table.black_list
    if credit.grade in black["grades"] or (black["veto"] and credit.veto):
        return "black"
    red = table.red_list
    if (table.grade_rank(credit.grade) <= table.grade_rank(red["min_grade"]) and not credit.veto
            and not (red["no_deductions"] and credit.deduction > 0)):
        return "red"
    return None


STANDING_LABELS: dict[str, dict[str, str]] = {
    "red": {"zh": "红名单", "en": "Red list"},
    "black": {"zh": "黑名单", "en": "Black list"},
}


def grade_at_most(table: RuleTable, grade: str, cap: str) -> str:
    """The worse of two grades."""
    return grade if table.grade_rank(grade) >= table.grade_rank(cap) else cap
