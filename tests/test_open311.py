"""Open311 GeoReport v2: the pure mapping (no broker), then a civic client's flow through the gateway."""
import datetime as dt
import json
from types import SimpleNamespace

import pytest

from kit.errors import BadRequest, ValidationFailed
from services.tickets import open311 as o
from services.tickets.domain.workflow import Status

NOW = dt.datetime(2024, 5, 20, 8, 0, 0)


# ----- unit tests of the mapping --------------------------------------------------------------------------------

def category(**overrides):
    values = {"code": "repair.elevator", "name": "电梯故障 Elevator fault", "claim_hours": 1.0, "resolve_hours": 8.0,
              "public": True, "photo_required": False, "priority": "urgent"}
    return SimpleNamespace(**{**values, **overrides})


def ticket(**overrides):
    values = {"code": "T20240520-000007", "status": Status.SUBMITTED, "category": category(),
              "description": "3号楼电梯停在5楼不动", "handler_kind": "company", "level": "compound",
              "created_at": NOW, "updated_at": NOW + dt.timedelta(minutes=5),
              "resolve_deadline": NOW + dt.timedelta(hours=8), "reporter_name": "王小明",
              "reporter_phone": "13912345678", "private": False}
    return SimpleNamespace(**{**values, **overrides})


@pytest.mark.parametrize("status, expected", [
    (Status.SUBMITTED, "open"), (Status.CLAIMED, "open"), (Status.IN_PROGRESS, "open"), (Status.PAUSED, "open"),
    (Status.RESOLVED, "open"), (Status.RETURNED, "open"), (Status.REOPEN_REQUESTED, "open"),
    (Status.REOPENED, "open"), (Status.CLOSED, "closed"), (Status.CANCELLED, "closed"), (Status.MERGED, "closed")])
def test_status_mapping(status, expected):
    assert o.georeport_status(status) == expected


def test_status_notes_are_bilingual():
    assert o.status_notes(Status.CLAIMED) == "已领取 Claimed"
    assert o.status_notes(Status.MERGED) == "已合并 Merged"


def test_times_are_iso_8601_with_a_zone():
    assert o.iso(dt.datetime(2024, 5, 20, 8, 0, 0, 123456)) == "2024-05-20T08:00:00Z"
    assert o.iso(None) is None
    assert o.parse_datetime("2024-05-20T16:00:00+08:00", "start_date") == dt.datetime(2024, 5, 20, 8)
    assert o.parse_datetime("2024-05-20T08:00:00Z", "start_date") == dt.datetime(2024, 5, 20, 8)
    assert o.parse_datetime("2024-05-20", "start_date") == dt.datetime(2024, 5, 20)
    with pytest.raises(ValidationFailed):
        o.parse_datetime("yesterday", "start_date")


def test_a_ticket_as_a_service_request_never_carries_the_reporter():
    request = o.request_of(ticket(), "阳光花园", "371526-001-001")
    assert request == {
        "service_request_id": "T20240520-000007", "status": "open", "status_notes": "已提交 Submitted",
        "service_name": "电梯故障 Elevator fault", "service_code": "repair.elevator",
        "description": "3号楼电梯停在5楼不动", "agency_responsible": "company (compound)", "service_notice": None,
        "requested_datetime": "2024-05-20T08:00:00Z", "updated_datetime": "2024-05-20T08:05:00Z",
        "expected_datetime": "2024-05-20T16:00:00Z", "address": "阳光花园", "address_id": "371526-001-001",
        "zipcode": None, "lat": None, "long": None, "media_url": None}
    assert "王小明" not in json.dumps(request, ensure_ascii=False) and "1391234" not in json.dumps(request)
    assert o.request_of(ticket(status=Status.CANCELLED))["status"] == "closed"


