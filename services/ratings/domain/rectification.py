"""Rectification orders (责令整改): issued → responded → re-inspected → closed, or escalated.

A company with low stars, or one a supervisor finds failing, gets an order with items and a deadline. It answers
what it did (responded); an inspector checks on site. A failed re-inspection — or a deadline passed without an
answer — sends the order back to the company with a new deadline, and the next re-inspection is made by the level
above (escalate). After `max_failures` failures the order is escalated for good and the owners' organization gets an
elimination recommendation (末位淘汰): "物业服务好不好、换不换，业主说了算", so the platform recommends and the
owners decide.
"""
from __future__ import annotations

from dataclasses import dataclass

from kit.errors import Conflict


class State:
    ISSUED = "issued"           # 已下达: waiting for the company's response
    RESPONDED = "responded"     # 已回复: waiting for the re-inspection
    CLOSED = "closed"           # 已销号: passed
    ESCALATED = "escalated"     # 已升级: failed too often, elimination recommended

    ALL = (ISSUED, RESPONDED, CLOSED, ESCALATED)


STATE_LABELS: dict[str, dict[str, str]] = {
    State.ISSUED: {"zh": "已下达", "en": "Issued"},
    State.RESPONDED: {"zh": "已回复", "en": "Responded"},
    State.CLOSED: {"zh": "已销号", "en": "Closed"},
    State.ESCALATED: {"zh": "已升级", "en": "Escalated"},
}

FINAL_STATES = frozenset({State.CLOSED, State.ESCALATED})


@dataclass(frozen=True)
class Outcome:
    state: str
    failures: int
    escalate: bool                  # the next re-inspection (or, when escalated, the case) goes to the level above
    recommend_elimination: bool     # 末位淘汰 recommendation to the owners' organization


def _require(state: str, expected: str, action: str):
    if state != expected:
        raise Conflict(f"a rectification order that is {state} cannot be {action}",
                       details={"state": state, "expected": expected})


def after_response(state: str, failures: int) -> Outcome:
    """The company answers the order (整改回复)."""
    _require(state, State.ISSUED, "answered")
    return Outcome(state=State.RESPONDED, failures=failures, escalate=False, recommend_elimination=False)


def _failed(failures: int, max_failures: int) -> Outcome:
    failures += 1
    if failures >= max_failures:
        return Outcome(state=State.ESCALATED, failures=failures, escalate=True, recommend_elimination=True)
    return Outcome(state=State.ISSUED, failures=failures, escalate=True, recommend_elimination=False)


def after_reinspection(state: str, failures: int, passed: bool, max_failures: int) -> Outcome:
    """The inspector's verdict (复查): passed closes the order; failed counts one failure."""
    _require(state, State.RESPONDED, "re-inspected")
    if passed:
        return Outcome(state=State.CLOSED, failures=failures, escalate=False, recommend_elimination=False)
    return _failed(failures, max_failures)


def after_deadline_missed(state: str, failures: int, max_failures: int) -> Outcome:
    """No answer by the deadline counts as a failed re-inspection: silence must not be cheaper than a bad answer."""
    _require(state, State.ISSUED, "overdue")
    return _failed(failures, max_failures)
