"""The sender against an in-memory database (no network): which SMS the hourly limit holds back."""
import datetime as dt
import uuid

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from kit import config
from services.notifications import models as m
from services.notifications.sender import SMS_HOLD, Sender

NOW = dt.datetime(2026, 3, 2, 2, 0)
SHARED, OWN = "13800000001", "13800000002"


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    m.Base.metadata.create_all(engine)
    with Session(engine) as session:
        for account_id, phone in ((1, SHARED), (2, SHARED), (3, OWN)):  # 1 and 2 share a duty phone
            session.add(m.Preference(account_id=account_id, inbox=True, email=True, sms=True, phone=phone,
                                     email_address=f"staff{account_id}@redprop.test"))
        session.flush()
        yield session


def delivery(session, account_id, channel="sms", status="pending", sent_minutes_ago=None):
    row = m.Delivery(event_id=str(uuid.uuid4()), event_type="ticket_submitted", channel=channel,
                     target=f"account:{account_id}", payload={"account_id": account_id, "title": "t", "body": "b"},
                     status=status, attempts=0, next_attempt_at=NOW, created_at=NOW - dt.timedelta(hours=3),
                     sent_at=None if sent_minutes_ago is None else NOW - dt.timedelta(minutes=sent_minutes_ago))
    session.add(row)
    session.flush()
    return row.id


def claim(session, account_id, **delivery_fields):
    """Queue a delivery to the account and take that target's next due one, as a sending lane does."""
    delivery(session, account_id, **delivery_fields)
    attempts = sender(session).claim(f"account:{account_id}", 20)
    assert len(attempts) <= 1  # a person's channels go one at a time
    return attempts[0] if attempts else None


def sender(session):
    return Sender(session, config.load(environ={}, extra={"notifications": {"sms": {"per_number_per_hour": 2}}}),
                  now=NOW)


def test_the_hourly_sms_limit_counts_per_number_across_the_accounts_that_share_it(session):
    delivery(session, 1, status="sent", sent_minutes_ago=10)
    delivery(session, 3, status="sent", sent_minutes_ago=20)
    first = claim(session, 2)
    assert first.address == SHARED  # one SMS to the shared number so far

    delivery(session, 2, status="sent", sent_minutes_ago=5)
    held = claim(session, 1)
    assert held is None  # over the hour's limit: not tried, and no attempt spent
    waiting = session.scalars(select(m.Delivery).where(m.Delivery.target == "account:1",
                                                       m.Delivery.status == "pending")).one()
    assert (waiting.attempts, waiting.last_error) == (0, "rate limit for this number")
    assert waiting.next_attempt_at == NOW + SMS_HOLD and SHARED not in str(waiting.payload)
    own = claim(session, 3)
    assert own.address == OWN  # another number has its own hour


def test_only_sms_sent_within_the_hour_count(session):
    delivery(session, 1, status="sent", sent_minutes_ago=61)
    delivery(session, 1, status="sent", sent_minutes_ago=120)
    delivery(session, 1, status="failed")
    delivery(session, 2, status="pending")
    delivery(session, 1, channel="email", status="sent", sent_minutes_ago=1)
    delivery(session, 2, channel="email", status="sent", sent_minutes_ago=1)
    delivery(session, 1, status="sent", sent_minutes_ago=59)
    attempt = claim(session, 2)
    assert attempt.address == SHARED
    assert claim(session, 1, channel="email") is not None  # e-mail has no such limit


def test_a_lane_claims_a_webhook_batch_under_one_lease_and_hands_back_the_untried(session):
    session.add(m.WebhookSubscription(id=5, name="hotline", url="http://127.0.0.1:9/hook", secret="s",
                                      event_types=["*"], region_path="/1/", active=True, consecutive_failures=0))
    ids = []
    for n in range(3):
        row = m.Delivery(event_id=str(uuid.uuid4()), event_type="ticket_submitted", channel="webhook",
                         target="webhook:5", subscription_id=5, payload={"n": n}, status="pending", attempts=0,
                         next_attempt_at=NOW, created_at=NOW)
        session.add(row)
        session.flush()
        ids.append(row.id)
    attempts = sender(session).claim("webhook:5", 20)
    assert [a.delivery_id for a in attempts] == ids and all(a.url for a in attempts)  # oldest first, in order
    assert sender(session).claim("webhook:5", 20) == []  # leased: no other sender takes them
    sender(session).record(ids[0], 500, "HTTP 500")
    retry = sender(session).retry_at(ids[0])
    sender(session).release(ids[1:], retry)  # the target failed: the rest wait behind the failed one
    rows = [session.get(m.Delivery, i) for i in ids]
    assert [r.attempts for r in rows] == [1, 0, 0] and {r.next_attempt_at for r in rows} == {retry}
