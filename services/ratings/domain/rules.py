"""County rule tables (信用评价加分减分表 and star-rating settings) as data, never as code.

Every county scores its property companies its own way: 楚雄 keeps a credit table of bonus and deduction items
(加分减分表) with grades AAA … C, 绛县 rates companies with stars every year and orders the low ones to rectify. So the
whole method — items and their points, caps, who may record them, how long a record counts, one-vote-veto items
(一票否决), grades, red and black lists, star weights and thresholds, owner-evaluation dimensions, rectification
deadlines and the demonstration-project bar — is one table the housing bureau can read, upload and version.

A table is validated here completely before it is used: a wrong table silently misgrades every company in a county,
so unknown keys, duplicate codes and weights that do not add up are rejected with the path of every offending value
("items.3.points"). How to write one is in docs/RULE_TABLES.md; the two examples are in services/ratings/rules/.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from kit.errors import ValidationFailed

# Items the platform records by itself from other services' events, never by a person.
TRIGGERS: tuple[str, ...] = ("ticket_overdue", "complaint_substantiated", "supervision_overdue", "disclosure_overdue",
                             "party_organization_set_up", "demonstration_award")

# The kind an automatic item must have: an overdue ticket can only cost points, an award can only earn them.
TRIGGER_KINDS: dict[str, str] = {
    "ticket_overdue": "deduction",
    "complaint_substantiated": "deduction",
    "supervision_overdue": "deduction",
    "disclosure_overdue": "deduction",
    "party_organization_set_up": "bonus",
    "demonstration_award": "bonus",
}

TRIGGER_LABELS: dict[str, dict[str, str]] = {
    "ticket_overdue": {"zh": "工单超期", "en": "Ticket overdue"},
    "complaint_substantiated": {"zh": "投诉经查属实", "en": "Complaint substantiated"},
    "supervision_overdue": {"zh": "督办逾期未回复", "en": "Supervision order unanswered"},
    "disclosure_overdue": {"zh": "公示缺失或过期", "en": "Disclosure missing or stale"},
    "party_organization_set_up": {"zh": "建立党组织", "en": "Party organization set up"},
    "demonstration_award": {"zh": "获评示范项目", "en": "Demonstration project award"},
}

AUTHORITIES: tuple[str, ...] = ("community", "street", "bureau", "system")

AUTHORITY_LABELS: dict[str, dict[str, str]] = {
    "community": {"zh": "社区", "en": "Community"},
    "street": {"zh": "街道", "en": "Street"},
    "bureau": {"zh": "住建局", "en": "Housing bureau"},
    "system": {"zh": "系统自动", "en": "System (automatic)"},
}

KINDS: tuple[str, ...] = ("bonus", "deduction")

KIND_LABELS: dict[str, dict[str, str]] = {
    "bonus": {"zh": "加分", "en": "Bonus"},
    "deduction": {"zh": "减分", "en": "Deduction"},
}

STAR_COMPONENTS: tuple[str, ...] = ("evaluation", "credit", "tickets")

EXAMPLES: tuple[str, ...] = ("chuxiong", "jiangxian")

RULES_DIR = Path(__file__).resolve().parents[1] / "rules"

# Codes end up in API paths and error paths ("answers.<code>"), so no dots or spaces.
_CODE_RE = r"^[a-z][a-z0-9_]{0,63}$"
_GRADE_RE = r"^[A-Za-z0-9+]{1,8}$"
_WEIGHT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Item:
    """One line of the 加分减分表. `cap` bounds what all in-force records of the item count together."""
    code: str
    name: str
    kind: str                       # "bonus" | "deduction"
    points: float                   # > 0, per record
    cap: float | None
    evidence_required: bool
    authorities: tuple[str, ...]    # who may record it; "system" for items with a trigger
    validity_days: int              # a record counts from the day it occurred for this many days
    veto: bool = False              # 一票否决, deductions only
    trigger: str | None = None      # one of TRIGGERS: recorded by the platform from events

    @property
    def automatic(self) -> bool:
        return self.trigger is not None


@dataclass(frozen=True)
class Grade:
    code: str
    label: str
    min_score: float


@dataclass(frozen=True)
class Dimension:
    """A question of the owners' evaluation ballot (服务态度, 环境卫生 ...) and its weight in the ballot score."""
    code: str
    name: str
    weight: float