def test_a_category_as_a_service():
    group = SimpleNamespace(name="设施设备报修 Facility repairs")
    service = o.service_of(category(), group)
    assert service["service_code"] == "repair.elevator" and service["service_name"] == "电梯故障 Elevator fault"
    assert service["metadata"] is False and service["type"] == "realtime"
    assert service["group"] == "设施设备报修 Facility repairs"
    assert service["keywords"] == "repair, elevator, urgent"
    assert "8 working hours" in service["description"] and "public" in service["description"]
    private = o.service_of(category(code="complaint.fees", public=False, photo_required=True), None)
    assert private["group"] is None and "private" in private["keywords"] and "media" in private["description"]
    assert o.service_definition("repair.elevator") == {"service_code": "repair.elevator", "attributes": []}


def test_a_georeport_form_becomes_ticket_input():
    address_id, data = o.form_to_ticket({
        "api_key": "k", "service_code": "repair.elevator", "address_id": "371526-001-001",
        "description": "  3号楼2单元电梯\n困人后停运，按钮无反应，请尽快派人维修，谢谢！多次反映未解决  ",
        "first_name": "小明", "last_name": "王", "phone": "(139) 1234 5678", "address_string": "3号楼2单元",
        "lat": "36.86", "long": "115.77", "email": "x@example.org", "attribute[floor]": "5"})
    assert address_id == "371526-001-001"
    assert data == {"category_code": "repair.elevator", "title": "3号楼2单元电梯 困人后停运，按钮无反应，请尽快派人维修，谢",
                    "description": "3号楼2单元电梯\n困人后停运，按钮无反应，请尽快派人维修，谢谢！多次反映未解决", "channel": "open311",
                    "reporter_name": "王小明", "reporter_phone": "13912345678", "location_detail": "3号楼2单元"}
    assert len(data["title"]) == 30
    _address, anonymous = o.form_to_ticket({"service_code": "other.general", "address_id": "c", "description": "ok"})
    assert "reporter_name" not in anonymous and "reporter_phone" not in anonymous
    assert "email" not in anonymous


def test_a_georeport_form_without_the_essentials_is_refused():
    with pytest.raises(BadRequest) as missing:
        o.form_to_ticket({"service_code": "repair.elevator", "description": "坏了"})
    assert "address_id" in missing.value.message and "compound code" in missing.value.message
    with pytest.raises(BadRequest):
        o.form_to_ticket({"service_code": "repair.elevator", "address_id": "c", "description": " "})
    with pytest.raises(BadRequest) as unknown:
        o.form_to_ticket({"service_code": "repair.elevator", "address_id": "c", "description": "坏了", "foo": "1"})
    assert "foo" in unknown.value.message


def test_names_and_phones():
    assert o.reporter_name("John", "Smith") == "John Smith"
    assert o.reporter_name("小明", "王") == "王小明"
    assert o.reporter_name(None, " ") is None
    assert o.reporter_name("Ann", None) == "Ann"
    assert o.normalize_phone(" +86 139.1234.5678 ") == "+8613912345678"
    assert o.normalize_phone("") is None


def test_request_queries():
    default = o.parse_query({}, NOW)
    assert default == {"start": NOW - dt.timedelta(days=90), "end": None}
    assert o.parse_query({"service_request_id": "T1, T2", "status": "bogus"}, NOW) == {"codes": ["T1", "T2"]}
    window = o.parse_query({"start_date": "2024-05-01T00:00:00Z", "end_date": "2024-05-10T00:00:00Z",
                            "service_code": "repair.elevator,repair.lighting", "status": "open",
                            "jurisdiction_id": "gaotang"}, NOW)
    assert window == {"start": dt.datetime(2024, 5, 1), "end": dt.datetime(2024, 5, 10),
                      "service_codes": ["repair.elevator", "repair.lighting"], "statuses": {"open"}}
    assert o.parse_query({"end_date": "2024-05-10T00:00:00Z"}, NOW)["start"] == dt.datetime(2024, 2, 10)
    assert o.parse_query({"start_date": "2024-01-01"}, NOW)["end"] == dt.datetime(2024, 3, 31)
    for bad in ({"start_date": "2024-01-01", "end_date": "2024-05-01"},     # more than 90 days
                {"start_date": "2024-05-10", "end_date": "2024-05-01"},     # backwards
                {"status": "pending"}, {"page": "2"}):
        with pytest.raises(BadRequest):
            o.parse_query(bad, NOW)


