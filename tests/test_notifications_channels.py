"""Notifications over e-mail and SMS to real servers in their own processes: an SMTP server (aiosmtpd) and an HTTP
server playing the SMS provider. People who chose a channel get the event's text there (and in the inbox), the SMS
limit per number and hour holds, and an SMTP outage delays the e-mail (retried, then sent once) without holding up
the inbox or SMS. Runs on SQLite and PostgreSQL."""
import contextlib
import json
import logging
import socket
import subprocess
import sys
import uuid

import pytest
import requests

from kit.config import ROOT
from kit.testing import DATABASE_KINDS, _county, db_value, free_port, wait_until
from services.notifications.domain.templates import local_time

pytestmark = pytest.mark.integration

SMS_TOKEN = "t0k"
SENDER = "noreply@redprop.test"


class Probe:
    """A helper server in its own process (tests.probe.*), which a test may stop and start again on its port."""

    def __init__(self, module, port, *args):
        self.module, self.port, self.args = module, port, [str(a) for a in args]
        self.process = None

    def start(self):
        self.process = subprocess.Popen([sys.executable, "-m", self.module, str(self.port), *self.args],
                                        cwd=str(ROOT))
        wait_until(lambda: self.process.poll() is None and _listening(self.port), timeout=20)
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        wait_until(lambda: not _listening(self.port), timeout=10)