@dataclass(frozen=True)
class RuleTable:
    code: str
    name: str
    version: int
    base_score: float
    min_score: float
    max_score: float
    bonus_cap: float | None
    deduction_cap: float | None
    items: tuple[Item, ...]
    grades: tuple[Grade, ...]                       # best first, by min_score descending
    veto_grade: str
    red_list: dict                                  # {"min_grade": code, "no_deductions": bool}
    black_list: dict                                # {"grades": [codes], "veto": bool}
    star_weights: dict                              # {"evaluation": w, "credit": w, "tickets": w}
    star_thresholds: tuple[tuple[int, float], ...]  # ((5, 90.0), ..., (1, 0.0))
    veto_max_stars: int
    rectify_at_or_below: int
    notice_days: int
    objection_days: int
    dimensions: tuple[Dimension, ...]
    participation_threshold: float
    response_days: int
    max_failures: int
    demonstration: dict                             # {"top_n", "min_stars", "min_evaluation", "min_credit"}

    def __hash__(self):
        # The dict fields would make the generated hash fail; code and version identify a table (equal tables have
        # equal ones), so a table can key a cache.
        return hash((self.code, self.version))

    def item(self, code: str) -> Item:
        for item in self.items:
            if item.code == code:
                return item
        raise KeyError(code)

    def find_item(self, code: str) -> Item | None:
        """The item, or None for a code this version does not know (a record from an older version)."""
        try:
            return self.item(code)
        except KeyError:
            return None

    def items_for_trigger(self, trigger: str) -> list[Item]:
        return [item for item in self.items if item.trigger == trigger]

    def grade(self, code: str) -> Grade:
        for grade in self.grades:
            if grade.code == code:
                return grade
        raise KeyError(code)

    def grade_rank(self, code: str) -> int:
        """0 for the best grade; a larger rank is a worse grade."""
        for rank, grade in enumerate(self.grades):
            if grade.code == code:
                return rank
        raise KeyError(code)

    def grade_for(self, score: float) -> str:
        """The best grade whose minimum the score reaches (the lowest grade if it reaches none)."""
        for grade in self.grades:
            if score >= grade.min_score:
                return grade.code
        return self.grades[-1].code

    def to_dict(self) -> dict:
        """Plain JSON-able data in the shape of the YAML files; parse_rule_table(t.to_dict()) == t."""
        return {
            "code": self.code,
            "name": self.name,
            "version": self.version,
            "base_score": self.base_score,
            "min_score": self.min_score,
            "max_score": self.max_score,
            "bonus_cap": self.bonus_cap,
            "deduction_cap": self.deduction_cap,
            "items": [{
                "code": item.code, "name": item.name, "kind": item.kind, "points": item.points, "cap": item.cap,
                "evidence_required": item.evidence_required, "authorities": list(item.authorities),
                "validity_days": item.validity_days, "veto": item.veto, "trigger": item.trigger,
            } for item in self.items],
            "grades": [{"code": g.code, "label": g.label, "min_score": g.min_score} for g in self.grades],
            "veto_grade": self.veto_grade,
            "red_list": {"min_grade": self.red_list["min_grade"],
                         "no_deductions": self.red_list["no_deductions"]},
            "black_list": {"grades": list(self.black_list["grades"]), "veto": self.black_list["veto"]},
            "star_weights": {key: self.star_weights[key] for key in STAR_COMPONENTS},
            "star_thresholds": [{"stars": stars, "min_composite": minimum}
                                for stars, minimum in self.star_thresholds],
            "veto_max_stars": self.veto_max_stars,
            "rectify_at_or_below": self.rectify_at_or_below,
            "notice_days": self.notice_days,
            "objection_days": self.objection_days,
            "dimensions": [{"code": d.code, "name": d.name, "weight": d.weight} for d in self.dimensions],
            "participation_threshold": self.participation_threshold,
            "response_days": self.response_days,
            "max_failures": self.max_failures,
            "demonstration": dict(self.demonstration),
        }


