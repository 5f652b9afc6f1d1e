"""The ticket state machine (工单状态机) as one explicit transition table.

Every action a person or the platform can take on a ticket is a row of `TRANSITIONS`: from which statuses, to which
status, and which parties may take it. The service asks `apply()` before it writes anything, and `allowed_actions()`
tells the API which buttons to show, so the two can never disagree.

Parties are relations between the caller and one ticket, worked out by the service from the registry copy (the
resident who reported it, the staff of the body it is assigned to, ...). A caller may hold several at once, e.g. a
community officer is both COMMUNITY and SUPERVISOR of a ticket in their own community.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kit.errors import Conflict, Forbidden, ValidationFailed


class Status:
    SUBMITTED = "submitted"                 # 已提交
    CLAIMED = "claimed"                     # 已领取
    IN_PROGRESS = "in_progress"             # 处理中
    PAUSED = "paused"                       # 已暂停 (waiting for parts, the owner, a meeting ...)
    RESOLVED = "resolved"                   # 已解决, waiting for the reporter's rating
    CLOSED = "closed"                       # 已办结
    RETURNED = "returned"                   # 已退回: "not ours", waiting for the community to re-route
    REOPEN_REQUESTED = "reopen_requested"   # 申请重办: the reporter was dissatisfied
    REOPENED = "reopened"                   # 已重办
    CANCELLED = "cancelled"                 # 已撤销
    MERGED = "merged"                       # 已合并 into another ticket

    ALL = (SUBMITTED, CLAIMED, IN_PROGRESS, PAUSED, RESOLVED, CLOSED, RETURNED, REOPEN_REQUESTED, REOPENED,
           CANCELLED, MERGED)


STATUS_LABELS: dict[str, dict[str, str]] = {
    Status.SUBMITTED: {"zh": "已提交", "en": "Submitted"},
    Status.CLAIMED: {"zh": "已领取", "en": "Claimed"},
    Status.IN_PROGRESS: {"zh": "处理中", "en": "In progress"},
    Status.PAUSED: {"zh": "已暂停", "en": "Paused"},
    Status.RESOLVED: {"zh": "已解决", "en": "Resolved"},
    Status.CLOSED: {"zh": "已办结", "en": "Closed"},
    Status.RETURNED: {"zh": "已退回", "en": "Returned"},
    Status.REOPEN_REQUESTED: {"zh": "申请重办", "en": "Reopen requested"},
    Status.REOPENED: {"zh": "已重办", "en": "Reopened"},
    Status.CANCELLED: {"zh": "已撤销", "en": "Cancelled"},
    Status.MERGED: {"zh": "已合并", "en": "Merged"},
}

# Statuses in which a deadline runs (claim or resolve), so overdue checks and escalation apply.
# - paused stops the clock: the handler has stated a reason (parts on order, owner away) and supervisors can see it;
# - returned waits for the community to re-route; the next body gets a fresh deadline on reassignment;
# - resolved and reopen_requested wait for the reporter or the community, not for the handler.
OPEN_STATUSES = frozenset({Status.SUBMITTED, Status.CLAIMED, Status.IN_PROGRESS, Status.REOPENED})

# Nothing changes a final ticket any more (a closed one still gets return visits, 回访, which keep its status).
FINAL_STATUSES = frozenset({Status.CLOSED, Status.CANCELLED, Status.MERGED})

NON_FINAL_STATUSES = frozenset(Status.ALL) - FINAL_STATUSES


class Party:
    REPORTER = "reporter"       # who submitted, or the resident a reception-day entry was made for
    HANDLER = "handler"         # staff of the body the ticket is currently assigned to
    COMMUNITY = "community"     # staff of the ticket's community (社区)
    SUPERVISOR = "supervisor"   # staff of the community, street or bureau above the ticket (督办)
    SYSTEM = "system"           # the platform's own timers

    ALL = (REPORTER, HANDLER, COMMUNITY, SUPERVISOR, SYSTEM)


PARTY_LABELS: dict[str, dict[str, str]] = {
    Party.REPORTER: {"zh": "报事人", "en": "Reporter"},
    Party.HANDLER: {"zh": "承办单位", "en": "Handler"},
    Party.COMMUNITY: {"zh": "社区", "en": "Community"},
    Party.SUPERVISOR: {"zh": "督办单位", "en": "Supervisor"},
    Party.SYSTEM: {"zh": "系统", "en": "System"},
}


class Action:
    CLAIM = "claim"
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    RESOLVE = "resolve"
    RETURN = "return"
    REASSIGN = "reassign"
    ACCEPT = "accept"
    REJECT = "reject"
    APPROVE_REOPEN = "approve_reopen"
    DENY_REOPEN = "deny_reopen"
    AUTO_CLOSE = "auto_close"
    CANCEL = "cancel"
    MERGE = "merge"
    COMMENT = "comment"
    SUPERVISE = "supervise"
    URGE = "urge"
    ESCALATE = "escalate"
    RETURN_VISIT = "return_visit"


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset
    target: str | None          # None: the status stays as it is
    parties: frozenset
    label: str                  # Chinese label for buttons and the timeline
    requires_reason: bool = False

    def target_from(self, status: str) -> str:
        return status if self.target is None else self.target


def _t(action, sources, target, parties, label, requires_reason=False):
    return Transition(action, frozenset(sources), target, frozenset(parties), label, requires_reason)


S, P = Status, Party

TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    # The handler's path.
    _t(Action.CLAIM, {S.SUBMITTED, S.REOPENED}, S.CLAIMED, {P.HANDLER}, "领取"),
    _t(Action.START, {S.CLAIMED}, S.IN_PROGRESS, {P.HANDLER}, "开始处理"),
    _t(Action.PAUSE, {S.IN_PROGRESS}, S.PAUSED, {P.HANDLER}, "暂停", requires_reason=True),
    _t(Action.RESUME, {S.PAUSED}, S.IN_PROGRESS, {P.HANDLER}, "恢复处理"),
    # A small job can be done on the spot right after claiming, hence resolve from claimed as well.
    _t(Action.RESOLVE, {S.CLAIMED, S.IN_PROGRESS}, S.RESOLVED, {P.HANDLER}, "办结反馈"),
    # "Not ours": only before work has started; afterwards the handler owns it.
    _t(Action.RETURN, {S.SUBMITTED, S.CLAIMED}, S.RETURNED, {P.HANDLER}, "退回", requires_reason=True),
    _t(Action.REASSIGN, {S.RETURNED}, S.SUBMITTED, {P.COMMUNITY, P.SUPERVISOR}, "重新派单"),
    # Rating (评价): 满意 / 基本满意 close the ticket, 不满意 asks for a reopen that the community decides,
    # not the company whose work is being judged.
    _t(Action.ACCEPT, {S.RESOLVED}, S.CLOSED, {P.REPORTER}, "评价（满意/基本满意）"),
    _t(Action.REJECT, {S.RESOLVED}, S.REOPEN_REQUESTED, {P.REPORTER}, "评价（不满意）",
       requires_reason=True),
    _t(Action.APPROVE_REOPEN, {S.REOPEN_REQUESTED}, S.REOPENED, {P.COMMUNITY}, "同意重办"),
    _t(Action.DENY_REOPEN, {S.REOPEN_REQUESTED}, S.CLOSED, {P.COMMUNITY}, "不予重办", requires_reason=True),
    # Unrated tickets do not stay open forever: the platform closes them after the rating window.
    _t(Action.AUTO_CLOSE, {S.RESOLVED}, S.CLOSED, {P.SYSTEM}, "超时自动办结"),
    # Once a handler has claimed it, the reporter can no longer withdraw silently; the community can still cancel
    # a returned ticket that nobody should handle.
    _t(Action.CANCEL, {S.SUBMITTED, S.RETURNED}, S.CANCELLED, {P.REPORTER, P.COMMUNITY}, "撤销"),
    _t(Action.MERGE, {S.SUBMITTED, S.CLAIMED, S.RETURNED}, S.MERGED, {P.COMMUNITY, P.SUPERVISOR}, "合并工单"),
    # Status-preserving actions: they only add to the timeline.
    _t(Action.COMMENT, NON_FINAL_STATUSES, None, {P.REPORTER, P.HANDLER, P.COMMUNITY, P.SUPERVISOR}, "留言"),
    _t(Action.SUPERVISE, OPEN_STATUSES | {S.PAUSED, S.RETURNED}, None, {P.SUPERVISOR}, "督办"),
    _t(Action.URGE, {S.SUBMITTED, S.CLAIMED, S.IN_PROGRESS, S.PAUSED, S.REOPENED}, None, {P.REPORTER}, "催办"),
    # the next body up must claim the ticket itself, so it starts again as submitted (with fresh deadlines)
    _t(Action.ESCALATE, OPEN_STATUSES | {S.PAUSED}, S.SUBMITTED, {P.SYSTEM}, "升级"),
    _t(Action.RETURN_VISIT, {S.RESOLVED, S.CLOSED}, None, {P.COMMUNITY}, "回访"),
)}

del S, P


class Satisfaction:
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"

    ALL = (SATISFIED, BASICALLY_SATISFIED, DISSATISFIED)


SATISFACTION_LABELS: dict[str, dict[str, str]] = {
    Satisfaction.SATISFIED: {"zh": "满意", "en": "Satisfied"},
    Satisfaction.BASICALLY_SATISFIED: {"zh": "基本满意", "en": "Basically satisfied"},
    Satisfaction.DISSATISFIED: {"zh": "不满意", "en": "Dissatisfied"},
}


def action_for_satisfaction(satisfaction: str) -> str:
    """The rating action a reporter's answer amounts to: accept, or reject (不满意)."""
    if satisfaction in (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED):
        return Action.ACCEPT
    if satisfaction == Satisfaction.DISSATISFIED:
        return Action.REJECT
    raise ValidationFailed("unknown satisfaction level",
                           details={"satisfaction": [f"must be one of {', '.join(Satisfaction.ALL)}"]})


