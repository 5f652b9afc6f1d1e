"""The seed category tree from the seeds' frequent problems."""
import copy

import pytest

from services.tickets.domain.categories import (
    DEMO_DEPARTMENTS, PRIORITIES, PRIORITY_LABELS, SEED_CATEGORIES, by_code, is_leaf, leaves, validate_seed,
)
from services.tickets.domain.routing import Responsible

EXPECTED_TOPICS = {
    "repair.elevator": "电梯", "repair.water_pressure": "供水水压", "repair.common_parts": "公共部位维修",
    "complaint.fees": "物业收费", "complaint.sanitation": "环境卫生", "complaint.greening": "绿化养护",
    "complaint.security": "安全秩序", "complaint.parking": "停车管理",
    "order.noise": "噪音扰民", "order.renovation": "违规装修", "order.fire_lane": "消防通道堵塞",
    "order.illegal_building": "违章搭建", "order.cooking_fumes": "油烟扰民", "other.general": "其他",
}


def test_seed_is_valid():
    assert validate_seed() is SEED_CATEGORIES


def test_groups():
    groups = {c["code"]: c["name"] for c in SEED_CATEGORIES if not is_leaf(c)}
    assert groups == {"repair": "设施设备报修 Facility repairs",
                      "complaint": "物业服务投诉 Property service complaints",
                      "order": "邻里与秩序 Neighbourhood and order", "other": "其他 Other"}


@pytest.mark.parametrize("code,zh", sorted(EXPECTED_TOPICS.items()))
def test_the_seeds_frequent_problems_are_there(code, zh):
    assert zh in by_code()[code]["name"]


def test_every_leaf_names_its_rules_and_an_english_name():
    for c in leaves():
        assert set(c) == {"code", "name", "parent_code", "responsible", "department_code", "claim_hours",
                          "resolve_hours", "photo_required", "public", "priority"}
        zh, _, en = c["name"].partition(" ")
        assert not zh.isascii() and en.isascii() and en


def test_elevators_are_urgent_and_fast():
    elevator = by_code()["repair.elevator"]
    assert elevator["priority"] == "urgent"
    assert elevator["resolve_hours"] <= 8 and elevator["claim_hours"] <= 2
    assert elevator["responsible"] == Responsible.COMPANY


def test_fees_are_company_first_and_private():
    fees = by_code()["complaint.fees"]
    assert fees["responsible"] == Responsible.COMPANY
    assert fees["public"] is False


def test_law_enforcement_topics_go_to_their_departments():
    cats = by_code()
    assert cats["order.illegal_building"]["department_code"] == "371526-CG"
    assert cats["order.cooking_fumes"]["department_code"] == "371526-CG"
    assert cats["order.renovation"]["department_code"] == "371526-CG"
    assert cats["order.fire_lane"]["department_code"] == "371526-XF"
    for code in ("order.illegal_building", "order.cooking_fumes", "order.renovation", "order.fire_lane"):
        assert cats[code]["responsible"] == Responsible.DEPARTMENT


def test_complaints_about_people_are_private():
    cats = by_code()
    for code in ("order.noise", "complaint.security", "complaint.staff_conduct"):
        assert cats[code]["public"] is False


def test_every_responsible_party_is_used():
    assert {c["responsible"] for c in leaves()} == set(Responsible.ALL)


def test_priorities():
    assert PRIORITIES == ("urgent", "high", "normal", "low")
    assert set(PRIORITY_LABELS) == set(PRIORITIES)
    assert {c["priority"] for c in leaves()} <= set(PRIORITIES)


def test_department_codes_are_the_demo_county():
    assert all(code.startswith("371526-") for code in DEMO_DEPARTMENTS)


# ---- validate_seed catches mistakes ------------------------------------------------------------------------------

def broken(mutate):
    categories = copy.deepcopy(SEED_CATEGORIES)
    mutate(categories)
    return categories


@pytest.mark.parametrize("mutate,message", [
    (lambda cs: cs.append(dict(cs[1])), "duplicate code"),
    (lambda cs: cs[1].update(parent_code="nowhere"), "not a top-level group"),
    (lambda cs: cs[1].update(parent_code="complaint"), "must start with its parent"),
    (lambda cs: cs[1].update(code="Repair.Elevator"), "lowercase ascii"),
    (lambda cs: cs[1].update(responsible="mayor"), "responsible"),
    (lambda cs: cs[1].update(priority="whenever"), "priority"),
    (lambda cs: cs[1].update(claim_hours=10, resolve_hours=8), "claim_hours < resolve_hours"),
    (lambda cs: cs[1].update(department_code="999999-XX"), "unknown department"),
    (lambda cs: cs[1].update(photo_required="yes"), "photo_required"),
    (lambda cs: cs[0].update(priority="high"), "a group carries no rules"),
    (lambda cs: by_code(cs)["order.fire_lane"].update(department_code=None), "must name its department"),
    (lambda cs: by_code(cs)["repair.elevator"].update(parent_code="repair.lighting"), "not a top-level group"),
])
def test_validate_seed_reports_problems(mutate, message):
    with pytest.raises(ValueError, match=message):
        validate_seed(broken(mutate))
