"""The seed category tree (工单分类), from the problems the seed documents name most often.

株洲 lists the high-frequency complaints (elevators, fees, repairs of common parts) and the targets of joint
law-enforcement patrols (illegal building, renovation, parking, noise, cooking fumes, blocked fire lanes); 高唐
adds repairs and complaints in general. Two levels: a group (no rules of its own, not selectable) and its leaves,
which carry the rules: who answers first, deadlines in working hours, whether a photo is required, whether other
residents of the compound may see the ticket, and its priority.

Departments: the demo county is 高唐 (371526); its departments are referred to by code.
- 城管 371526-CG: illegal building, cooking fumes and illegal renovation — all enforced by comprehensive
  administrative law enforcement (综合行政执法), which the property company can only stop and report.
- 消防 371526-XF: blocked fire lanes, which the fire brigade enforces.
- 公安 371526-GA: referral department for security and noise at night (public-security penalties) and for
  parking disorder outside the compound's own spaces; these tickets still go to the company or community first.
- 市场监管 371526-SJ: referral department for fee complaints (price supervision). Fee disputes are company-first
  in practice — most are explained or corrected by the company — so the company answers first.
`department_code` on a category whose responsible party is not a department names that referral department: the
community may hand the ticket on to it; routing itself ignores it.
"""
from __future__ import annotations

import re

from .routing import Responsible

PRIORITIES: tuple[str, ...] = ("urgent", "high", "normal", "low")

PRIORITY_LABELS: dict[str, dict[str, str]] = {
    "urgent": {"zh": "紧急", "en": "Urgent"},
    "high": {"zh": "高", "en": "High"},
    "normal": {"zh": "普通", "en": "Normal"},
    "low": {"zh": "低", "en": "Low"},
}

DEMO_DEPARTMENTS: dict[str, str] = {
    "371526-CG": "城市管理局 Urban management",
    "371526-GA": "公安局 Public security",
    "371526-XF": "消防救援大队 Fire and rescue",
    "371526-SJ": "市场监督管理局 Market regulation",
}

_RULE_KEYS = ("responsible", "department_code", "claim_hours", "resolve_hours", "photo_required", "public",
              "priority")
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")


def _group(code, name):
    # Groups only organize the picker; tickets are filed against leaves, so groups carry no rules.
    return {"code": code, "name": name, "parent_code": None, **{key: None for key in _RULE_KEYS}}


def _leaf(code, name, parent_code, responsible, claim_hours, resolve_hours, *, photo_required, public, priority,
          department_code=None):
    return {"code": code, "name": name, "parent_code": parent_code, "responsible": responsible,
            "department_code": department_code, "claim_hours": claim_hours, "resolve_hours": resolve_hours,
            "photo_required": photo_required, "public": public, "priority": priority}


R = Responsible

SEED_CATEGORIES: list[dict] = [
    _group("repair", "设施设备报修 Facility repairs"),
    # Trapped passengers are an emergency for 96333/119; the ticket covers the fault and the follow-up, fast.
    # No photo required: nobody should be photographing a stuck lift before reporting it.
    _leaf("repair.elevator", "电梯故障 Elevator fault", "repair", R.COMPANY, 1, 8,
          photo_required=False, public=True, priority="urgent"),
    _leaf("repair.water_pressure", "供水水压 Water supply and pressure", "repair", R.COMPANY, 2, 24,
          photo_required=False, public=True, priority="high"),
    _leaf("repair.drainage", "排水管道堵塞 Blocked drains and sewers", "repair", R.COMPANY, 2, 16,
          photo_required=True, public=True, priority="high"),
    _leaf("repair.common_parts", "公共部位维修 Common-part repairs (stairwells, roofs, walls)", "repair",
          R.COMPANY, 4, 40, photo_required=True, public=True, priority="normal"),
    _leaf("repair.lighting", "公共照明 Common lighting", "repair", R.COMPANY, 4, 24,
          photo_required=True, public=True, priority="normal"),
    _leaf("repair.door_access", "单元门与门禁 Entrance doors and access control", "repair", R.COMPANY, 4, 24,
          photo_required=True, public=True, priority="normal"),
    _leaf("repair.fire_equipment", "消防设施损坏 Damaged fire equipment", "repair", R.COMPANY, 2, 24,
          photo_required=True, public=True, priority="high", department_code="371526-XF"),

    _group("complaint", "物业服务投诉 Property service complaints"),
    # Fee questions concern one household's bill: private.
    _leaf("complaint.fees", "物业收费 Fees and charges", "complaint", R.COMPANY, 4, 40,
          photo_required=False, public=False, priority="normal", department_code="371526-SJ"),
    _leaf("complaint.sanitation", "环境卫生 Sanitation and rubbish", "complaint", R.COMPANY, 4, 24,
          photo_required=True, public=True, priority="normal"),
    _leaf("complaint.greening", "绿化养护 Greening upkeep", "complaint", R.COMPANY, 8, 80,
          photo_required=True, public=True, priority="low"),
    # Often about guards or strangers, i.e. about people: private.
    _leaf("complaint.security", "安全秩序 Security and order", "complaint", R.COMPANY, 2, 24,
          photo_required=False, public=False, priority="high", department_code="371526-GA"),
    _leaf("complaint.parking", "停车管理 Parking management", "complaint", R.COMPANY, 4, 40,
          photo_required=True, public=True, priority="normal", department_code="371526-GA"),
    _leaf("complaint.staff_conduct", "服务态度 Staff conduct", "complaint", R.COMPANY, 4, 40,
          photo_required=False, public=False, priority="normal"),

    _group("order", "邻里与秩序 Neighbourhood and order"),
    # Neighbour noise is first a matter of mediation (调解), which the community does; police for the rest.
    _leaf("order.noise", "噪音扰民 Noise nuisance", "order", R.COMMUNITY, 4, 40,
          photo_required=False, public=False, priority="normal", department_code="371526-GA"),
    _leaf("order.renovation", "违规装修 Illegal renovation", "order", R.DEPARTMENT, 4, 40,
          photo_required=True, public=False, priority="high", department_code="371526-CG"),
    # A blocked fire lane endangers everyone: high priority, short deadline, visible to all.
    _leaf("order.fire_lane", "消防通道堵塞 Blocked fire lane", "order", R.DEPARTMENT, 2, 16,
          photo_required=True, public=True, priority="high", department_code="371526-XF"),
    _leaf("order.illegal_building", "违章搭建 Illegal building", "order", R.DEPARTMENT, 8, 80,
          photo_required=True, public=True, priority="normal", department_code="371526-CG"),
    _leaf("order.cooking_fumes", "油烟扰民 Cooking fumes", "order", R.DEPARTMENT, 4, 40,
          photo_required=False, public=False, priority="normal", department_code="371526-CG"),

    _group("other", "其他 Other"),
    # Self-governance questions (owners' meetings, use of the maintenance fund 维修资金) belong to the owners.
    _leaf("other.owners_affairs", "业主自治事务 Owners' self-governance", "other", R.OWNERS_ORG, 8, 80,
          photo_required=False, public=True, priority="low"),
    # Anything else is triaged by the community, which can re-route it.
    _leaf("other.general", "其他问题 Other", "other", R.COMMUNITY, 8, 80,
          photo_required=False, public=False, priority="normal"),
]

