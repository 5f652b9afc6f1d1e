"""Credit scores worked out by hand for both example tables.

楚雄 example: base 100, kept in 0…100, bonus capped at 15, deductions uncapped; AAA ≥ 95, AA ≥ 85, A ≥ 75, B ≥ 60,
C below; a veto caps the grade at C; red list = AA or better with no deduction in force; black list = C or a veto.
绛县 example: base 85, kept in 0…100, bonus capped at 15, deductions capped at 50; 4A ≥ 90, 3A ≥ 80, 2A ≥ 70,
A ≥ 60, D below; a veto caps the grade at A; red list = 4A (deductions allowed); black list = D or a veto.
"""
from datetime import date

import pytest

from services.ratings.domain.credit import (
    CreditScore, ItemSum, RecordFact, grade_at_most, in_force, score, score_from_sums, standing, sums_in_force,
    valid_until)
from services.ratings.domain.rules import load_example

CHUXIONG = load_example("chuxiong")
JIANGXIAN = load_example("jiangxian")
ON = date(2025, 6, 30)


def records(table, code, count, occurred_on=date(2025, 3, 1)):
    """`count` records of one item as the table would record them on `occurred_on`."""
    item = table.item(code)
    return [RecordFact(item_code=code, kind=item.kind, points=item.points, veto=item.veto, occurred_on=occurred_on,
                       valid_until=valid_until(item, occurred_on)) for _ in range(count)]


def scored(table, *groups):
    return score(table, [fact for group in groups for fact in group], ON)


# ---- validity --------------------------------------------------------------------------------------------------

def test_validity_window():
    item = CHUXIONG.item("ticket_overdue")                 # 365 days
    assert valid_until(item, date(2024, 7, 1)) == date(2025, 7, 1)
    fact = records(CHUXIONG, "ticket_overdue", 1, date(2024, 7, 1))[0]
    assert not in_force(fact, date(2024, 6, 30))           # before it occurred
    assert in_force(fact, date(2024, 7, 1))                # the day it occurred
    assert in_force(fact, date(2025, 6, 30))               # its last valid day
    assert not in_force(fact, date(2025, 7, 1))            # valid_until is exclusive
    # disclosure_overdue counts 180 days: 1 Jan 2025 + 180 = 30 Jun 2025 (31+28+31+30+31+29 = 180)
    assert valid_until(CHUXIONG.item("disclosure_overdue"), date(2025, 1, 1)) == date(2025, 6, 30)


def test_expired_records_do_not_count():
    # overdue tickets of 1 Jul 2024 (counts up to 30 Jun 2025), of 30 Jun 2024 (counted up to 29 Jun 2025) and of
    # 1 Jul 2025 (not happened yet on 30 Jun 2025)
    facts = (records(CHUXIONG, "ticket_overdue", 1, date(2024, 7, 1))
             + records(CHUXIONG, "ticket_overdue", 1, date(2024, 6, 30))
             + records(CHUXIONG, "ticket_overdue", 1, date(2025, 7, 1)))
    on_last_day = score(CHUXIONG, facts, date(2025, 6, 30))
    assert (on_last_day.score, on_last_day.deduction, on_last_day.records) == (99.0, 1.0, 1)    # 100 − 1
    next_day = score(CHUXIONG, facts, date(2025, 7, 1))
    assert (next_day.score, next_day.records) == (99.0, 1)          # the 2025 one now, no longer the 2024 one
    past_only = score(CHUXIONG, facts[:2], date(2025, 7, 1))
    assert (past_only.score, past_only.grade, past_only.records) == (100.0, "AAA", 0)


# ---- 楚雄 --------------------------------------------------------------------------------------------------------

def test_chuxiong_clean_company_is_red():
    result = scored(CHUXIONG)
    assert result == CreditScore(score=100.0, grade="AAA", bonus=0.0, deduction=0.0, veto=False, records=0, items={})
    assert standing(CHUXIONG, result) == "red"


def test_chuxiong_item_cap():
    # base 100 + party organization 3 − overdue 1×12 capped at 10 = 93 → AA
    result = scored(CHUXIONG, records(CHUXIONG, "party_organization_set_up", 1),
                    records(CHUXIONG, "ticket_overdue", 12))
    assert result == CreditScore(score=93.0, grade="AA", bonus=3.0, deduction=10.0, veto=False, records=13,
                                 items={"party_organization_set_up": 3.0, "ticket_overdue": -10.0})
    # AA would be red, but a deduction is in force and this table wants none
    assert standing(CHUXIONG, result) is None


