"""The ticket state machine: paths users walk, and every step they may not take."""
import itertools

import pytest

from kit.errors import Conflict, Forbidden, ValidationFailed
from services.tickets.domain.workflow import (
    FINAL_STATUSES, NON_FINAL_STATUSES, OPEN_STATUSES, PARTY_LABELS, SATISFACTION_LABELS, STATUS_LABELS, TRANSITIONS,
    Action, Party, Satisfaction, Status, Transition, action_for_satisfaction, allowed_actions, apply, can_apply,
    deadline_running, is_final, validate_reason,
)

H, R, C, S, SYS = Party.HANDLER, Party.REPORTER, Party.COMMUNITY, Party.SUPERVISOR, Party.SYSTEM


def walk(status, *steps):
    """Apply (action, party) steps in order and return every status passed through."""
    seen = [status]
    for action, party in steps:
        status = apply(status, action, {party})
        seen.append(status)
    return seen


# ---- paths -------------------------------------------------------------------------------------------------------

def test_happy_path():
    assert walk(Status.SUBMITTED, (Action.CLAIM, H), (Action.START, H), (Action.RESOLVE, H), (Action.ACCEPT, R)) == [
        Status.SUBMITTED, Status.CLAIMED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED]


def test_dissatisfied_reopen_then_resolved_again_then_closed():
    assert walk(Status.SUBMITTED,
                (Action.CLAIM, H), (Action.START, H), (Action.RESOLVE, H),
                (Action.REJECT, R),             # 不满意
                (Action.APPROVE_REOPEN, C),     # the community decides, not the company
                (Action.CLAIM, H), (Action.START, H), (Action.RESOLVE, H),
                (Action.ACCEPT, R))[3:] == [
        Status.RESOLVED, Status.REOPEN_REQUESTED, Status.REOPENED, Status.CLAIMED, Status.IN_PROGRESS,
        Status.RESOLVED, Status.CLOSED]


def test_reopen_denied_closes():
    assert apply(Status.REOPEN_REQUESTED, Action.DENY_REOPEN, {C}) == Status.CLOSED


def test_pause_and_resume():
    assert walk(Status.IN_PROGRESS, (Action.PAUSE, H), (Action.RESUME, H), (Action.RESOLVE, H)) == [
        Status.IN_PROGRESS, Status.PAUSED, Status.IN_PROGRESS, Status.RESOLVED]


def test_quick_fix_resolves_straight_after_claiming():
    assert apply(Status.CLAIMED, Action.RESOLVE, {H}) == Status.RESOLVED


def test_returned_ticket_is_rerouted_by_the_community_or_supervisor():
    assert walk(Status.SUBMITTED, (Action.RETURN, H), (Action.REASSIGN, C)) == [
        Status.SUBMITTED, Status.RETURNED, Status.SUBMITTED]
    assert apply(Status.RETURNED, Action.REASSIGN, {S}) == Status.SUBMITTED


def test_unrated_ticket_is_closed_by_the_system():
    assert apply(Status.RESOLVED, Action.AUTO_CLOSE, {SYS}) == Status.CLOSED


def test_cancel_and_merge():
    assert apply(Status.SUBMITTED, Action.CANCEL, {R}) == Status.CANCELLED
    assert apply(Status.RETURNED, Action.CANCEL, {C}) == Status.CANCELLED
    for status in (Status.SUBMITTED, Status.CLAIMED, Status.RETURNED):
        assert apply(status, Action.MERGE, {C}) == Status.MERGED
        assert apply(status, Action.MERGE, {S}) == Status.MERGED


@pytest.mark.parametrize("action,status,party", [
    (Action.COMMENT, Status.PAUSED, R), (Action.COMMENT, Status.RESOLVED, H),
    (Action.COMMENT, Status.REOPEN_REQUESTED, C), (Action.COMMENT, Status.RETURNED, S),
    (Action.SUPERVISE, Status.SUBMITTED, S), (Action.SUPERVISE, Status.PAUSED, S),
    (Action.SUPERVISE, Status.RETURNED, S), (Action.SUPERVISE, Status.REOPENED, S),
    (Action.URGE, Status.PAUSED, R), (Action.URGE, Status.SUBMITTED, R),
    (Action.RETURN_VISIT, Status.RESOLVED, C), (Action.RETURN_VISIT, Status.CLOSED, C),
])
def test_status_preserving_actions(action, status, party):
    assert TRANSITIONS[action].target is None
    assert apply(status, action, {party}) == status