def test_errors_speak_georeport_field_names():
    error = o.georeport_error(ValidationFailed("the input is not valid",
                                               details={"reporter_phone": ["bad"], "category_code": ["no"]}))
    assert isinstance(error, ValidationFailed) and error.details == {"phone": ["bad"], "service_code": ["no"]}


def test_the_gateway_renders_georeport_errors():
    from gateway.open311 import from_app_error
    response = from_app_error(ValidationFailed("unknown category", details={"service_code": ["no active x"]}))
    assert response.status_code == 400
    assert json.loads(response.get_data()) == [{"code": 400,
                                                "description": "unknown category (service_code: no active x)"}]
    from kit.errors import Unauthenticated, UpstreamTimeout
    assert from_app_error(Unauthenticated("the token has expired")).status_code == 403
    assert from_app_error(UpstreamTimeout("slow")).status_code == 504


def fake_api(deployed=("organizations", "tickets"), rpc=None):
    from kit.config import load
    return SimpleNamespace(settings=load(environ={}), deployment=SimpleNamespace(deployed=set(deployed)), rpc=rpc)


def geo(api, path, method="GET", **kwargs):
    from werkzeug.test import EnvironBuilder
    from gateway.open311 import handle_open311
    response = handle_open311(api, EnvironBuilder(path=path, method=method, **kwargs).get_request(), "req-1")
    return response.status_code, json.loads(response.get_data())


def test_the_gateway_answers_503_and_504_in_georeport_format():
    from kit.errors import ServiceNotDeployed, UpstreamTimeout
    status, body = geo(fake_api(deployed=("organizations",)), "/open311/v2/services.json")
    assert status == 503 and body[0]["code"] == 503 and "not deployed" in body[0]["description"]

    def failing(error):
        def call(*_args, **_kwargs):
            raise error
        return SimpleNamespace(call=call)
    assert geo(fake_api(rpc=failing(UpstreamTimeout("slow"))), "/open311/v2/requests.json")[0] == 504
    assert geo(fake_api(rpc=failing(ServiceNotDeployed("gone"))), "/open311/v2/services.json")[0] == 503
    assert geo(fake_api(rpc=failing(RuntimeError("boom"))), "/open311/v2/services.json")[0] == 500


def test_the_gateway_routes_and_checks_the_api_key_before_any_call():
    calls = []
    rpc = SimpleNamespace(call=lambda service, method, **kwargs: calls.append((service, method, kwargs)) or [])
    api = fake_api(rpc=rpc)
    assert geo(api, "/open311/v2/services/repair.elevator.json") == (200, [])
    assert calls[-1][:2] == ("tickets", "open311_service") and calls[-1][2]["code"] == "repair.elevator"
    geo(api, "/open311/v2/requests/T20240520-000007.json")
    assert calls[-1][1] == "open311_request" and calls[-1][2]["code"] == "T20240520-000007"
    geo(api, "/open311/v2/requests.json", query_string={"status": "open"})
    assert calls[-1][1] == "open311_requests" and calls[-1][2]["query"] == {"status": "open"}
    count = len(calls)
    assert geo(api, "/open311/v2/requests.json", method="POST", data={"service_code": "x"})[0] == 403
    assert geo(api, "/open311/v2/requests.json", method="POST", data={"api_key": "forged"})[0] == 403
    assert geo(api, "/open311/v2/requests.xml")[0] == 404
    assert geo(api, "/open311/v2/services.json", method="POST")[0] == 405
    assert len(calls) == count  # none of these reached the service
    discovery = geo(api, "/open311/discovery.json")[1]
    assert discovery["endpoints"][0]["url"].endswith("/open311/v2")


