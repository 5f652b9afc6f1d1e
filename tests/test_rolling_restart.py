"""A rolling restart: SIGTERM to each process of the whole platform in turn (organizations, tickets, ratings,
notifications, then the gateway), each started again before the next stops, while residents keep submitting
tickets. No ticket and no event may be lost; the requests that failed meanwhile are counted and reported (a client
retries them with the same Idempotency-Key, as the API asks of clients). Runs on PostgreSQL."""
import threading
import time
import uuid

import pytest

from kit.testing import answers, county_processes, db_value, wait_until

pytestmark = pytest.mark.integration

ORDER = ("organizations", "tickets", "ratings", "notifications", "gateway")
TITLE = "滚动重启 rolling restart"


class SteadyReporter:
    """Submits a ticket every `pause` seconds until stopped; retries a failed submission with its key."""

    def __init__(self, user, pause=0.1):
        self.user, self.pause = user, pause
        self.tickets, self.failed, self.requests = [], 0, 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stopping.is_set():
            key = uuid.uuid4().hex
            while True:
                self.requests += 1
                try:
                    answer = self.user.post("/api/v1/tickets", headers={"Idempotency-Key": key}, json={
                        "category_code": "repair.elevator", "title": TITLE, "description": "电梯异响"})
                    if answer.status_code == 201:
                        self.tickets.append(answer.json()["id"])
                        break
                except OSError:  # the gateway is restarting: connection refused or reset
                    pass
                self.failed += 1
                time.sleep(0.2)
            time.sleep(self.pause)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.stopping.set()
        self.thread.join(timeout=60)


def restart(process, client, name):
    process.stop()  # SIGTERM: the runner finishes what it is doing, then exits
    assert process.proc.returncode is not None
    process.start()
    if name == "gateway":
        wait_until(lambda: answers(client, "/health"), timeout=60)
    else:
        wait_until(lambda: answers(client, "/health/ready") and next(
            s["healthy"] for s in client.get("/api/v1/services").json()["services"] if s["name"] == name),
            timeout=60)


def count(settings, service, sql):
    return db_value(settings, service, sql)


def test_a_rolling_restart_loses_no_ticket_and_no_event(tmp_path, record_property, capsys):
    with county_processes("full", "postgresql", tmp_path) as (settings, client, processes):
        resident = client.as_user("resident1")
        started = time.monotonic()
        with SteadyReporter(resident) as reporter:
            wait_until(lambda: len(reporter.tickets) >= 10, timeout=60)
            for name in ORDER:
                restart(processes[name], client, name)
                submitted = len(reporter.tickets)
                wait_until(lambda: len(reporter.tickets) >= submitted + 5, timeout=60)  # the stream goes on
        seconds = time.monotonic() - started

        ids = reporter.tickets
        assert len(ids) == len(set(ids))  # a retried submission was not made twice
        stored = f"SELECT count(*) FROM tickets WHERE title = '{TITLE}'"
        assert count(settings, "tickets", stored) == len(ids)
        # every event left the outbox and reached each consumer once
        wait_until(lambda: count(settings, "tickets", "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0,
                   timeout=60)
        submitted_events = count(settings, "tickets", "SELECT count(*) FROM outbox WHERE event_type = "
                                                      "'ticket_submitted'")
        assert submitted_events == len(ids)
        for service, handler in (("ratings", "on_ticket_submitted"),
                                 ("notifications", "on_tickets_ticket_submitted")):
            wait_until(lambda: count(settings, service, f"SELECT count(*) FROM inbox WHERE handler = '{handler}'")
                       == submitted_events, timeout=90)
        wait_until(lambda: count(settings, "notifications", "SELECT count(DISTINCT event_id) FROM messages WHERE "
                                                            "event_type = 'ticket_submitted'") == submitted_events,
                   timeout=60)
        record_property("failed_requests", reporter.failed)
        with capsys.disabled():
            print(f"\nrolling restart of {len(ORDER)} processes in {seconds:.0f} s: {len(ids)} tickets submitted, "
                  f"{reporter.requests} requests, {reporter.failed} failed and retried, none lost")