# ---- the checks --------------------------------------------------------------------------------------------------

def _party_set(parties: Iterable[str] | str) -> frozenset:
    # A bare string would otherwise be read as a set of characters and silently match nothing.
    if isinstance(parties, str):
        return frozenset({parties})
    return frozenset(parties or ())


def get_transition(action: str) -> Transition:
    try:
        return TRANSITIONS[action]
    except KeyError:
        raise ValidationFailed(f"unknown action {action!r}",
                               details={"action": [f"must be one of {', '.join(TRANSITIONS)}"]}) from None


def apply(status: str, action: str, parties: Iterable[str] | str) -> str:
    """The status after `action`, or the reason it may not happen.

    Order of checks: an unknown action or status is a ValidationFailed (422); then parties, then status. A caller
    who may never take the action learns that (403) whatever the ticket's status, so a resident pressing "claim"
    gets Forbidden, while a handler resolving a ticket they have not claimed gets Conflict (409).
    """
    transition = get_transition(action)
    if status not in STATUS_LABELS:
        raise ValidationFailed(f"unknown ticket status {status!r}", details={"status": ["unknown status"]})
    if not transition.parties & _party_set(parties):
        raise Forbidden(f"you may not {action} this ticket",
                        details={"action": action, "allowed_parties": sorted(transition.parties)})
    if status not in transition.sources:
        raise Conflict(f"cannot {action} a ticket that is {status}",
                       details={"action": action, "status": status, "allowed_from": sorted(transition.sources)})
    return transition.target_from(status)


def can_apply(status: str, action: str, parties: Iterable[str] | str) -> bool:
    transition = TRANSITIONS.get(action)
    return (transition is not None and status in transition.sources
            and bool(transition.parties & _party_set(parties)))


def allowed_actions(status: str, parties: Iterable[str] | str) -> list[str]:
    """Actions the given parties may take on a ticket in `status`, in table order (for the API's buttons)."""
    party_set = _party_set(parties)
    return [t.action for t in TRANSITIONS.values() if status in t.sources and t.parties & party_set]


def validate_reason(action: str, reason: str | None) -> None:
    """Pausing, returning, refusing a reopen and 不满意 must say why: the reason is shown on the timeline."""
    if get_transition(action).requires_reason and not (reason or "").strip():
        raise ValidationFailed(f"{action} needs a reason", details={"reason": ["required for this action"]})


def is_final(status: str) -> bool:
    return status in FINAL_STATUSES


def deadline_running(status: str) -> bool:
    return status in OPEN_STATUSES