# ---- schema: the shape of every value --------------------------------------------------------------------------

def _strict_bool(**kwargs):
    # YAML and JSON already give real booleans; "yes" or "0" in a table is a typo, not a truth value.
    return fields.Boolean(truthy={True}, falsy={False}, **kwargs)


def _float(**kwargs):
    return fields.Float(allow_nan=False, **kwargs)


def _positive(**kwargs):
    return _float(validate=validate.Range(min=0, min_inclusive=False), **kwargs)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class _ItemSchema(_Strict):
    code = fields.String(required=True, validate=validate.Regexp(_CODE_RE))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    points = _positive(required=True)
    cap = _positive(load_default=None, allow_none=True)
    evidence_required = _strict_bool(required=True)
    authorities = fields.List(fields.String(validate=validate.OneOf(AUTHORITIES)), required=True,
                              validate=validate.Length(min=1))
    validity_days = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    veto = _strict_bool(load_default=False)
    trigger = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(TRIGGERS))


class _GradeSchema(_Strict):
    code = fields.String(required=True, validate=validate.Regexp(_GRADE_RE))
    label = fields.String(required=True, validate=validate.Length(min=1, max=100))
    min_score = _float(required=True)


class _DimensionSchema(_Strict):
    code = fields.String(required=True, validate=validate.Regexp(_CODE_RE))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    weight = _float(required=True, validate=validate.Range(min=0, min_inclusive=False, max=1))


class _RedListSchema(_Strict):
    min_grade = fields.String(required=True)
    no_deductions = _strict_bool(required=True)


class _BlackListSchema(_Strict):
    grades = fields.List(fields.String(), required=True)
    veto = _strict_bool(required=True)


class _StarWeightsSchema(_Strict):
    evaluation = _float(required=True, validate=validate.Range(min=0, max=1))
    credit = _float(required=True, validate=validate.Range(min=0, max=1))
    tickets = _float(required=True, validate=validate.Range(min=0, max=1))


class _ThresholdSchema(_Strict):
    stars = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=5))
    min_composite = _float(required=True, validate=validate.Range(min=0))


class _DemonstrationSchema(_Strict):
    top_n = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    min_stars = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=5))
    min_evaluation = _float(required=True, validate=validate.Range(min=0, max=100))
    min_credit = _float(required=True)


class RuleTableSchema(_Strict):
    code = fields.String(required=True, validate=validate.Regexp(_CODE_RE))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    version = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    base_score = _float(required=True)
    min_score = _float(required=True)
    max_score = _float(required=True)
    bonus_cap = _positive(load_default=None, allow_none=True)
    deduction_cap = _positive(load_default=None, allow_none=True)
    items = fields.List(fields.Nested(_ItemSchema), required=True, validate=validate.Length(min=1))
    grades = fields.List(fields.Nested(_GradeSchema), required=True, validate=validate.Length(min=1))
    veto_grade = fields.String(required=True)
    red_list = fields.Nested(_RedListSchema, required=True)
    black_list = fields.Nested(_BlackListSchema, required=True)
    star_weights = fields.Nested(_StarWeightsSchema, required=True)
    star_thresholds = fields.List(fields.Nested(_ThresholdSchema), required=True, validate=validate.Length(min=1))
    veto_max_stars = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=5))
    # 0 means "never order a rectification from the stars alone".
    rectify_at_or_below = fields.Integer(strict=True, required=True, validate=validate.Range(min=0, max=5))
    notice_days = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    objection_days = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    dimensions = fields.List(fields.Nested(_DimensionSchema), required=True, validate=validate.Length(min=1))
    participation_threshold = _float(required=True, validate=validate.Range(min=0, min_inclusive=False, max=1))
    response_days = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    max_failures = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    demonstration = fields.Nested(_DemonstrationSchema, required=True)


_SCHEMA = RuleTableSchema()