# ----- integration: a civic client through the gateway ----------------------------------------------------------

@pytest.fixture(scope="module")
def georeport(ticket_county):
    """The county, an API client of the county created by the bureau, and resident1's compound."""
    settings, client = ticket_county
    bureau = client.as_user("bureau")
    county = bureau.get("/api/v1/regions?level=county").json()["items"][0]["id"]
    created = bureau.post("/api/v1/api-clients", json={"name": "随手拍 civic app", "region_id": county})
    assert created.status_code == 201, created.text
    key = client.session.post(f"{client.base_url}/api/v1/auth/token",
                              json={"username": created.json()["client_id"],
                                    "password": created.json()["client_secret"]}, timeout=30)
    assert key.status_code == 200, key.text
    compound = client.as_user("resident1").get("/api/v1/compounds").json()["items"][0]
    return SimpleNamespace(settings=settings, client=client, api_key=key.json()["access_token"],
                           compound=compound)


def anonymous(client):
    from kit.testing import ApiClient
    return ApiClient(client.base_url)


def assert_georeport_error(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list) and body[0]["code"] == status and body[0]["description"], body
    return body[0]["description"]


def submit(g, **fields):
    form = {"api_key": g.api_key, "service_code": "repair.elevator", "address_id": g.compound["code"],
            "description": "2号楼电梯困人后停运，按钮无反应", "first_name": "小明", "last_name": "王",
            "phone": "139 1234 5678", **fields}
    return anonymous(g.client).post("/open311/v2/requests.json", data={k: v for k, v in form.items()
                                                                       if v is not None})


@pytest.mark.integration
def test_services_are_the_active_leaf_categories(georeport):
    public = anonymous(georeport.client)
    services = public.get("/open311/v2/services.json")
    assert services.status_code == 200, services.text
    by_code = {s["service_code"]: s for s in services.json()}
    assert "repair.elevator" in by_code and "repair" not in by_code  # groups are not services
    elevator = by_code["repair.elevator"]
    assert elevator["group"] == "设施设备报修 Facility repairs" and elevator["type"] == "realtime"
    assert elevator["metadata"] is False
    assert public.get("/open311/v2/services/repair.elevator.json").json() == {
        "service_code": "repair.elevator", "attributes": []}
    assert_georeport_error(public.get("/open311/v2/services/repair.json"), 404)
    assert_georeport_error(public.get("/open311/v2/services/nope.json"), 404)
    assert "JSON" in assert_georeport_error(public.get("/open311/v2/services.xml"), 404)
    assert_georeport_error(public.get("/open311/v2/nothing.json"), 404)
    assert_georeport_error(public.request("DELETE", "/open311/v2/services.json"), 405)