def _listening(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class Channels:
    def __init__(self, settings, client, smtp, sms, mail_log, sms_log):
        self.settings, self.client = settings, client
        self.smtp, self.sms = smtp, sms
        self.mail_log, self.sms_log = mail_log, sms_log

    def mails(self, code):
        return [mail for mail in _lines(self.mail_log) if code in mail["subject"]]

    def texts(self, code):
        return [text for text in _lines(self.sms_log) if code in (text["text"] or "")]

    def delivery(self, account_id, channel, code):
        """'status|attempts|last_error' of the account's delivery over `channel` about ticket `code` ('' if none)."""
        return db_value(self.settings, "notifications", (
            "SELECT status || '|' || attempts || '|' || COALESCE(last_error, '') FROM deliveries "
            f"WHERE channel = '{channel}' AND target = 'account:{account_id}' "
            f"AND CAST(payload AS TEXT) LIKE '%{code}%'")) or ""


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def channels(request, tmp_path_factory):
    """The SMTP server and the SMS provider first (their ports go into the settings), then organizations, tickets,
    notifications and the gateway with the demo county."""
    probes = tmp_path_factory.mktemp("channel-probes")
    mail_log, sms_log = probes / "mail.jsonl", probes / "sms.jsonl"
    mail_log.touch()
    sms_log.touch()
    smtp = Probe("tests.probe.smtp_server", free_port(), mail_log)
    sms = Probe("tests.probe.sms_provider", free_port(), SMS_TOKEN, sms_log)
    overrides = {"retry_base_delay": 0.5, "retry_max_delay": 2,
                 "smtp": {"host": "127.0.0.1", "port": smtp.port, "sender": SENDER, "starttls": False,
                          "username": None, "password": None},
                 "sms": {"url": f"http://127.0.0.1:{sms.port}/send", "token": SMS_TOKEN, "per_number_per_hour": 2}}
    with contextlib.ExitStack() as stack:
        for probe in (smtp, sms):
            stack.callback(probe.stop)
            probe.start()
        settings, client = stack.enter_context(contextlib.contextmanager(_county)(
            request, tmp_path_factory, ("organizations", "tickets", "notifications"), notifications=overrides))
        assert settings["notifications"]["smtp"]["port"] == smtp.port  # the nested overrides merged
        assert settings["notifications"]["max_attempts"] >= 8  # and the defaults beside them stayed
        memberships = db_value(settings, "organizations", "SELECT count(*) FROM memberships")
        wait_until(lambda: db_value(settings, "notifications", "SELECT count(*) FROM membership_copies")
                   >= memberships, timeout=60)
        # the demo load's events (over a thousand) published: a new staff member's grant then queues behind none
        wait_until(lambda: db_value(settings, "organizations", "SELECT count(*) FROM outbox WHERE published_at IS NULL")
                   == 0, timeout=180)
        yield Channels(settings, client, smtp, sms, mail_log, sms_log)


@pytest.fixture
def choose(channels):
    """Set a person's channels; back to the inbox alone after the test, so later tickets queue nothing for them."""
    chosen = []

    def choose_(user, **preferences):
        answer = user.request("PUT", "/api/v1/inbox/preferences", json={
            "inbox": True, "email": False, "sms": False, "email_address": None, "phone": None, **preferences})
        assert answer.status_code == 200, answer.text
        chosen.append(user)
        return answer.json()
    yield choose_
    for user in chosen:
        user.request("PUT", "/api/v1/inbox/preferences", json={"email": False, "sms": False})


def account_id(settings, username):
    return db_value(settings, "organizations", f"SELECT id FROM accounts WHERE username = '{username}'")


def new_company_staff(channels):
    """Another staff member of company1's company (created by the admin): a phone of their own, an hour of their own."""
    settings, client = channels.settings, channels.client
    company_id = db_value(settings, "organizations", (
        "SELECT m.company_id FROM memberships m JOIN accounts a ON a.id = m.account_id "
        "WHERE a.username = 'company1' AND m.role = 'company'"))
    username = f"staff-{uuid.uuid4().hex[:8]}"
    created = client.as_user("admin").post("/api/v1/accounts", json={
        "username": username, "password": "staff-password-1",
        "memberships": [{"role": "company", "company_id": company_id}]})
    assert created.status_code == 201, created.text
    new_id = created.json()["id"]
    wait_until(lambda: db_value(settings, "notifications",
                                f"SELECT count(*) FROM membership_copies WHERE account_id = {new_id}"), timeout=60)
    return client.as_user(username, "staff-password-1"), new_id


def report(client, title):
    submitted = client.as_user("resident1").post("/api/v1/tickets", json={
        "category_code": "repair.elevator", "title": title, "description": "电梯停在3楼不动"})
    assert submitted.status_code == 201, submitted.text
    return submitted.json()


def inbox_has(user, code):
    return any(code in m["title"] for m in user.get("/api/v1/inbox").json()["items"])


def test_staff_who_chose_email_get_the_ticket_by_email_and_in_the_inbox(channels, choose):
    company = channels.client.as_user("company1")
    choose(company, email=True, email_address="company1@redprop.test")
    ticket = report(channels.client, "电梯停运 e-mail")

    mail = wait_until(lambda: channels.mails(ticket["code"]), timeout=30)
    assert len(mail) == 1
    mail = mail[0]
    assert mail["from"] == SENDER and mail["to"] == ["company1@redprop.test"]
    assert "新工单待领取" in mail["subject"] and ticket["code"] in mail["subject"]
    assert ticket["code"] in mail["body"] and local_time(ticket["claim_deadline"]) in mail["body"]  # by when, in 高唐 time
    assert "请在" in mail["body"] and "claim it by" in mail["body"]
    assert inbox_has(company, ticket["code"])

    reporter = db_value(channels.settings, "organizations", (
        "SELECT p.name || '|' || p.phone FROM people p JOIN accounts a ON a.person_id = p.id "
        "WHERE a.username = 'resident1'")).split("|")
    assert all(value and value not in mail["body"] and value not in mail["subject"] for value in reporter)
    assert "电梯停在" not in mail["body"]  # the report's own words stay in tickets too
    assert channels.texts(ticket["code"]) == []  # e-mail only: no SMS was chosen


def logged(caplog):
    """What the notifications service logged during the test, extra fields included."""
    return " ".join(repr(vars(record)) for record in caplog.records if record.name.startswith("services.notif"))


def test_staff_who_chose_sms_get_texts_and_a_number_gets_two_an_hour(channels, choose, caplog):
    caplog.set_level(logging.INFO, logger="services.notifications")
    staff, staff_id = new_company_staff(channels)
    phone = "13900000001"
    choose(staff, sms=True, phone=phone)
    first, second = report(channels.client, "电梯停运 sms 1"), report(channels.client, "电梯停运 sms 2")

    for ticket in (first, second):
        texts = wait_until(lambda: channels.texts(ticket["code"]), timeout=30)
        assert len(texts) == 1 and texts[0]["to"] == phone and texts[0]["authorized"]
        assert ticket["code"] in texts[0]["text"] and "已派给贵单位" in texts[0]["text"]  # the template's body
        assert local_time(ticket["claim_deadline"]) in texts[0]["text"]
        wait_until(lambda: channels.delivery(staff_id, "sms", ticket["code"]).startswith("sent|"), timeout=10)

    third = report(channels.client, "电梯停运 sms 3")  # the number's third in the hour: held back, kept for later
    held = wait_until(lambda: _rate_limited(channels.delivery(staff_id, "sms", third["code"])), timeout=30)
    assert held.startswith("pending|") and phone not in held
    assert channels.texts(third["code"]) == []
    assert inbox_has(staff, third["code"])  # the inbox has no such limit
    payloads = db_value(channels.settings, "notifications", (
        f"SELECT count(*) FROM deliveries WHERE CAST(payload AS TEXT) LIKE '%{phone}%'"))
    assert payloads == 0  # the number stays in the preferences
    assert "rate limit" in logged(caplog) and phone not in logged(caplog)

    wrong = requests.post(f"http://127.0.0.1:{channels.sms.port}/send", json={"to": phone, "text": "forged"},
                          headers={"Authorization": "Bearer wrong"}, timeout=10)
    assert wrong.status_code == 401  # the provider takes only the configured token


def _rate_limited(delivery):
    return delivery if "rate limit" in delivery else None


def test_an_smtp_outage_delays_the_email_but_not_the_inbox_or_sms(channels, choose, caplog):
    caplog.set_level(logging.INFO, logger="services.notifications")
    company = channels.client.as_user("company1")
    choose(company, email=True, email_address="company1@redprop.test", sms=True, phone="13900000002")
    company_id = account_id(channels.settings, "company1")
    channels.smtp.stop()
    try:
        ticket = report(channels.client, "电梯停运 smtp down")
        texts = wait_until(lambda: channels.texts(ticket["code"]), timeout=30)
        assert texts[0]["to"] == "13900000002" and texts[0]["authorized"]
        wait_until(lambda: inbox_has(company, ticket["code"]), timeout=30)

        def retried():
            status, attempts, error = (channels.delivery(company_id, "email", ticket["code"]) or "||").split("|", 2)
            return status == "pending" and int(attempts or 0) >= 2 and error
        error = wait_until(retried, timeout=30)
        assert "company1@redprop.test" not in error and channels.mails(ticket["code"]) == []
    finally:
        channels.smtp.start()

    wait_until(lambda: channels.delivery(company_id, "email", ticket["code"]).startswith("sent|"), timeout=30)
    mails = channels.mails(ticket["code"])
    assert len(mails) == 1 and mails[0]["to"] == ["company1@redprop.test"]  # once, after the retries
    assert len(channels.texts(ticket["code"])) == 1
    assert "delivery failed" in logged(caplog)
    assert "company1@redprop.test" not in logged(caplog) and "13900000002" not in logged(caplog)
