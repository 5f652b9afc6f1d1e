"""Owners' evaluation (业主评议) of the company serving their compound.

"物业服务好不好、换不换，业主说了算": every household votes once per campaign on the table's dimensions, each
answered 1 (很不满意 very dissatisfied) … 5 (很满意 very satisfied). A ballot scores 20 × the weighted mean answer,
so 20 … 100 — the same 0–100 scale as credit and tickets in the star composite. A compound's result only counts
when enough households voted (participation threshold): a handful of votes in a 600-household compound says
little, and a company must not be replaced on it.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kit.errors import ValidationFailed

from .rules import Dimension

SCALE = (1, 5)

ANSWER_LABELS: dict[int, dict[str, str]] = {
    1: {"zh": "很不满意", "en": "Very dissatisfied"},
    2: {"zh": "不满意", "en": "Dissatisfied"},
    3: {"zh": "一般", "en": "Neutral"},
    4: {"zh": "满意", "en": "Satisfied"},
    5: {"zh": "很满意", "en": "Very satisfied"},
}


def ballot_score(dimensions: Sequence[Dimension], answers: dict) -> float:
    """Check one household's answers and score them; every problem is reported under "answers.<code>"."""
    if not isinstance(answers, dict):
        raise ValidationFailed("the ballot is not valid",
                               details={"answers": ["must map each dimension code to an answer from 1 to 5"]})
    low, high = SCALE
    errors: dict[str, list[str]] = {}
    known = {dimension.code for dimension in dimensions}
    for code in answers:
        if code not in known:
            errors[f"answers.{code}"] = ["unknown dimension"]
    for dimension in dimensions:
        if dimension.code not in answers:
            errors[f"answers.{dimension.code}"] = ["missing answer"]
            continue
        value = answers[dimension.code]
        # bool is an int in Python; True is not an answer.
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[f"answers.{dimension.code}"] = [f"must be a whole number from {low} to {high}"]
    if errors:
        raise ValidationFailed("the ballot is not valid", details=errors)
    return round(20 * sum(dimension.weight * answers[dimension.code] for dimension in dimensions), 2)


@dataclass(frozen=True)
class CompoundResult:
    compound_id: int
    company_id: int
    households: int
    votes: int
    participation: float            # votes / households, 4 decimals; 0 when households is 0
    valid: bool
    score: float | None             # only when valid
    dimension_scores: dict | None   # code -> 20 × average answer, only when valid


def compound_result(threshold: float, compound_id: int, company_id: int, households: int, votes: int,
                    average_score: float | None, dimension_averages: dict) -> CompoundResult:
    """`average_score` is the mean ballot score, `dimension_averages` the mean answer (1–5) per dimension."""
    valid = households > 0 and votes / households >= threshold
    participation = round(votes / households, 4) if households > 0 else 0.0
    score = dimension_scores = None
    if valid:
        score = round(average_score, 2) if average_score is not None else None
        dimension_scores = {code: round(20 * average, 2) for code, average in (dimension_averages or {}).items()
                            if average is not None}
    return CompoundResult(compound_id=compound_id, company_id=company_id, households=households, votes=votes,
                          participation=participation, valid=valid, score=score, dimension_scores=dimension_scores)


@dataclass(frozen=True)
class CompanyResult:
    company_id: int
    compounds: int
    valid_compounds: int
    households: int
    votes: int
    participation: float
    valid: bool
    score: float | None


def company_results(results: Iterable[CompoundResult]) -> list[CompanyResult]:
    """One result per company over its compounds; only valid compounds carry a score, weighted by their votes."""
    grouped: dict[int, list[CompoundResult]] = {}
    for result in results:
        grouped.setdefault(result.company_id, []).append(result)
    out = []
    for company_id in sorted(grouped):
        compounds = grouped[company_id]
        households = sum(c.households for c in compounds)
        votes = sum(c.votes for c in compounds)
        valid = [c for c in compounds if c.valid]
        scored = [c for c in valid if c.score is not None]
        scored_votes = sum(c.votes for c in scored)
        score = round(sum(c.votes * c.score for c in scored) / scored_votes, 2) if scored_votes else None
        out.append(CompanyResult(company_id=company_id, compounds=len(compounds), valid_compounds=len(valid),
                                 households=households, votes=votes,
                                 participation=round(votes / households, 4) if households else 0.0,
                                 valid=bool(valid), score=score))
    return out
