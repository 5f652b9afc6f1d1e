"""Rule tables: the two examples load and round-trip, and a wrong table is refused with the path of each fault."""
import copy
import json

import pytest

from kit.errors import ValidationFailed
from services.ratings.domain.rules import (
    AUTHORITIES, EXAMPLES, TRIGGER_KINDS, TRIGGERS, Dimension, Grade, Item, load_example, parse_rule_table)

CHUXIONG = load_example("chuxiong")
JIANGXIAN = load_example("jiangxian")


def errors_of(data):
    with pytest.raises(ValidationFailed) as caught:
        parse_rule_table(data)
    assert caught.value.message == "the rule table is not valid"
    return caught.value.details


def chuxiong_data():
    return copy.deepcopy(CHUXIONG.to_dict())


# ---- the examples ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_parse_and_round_trip(name):
    table = load_example(name)
    data = table.to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data      # JSON-able as it is
    assert parse_rule_table(data) == table
    assert parse_rule_table(json.loads(json.dumps(data))) == table      # and after a trip through JSON


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_cover_every_trigger_with_the_system_as_recorder(name):
    table = load_example(name)
    for trigger in TRIGGERS:
        items = table.items_for_trigger(trigger)
        assert len(items) == 1, trigger
        assert items[0].kind == TRIGGER_KINDS[trigger]
        assert "system" in items[0].authorities
    # every manual item names a person's authority
    for item in table.items:
        if item.trigger is None:
            assert set(item.authorities) <= set(AUTHORITIES) - {"system"}, item.code
    assert [item.code for item in table.items if item.veto] in (["major_accident"], ["abandonment"])


def test_chuxiong_values():
    t = CHUXIONG
    assert (t.code, t.version, t.base_score, t.min_score, t.max_score) == ("chuxiong", 1, 100, 0, 100)
    assert (t.bonus_cap, t.deduction_cap) == (15, None)
    assert [(g.code, g.min_score) for g in t.grades] == [("AAA", 95), ("AA", 85), ("A", 75), ("B", 60), ("C", 0)]
    assert t.item("ticket_overdue") == Item(
        code="ticket_overdue", name="工单超期未办结 Ticket overdue", kind="deduction", points=1.0, cap=10.0,
        evidence_required=False, authorities=("system",), validity_days=365, veto=False, trigger="ticket_overdue")
    assert t.item("major_accident").veto is True
    assert t.item("demonstration_award").points == 5
    assert len([i for i in t.items if i.kind == "deduction"]) == 8
    assert len([i for i in t.items if i.kind == "bonus"]) == 5
    assert t.star_thresholds == ((5, 90.0), (4, 80.0), (3, 70.0), (2, 60.0), (1, 0.0))
    assert t.star_weights == {"evaluation": 0.4, "credit": 0.4, "tickets": 0.2}
    assert t.red_list == {"min_grade": "AA", "no_deductions": True}
    assert t.black_list == {"grades": ["C"], "veto": True}
    assert t.dimensions[3] == Dimension(code="facility_maintenance", name="设施设备维护 Facility maintenance",
                                        weight=0.25)
    assert t.demonstration == {"top_n": 10, "min_stars": 4, "min_evaluation": 85, "min_credit": 85}


def test_jiangxian_values():
    t = JIANGXIAN
    assert (t.base_score, t.bonus_cap, t.deduction_cap) == (85, 15, 50)
    assert t.grades[0] == Grade(code="4A", label="4A 优秀 Excellent", min_score=90)
    assert [g.code for g in t.grades] == ["4A", "3A", "2A", "A", "D"]
    assert (t.veto_grade, t.veto_max_stars, t.rectify_at_or_below) == ("A", 1, 2)
    assert (t.notice_days, t.objection_days, t.participation_threshold) == (5, 10, 0.4)
    assert (t.response_days, t.max_failures) == (15, 3)
    assert t.item("complaint_substantiated").authorities == ("system", "community")
    assert t.item("ticket_overdue").points == 0.5


def test_lookups():
    assert CHUXIONG.grade_rank("AAA") == 0
    assert CHUXIONG.grade_rank("C") == 4
    assert JIANGXIAN.grade_rank("2A") == 2
    with pytest.raises(KeyError):
        CHUXIONG.grade_rank("4A")
    with pytest.raises(KeyError):
        CHUXIONG.item("no_such_item")
    assert CHUXIONG.find_item("no_such_item") is None
    assert CHUXIONG.items_for_trigger("no_such_trigger") == []
    assert CHUXIONG.grade_for(95) == "AAA"
    assert CHUXIONG.grade_for(94.99) == "AA"
    assert CHUXIONG.grade_for(-3) == "C"
    assert len({CHUXIONG, load_example("chuxiong"), JIANGXIAN}) == 2      # hashable, equal tables are one


def test_unknown_example():
    with pytest.raises(ValueError):
        load_example("gaotang")


def test_optional_item_keys_default():
    data = chuxiong_data()
    for key in ("cap", "veto", "trigger"):
        del data["items"][4][key]                 # fee_violation
    del data["bonus_cap"]
    table = parse_rule_table(data)
    fee = table.item("fee_violation")
    assert (fee.cap, fee.veto, fee.trigger) == (None, False, None)
    assert table.bonus_cap is None


# ---- rejected tables -------------------------------------------------------------------------------------------

def test_not_a_mapping():
    assert errors_of(["items"]) == {"_schema": ["the rule table must be a mapping"]}


