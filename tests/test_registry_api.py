"""The organizations registry through the gateway, with the demo county, on SQLite and on PostgreSQL."""
import io

import openpyxl
import pytest
from sqlalchemy import create_engine, text

from kit.db import normalize_url
from kit.testing import db_value
from services.organizations.domain.credit_code import make_credit_code

pytestmark = pytest.mark.integration

DEMO_USERS = ["admin", "bureau", "street1", "community1", "community2", "company1", "company2", "resident1",
              "owners1", "party1", "department1"]


def count_rows(settings, table):
    return db_value(settings, "organizations", f"SELECT count(*) FROM {table}")


def test_coverage_of_the_demo_county(demo_county):
    _settings, client = demo_county
    bureau = client.as_user("bureau")
    coverage = bureau.get("/api/v1/stats/coverage").json()
    assert coverage["compounds"] == 238
    assert coverage["owner_organizations"]["owners_committee"] == 225
    assert coverage["owner_organizations"]["owners_committee_rate"] == round(225 / 238, 4)
    companies = coverage["companies"]
    assert (companies["total"], companies["covered"]) == (30, 30)
    assert (companies["entity"], companies["functional"], companies["joint"]) == (4, 8, 18)
    assert coverage["management"]["state_owned"] == 61
    assert coverage["three_without"]["count"] > 0
    region_id = bureau.get("/api/v1/regions?level=street").json()["items"][0]["id"]
    street = bureau.get(f"/api/v1/stats/coverage?region_id={region_id}").json()
    assert 0 < street["compounds"] < 238