@pytest.mark.integration
def test_a_civic_client_reports_and_follows_a_request(georeport):
    g = georeport
    answer = submit(g)
    assert answer.status_code == 201, answer.text
    [created] = answer.json()
    code = created["service_request_id"]
    assert code.startswith("T") and created["account_id"] is None and created["service_notice"]
    public = anonymous(g.client)
    [shown] = public.get(f"/open311/v2/requests/{code}.json").json()
    assert shown["status"] == "open" and shown["status_notes"] == "已提交 Submitted"
    assert shown["service_code"] == "repair.elevator" and shown["address_id"] == g.compound["code"]
    assert shown["address"] == g.compound["name"] and shown["agency_responsible"] == "company (compound)"
    assert shown["expected_datetime"].endswith("Z") and shown["lat"] is None
    listed = public.get("/open311/v2/requests.json", params={"service_request_id": code}).json()
    assert [r["service_request_id"] for r in listed] == [code]
    recent = public.get("/open311/v2/requests.json", params={"service_code": "repair.elevator", "status": "open"})
    assert code in [r["service_request_id"] for r in recent.json()]
    closed = public.get("/open311/v2/requests.json", params={"status": "closed"}).json()
    assert code not in [r["service_request_id"] for r in closed]
    # the same ticket in the platform: the company serving the compound has it, with the reporter for call-back
    company = g.client.as_user("company1")
    mine = company.get("/api/v1/tickets", params={"q": code}).json()["items"]
    assert [t["code"] for t in mine] == [code]
    full = company.get(f"/api/v1/tickets/{mine[0]['id']}").json()
    assert full["channel"] == "open311" and full["title"] == "2号楼电梯困人后停运，按钮无反应"
    assert full["reporter_name"] == "王小明" and full["reporter_phone"] == "139****5678"
    # ... and it goes on: claimed is still open to GeoReport
    assert company.post(f"/api/v1/tickets/{mine[0]['id']}/claim").status_code == 200
    [claimed] = public.get(f"/open311/v2/requests/{code}.json").json()
    assert claimed["status"] == "open" and claimed["status_notes"] == "已领取 Claimed"


@pytest.mark.integration
def test_posting_needs_a_valid_api_key_of_an_api_client(georeport):
    g = georeport
    assert "api_key" in assert_georeport_error(submit(g, api_key=None), 403)
    assert "api_key" in assert_georeport_error(submit(g, api_key="not-a-token"), 403)
    resident = g.client.as_user("resident1").token
    assert_georeport_error(submit(g, api_key=resident), 403)  # a person's token is not an API client's
    json_body = anonymous(g.client).post("/open311/v2/requests.json", json={"api_key": g.api_key})
    assert_georeport_error(json_body, 415)


@pytest.mark.integration
def test_bad_requests_are_400_in_georeport_format(georeport):
    g = georeport
    assert "service_code" in assert_georeport_error(submit(g, service_code="nope"), 400)
    assert_georeport_error(submit(g, service_code="repair"), 400)  # a group, not a service
    assert "address_id" in assert_georeport_error(submit(g, address_id=None), 400)
    assert "address_id" in assert_georeport_error(submit(g, address_id="no-such-compound"), 400)
    assert "phone" in assert_georeport_error(submit(g, phone="call me"), 400)
    assert "media" in assert_georeport_error(submit(g, service_code="repair.lighting"), 400)  # needs a photo
    assert_georeport_error(anonymous(g.client).get("/open311/v2/requests.json?start_date=yesterday"), 400)
    assert_georeport_error(anonymous(g.client).get("/open311/v2/requests.json?page=2"), 400)


@pytest.mark.integration
def test_private_tickets_and_reporters_stay_out_of_public_reads(georeport):
    g = georeport
    community = g.client.as_user("community1")
    taken = community.post("/api/v1/tickets", json={
        "compound_id": g.compound["id"], "category_code": "complaint.fees", "title": "物业费收费标准有疑问",
        "description": "来电反映收费过高", "channel": "hotline", "reporter_name": "李女士",
        "reporter_phone": "13887654321"})
    assert taken.status_code == 201, taken.text
    private_code = taken.json()["code"]
    assert submit(g).status_code == 201
    public = anonymous(g.client)
    everything = public.get("/open311/v2/requests.json")
    assert everything.status_code == 200 and everything.json()
    codes = [r["service_request_id"] for r in everything.json()]
    assert private_code not in codes
    assert public.get("/open311/v2/requests.json", params={"service_request_id": private_code}).json() == []
    assert_georeport_error(public.get(f"/open311/v2/requests/{private_code}.json"), 404)
    assert_georeport_error(public.get("/open311/v2/requests/T00000000-000000.json"), 404)
    for text in (everything.text, public.get(f"/open311/v2/requests/{codes[0]}.json").text):
        for secret in ("王小明", "李女士", "13912345678", "139****5678", "13887654321", "reporter"):
            assert secret not in text