def test_escalation_hands_the_ticket_to_the_next_body_as_submitted():
    for status in (Status.SUBMITTED, Status.CLAIMED, Status.IN_PROGRESS, Status.PAUSED, Status.REOPENED):
        assert apply(status, Action.ESCALATE, {SYS}) == Status.SUBMITTED


# ---- refusals ----------------------------------------------------------------------------------------------------

def test_every_illegal_transition_is_a_conflict():
    checked = 0
    for transition, status in itertools.product(TRANSITIONS.values(), Status.ALL):
        if status in transition.sources:
            continue
        with pytest.raises(Conflict) as raised:
            apply(status, transition.action, transition.parties)
        assert raised.value.status == 409
        assert raised.value.details == {"action": transition.action, "status": status,
                                        "allowed_from": sorted(transition.sources)}
        checked += 1
    assert checked > 100


def test_every_wrong_party_is_forbidden_whatever_the_status():
    for transition, party, status in itertools.product(TRANSITIONS.values(), Party.ALL, Status.ALL):
        if party in transition.parties:
            continue
        with pytest.raises(Forbidden) as raised:
            apply(status, transition.action, {party})
        assert raised.value.status == 403
        assert raised.value.details == {"action": transition.action,
                                        "allowed_parties": sorted(transition.parties)}


def test_resident_claiming_gets_forbidden_even_on_a_closed_ticket():
    with pytest.raises(Forbidden):
        apply(Status.SUBMITTED, Action.CLAIM, {R})
    with pytest.raises(Forbidden):
        apply(Status.CLOSED, Action.CLAIM, {R})


def test_handler_resolving_unclaimed_ticket_gets_conflict():
    with pytest.raises(Conflict):
        apply(Status.SUBMITTED, Action.RESOLVE, {H})


def test_company_cannot_decide_its_own_reopen_request():
    with pytest.raises(Forbidden):
        apply(Status.REOPEN_REQUESTED, Action.APPROVE_REOPEN, {H})
    with pytest.raises(Forbidden):
        apply(Status.REOPEN_REQUESTED, Action.DENY_REOPEN, {H, R})


def test_reporter_cannot_cancel_once_claimed():
    with pytest.raises(Conflict):
        apply(Status.CLAIMED, Action.CANCEL, {R})


def test_handler_cannot_return_after_starting():
    with pytest.raises(Conflict):
        apply(Status.IN_PROGRESS, Action.RETURN, {H})


def test_unknown_action_or_status_is_a_validation_error():
    with pytest.raises(ValidationFailed) as raised:
        apply(Status.SUBMITTED, "teleport", {H})
    assert raised.value.status == 422
    with pytest.raises(ValidationFailed):
        apply("lost", Action.CLAIM, {H})


def test_no_parties_is_forbidden():
    with pytest.raises(Forbidden):
        apply(Status.SUBMITTED, Action.COMMENT, set())


def test_parties_may_be_a_single_string_or_a_frozenset():
    assert apply(Status.SUBMITTED, Action.CLAIM, H) == Status.CLAIMED
    assert apply(Status.SUBMITTED, Action.CLAIM, frozenset({H, C})) == Status.CLAIMED


def test_one_allowed_party_among_several_is_enough():
    assert apply(Status.RETURNED, Action.REASSIGN, {R, S}) == Status.SUBMITTED


# ---- final statuses ----------------------------------------------------------------------------------------------

def test_nothing_leaves_a_final_status_except_return_visit_on_closed():
    from_final = {(t.action, status) for t in TRANSITIONS.values() for status in t.sources if status in FINAL_STATUSES}
    assert from_final == {(Action.RETURN_VISIT, Status.CLOSED)}
    assert TRANSITIONS[Action.RETURN_VISIT].target is None


@pytest.mark.parametrize("status", sorted(FINAL_STATUSES))
def test_final_statuses_accept_no_comment(status):
    with pytest.raises(Conflict):
        apply(status, Action.COMMENT, {R, H, C, S})


@pytest.mark.parametrize("status", sorted(FINAL_STATUSES))
def test_final_statuses_offer_nothing_but_return_visit(status):
    everyone = set(Party.ALL)
    expected = [Action.RETURN_VISIT] if status == Status.CLOSED else []
    assert allowed_actions(status, everyone) == expected


# ---- the table itself --------------------------------------------------------------------------------------------

