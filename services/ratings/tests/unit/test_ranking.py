"""Rankings with ties and missing values; demonstration projects chosen by the table's bar."""
from dataclasses import replace

from services.ratings.domain.ranking import ProjectCandidate, rank, select_demonstration
from services.ratings.domain.rules import load_example

CHUXIONG = load_example("chuxiong")     # top 10, ≥ 4★, evaluation ≥ 85, credit ≥ 85
JIANGXIAN = load_example("jiangxian")   # top 3, 5★, evaluation ≥ 90, credit ≥ 90

ROWS = [
    {"company_id": 4, "score": 90.0},
    {"company_id": 2, "score": 95.0},
    {"company_id": 3, "score": 90.0},
    {"company_id": 1, "score": None},
    {"company_id": 5, "score": 80.0},
]


def test_rank_descending_with_ties():
    ranked = rank(ROWS, "score")
    assert [(r["company_id"], r["rank"]) for r in ranked] == [(2, 1), (3, 2), (4, 2), (5, 4), (1, None)]
    assert all("rank" not in row for row in ROWS)                    # new dicts, input untouched
    assert ranked[0] == {"company_id": 2, "score": 95.0, "rank": 1}


def test_rank_ascending():
    ranked = rank(ROWS, "score", descending=False)
    assert [(r["company_id"], r["rank"]) for r in ranked] == [(5, 1), (3, 2), (4, 2), (2, 4), (1, None)]


def test_rank_by_compound_and_all_missing():
    rows = [{"compound_id": 12, "votes": 3}, {"compound_id": 11, "votes": 3}, {"compound_id": 10, "votes": None},
            {"compound_id": 9, "votes": None}]
    assert [(r["compound_id"], r["rank"]) for r in rank(rows, "votes")] == [(11, 1), (12, 1), (9, None), (10, None)]
    assert rank([], "votes") == []


def candidate(compound_id, stars, evaluation, credit, veto=False):
    return ProjectCandidate(compound_id=compound_id, company_id=100 + compound_id % 3, stars=stars,
                            evaluation=evaluation, credit=credit, veto=veto)


CANDIDATES = [
    candidate(11, 5, 92.0, 95.0),              # 187
    candidate(12, 4, 85.0, 85.0),              # 170, exactly at the 楚雄 bar
    candidate(13, 3, 95.0, 99.0),              # too few stars
    candidate(14, 5, 96.0, 98.0, veto=True),   # a veto in force
    candidate(15, 5, None, 99.0),              # no valid evaluation
    candidate(16, 4, 90.0, 97.0),              # 187, ties with 11: lower compound id first
    candidate(17, None, 99.0, 99.0),           # no stars
    candidate(18, 4, 84.99, 100.0),            # evaluation just under the bar
]


def test_select_demonstration_chuxiong():
    assert [c.compound_id for c in select_demonstration(CHUXIONG, CANDIDATES)] == [11, 16, 12]
    top_two = replace(CHUXIONG, demonstration={**CHUXIONG.demonstration, "top_n": 2})
    assert [c.compound_id for c in select_demonstration(top_two, CANDIDATES)] == [11, 16]


def test_select_demonstration_jiangxian():
    # only 5★ with evaluation and credit ≥ 90: 11 (92 / 95); 14 has a veto, 15 no evaluation
    assert select_demonstration(JIANGXIAN, iter(CANDIDATES)) == [CANDIDATES[0]]
    assert select_demonstration(JIANGXIAN, []) == []