def test_every_demo_role_logs_in_and_wrong_passwords_do_not(demo_county):
    _settings, client = demo_county
    for username in DEMO_USERS:
        me = client.as_user(username).get("/api/v1/me")
        assert me.status_code == 200, username
        assert me.json()["username"] == username
    wrong = client.post("/api/v1/auth/token", json={"username": "bureau", "password": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "unauthenticated"


def test_community_staff_see_only_their_community(demo_county):
    _settings, client = demo_county
    community1 = client.as_user("community1")
    mine = community1.get("/api/v1/compounds?page_size=500").json()
    assert mine["total"] > 0
    assert len({c["community_id"] for c in mine["items"]}) == 1
    community2 = client.as_user("community2").get("/api/v1/compounds?page_size=500").json()["items"]
    other = community2[0]
    assert other["community_id"] != mine["items"][0]["community_id"]
    answer = community1.get(f"/api/v1/compounds/{other['id']}")
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"
    assert community1.get(f"/api/v1/stats/coverage?region_id={other['community_id']}").status_code == 404


def test_company_and_resident_views(demo_county):
    _settings, client = demo_county
    company1 = client.as_user("company1")
    served = company1.get("/api/v1/compounds?page_size=500").json()["items"]
    assert served and all(c["company_id"] == served[0]["company_id"] for c in served)
    resident = client.as_user("resident1")
    home = resident.get("/api/v1/compounds").json()["items"]
    assert len(home) == 1 and home[0]["company_id"] == served[0]["company_id"]
    other_company = client.as_user("company2").get("/api/v1/compounds").json()["items"][0]
    assert resident.get(f"/api/v1/compounds/{other_company['id']}").status_code == 404
    # company staff may edit their contact fields, not the registry's
    company_id = served[0]["company_id"]
    assert company1.patch(f"/api/v1/companies/{company_id}", json={"staff_count": 77}).json()["staff_count"] == 77
    refused = company1.patch(f"/api/v1/companies/{company_id}", json={"name": "改名物业"})
    assert refused.status_code == 403 and "name" in refused.json()["details"]


def test_bad_input_answers_4xx_and_changes_nothing(demo_county):
    settings, client = demo_county
    bureau = client.as_user("bureau")
    before = {t: count_rows(settings, t) for t in ("companies", "compounds", "contracts", "outbox")}
    bad_code = bureau.post("/api/v1/companies", json={"name": "测试物业", "credit_code": "91371526MA0000000X"})
    assert bad_code.status_code == 422 and "credit_code" in bad_code.json()["details"]
    unknown_region = bureau.post("/api/v1/compounds", json={"code": "X1", "name": "新小区", "community_id": 99999})
    assert unknown_region.status_code == 404 and unknown_region.json()["error"] == "not_found"
    compound = bureau.get("/api/v1/compounds?page_size=1").json()["items"][0]
    second = bureau.post("/api/v1/contracts", json={
        "code": "DUP-1", "name": "重复合同", "company_id": 1, "compound_ids": [compound["id"]],
        "start_date": "2025-01-01"})
    assert second.status_code == 409 and second.json()["error"] == "conflict"
    malformed = bureau.post("/api/v1/companies", data='{"name": ', headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["error"] == "malformed_json"
    unknown_field = bureau.post("/api/v1/regions", json={"code": "X9", "name": "x", "level": "street",
                                                         "parent_id": 1, "colour": "red"})
    assert unknown_field.status_code == 422 and "colour" in unknown_field.json()["details"]
    wrong_type = bureau.post("/api/v1/regions", data="code=1", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    wrong_token = client.get("/api/v1/compounds", headers={"Authorization": "Bearer not.a.token"})
    assert wrong_token.status_code == 401 and wrong_token.json()["error"] == "unauthenticated"
    no_token = client.get("/api/v1/compounds")
    assert no_token.status_code == 401
    assert client.get("/api/v1/nothing-here").json()["error"] == "not_found"
    assert client.delete("/api/v1/stats/coverage").status_code == 405
    assert before == {t: count_rows(settings, t) for t in before}


def test_registering_and_contracts(demo_county):
    settings, client = demo_county
    bureau = client.as_user("bureau")
    community = bureau.get("/api/v1/regions?level=community&page_size=1").json()["items"][0]
    compound = bureau.post("/api/v1/compounds", json={"code": "T-NEW-1", "name": "新建小区", "households": 120,
                                                       "community_id": community["id"]}).json()
    assert compound["management_mode"] == "none" and compound["three_without"] is True
    company = bureau.post("/api/v1/companies", json={"name": "新物业有限公司", "state_owned": False,
                                                      "credit_code": make_credit_code("91371526MA9999991")})
    assert company.status_code == 201, company.text
    contract = bureau.post("/api/v1/contracts", json={
        "code": "T-C-1", "name": "新建小区物业服务", "company_id": company.json()["id"],
        "compound_ids": [compound["id"]], "fee_standard": "1.20", "start_date": "2024-01-01"})
    assert contract.status_code == 201, contract.text
    assert contract.json()["fee_standard"] == "1.20" and contract.json()["active"] is True
    now = bureau.get(f"/api/v1/compounds/{compound['id']}").json()
    assert now["management_mode"] == "professional" and now["three_without"] is False
    ended = bureau.post(f"/api/v1/contracts/{contract.json()['id']}/terminate",
                        json={"terminated_on": "2024-06-30", "reason": "合同解除"})
    assert ended.status_code == 200 and ended.json()["active"] is False
    assert bureau.get(f"/api/v1/compounds/{compound['id']}").json()["management_mode"] == "none"
    # a handover: the next company may start the day the old contract ended
    again = bureau.post("/api/v1/contracts", json={
        "code": "T-C-2", "name": "接管", "company_id": company.json()["id"], "compound_ids": [compound["id"]],
        "start_date": "2024-06-30"})
    assert again.status_code == 201, again.text


def test_idempotency_key_returns_the_first_result(demo_county):
    settings, client = demo_county
    bureau = client.as_user("bureau")
    body = {"name": "幂等物业有限公司", "credit_code": make_credit_code("91371526MA8888881")}
    first = bureau.post("/api/v1/companies", json=body, headers={"Idempotency-Key": "abc-123"})
    again = bureau.post("/api/v1/companies", json=body, headers={"Idempotency-Key": "abc-123"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    listed = bureau.get("/api/v1/companies?q=幂等物业").json()
    assert listed["total"] == 1
    reused = bureau.post("/api/v1/companies", json={**body, "name": "另一家"}, headers={"Idempotency-Key": "abc-123"})
    assert reused.status_code == 422 and reused.json()["error"] == "idempotency_key_reused"


def test_import_with_errors_imports_nothing_and_a_clean_file_imports_all(demo_county):
    settings, client = demo_county
    bureau = client.as_user("bureau")
    communities = bureau.get("/api/v1/regions?level=community&page_size=3").json()["items"]
    code = communities[0]["code"]
    bad = ("小区编码,小区名称,社区编码,户数\n"
           f"IMP-1,导入一,{code},100\nIMP-2,导入二,NOPE,20\nIMP-1,重复,{code},5\nIMP-3,导入三,{code},abc\n"
           ).encode("utf-8")
    before = count_rows(settings, "compounds")
    answer = bureau.post("/api/v1/imports/compounds", files={"file": ("c.csv", bad)})
    assert answer.status_code == 422, answer.text
    rows = {r["row"]: r["errors"] for r in answer.json()["details"]["rows"]}
    assert set(rows) == {3, 4, 5}
    assert "community_code" in rows[3] and "code" in rows[4] and "households" in rows[5]
    assert count_rows(settings, "compounds") == before
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["小区编码", "小区名称", "社区编码", "户数", "老旧小区"])
    for i in range(25):
        sheet.append([f"XL-{i}", f"表格小区{i}", communities[i % 3]["code"], 50 + i, "是" if i % 2 else "否"])
    content = io.BytesIO()
    book.save(content)
    done = bureau.post("/api/v1/imports/compounds", files={"file": ("c.xlsx", content.getvalue())})
    assert done.status_code == 201, done.text
    assert done.json()["created"] == 25
    assert count_rows(settings, "compounds") == before + 25
    assert bureau.get("/api/v1/compounds?q=表格小区&old_compound=true").json()["total"] == 12


def test_login_attempts_are_rate_limited(demo_county):
    _settings, client = demo_county
    answers = [client.post("/api/v1/auth/token", json={"username": "street1", "password": "wrong"})
               for _ in range(12)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert limited[0].json()["error"] == "too_many_requests"


def test_openapi_and_services(demo_county):
    _settings, client = demo_county
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/compounds/{compound_id}" in spec["paths"]
    assert "CompoundIn" in spec["components"]["schemas"]
    services = {s["name"]: s for s in client.get("/api/v1/services").json()["services"]}
    assert services["organizations"] == {"name": "organizations", "deployed": True, "healthy": True}
    assert services["tickets"]["deployed"] is False
    assert "organizations.compound_registered" in client.get("/api/asyncapi.yaml").text


def test_correlation_id_follows_a_request_into_its_events(demo_county):
    settings, client = demo_county
    bureau = client.as_user("bureau")
    answer = bureau.post("/api/v1/companies", headers={"X-Request-ID": "trace-me-42"},
                         json={"name": "追踪物业有限公司", "credit_code": make_credit_code("91371526MA7777771")})
    assert answer.status_code == 201 and answer.headers["X-Request-ID"] == "trace-me-42"
    engine = create_engine(normalize_url(settings.db_url("organizations")))
    with engine.connect() as conn:
        envelopes = [row[0] for row in conn.execute(text("SELECT envelope FROM outbox WHERE event_type = "
                                                         "'company_registered' ORDER BY id DESC LIMIT 1"))]
    engine.dispose()
    envelope = envelopes[0] if isinstance(envelopes[0], dict) else __import__("json").loads(envelopes[0])
    assert envelope["correlation_id"] == "trace-me-42"
    assert envelope["data"]["company_id"] == answer.json()["id"]


def test_phones_are_masked_and_cross_appointments_listed(demo_county):
    _settings, client = demo_county
    party1 = client.as_user("party1")
    me = party1.get("/api/v1/me").json()
    community1 = client.as_user("community1")
    crossed = community1.get("/api/v1/cross-appointments").json()["items"]
    assert len(crossed) == 1 and {p["organization_kind"] for p in crossed[0]["positions"]} == {"party", "owners"}
    person_id = crossed[0]["person_id"]
    seen_by_staff = community1.get(f"/api/v1/people/{person_id}").json()
    assert "****" in seen_by_staff["phone"]
    account = client.as_user("bureau").get(f"/api/v1/accounts/{me['subject']}").json()
    assert account["person_id"] == person_id
    assert "****" not in party1.get(f"/api/v1/people/{person_id}").json()["phone"]
    assert client.as_user("community2").get(f"/api/v1/people/{person_id}").status_code == 404


def test_api_clients_log_in_and_read_their_region(demo_county):
    _settings, client = demo_county
    bureau = client.as_user("bureau")
    county = bureau.get("/api/v1/regions?level=county").json()["items"][0]
    created = bureau.post("/api/v1/api-clients", json={"name": "12345 热线", "region_id": county["id"]}).json()
    hotline = client.as_user(created["client_id"], created["client_secret"])
    assert hotline.get("/api/v1/compounds").json()["total"] >= 238
    refused = hotline.post("/api/v1/companies", json={"name": "x公司", "credit_code": "91350100M000100Y43"})
    assert refused.status_code == 403


def test_new_accounts_get_roles_within_the_granters_reach(demo_county):
    _settings, client = demo_county
    community1 = client.as_user("community1")
    home = community1.get("/api/v1/compounds?page_size=1").json()["items"][0]
    foreign = client.as_user("community2").get("/api/v1/compounds?page_size=1").json()["items"][0]
    made = community1.post("/api/v1/accounts", json={
        "username": "resident-new", "password": "a-long-password",
        "memberships": [{"role": "resident", "compound_id": home["id"], "room": "2-1-302"}]})
    assert made.status_code == 201, made.text
    newcomer = client.as_user("resident-new", "a-long-password")
    assert [c["id"] for c in newcomer.get("/api/v1/compounds").json()["items"]] == [home["id"]]
    outside = community1.post("/api/v1/accounts", json={
        "username": "resident-far", "password": "a-long-password",
        "memberships": [{"role": "resident", "compound_id": foreign["id"]}]})
    assert outside.status_code == 404
    escalate = community1.post("/api/v1/accounts", json={
        "username": "fake-bureau", "password": "a-long-password",
        "memberships": [{"role": "bureau", "region_id": home["community_id"]}]})
    assert escalate.status_code == 403


def test_company_import_checks_every_credit_code(demo_county):
    settings, client = demo_county
    bureau = client.as_user("bureau")
    good = make_credit_code("91371526MA6666661")
    rows = f"企业名称,统一社会信用代码,从业人员,国有企业\n甲物业,{good},12,否\n乙物业,91371526MA0000000X,5,否\n"
    before = count_rows(settings, "companies")
    refused = bureau.post("/api/v1/imports/companies", files={"file": ("c.csv", rows.encode("gb18030"))})
    assert refused.status_code == 422
    assert refused.json()["details"]["rows"] == [
        {"row": 3, "errors": {"credit_code": ["wrong check character 'X' at position 18: expected 'K'"]}}]
    assert count_rows(settings, "companies") == before
    fixed = rows.replace("91371526MA0000000X", make_credit_code("91371526MA0000000"))
    done = bureau.post("/api/v1/imports/companies", files={"file": ("c.csv", fixed.encode("gb18030"))})
    assert done.status_code == 201 and done.json()["created"] == 2
    assert bureau.get("/api/v1/companies?q=甲物业").json()["items"][0]["staff_count"] == 12
    assert client.as_user("community1").post("/api/v1/imports/companies",
                                              files={"file": ("c.csv", fixed.encode())}).status_code == 403
