"""Owners' evaluation: ballots, compound results under and over the participation threshold, company results."""
import pytest

from kit.errors import ValidationFailed
from services.ratings.domain.evaluation import (
    SCALE, CompanyResult, CompoundResult, ballot_score, company_results, compound_result)
from services.ratings.domain.rules import load_example

CHUXIONG = load_example("chuxiong")     # weights 0.2, 0.2, 0.2, 0.25, 0.15; valid from 50% participation
JIANGXIAN = load_example("jiangxian")   # weights 0.3, 0.25, 0.25, 0.2; valid from 40% participation


def test_scale():
    assert SCALE == (1, 5)


def test_ballot_score_chuxiong():
    answers = {"service_attitude": 5, "sanitation": 4, "order_security": 4, "facility_maintenance": 3,
               "fees_transparency": 5}
    # 20 × (0.2×5 + 0.2×4 + 0.2×4 + 0.25×3 + 0.15×5) = 20 × (1 + 0.8 + 0.8 + 0.75 + 0.75) = 20 × 4.1 = 82
    assert ballot_score(CHUXIONG.dimensions, answers) == 82.0
    assert ballot_score(CHUXIONG.dimensions, dict.fromkeys(answers, 5)) == 100.0
    assert ballot_score(CHUXIONG.dimensions, dict.fromkeys(answers, 1)) == 20.0


def test_ballot_score_jiangxian():
    # 20 × (0.3×4 + 0.25×5 + 0.25×3 + 0.2×2) = 20 × (1.2 + 1.25 + 0.75 + 0.4) = 20 × 3.6 = 72
    answers = {"service_attitude": 4, "environment": 5, "safety": 3, "repairs": 2}
    assert ballot_score(JIANGXIAN.dimensions, answers) == 72.0


def test_ballot_errors():
    with pytest.raises(ValidationFailed) as caught:
        ballot_score(JIANGXIAN.dimensions, {"service_attitude": 0, "environment": 4.5, "safety": True,
                                            "parking": 3})
    assert caught.value.details == {
        "answers.parking": ["unknown dimension"],
        "answers.service_attitude": ["must be a whole number from 1 to 5"],
        "answers.environment": ["must be a whole number from 1 to 5"],
        "answers.safety": ["must be a whole number from 1 to 5"],
        "answers.repairs": ["missing answer"],
    }
    with pytest.raises(ValidationFailed) as caught:
        ballot_score(JIANGXIAN.dimensions, {"service_attitude": 6, "environment": "5", "safety": 3, "repairs": 2})
    assert set(caught.value.details) == {"answers.service_attitude", "answers.environment"}
    with pytest.raises(ValidationFailed):
        ballot_score(JIANGXIAN.dimensions, [4, 5, 3, 2])


def test_compound_result_valid_at_the_threshold():
    # 100 of 200 households = 50% ≥ 50% → valid
    result = compound_result(CHUXIONG.participation_threshold, compound_id=11, company_id=7, households=200,
                             votes=100, average_score=82.456,
                             dimension_averages={"service_attitude": 4.125, "sanitation": 3.333333})
    assert result == CompoundResult(compound_id=11, company_id=7, households=200, votes=100, participation=0.5,
                                    valid=True, score=82.46,
                                    dimension_scores={"service_attitude": 82.5, "sanitation": 66.67})


def test_compound_result_under_the_threshold():
    # 99 of 200 = 49.5% < 50% → not valid: no score at all
    result = compound_result(CHUXIONG.participation_threshold, 11, 7, 200, 99, 95.0, {"sanitation": 5.0})
    assert result == CompoundResult(compound_id=11, company_id=7, households=200, votes=99, participation=0.495,
                                    valid=False, score=None, dimension_scores=None)


def test_compound_result_edge_cases():
    # 3 of 7 = 0.428571… ≥ 40% → valid under 绛县, participation rounded to 4 places
    result = compound_result(JIANGXIAN.participation_threshold, 12, 7, 7, 3, 80.0, {})
    assert (result.participation, result.valid, result.score, result.dimension_scores) == (0.4286, True, 80.0, {})
    # a compound without known households can never be valid
    empty = compound_result(JIANGXIAN.participation_threshold, 13, 7, 0, 0, None, {})
    assert (empty.participation, empty.valid, empty.score) == (0.0, False, None)


def test_company_results():
    results = [
        CompoundResult(1, 7, 200, 120, 0.6, True, 80.0, {}),
        CompoundResult(2, 7, 100, 60, 0.6, True, 90.0, {}),
        CompoundResult(3, 7, 300, 60, 0.2, False, None, None),     # under the threshold: no weight
        CompoundResult(4, 3, 100, 10, 0.1, False, None, None),
    ]
    assert company_results(results) == [
        # only invalid compounds: not valid, no score
        CompanyResult(company_id=3, compounds=1, valid_compounds=0, households=100, votes=10, participation=0.1,
                      valid=False, score=None),
        # score (120×80 + 60×90) / (120 + 60) = 15000 / 180 = 83.33; participation 240 / 600 = 0.4 over all
        CompanyResult(company_id=7, compounds=3, valid_compounds=2, households=600, votes=240, participation=0.4,
                      valid=True, score=83.33),
    ]
    assert company_results([]) == []
