"""Rectification orders: every allowed step, every refused one, and where elimination is recommended."""
import pytest

from kit.errors import Conflict
from services.ratings.domain.rectification import (
    FINAL_STATES, STATE_LABELS, Outcome, State, after_deadline_missed, after_reinspection, after_response)
from services.ratings.domain.rules import load_example

CHUXIONG = load_example("chuxiong")     # max_failures 2
JIANGXIAN = load_example("jiangxian")   # max_failures 3


def test_respond_then_pass():
    assert after_response(State.ISSUED, 0) == Outcome(State.RESPONDED, 0, False, False)
    assert after_reinspection(State.RESPONDED, 0, True, CHUXIONG.max_failures) == Outcome(State.CLOSED, 0, False,
                                                                                          False)
    # passing after an earlier failure keeps the count on record
    assert after_reinspection(State.RESPONDED, 1, True, CHUXIONG.max_failures).failures == 1


def test_chuxiong_two_failures_recommend_elimination():
    first = after_reinspection(State.RESPONDED, 0, False, CHUXIONG.max_failures)
    assert first == Outcome(state=State.ISSUED, failures=1, escalate=True, recommend_elimination=False)
    again = after_response(first.state, first.failures)
    assert again == Outcome(State.RESPONDED, 1, False, False)
    second = after_reinspection(again.state, again.failures, False, CHUXIONG.max_failures)
    assert second == Outcome(state=State.ESCALATED, failures=2, escalate=True, recommend_elimination=True)


def test_jiangxian_missed_deadline_counts_as_a_failure():
    states = []
    outcome = after_deadline_missed(State.ISSUED, 0, JIANGXIAN.max_failures)           # 1: no answer in time
    states.append(outcome)
    outcome = after_response(outcome.state, outcome.failures)
    outcome = after_reinspection(outcome.state, outcome.failures, False, JIANGXIAN.max_failures)   # 2
    states.append(outcome)
    outcome = after_deadline_missed(outcome.state, outcome.failures, JIANGXIAN.max_failures)     # 3
    states.append(outcome)
    assert states == [Outcome(State.ISSUED, 1, True, False), Outcome(State.ISSUED, 2, True, False),
                      Outcome(State.ESCALATED, 3, True, True)]


@pytest.mark.parametrize("state", [State.RESPONDED, State.CLOSED, State.ESCALATED])
def test_only_an_issued_order_can_be_answered_or_miss_its_deadline(state):
    with pytest.raises(Conflict) as caught:
        after_response(state, 0)
    assert caught.value.details == {"state": state, "expected": State.ISSUED}
    with pytest.raises(Conflict):
        after_deadline_missed(state, 0, 2)


@pytest.mark.parametrize("state", [State.ISSUED, State.CLOSED, State.ESCALATED])
def test_only_a_responded_order_can_be_reinspected(state):
    with pytest.raises(Conflict) as caught:
        after_reinspection(state, 0, True, 2)
    assert caught.value.details == {"state": state, "expected": State.RESPONDED}


def test_labels_and_final_states():
    assert set(STATE_LABELS) == set(State.ALL)
    assert STATE_LABELS[State.ISSUED] == {"zh": "已下达", "en": "Issued"}
    assert FINAL_STATES == {State.CLOSED, State.ESCALATED}