def test_chuxiong_bonus_cap_and_item_caps():
    # bonus: party 3 + demonstration 5×2 = 10 + honour 3×2 = 6 → 19, capped at 15
    # deduction: illegal charges 5×2 = 10 + disclosure 3×4 = 12 capped at 9 → 19
    # 100 + 15 − 19 = 96 → AAA (bonus and deduction totals carry the caps, the items keep their own values)
    result = scored(CHUXIONG, records(CHUXIONG, "party_organization_set_up", 1),
                    records(CHUXIONG, "demonstration_award", 2), records(CHUXIONG, "government_honour", 2),
                    records(CHUXIONG, "fee_violation", 2), records(CHUXIONG, "disclosure_overdue", 4))
    assert (result.score, result.grade, result.bonus, result.deduction, result.records) == (96.0, "AAA", 15.0, 19.0,
                                                                                            11)
    assert result.items == {"party_organization_set_up": 3.0, "demonstration_award": 10.0, "government_honour": 6.0,
                            "fee_violation": -10.0, "disclosure_overdue": -9.0}
    assert standing(CHUXIONG, result) is None               # AAA, but deductions in force


def test_chuxiong_clamped_at_the_top():
    # 100 + 3 = 103, kept at max 100 → AAA; the bonus is still reported
    result = scored(CHUXIONG, records(CHUXIONG, "party_organization_set_up", 1))
    assert (result.score, result.grade, result.bonus) == (100.0, "AAA", 3.0)


def test_chuxiong_clamped_at_the_bottom():
    # every deduction to its cap: overdue 10 + complaints 10 + supervision 8 + disclosure 9 + charges 15
    # + service 12 + refused rectification 20 + major accident 30 (no cap) = 114; 100 − 114 = −14 → 0 → C
    result = scored(CHUXIONG, records(CHUXIONG, "ticket_overdue", 11),
                    records(CHUXIONG, "complaint_substantiated", 5),
                    records(CHUXIONG, "supervision_overdue", 4), records(CHUXIONG, "disclosure_overdue", 3),
                    records(CHUXIONG, "fee_violation", 3), records(CHUXIONG, "service_standard_breach", 5),
                    records(CHUXIONG, "rectification_refused", 2), records(CHUXIONG, "major_accident", 1))
    assert (result.score, result.grade, result.deduction, result.veto, result.records) == (0.0, "C", 114.0, True, 34)
    assert standing(CHUXIONG, result) == "black"


def test_chuxiong_veto_caps_the_grade():
    # bonus: demonstration 5×2 = 10 + honour 3×2 = 6 → 16 capped at 15; major accident 30
    # 100 + 15 − 30 = 85 → AA by score, but the veto caps it at C → black list
    result = scored(CHUXIONG, records(CHUXIONG, "demonstration_award", 2), records(CHUXIONG, "government_honour", 2),
                    records(CHUXIONG, "major_accident", 1))
    assert (result.score, result.grade, result.veto) == (85.0, "C", True)
    assert standing(CHUXIONG, result) == "black"


def test_chuxiong_grade_boundaries():
    # 100 − 5×1 = 95 → AAA exactly at the bound; 100 − 6 = 94 → AA
    assert scored(CHUXIONG, records(CHUXIONG, "ticket_overdue", 5)).grade == "AAA"
    assert scored(CHUXIONG, records(CHUXIONG, "ticket_overdue", 6)).grade == "AA"
    # 100 − 10 (overdue cap) − 15 (charges cap) = 75 → A; − 3 more (service) = 72 → B
    assert scored(CHUXIONG, records(CHUXIONG, "ticket_overdue", 10),
                  records(CHUXIONG, "fee_violation", 3)).grade == "A"
    result = scored(CHUXIONG, records(CHUXIONG, "ticket_overdue", 10), records(CHUXIONG, "fee_violation", 3),
                    records(CHUXIONG, "service_standard_breach", 1))
    assert (result.score, result.grade) == (72.0, "B")
    assert standing(CHUXIONG, result) is None


def test_item_of_an_older_version_counts_its_recorded_points_without_cap():
    # "old_item" is not in this version: 2 records of 15 points count 30, no cap; 100 − 30 = 70 → B
    old = [RecordFact(item_code="old_item", kind="deduction", points=15, veto=False, occurred_on=date(2025, 1, 1),
                      valid_until=date(2026, 1, 1))] * 2
    result = score(CHUXIONG, old, ON)
    assert (result.score, result.grade, result.items) == (70.0, "B", {"old_item": -30.0})
    # points as recorded, not as the table says today: an overdue ticket recorded at 2 points still counts 2
    recorded_dearer = RecordFact(item_code="ticket_overdue", kind="deduction", points=2, veto=False,
                                 occurred_on=date(2025, 1, 1), valid_until=date(2026, 1, 1))
    assert score(CHUXIONG, [recorded_dearer], ON).score == 98.0


def test_score_from_sums_merges_the_same_item():
    # 7 + 6 overdue tickets summed by the caller in two parts: 13 capped at 10 once → 90 → AA
    result = score_from_sums(CHUXIONG, [ItemSum("ticket_overdue", "deduction", 7, False, 7),
                                        ItemSum("ticket_overdue", "deduction", 6, False, 6)])
    assert (result.score, result.grade, result.records, result.items) == (90.0, "AA", 13,
                                                                          {"ticket_overdue": -10.0})


