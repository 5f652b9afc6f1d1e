"""Who hears what, the texts, webhook signatures and retry timing, without a broker."""
from services.notifications.domain import routing, templates, webhooks


def test_a_submitted_ticket_goes_to_the_handling_company_and_an_overdue_one_to_the_body_that_missed_it():
    submitted = routing.audience("tickets", "ticket_submitted", {"handler_kind": "company", "handler_id": 7,
                                                                 "reporter_account_id": 5, "community_id": 3})
    assert submitted == routing.Audience(accounts=(), bodies=(("company", "company_id", 7),))
    overdue = routing.audience("tickets", "ticket_overdue", {"overdue_handler_kind": "owners_org",
                                                             "overdue_handler_id": 4, "handler_kind": "community",
                                                             "handler_id": 3})
    assert overdue.bodies == (("owners_org", "organization_id", 4),)
    claimed = routing.audience("tickets", "ticket_claimed", {"reporter_account_id": 5, "handler_kind": "company",
                                                             "handler_id": 7})
    assert claimed == routing.Audience(accounts=(5,), bodies=())
    assert routing.audience("tickets", "ticket_rated", {"handler_kind": "company", "handler_id": 7}) == \
        routing.Audience()  # not routed to people (subscribers may still take it)


def test_subscriptions_match_by_pattern_and_region():
    data = {"region_path": "/1/2/3/"}
    assert routing.subscription_matches(["tickets.ticket_submitted"], "/1/", "tickets", "ticket_submitted", data)
    assert routing.subscription_matches(["tickets.*"], "/1/2/", "tickets", "ticket_closed", data)
    assert routing.subscription_matches(["*"], "/1/", "ratings", "rule_table_published", {})  # no place: all
    assert not routing.subscription_matches(["tickets.*"], "/1/5/", "tickets", "ticket_closed", data)
    assert not routing.subscription_matches(["ratings.*"], "/1/", "tickets", "ticket_closed", data)


def test_templates_fill_what_the_event_has_and_leave_the_rest_blank():
    title, body = templates.render("ticket_submitted", {"code": "T20261122-000001", "category_code": "repair.elevator",
                                                        "claim_deadline": "2026-11-23T10:00:00"})
    assert title == "新工单待领取 New ticket T20261122-000001"
    assert "2026-11-23 18:00" in body and "{" not in body  # 10:00 UTC is 18:00 in the county
    assert "{" not in templates.render("ticket_escalated", {})[1]
    assert templates.render("something_new", {}) == ("something_new", "something_new")


def test_a_signature_verifies_only_the_same_body_with_the_same_secret_in_time():
    body = b'{"event_id":"e1"}'
    header = webhooks.sign("s3cret", 1_700_000_000, body)
    assert webhooks.verify("s3cret", header, body, now=1_700_000_100)
    assert not webhooks.verify("other", header, body, now=1_700_000_100)
    assert not webhooks.verify("s3cret", header, body + b" ", now=1_700_000_100)
    assert not webhooks.verify("s3cret", header, body, now=1_700_000_000 + 301)  # a replay, too late
    assert not webhooks.verify("s3cret", "garbage", body, now=1_700_000_000)


def test_retries_wait_twice_as_long_each_time_up_to_a_ceiling():
    assert [webhooks.retry_delay(n, 2, 60) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]


def test_times_in_texts_are_the_countys_clock():
    from services.notifications.domain.templates import local_time, render
    assert local_time("2026-11-23T02:30:00+00:00") == "2026-11-23 10:30"
    assert local_time("2026-11-23T02:30:00") == "2026-11-23 10:30"  # a stored time without offset is UTC
    assert local_time("2026-11-23") == "2026-11-23" and local_time(None) == "" and local_time(3) == 3
    _title, body = render("ticket_submitted", {"code": "T1", "claim_deadline": "2026-11-23T16:30:00+00:00"})
    assert "2026-11-24 00:30" in body