def test_shape_errors_have_dotted_paths():
    data = chuxiong_data()
    data["items"][3]["points"] = 0
    data["items"][0]["colour"] = "red"
    data["colour"] = "red"
    data["items"][1]["trigger"] = "ticket_late"
    data["items"][2]["authorities"] = ["police"]
    data["items"][5]["evidence_required"] = "yes"
    data["grades"][1]["code"] = "A A"
    data["star_thresholds"][0]["stars"] = 6
    data["participation_threshold"] = 0
    data["version"] = 1.5
    del data["notice_days"]
    details = errors_of(data)
    assert set(details) == {
        "items.3.points", "items.0.colour", "colour", "items.1.trigger", "items.2.authorities.0",
        "items.5.evidence_required", "grades.1.code", "star_thresholds.0.stars", "participation_threshold",
        "version", "notice_days"}
    assert details["colour"] == ["Unknown field."]
    assert details["notice_days"] == ["Missing data for required field."]


def test_duplicate_item_code():
    data = chuxiong_data()
    data["items"][1]["code"] = "ticket_overdue"
    data["items"][1]["trigger"] = "ticket_overdue"
    assert errors_of(data) == {"items.1.code": ["duplicate item code 'ticket_overdue' (also items.0)"]}


def test_item_rules():
    data = chuxiong_data()
    data["items"][0]["authorities"] = ["street"]          # ticket_overdue: a trigger needs the system
    data["items"][1]["kind"] = "bonus"                    # complaint_substantiated can only cost points
    data["items"][4]["cap"] = 4                           # fee_violation: 5 points, cap below one record
    data["items"][5]["authorities"] = ["system"]          # service_standard_breach: nobody would record it
    data["items"][6]["authorities"] = ["street", "street"]
    data["items"][10]["veto"] = True                      # government_honour is a bonus
    assert errors_of(data) == {
        "items.0.authorities": ["an item with a trigger is recorded by the system: include 'system'"],
        "items.1.kind": ["the trigger 'complaint_substantiated' is a deduction"],
        "items.4.cap": ["must be at least the points of one record"],
        "items.5.authorities": ["without a trigger the system never records this item: name who does"],
        "items.6.authorities": ["lists an authority twice"],
        "items.10.veto": ["only a deduction can be a one-vote veto (一票否决)"],
    }


def test_grade_rules():
    data = chuxiong_data()
    data["grades"][1], data["grades"][2] = data["grades"][2], data["grades"][1]   # AAA 95, A 75, AA 85 ...
    details = errors_of(data)
    assert details == {"grades.2.min_score": [
        "grades must be listed best first, min_score strictly descending"]}

    data = chuxiong_data()
    data["grades"][4]["min_score"] = 10         # a score of 5 would have no grade
    data["grades"][3]["code"] = "AA"
    assert errors_of(data) == {
        "grades.3.code": ["duplicate grade code 'AA'"],
        "grades.4.min_score": ["the lowest grade must start at or below min_score, so that every score has a grade"],
    }

    data = chuxiong_data()
    data["grades"][0]["min_score"] = 101
    assert list(errors_of(data)) == ["grades.0.min_score"]


def test_grade_references():
    data = chuxiong_data()
    data["veto_grade"] = "D"
    data["red_list"]["min_grade"] = "AAAA"
    data["black_list"]["grades"] = ["C", "X"]
    assert errors_of(data) == {
        "veto_grade": ["unknown grade 'D'"],
        "red_list.min_grade": ["unknown grade 'AAAA'"],
        "black_list.grades.1": ["unknown grade 'X'"],
    }


def test_scores_and_weights():
    data = chuxiong_data()
    data["base_score"] = 120
    data["star_weights"]["tickets"] = 0.3                  # 0.4 + 0.4 + 0.3 = 1.1
    data["dimensions"][0]["weight"] = 0.25                 # 1.05
    assert errors_of(data) == {
        "base_score": ["must lie between min_score and max_score"],
        "star_weights": ["the weights must add up to 1"],
        "dimensions": ["the weights must add up to 1"],
    }

    data = chuxiong_data()
    data["star_weights"] = {"evaluation": 0.3, "credit": 0.3, "tickets": 0.4}   # 1 up to float noise: fine
    assert parse_rule_table(data).star_weights["tickets"] == 0.4

    data = chuxiong_data()
    data["min_score"] = 100
    assert errors_of(data) == {"max_score": ["must be greater than min_score"]}


def test_thresholds():
    data = chuxiong_data()
    data["star_thresholds"][-1]["min_composite"] = 10
    assert errors_of(data) == {"star_thresholds.4": [
        "the last threshold must be {stars: 1, min_composite: 0}, so that every composite gets stars"]}

    data = chuxiong_data()
    data["star_thresholds"][1], data["star_thresholds"][2] = data["star_thresholds"][2], data["star_thresholds"][1]
    assert errors_of(data) == {
        "star_thresholds.2.stars": ["stars must be listed from most to fewest, each once"],
        "star_thresholds.2.min_composite": ["must be lower than the threshold above it"],
    }

    data = chuxiong_data()
    data["star_thresholds"] = [{"stars": 3, "min_composite": 50}, {"stars": 1, "min_composite": 0}]
    assert parse_rule_table(data).star_thresholds == ((3, 50.0), (1, 0.0))


def test_duplicate_dimension():
    data = chuxiong_data()
    data["dimensions"][1]["code"] = "service_attitude"
    assert errors_of(data) == {"dimensions.1.code": ["duplicate dimension code 'service_attitude'"]}