def test_table_is_consistent():
    for action, transition in TRANSITIONS.items():
        assert isinstance(transition, Transition)
        assert transition.action == action
        assert transition.sources and transition.sources <= set(Status.ALL)
        assert transition.target is None or transition.target in Status.ALL
        assert transition.parties and transition.parties <= set(Party.ALL)
        assert transition.label and not transition.label.isascii()     # Chinese label for users


def test_every_status_is_reachable_from_submitted():
    reached, frontier = {Status.SUBMITTED}, [Status.SUBMITTED]
    while frontier:
        status = frontier.pop()
        for t in TRANSITIONS.values():
            if status in t.sources and t.target and t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    assert reached == set(Status.ALL)


def test_every_non_final_status_has_a_way_forward():
    for status in NON_FINAL_STATUSES:
        assert any(status in t.sources and t.target not in (None, status) for t in TRANSITIONS.values()), status


def test_action_constants_match_the_table():
    constants = {v for k, v in vars(Action).items() if k.isupper()}
    assert constants == set(TRANSITIONS)


def test_status_sets():
    assert OPEN_STATUSES == {Status.SUBMITTED, Status.CLAIMED, Status.IN_PROGRESS, Status.REOPENED}
    assert FINAL_STATUSES == {Status.CLOSED, Status.CANCELLED, Status.MERGED}
    assert not OPEN_STATUSES & FINAL_STATUSES
    assert deadline_running(Status.IN_PROGRESS) and not deadline_running(Status.PAUSED)
    assert not deadline_running(Status.RETURNED) and not deadline_running(Status.RESOLVED)
    assert is_final(Status.MERGED) and not is_final(Status.RESOLVED)


def test_labels_cover_everything():
    assert set(STATUS_LABELS) == set(Status.ALL)
    assert STATUS_LABELS[Status.CLOSED] == {"zh": "已办结", "en": "Closed"}
    assert STATUS_LABELS[Status.REOPEN_REQUESTED]["zh"] == "申请重办"
    assert set(PARTY_LABELS) == set(Party.ALL)
    assert set(SATISFACTION_LABELS) == set(Satisfaction.ALL)
    assert [SATISFACTION_LABELS[s]["zh"] for s in Satisfaction.ALL] == ["满意", "基本满意", "不满意"]


# ---- buttons, reasons, ratings -----------------------------------------------------------------------------------

def test_allowed_actions_for_buttons():
    assert allowed_actions(Status.SUBMITTED, {H}) == [Action.CLAIM, Action.RETURN, Action.COMMENT]
    assert allowed_actions(Status.SUBMITTED, {R}) == [Action.CANCEL, Action.COMMENT, Action.URGE]
    assert allowed_actions(Status.RESOLVED, {R}) == [Action.ACCEPT, Action.REJECT, Action.COMMENT]
    assert allowed_actions(Status.REOPEN_REQUESTED, {C, S}) == [
        Action.APPROVE_REOPEN, Action.DENY_REOPEN, Action.COMMENT]
    assert allowed_actions(Status.SUBMITTED, set()) == []


def test_allowed_actions_agree_with_apply():
    for status, party in itertools.product(Status.ALL, Party.ALL):
        for action in TRANSITIONS:
            assert (action in allowed_actions(status, {party})) == can_apply(status, action, {party})
    assert not can_apply(Status.SUBMITTED, "teleport", {H})


@pytest.mark.parametrize("action", [Action.PAUSE, Action.RETURN, Action.DENY_REOPEN, Action.REJECT])
def test_some_actions_need_a_reason(action):
    for blank in (None, "", "   "):
        with pytest.raises(ValidationFailed):
            validate_reason(action, blank)
    validate_reason(action, "等待配件")


def test_other_actions_need_no_reason():
    validate_reason(Action.CLAIM, None)
    with pytest.raises(ValidationFailed):
        validate_reason("teleport", "why")


def test_satisfaction_maps_to_rating_actions():
    assert action_for_satisfaction(Satisfaction.SATISFIED) == Action.ACCEPT
    assert action_for_satisfaction(Satisfaction.BASICALLY_SATISFIED) == Action.ACCEPT
    assert action_for_satisfaction(Satisfaction.DISSATISFIED) == Action.REJECT
    with pytest.raises(ValidationFailed):
        action_for_satisfaction("meh")


def test_errors_carry_machine_readable_details_and_codes():
    with pytest.raises(Conflict) as raised:
        apply(Status.CLOSED, Action.RESOLVE, {H})
    assert raised.value.to_dict()["error"] == "conflict"
    assert raised.value.details["allowed_from"] == [Status.CLAIMED, Status.IN_PROGRESS]