def _flatten(messages, prefix="") -> dict[str, list[str]]:
    """marshmallow's nested errors ({"items": {3: {"points": [...]}}}) as {"items.3.points": [...]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                path = prefix or "_schema"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            for sub_path, sub_messages in _flatten(value, path).items():
                flat.setdefault(sub_path, []).extend(sub_messages)
    elif isinstance(messages, (list, tuple)):
        flat[prefix or "_schema"] = [str(message) for message in messages]
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


# ---- cross-field rules -----------------------------------------------------------------------------------------

def weights_sum_to_one(weights) -> bool:
    """Weights entered by hand (0.3 + 0.3 + 0.4) may be off by float noise, never by more than this tolerance."""
    return math.isclose(sum(weights), 1, abs_tol=_WEIGHT_TOLERANCE)


def _cross_check(data: dict) -> dict[str, list[str]]:
    """Rules between values, run once every value has the right shape. Returns {path: [messages]}."""
    errors: dict[str, list[str]] = {}

    def fail(path, message):
        errors.setdefault(path, []).append(message)

    if not data["min_score"] < data["max_score"]:
        fail("max_score", "must be greater than min_score")
    elif not data["min_score"] <= data["base_score"] <= data["max_score"]:
        fail("base_score", "must lie between min_score and max_score")

    seen_items: dict[str, int] = {}
    for index, item in enumerate(data["items"]):
        path = f"items.{index}"
        if item["code"] in seen_items:
            fail(f"{path}.code", f"duplicate item code {item['code']!r} (also items.{seen_items[item['code']]})")
        else:
            seen_items[item["code"]] = index
        if item["veto"] and item["kind"] != "deduction":
            fail(f"{path}.veto", "only a deduction can be a one-vote veto (一票否决)")
        if item["cap"] is not None and item["cap"] < item["points"]:
            fail(f"{path}.cap", "must be at least the points of one record")
        if len(set(item["authorities"])) != len(item["authorities"]):
            fail(f"{path}.authorities", "lists an authority twice")
        trigger = item["trigger"]
        if trigger is not None:
            if "system" not in item["authorities"]:
                fail(f"{path}.authorities", "an item with a trigger is recorded by the system: include 'system'")
            if item["kind"] != TRIGGER_KINDS[trigger]:
                fail(f"{path}.kind", f"the trigger {trigger!r} is a {TRIGGER_KINDS[trigger]}")
        elif set(item["authorities"]) == {"system"}:
            fail(f"{path}.authorities", "without a trigger the system never records this item: name who does")

    grade_codes: dict[str, int] = {}
    grades = data["grades"]
    for index, grade in enumerate(grades):
        if grade["code"] in grade_codes:
            fail(f"grades.{index}.code", f"duplicate grade code {grade['code']!r}")
        else:
            grade_codes[grade["code"]] = index
        if index and not grade["min_score"] < grades[index - 1]["min_score"]:
            fail(f"grades.{index}.min_score", "grades must be listed best first, min_score strictly descending")
    if grades[0]["min_score"] > data["max_score"]:
        fail("grades.0.min_score", "is above max_score: no company could reach this grade")
    if grades[-1]["min_score"] > data["min_score"]:
        fail(f"grades.{len(grades) - 1}.min_score",
             "the lowest grade must start at or below min_score, so that every score has a grade")

    if data["veto_grade"] not in grade_codes:
        fail("veto_grade", f"unknown grade {data['veto_grade']!r}")
    if data["red_list"]["min_grade"] not in grade_codes:
        fail("red_list.min_grade", f"unknown grade {data['red_list']['min_grade']!r}")
    for index, code in enumerate(data["black_list"]["grades"]):
        if code not in grade_codes:
            fail(f"black_list.grades.{index}", f"unknown grade {code!r}")

    if not weights_sum_to_one(data["star_weights"].values()):
        fail("star_weights", "the weights must add up to 1")

    thresholds = data["star_thresholds"]
    for index in range(1, len(thresholds)):
        if not thresholds[index]["stars"] < thresholds[index - 1]["stars"]:
            fail(f"star_thresholds.{index}.stars", "stars must be listed from most to fewest, each once")
        if not thresholds[index]["min_composite"] < thresholds[index - 1]["min_composite"]:
            fail(f"star_thresholds.{index}.min_composite", "must be lower than the threshold above it")
    last = thresholds[-1]
    if last["stars"] != 1 or last["min_composite"] != 0:
        fail(f"star_thresholds.{len(thresholds) - 1}",
             "the last threshold must be {stars: 1, min_composite: 0}, so that every composite gets stars")

    dimension_codes: set[str] = set()
    for index, dimension in enumerate(data["dimensions"]):
        if dimension["code"] in dimension_codes:
            fail(f"dimensions.{index}.code", f"duplicate dimension code {dimension['code']!r}")
        dimension_codes.add(dimension["code"])
    if not weights_sum_to_one(d["weight"] for d in data["dimensions"]):
        fail("dimensions", "the weights must add up to 1")

    return errors


def parse_rule_table(data: dict) -> RuleTable:
    """Validate a table (from YAML or an upload) and build it; ValidationFailed lists every problem by path."""
    if not isinstance(data, dict):
        raise ValidationFailed("the rule table is not valid", details={"_schema": ["the rule table must be a mapping"]})
    try:
        loaded = _SCHEMA.load(data)
    except ValidationError as exc:
        raise ValidationFailed("the rule table is not valid", details=_flatten(exc.messages)) from None
    errors = _cross_check(loaded)
    if errors:
        raise ValidationFailed("the rule table is not valid", details=errors)

    weights = loaded["star_weights"]
    return RuleTable(
        code=loaded["code"],
        name=loaded["name"],
        version=loaded["version"],
        base_score=loaded["base_score"],
        min_score=loaded["min_score"],
        max_score=loaded["max_score"],
        bonus_cap=loaded["bonus_cap"],
        deduction_cap=loaded["deduction_cap"],
        items=tuple(Item(code=i["code"], name=i["name"], kind=i["kind"], points=i["points"], cap=i["cap"],
                         evidence_required=i["evidence_required"], authorities=tuple(i["authorities"]),
                         validity_days=i["validity_days"], veto=i["veto"], trigger=i["trigger"])
                    for i in loaded["items"]),
        grades=tuple(Grade(code=g["code"], label=g["label"], min_score=g["min_score"]) for g in loaded["grades"]),
        veto_grade=loaded["veto_grade"],
        red_list={"min_grade": loaded["red_list"]["min_grade"],
                  "no_deductions": loaded["red_list"]["no_deductions"]},
        black_list={"grades": list(loaded["black_list"]["grades"]), "veto": loaded["black_list"]["veto"]},
        star_weights={key: weights[key] for key in STAR_COMPONENTS},
        star_thresholds=tuple((t["stars"], t["min_composite"]) for t in loaded["star_thresholds"]),
        veto_max_stars=loaded["veto_max_stars"],
        rectify_at_or_below=loaded["rectify_at_or_below"],
        notice_days=loaded["notice_days"],
        objection_days=loaded["objection_days"],
        dimensions=tuple(Dimension(code=d["code"], name=d["name"], weight=d["weight"])
                         for d in loaded["dimensions"]),
        participation_threshold=loaded["participation_threshold"],
        response_days=loaded["response_days"],
        max_failures=loaded["max_failures"],
        demonstration={key: loaded["demonstration"][key]
                       for key in ("top_n", "min_stars", "min_evaluation", "min_credit")},
    )


def load_example(name: str) -> RuleTable:
    """One of the example tables shipped in services/ratings/rules/ (a starting point for a county's own)."""
    if name not in EXAMPLES:
        raise ValueError(f"unknown example rule table {name!r}; choose one of {', '.join(EXAMPLES)}")
    import yaml  # imported here so the pure-rule modules stay importable without PyYAML

    with open(RULES_DIR / f"{name}.yaml", encoding="utf-8") as fh:
        return parse_rule_table(yaml.safe_load(fh))
