"""Unit tests of the kit: no broker, no database server."""
import datetime as dt

import jwt
import pytest
from nameko.exceptions import deserialize, serialize

from gateway.ratelimit import SlidingWindow
from kit import asyncapi, auth, config
from kit.contracts import ContractViolation, all_contracts, make_envelope, open_envelope
from kit.errors import NotFound, ValidationFailed


def test_environment_overrides_the_yaml_defaults():
    settings = config.load(environ={
        "REDPROP_ENV": "production", "REDPROP_AMQP_URI": "amqp://u:p@mq:5672/redprop",
        "REDPROP_DB_URL_ORGANIZATIONS": "postgresql://db/organizations", "REDPROP__messaging__max_attempts": "7",
        "REDPROP_DEPLOYED": "organizations, tickets", "REDPROP_JWT_SECRET": "s3cret"})
    assert settings.production
    assert settings["amqp_uri"] == "amqp://u:p@mq:5672/redprop"
    assert settings.db_url("organizations") == "postgresql://db/organizations"
    assert settings["messaging"]["max_attempts"] == 7  # parsed as YAML, so a number
    assert settings["deployed"] == ["organizations", "tickets"]
    assert settings.jwt_secret() == "s3cret"
    assert settings["gateway"]["port"] == 8000  # untouched defaults stay


def test_production_refuses_to_run_without_a_secret():
    settings = config.load(environ={"REDPROP_ENV": "production"})
    with pytest.raises(RuntimeError):
        settings.jwt_secret()


def test_envelopes_validate_against_their_contract():
    envelope = make_envelope("organizations", "contract_signed", {
        "contract_id": 1, "code": "C1", "company_id": 2, "compound_ids": [3], "residential": True,
        "start_date": dt.date(2024, 1, 1), "end_date": None})
    assert envelope["version"] == 1 and envelope["data"]["start_date"] == "2024-01-01"
    assert open_envelope(envelope) is envelope
    with pytest.raises(ContractViolation):
        make_envelope("organizations", "contract_signed", {"contract_id": "not a number"})
    broken = dict(envelope, data={**envelope["data"], "company_id": None})
    with pytest.raises(ContractViolation):
        open_envelope(broken)
    with pytest.raises(ContractViolation):
        open_envelope({**envelope, "version": 99})


def test_the_published_asyncapi_document_is_current():
    assert asyncapi.DOCUMENT.read_text(encoding="utf-8") == asyncapi.asyncapi_yaml(), \
        "run `redprop asyncapi` and commit docs/asyncapi.yaml"
    document = asyncapi.build()
    for contract in all_contracts():
        assert contract.routing_key in document["channels"]


def test_errors_cross_rpc_with_their_details_intact():
    error = deserialize(serialize(ValidationFailed("bad rows", details={"rows": [{"row": 3, "ok": None}]},
                                                   code="rows_invalid")))
    assert isinstance(error, ValidationFailed)
    assert error.to_dict() == {"error": "rows_invalid", "message": "bad rows",
                               "details": {"rows": [{"row": 3, "ok": None}]}}
    plain = deserialize(serialize(NotFound("gone")))
    assert plain.to_dict() == {"error": "not_found", "message": "gone", "details": None} and plain.status == 404


def test_tokens_round_trip_and_reject_tampering():
    settings = config.load(environ={"REDPROP_JWT_SECRET": "k" * 40})
    token, ttl = auth.issue_token(settings, 7, "community1", [auth.Membership(
        role=auth.COMMUNITY, region_id=3, region_path="/1/2/3/")])
    caller = auth.verify_token(settings, token)
    assert caller.subject == "7" and caller.account_id == 7 and ttl == 3600
    assert caller.reaches_path("/1/2/3/") and not caller.reaches_path("/1/2/4/")
    other = config.load(environ={"REDPROP_JWT_SECRET": "x" * 40})
    with pytest.raises(auth.Unauthenticated):
        auth.verify_token(other, token)
    forged = jwt.encode({"sub": "1", "iss": "redprop", "aud": "redprop-api", "iat": 0, "exp": 9999999999},
                        None, algorithm="none")  # an unsigned token must never pass
    with pytest.raises(auth.Unauthenticated):
        auth.verify_token(settings, forged)
    expired, _ = auth.issue_token(settings, 7, "x", [], ttl=-10)
    with pytest.raises(auth.Unauthenticated, match="expired"):
        auth.verify_token(settings, expired)


def test_sliding_window_limits_and_says_how_long_to_wait():
    now = [0.0]
    window = SlidingWindow(3, 60, clock=lambda: now[0])
    assert [window.hit("a") for _ in range(3)] == [None, None, None]
    assert window.hit("a") == 60
    assert window.hit("b") is None
    now[0] = 30
    assert window.hit("a") == 30
    now[0] = 60.5
    assert window.hit("a") is None


def test_the_building_of_a_room_and_times_given_with_an_offset():
    from kit import auth
    from kit.schemas import UtcDateTime
    assert [auth.building_of(r) for r in ("3-2-301", "12", " -1-2", "", None)] == ["3", "12", None, None, None]
    field = UtcDateTime()
    assert field.deserialize("2026-12-01T09:00:00+08:00") == dt.datetime(2026, 12, 1, 1, 0)
    assert field.deserialize("2026-12-01T09:00:00") == dt.datetime(2026, 12, 1, 9, 0)


def test_a_rotated_key_still_accepts_the_old_tokens_while_listed():
    from kit import auth, config
    from kit.errors import Unauthenticated
    old = config.load(environ={}, extra={"jwt": {"secret": "old-secret-" + "x" * 32}})
    token = auth.issue_token(old, "7", "bureau", [auth.Membership(role=auth.BUREAU, region_id=1)])[0]
    rotated = config.load(environ={}, extra={"jwt": {"secret": "new-secret-" + "y" * 32,
                                                    "previous_secrets": ["old-secret-" + "x" * 32]}})
    assert auth.verify_token(rotated, token).subject == "7"
    done = config.load(environ={}, extra={"jwt": {"secret": "new-secret-" + "y" * 32}})
    with pytest.raises(Unauthenticated):
        auth.verify_token(done, token)