def test_sums_in_force():
    facts = records(CHUXIONG, "ticket_overdue", 2) + records(CHUXIONG, "major_accident", 1)
    assert sums_in_force(facts, ON) == [ItemSum("ticket_overdue", "deduction", 2.0, False, 2),
                                        ItemSum("major_accident", "deduction", 30.0, True, 1)]


# ---- 绛县 --------------------------------------------------------------------------------------------------------

def test_jiangxian_clean_company():
    result = scored(JIANGXIAN)
    assert (result.score, result.grade) == (85.0, "3A")          # base 85 → 3A (≥ 80)
    assert standing(JIANGXIAN, result) is None


def test_jiangxian_half_points_and_red_list_with_deductions():
    # 85 + party 5 + volunteer 1×7 capped at 5 − overdue 0.5×3 = 1.5 → 93.5 → 4A
    result = scored(JIANGXIAN, records(JIANGXIAN, "party_organization_set_up", 1),
                    records(JIANGXIAN, "volunteer_service", 7), records(JIANGXIAN, "ticket_overdue", 3))
    assert result == CreditScore(score=93.5, grade="4A", bonus=10.0, deduction=1.5, veto=False, records=11,
                                 items={"party_organization_set_up": 5.0, "volunteer_service": 5.0,
                                        "ticket_overdue": -1.5})
    assert standing(JIANGXIAN, result) == "red"                  # this table allows deductions on the red list


def test_jiangxian_bonus_cap_reaches_the_maximum():
    # 85 + min(party 5 + demonstration 8 + 三无 takeover 3×2 = 19, 15) = 100 → 4A
    result = scored(JIANGXIAN, records(JIANGXIAN, "party_organization_set_up", 1),
                    records(JIANGXIAN, "demonstration_award", 1), records(JIANGXIAN, "three_no_takeover", 2))
    assert (result.score, result.grade, result.bonus) == (100.0, "4A", 15.0)


def test_jiangxian_deduction_cap():
    # illegal charges 4×4 = 16 capped 12 + inspections 2×6 = 12 capped 10 + supervision 2×3 = 6 + disclosure 2×3 = 6
    # + complaints 1×6 = 6 + overdue 0.5×12 = 6 capped 5 + abandonment 20 = 65, capped at 50 → 85 − 50 = 35 → D
    result = scored(JIANGXIAN, records(JIANGXIAN, "unauthorized_charges", 4),
                    records(JIANGXIAN, "service_below_standard", 6), records(JIANGXIAN, "supervision_overdue", 3),
                    records(JIANGXIAN, "disclosure_overdue", 3), records(JIANGXIAN, "complaint_substantiated", 6),
                    records(JIANGXIAN, "ticket_overdue", 12), records(JIANGXIAN, "abandonment", 1))
    assert (result.score, result.grade, result.deduction, result.veto) == (35.0, "D", 50.0, True)
    assert sum(value for value in result.items.values()) == -65.0  # items keep their own values
    assert standing(JIANGXIAN, result) == "black"


def test_jiangxian_veto_caps_at_a_and_blacklists():
    # 85 + min(5 + 8 + 3×2 = 19, 15) − abandonment 20 = 80 → 3A by score; veto caps at A; black through the veto
    result = scored(JIANGXIAN, records(JIANGXIAN, "party_organization_set_up", 1),
                    records(JIANGXIAN, "demonstration_award", 1), records(JIANGXIAN, "three_no_takeover", 2),
                    records(JIANGXIAN, "abandonment", 1))
    assert (result.score, result.grade, result.veto) == (80.0, "A", True)
    assert standing(JIANGXIAN, result) == "black"


def test_jiangxian_failing_grade_is_black_without_veto():
    # 85 − charges 4×3 = 12 − inspections 2×5 = 10 = 63 → A; − complaints 1×4 more = 59 → D → black
    poor = records(JIANGXIAN, "unauthorized_charges", 3) + records(JIANGXIAN, "service_below_standard", 5)
    a = scored(JIANGXIAN, poor)
    assert (a.score, a.grade, standing(JIANGXIAN, a)) == (63.0, "A", None)
    d = scored(JIANGXIAN, poor, records(JIANGXIAN, "complaint_substantiated", 4))
    assert (d.score, d.grade, d.veto, standing(JIANGXIAN, d)) == (59.0, "D", False, "black")


# ---- grades ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("table, grade, cap, worse", [
    (CHUXIONG, "AAA", "C", "C"),
    (CHUXIONG, "B", "A", "B"),
    (CHUXIONG, "AA", "AA", "AA"),
    (JIANGXIAN, "4A", "A", "A"),
    (JIANGXIAN, "D", "A", "D"),
])
def test_grade_at_most(table, grade, cap, worse):
    assert grade_at_most(table, grade, cap) == worse