del R


def is_leaf(category: dict) -> bool:
    return category["parent_code"] is not None


def leaves(categories: list[dict] | None = None) -> list[dict]:
    """The selectable categories."""
    return [c for c in (SEED_CATEGORIES if categories is None else categories) if is_leaf(c)]


def by_code(categories: list[dict] | None = None) -> dict[str, dict]:
    return {c["code"]: c for c in (SEED_CATEGORIES if categories is None else categories)}


def validate_seed(categories: list[dict] | None = None) -> list[dict]:
    """Check the tree (SEED_CATEGORIES by default) and return it; raise ValueError listing every problem.

    Codes are unique ascii; parents exist and are top-level groups; a leaf's code starts with its parent's;
    leaves carry valid rules (a department-responsible leaf names a department, claim before resolve deadline)
    and groups carry none.
    """
    categories = SEED_CATEGORIES if categories is None else categories
    problems: list[str] = []
    seen: set[str] = set()
    for c in categories:
        code = c.get("code")
        if not isinstance(code, str) or not _CODE_RE.match(code):
            problems.append(f"{code!r}: code must be lowercase ascii like 'repair.elevator'")
        if code in seen:
            problems.append(f"{code}: duplicate code")
        seen.add(code)
        if not c.get("name"):
            problems.append(f"{code}: name missing")
    groups = {c["code"] for c in categories if c.get("parent_code") is None}
    for c in categories:
        code, parent = c.get("code"), c.get("parent_code")
        if parent is None:
            if any(c.get(key) is not None for key in _RULE_KEYS):
                problems.append(f"{code}: a group carries no rules")
            continue
        if parent not in groups:
            problems.append(f"{code}: parent {parent!r} is not a top-level group")
        elif not str(code).startswith(parent + "."):
            problems.append(f"{code}: code must start with its parent's code {parent!r}")
        problems.extend(f"{code}: {p}" for p in _leaf_problems(c))
    if problems:
        raise ValueError("invalid category tree: " + "; ".join(problems))
    return categories


def _leaf_problems(c: dict) -> list[str]:
    problems = []
    if c.get("responsible") not in Responsible.ALL:
        problems.append(f"responsible must be one of {Responsible.ALL}")
    department = c.get("department_code")
    if department is not None and department not in DEMO_DEPARTMENTS:
        problems.append(f"unknown department {department!r}")
    if c.get("responsible") == Responsible.DEPARTMENT and department is None:
        problems.append("a department-responsible category must name its department")
    claim, resolve = c.get("claim_hours"), c.get("resolve_hours")
    if not (isinstance(claim, (int, float)) and isinstance(resolve, (int, float)) and 0 < claim < resolve):
        problems.append("need 0 < claim_hours < resolve_hours")
    for key in ("photo_required", "public"):
        if not isinstance(c.get(key), bool):
            problems.append(f"{key} must be true or false")
    if c.get("priority") not in PRIORITIES:
        problems.append(f"priority must be one of {PRIORITIES}")
    return problems
