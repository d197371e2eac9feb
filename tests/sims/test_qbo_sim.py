"""The QuickBooks Online simulator answers like Intuit: OAuth 2.0, gateway errors, reads and the query language."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from simulators.httpbase import json_dumps
from simulators.qbo import (
    AUTHORIZE_PATH,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REALM_ID,
    REVOKE_PATH,
    TOKEN_PATH,
    QboCompany,
    QboSimulator,
)
from simulators.world import CHART, COMPANIES, QBO_ACCOUNT_NEAR_MISSES, SALES, build_world, qbo_display_name

REDIRECT = "https://odoo.example/qbo/callback"
INVALID_REFRESH = {"error": "invalid_grant", "error_description": "Incorrect or invalid refresh token"}
TIMEOUT = 5


@pytest.fixture
def sim():
    with QboSimulator(build_world(profile="uk")) as server:
        yield server


# Read-only tests share one simulator per module: stopping a server costs half a second.
@pytest.fixture(scope="module")
def uk_sim():
    with QboSimulator(build_world(profile="uk")) as server:
        yield server


@pytest.fixture(scope="module")
def uk_tokens(uk_sim):
    return connect(uk_sim)


@pytest.fixture(scope="module")
def us_sim():
    with QboSimulator(build_world(profile="us")) as server:
        yield server


@pytest.fixture(scope="module")
def bulk_sim():
    with QboSimulator(build_world(profile="uk"), bulk_accounts=150) as server:
        yield server


@pytest.fixture(scope="module")
def bulk_tokens(bulk_sim):
    return connect(bulk_sim)


# -- helpers -------------------------------------------------------------------------------------------------


def callback(url):
    return {key: values[-1] for key, values in parse_qs(urlsplit(url).query).items()}


def exchange(sim, code, redirect_uri=REDIRECT, basic=True, secret=DEFAULT_CLIENT_SECRET, headers=None):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if not basic:
        data.update(client_id=DEFAULT_CLIENT_ID, client_secret=secret)
    return requests.post(
        sim.url + TOKEN_PATH,
        data=data,
        auth=(DEFAULT_CLIENT_ID, secret) if basic else None,
        headers={"Accept": "application/json", **(headers or {})},
        timeout=TIMEOUT,
    )


def refresh(sim, refresh_token):
    return requests.post(
        sim.url + TOKEN_PATH,
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        headers={"Accept": "application/json"},
        timeout=TIMEOUT,
    )


def connect(sim):
    code = callback(sim.authorize(redirect_uri=REDIRECT, state="st"))["code"]
    response = exchange(sim, code)
    assert response.status_code == 200, response.text
    return response.json()


def api_get(sim, access_token, path, realm=None, **params):
    return requests.get(
        f"{sim.url}/v3/company/{realm or sim.company.realm_id}/{path}",
        params={"minorversion": "75", **params},
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        timeout=TIMEOUT,
    )


def post_query(sim, access_token, text):
    return requests.post(
        f"{sim.url}/v3/company/{sim.company.realm_id}/query",
        params={"minorversion": "75"},
        data=text.encode("utf-8"),
        headers={
            "Authorization": f"Bearer {access_token}",
            "Accept": "application/json",
            "Content-Type": "application/text",
        },
        timeout=TIMEOUT,
    )


def query_rows(sim, tokens, text, entity):
    response = post_query(sim, tokens["access_token"], text)
    assert response.status_code == 200, response.text
    return response.json()["QueryResponse"].get(entity, [])


def names(rows, key="Name"):
    return [row[key] for row in rows]


# -- OAuth: consent ------------------------------------------------------------------------------------------


def test_authorize_page_shows_company_and_posts_back_a_code(sim):
    params = {
        "client_id": DEFAULT_CLIENT_ID,
        "response_type": "code",
        "scope": "com.intuit.quickbooks.accounting",
        "redirect_uri": REDIRECT,
        "state": "abc 123",
    }
    page = requests.get(sim.url + AUTHORIZE_PATH, params=params, timeout=TIMEOUT)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Bridge Coworking Ltd" in page.text
    assert 'value="authorize">Connect</button>' in page.text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    assert fields["state"] == "abc 123"

    submitted = requests.post(
        sim.url + AUTHORIZE_PATH, data={**fields, "action": "authorize"}, allow_redirects=False, timeout=TIMEOUT
    )
    assert submitted.status_code == 302
    location = submitted.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    back = callback(location)
    assert back["state"] == "abc 123"
    assert back["realmId"] == DEFAULT_REALM_ID
    assert exchange(sim, back["code"]).status_code == 200
    assert sim.apps[DEFAULT_CLIENT_ID].redirect_uris == [REDIRECT]


def test_cancel_redirects_with_access_denied(sim):
    form = {"client_id": DEFAULT_CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT, "state": "s9"}
    form.update(scope="com.intuit.quickbooks.accounting", action="cancel")
    response = requests.post(sim.url + AUTHORIZE_PATH, data=form, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    assert callback(response.headers["Location"]) == {"error": "access_denied", "state": "s9"}


def test_authorize_validates_client_response_type_and_scope(sim):
    base = {"client_id": DEFAULT_CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT, "state": "s"}
    base["scope"] = "com.intuit.quickbooks.accounting"
    unknown = requests.get(sim.url + AUTHORIZE_PATH, params={**base, "client_id": "nobody"}, timeout=TIMEOUT)
    assert unknown.status_code == 400
    token_flow = requests.get(
        sim.url + AUTHORIZE_PATH, params={**base, "response_type": "token"}, allow_redirects=False, timeout=TIMEOUT
    )
    assert callback(token_flow.headers["Location"])["error"] == "unsupported_response_type"
    assert callback(sim.authorize(redirect_uri=REDIRECT, scope="com.intuit.quickbooks.everything"))["error"] == (
        "invalid_scope"
    )


# -- OAuth: code exchange ------------------------------------------------------------------------------------


def test_code_exchange_with_basic_auth(sim):
    code = callback(sim.authorize(redirect_uri=REDIRECT))["code"]
    response = exchange(sim, code)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["x_refresh_token_expires_in"] == 8726400
    assert body["access_token"] != body["refresh_token"]
    assert "x_refresh_token_hard_expires_in" not in body
    assert api_get(sim, body["access_token"], "preferences").status_code == 200


def test_code_exchange_with_client_secret_post(sim):
    code = callback(sim.authorize(redirect_uri=REDIRECT))["code"]
    response = exchange(sim, code, basic=False)
    assert response.status_code == 200
    assert api_get(sim, response.json()["access_token"], "preferences").status_code == 200


@pytest.mark.parametrize("basic", [True, False])
def test_bad_client_secret_is_invalid_client(sim, basic):
    code = callback(sim.authorize(redirect_uri=REDIRECT))["code"]
    response = exchange(sim, code, basic=basic, secret="wrong")
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client"}


def test_hard_expiry_is_reported_only_when_asked(sim):
    code = callback(sim.authorize(redirect_uri=REDIRECT))["code"]
    body = exchange(sim, code, headers={"x-include-refresh-token-hard-expires-in": "true"}).json()
    assert body["x_refresh_token_hard_expires_in"] == 5 * 365 * 86400


def test_code_replay_is_invalid_grant_and_revokes_its_tokens(sim):
    code = callback(sim.authorize(redirect_uri=REDIRECT))["code"]
    tokens = exchange(sim, code).json()
    replay = exchange(sim, code)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert refresh(sim, tokens["refresh_token"]).json() == INVALID_REFRESH
    assert api_get(sim, tokens["access_token"], "preferences").status_code == 401


def test_code_replay_can_leave_tokens_alone(sim):
    sim.code_replay_revokes = False
    code = callback(sim.authorize(redirect_uri=REDIRECT))["code"]
    tokens = exchange(sim, code).json()
    assert exchange(sim, code).json()["error"] == "invalid_grant"
    assert refresh(sim, tokens["refresh_token"]).status_code == 200


def test_wrong_redirect_uri_is_refused(sim):
    code = callback(sim.authorize(redirect_uri=REDIRECT))["code"]
    response = exchange(sim, code, redirect_uri="https://evil.example/callback")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_code_expires_after_five_minutes(sim):
    code = callback(sim.authorize(redirect_uri=REDIRECT))["code"]
    sim.clock_offset = 301
    assert exchange(sim, code).json()["error"] == "invalid_grant"


# -- OAuth: refresh, rotation, revocation ----------------------------------------------------------------------


def test_refresh_rotates_and_the_old_token_is_dead(sim):
    tokens = connect(sim)
    first = refresh(sim, tokens["refresh_token"])
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rotated["x_refresh_token_expires_in"] == 8726400
    stale = refresh(sim, tokens["refresh_token"])
    assert stale.status_code == 400
    assert stale.json() == INVALID_REFRESH
    assert refresh(sim, rotated["refresh_token"]).status_code == 200
    assert sim.token_calls == 4
    assert sim.token_grants == ["authorization_code", "refresh_token", "refresh_token", "refresh_token"]


def test_daily_rotation_returns_the_same_token_within_a_day(sim):
    sim.rotate_refresh_tokens = "daily"
    tokens = connect(sim)
    again = refresh(sim, tokens["refresh_token"]).json()
    assert again["refresh_token"] == tokens["refresh_token"]
    assert again["access_token"] != tokens["access_token"]
    sim.clock_offset = 86401
    next_day = refresh(sim, tokens["refresh_token"]).json()
    assert next_day["refresh_token"] != tokens["refresh_token"]
    assert refresh(sim, tokens["refresh_token"]).json() == INVALID_REFRESH


def test_superseded_refresh_token_works_during_the_grace_window(sim):
    sim.stale_refresh_grace = 600
    tokens = connect(sim)
    rotated = refresh(sim, tokens["refresh_token"]).json()
    assert refresh(sim, tokens["refresh_token"]).status_code == 200
    sim.clock_offset = 601
    assert refresh(sim, tokens["refresh_token"]).json() == INVALID_REFRESH
    assert rotated["refresh_token"] != tokens["refresh_token"]


def test_unknown_and_idle_refresh_tokens_are_invalid_grant(sim):
    assert refresh(sim, "RT1-made-up").json() == INVALID_REFRESH
    tokens = connect(sim)
    sim.clock_offset = 8726401  # 101 days without a refresh
    response = refresh(sim, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json() == INVALID_REFRESH


def test_revoke_then_refresh_fails(sim):
    tokens = connect(sim)
    unauthenticated = requests.post(sim.url + REVOKE_PATH, json={"token": tokens["refresh_token"]}, timeout=TIMEOUT)
    assert unauthenticated.status_code == 401
    revoked = requests.post(
        sim.url + REVOKE_PATH,
        json={"token": tokens["refresh_token"]},
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        headers={"Accept": "application/json"},
        timeout=TIMEOUT,
    )
    assert revoked.status_code == 200
    assert refresh(sim, tokens["refresh_token"]).json() == INVALID_REFRESH
    assert api_get(sim, tokens["access_token"], "preferences").status_code == 401


def test_discovery_document_points_at_the_simulator(sim):
    doc = requests.get(sim.url + "/.well-known/openid_sandbox_configuration/", timeout=TIMEOUT).json()
    assert doc["token_endpoint"] == sim.url + TOKEN_PATH
    assert doc["authorization_endpoint"] == sim.url + AUTHORIZE_PATH
    assert doc["revocation_endpoint"] == sim.url + REVOKE_PATH


# -- gateway checks --------------------------------------------------------------------------------------------


def test_expired_access_token_gets_the_gateway_401_envelope(sim):
    tokens = connect(sim)
    sim.clock_offset = 3600
    response = api_get(sim, tokens["access_token"], "preferences")
    assert response.status_code == 401
    body = response.json()
    assert "Fault" not in body
    error = body["fault"]["error"][0]
    assert error["code"] == "3200"
    assert error["message"] == "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    assert body["fault"]["type"] == "AUTHENTICATION"
    renewed = refresh(sim, tokens["refresh_token"]).json()
    assert api_get(sim, renewed["access_token"], "preferences").status_code == 200


def test_missing_bearer_token_is_401(sim):
    response = requests.get(f"{sim.url}/v3/company/{DEFAULT_REALM_ID}/preferences", timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.json()["fault"]["error"][0]["code"] == "3200"


def test_wrong_realm_is_403(sim):
    tokens = connect(sim)
    response = api_get(sim, tokens["access_token"], "preferences", realm="123145678901234")
    assert response.status_code == 403
    error = response.json()["fault"]["error"][0]
    assert error["code"] == "3100"
    assert "ApplicationAuthorizationFailed" in error["message"]


def test_minor_versions_below_75_are_served_as_75(sim):
    tokens = connect(sim)
    api_get(sim, tokens["access_token"], "preferences", minorversion="4")
    api_get(sim, tokens["access_token"], "preferences", minorversion="80")
    assert sim.minor_versions == [75, 80]


def test_responses_carry_an_intuit_tid(sim):
    assert requests.get(sim.url + "/nowhere", timeout=TIMEOUT).headers["intuit_tid"].startswith("1-")


# -- company info and preferences --------------------------------------------------------------------------------


@pytest.mark.parametrize(("profile", "country", "currency"), [("uk", "GB", "GBP"), ("us", "US", "USD")])
def test_company_info_and_preferences(profile, country, currency):
    with QboSimulator(build_world(profile=profile)) as sim:
        tokens = connect(sim)
        info = api_get(sim, tokens["access_token"], f"companyinfo/{DEFAULT_REALM_ID}").json()
        assert info["CompanyInfo"]["CompanyName"] == COMPANIES[profile]["CompanyName"]
        assert info["CompanyInfo"]["Country"] == country
        assert info["CompanyInfo"]["LegalAddr"]["Country"] == country
        assert info["CompanyInfo"]["SyncToken"] == "0"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-08:00", info["time"])
        prefs = api_get(sim, tokens["access_token"], "preferences").json()["Preferences"]
        assert prefs["CurrencyPrefs"] == {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": currency}}
        assert prefs["TaxPrefs"]["UsingSalesTax"] is True
        assert prefs["TaxPrefs"]["PartnerTaxEnabled"] is False
        assert prefs["SalesFormsPrefs"]["CustomTxnNumbers"] is True
        assert prefs["SalesFormsPrefs"]["AutoApplyCredit"] is True
        assert prefs["SalesFormsPrefs"]["AutoApplyPayments"] is True
        missing = api_get(sim, tokens["access_token"], "companyinfo/1")
        assert missing.status_code == 400
        assert missing.json()["Fault"]["Error"][0]["code"] == "610"


# -- reads by id ---------------------------------------------------------------------------------------------------


def test_read_by_id_and_object_not_found(uk_sim, uk_tokens):
    sim, tokens = uk_sim, uk_tokens
    payments = sim.company.table("Account").find(Name="Payments")
    body = api_get(sim, tokens["access_token"], f"account/{payments['Id']}").json()
    assert body["Account"]["AcctNum"] == "PAY-001"
    assert body["Account"]["AccountType"] == "Bank"
    inactive = sim.company.table("Account").find(Active=False)
    assert api_get(sim, tokens["access_token"], f"account/{inactive['Id']}").json()["Account"]["Active"] is False
    missing = api_get(sim, tokens["access_token"], "account/99999")
    assert missing.status_code == 400
    assert missing.json()["Fault"] == {
        "Error": [
            {
                "Message": "Object Not Found",
                "Detail": missing.json()["Fault"]["Error"][0]["Detail"],
                "code": "610",
                "element": "",
            }
        ],
        "type": "ValidationFault",
    }
    assert api_get(sim, tokens["access_token"], "widget/1").status_code == 404
    assert requests.get(sim.url + "/v2/nothing", timeout=TIMEOUT).status_code == 404


def test_entities_have_qbo_shape(uk_sim, uk_tokens):
    sim, tokens = uk_sim, uk_tokens
    for entity in ("Account", "Item", "Customer", "Vendor", "Employee", "TaxCode", "TaxRate"):
        for row in query_rows(sim, tokens, f"select * from {entity}", entity):
            assert isinstance(row["Id"], str)
            assert row["SyncToken"] == "0"
            assert row["domain"] == "QBO"
            assert row["sparse"] is False
            assert row["MetaData"]["CreateTime"].startswith("2026-01-01T")
            assert row["MetaData"]["LastUpdatedTime"].endswith("-08:00")


# -- the query language ------------------------------------------------------------------------------------------


def test_query_equals_compares_strings_ignoring_case(uk_sim, uk_tokens):
    sim, tokens = uk_sim, uk_tokens
    rows = query_rows(sim, tokens, "select * from Account where AcctNum = 'PAY-001'", "Account")
    assert names(rows) == ["Payments"]
    near_miss = query_rows(sim, tokens, "SELECT * FROM Account WHERE AcctNum = 'EVT-001'", "Account")
    assert [row["AcctNum"] for row in near_miss] == ["evt-001"]
    mixed = query_rows(sim, tokens, "SeLeCt * FrOm account WhErE name = 'payments'", "Account")
    assert names(mixed) == ["Payments"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("RateValue = 20", ["20.0% S"]),
        ("RateValue > 5", ["20.0% S"]),
        ("RateValue >= 5", ["20.0% S", "5.0% R"]),
        ("RateValue < 5", ["No VAT", "Zero-rated", "Exempt"]),
        ("RateValue <= 0", ["No VAT", "Zero-rated", "Exempt"]),
        ("Name IN ('No VAT', '5.0% R', 'Missing')", ["5.0% R", "No VAT"]),
        ("Name LIKE '%-rated'", ["Zero-rated"]),
        ("Name LIKE '%.0%'", ["20.0% S", "5.0% R"]),
        ("RateValue > 1 AND RateValue < 10", ["5.0% R"]),
    ],
)
def test_query_operators(uk_sim, uk_tokens, condition, expected):
    sim, tokens = uk_sim, uk_tokens
    assert names(query_rows(sim, tokens, f"select * from TaxRate where {condition}", "TaxRate")) == expected


def test_query_compares_timestamps_and_references(uk_sim, uk_tokens):
    sim, tokens = uk_sim, uk_tokens
    accounts = list(sim.company.table("Account").rows.values())
    pivot = accounts[4]["MetaData"]["LastUpdatedTime"]
    later = query_rows(
        sim, tokens, f"select * from Account where MetaData.LastUpdatedTime > '{pivot}' MAXRESULTS 1000", "Account"
    )
    assert names(later) == [row["Name"] for row in accounts[5:] if row["Active"]]
    meeting = sim.company.table("Account").find(AcctNum="MTG-001")
    items = query_rows(sim, tokens, f"select * from Item where IncomeAccountRef = '{meeting['Id']}'", "Item")
    assert names(items) == ["Meeting Room Hire"]


def test_query_unescapes_quotes(uk_sim, uk_tokens):
    sim, tokens = uk_sim, uk_tokens
    exact = query_rows(sim, tokens, r"select * from Customer where DisplayName = 'Amy\'s Bird Sanctuary'", "Customer")
    assert names(exact, "DisplayName") == ["Amy's Bird Sanctuary"]
    like = query_rows(sim, tokens, r"select * from Customer where DisplayName LIKE '%y\'s%'", "Customer")
    assert names(like, "DisplayName") == ["Amy's Bird Sanctuary"]


def test_query_orders_results(uk_sim, uk_tokens):
    sim, tokens = uk_sim, uk_tokens
    descending = query_rows(sim, tokens, "select * from Account ORDERBY Name DESC MAXRESULTS 1000", "Account")
    assert names(descending) == sorted(names(descending), key=str.casefold, reverse=True)
    two_words = query_rows(sim, tokens, "SELECT * FROM Item ORDER BY Name", "Item")
    assert names(two_words) == ["Hours", "Meeting Room Hire", "Services"]
    two_keys = query_rows(
        sim, tokens, "select * from Account orderby AccountType, Name desc maxresults 1000", "Account"
    )
    types = [row["AccountType"] for row in two_keys]
    assert types == sorted(types, key=str.casefold)
    for account_type in set(types):
        group = [row["Name"] for row in two_keys if row["AccountType"] == account_type]
        assert group == sorted(group, key=str.casefold, reverse=True)


def test_query_pages_beyond_100_rows_without_gaps(bulk_sim, bulk_tokens):
    tokens = bulk_tokens
    everything = query_rows(bulk_sim, tokens, "select * from Account MAXRESULTS 1000", "Account")
    assert len(everything) == 165  # 16 seeded active accounts - 1 inactive + 150 filler accounts
    paged, position = [], 1
    while True:
        response = post_query(
            bulk_sim, tokens["access_token"], f"select * from Account STARTPOSITION {position} MAXRESULTS 50"
        )
        body = response.json()["QueryResponse"]
        if not body:
            break
        assert body["startPosition"] == position
        assert body["maxResults"] == len(body["Account"])
        paged += body["Account"]
        position += 50
    assert [row["Id"] for row in paged] == [row["Id"] for row in everything]
    assert len({row["Id"] for row in paged}) == 165


def test_query_returns_100_rows_by_default(bulk_sim, bulk_tokens):
    tokens = bulk_tokens
    body = post_query(bulk_sim, tokens["access_token"], "select * from Account").json()["QueryResponse"]
    assert len(body["Account"]) == 100
    assert body["maxResults"] == 100
    assert body["startPosition"] == 1


def test_query_count(bulk_sim, bulk_tokens):
    tokens = bulk_tokens
    counted = post_query(bulk_sim, tokens["access_token"], "select count(*) from Account").json()["QueryResponse"]
    assert counted == {"totalCount": 165}
    everything = "SELECT COUNT(*) FROM Account WHERE Active IN (true, false)"
    assert post_query(bulk_sim, tokens["access_token"], everything).json()["QueryResponse"] == {"totalCount": 166}


def test_query_hides_inactive_rows_unless_asked(uk_sim, uk_tokens):
    sim, tokens = uk_sim, uk_tokens
    active = names(query_rows(sim, tokens, "select * from Account MAXRESULTS 1000", "Account"))
    assert "Legacy Membership Revenue (deleted)" not in active
    inactive = query_rows(sim, tokens, "select * from Account where Active = false", "Account")
    assert names(inactive) == ["Legacy Membership Revenue (deleted)"]
    both = query_rows(sim, tokens, "select * from Customer where Active IN (true, false)", "Customer")
    assert "Harbour Tenants (deleted)" in names(both, "DisplayName")
    assert len(both) == len(query_rows(sim, tokens, "select * from Customer", "Customer")) + 1


def test_query_empty_result_and_get_form(uk_sim, uk_tokens):
    sim, tokens = uk_sim, uk_tokens
    empty = post_query(sim, tokens["access_token"], "select * from Invoice where DocNumber = 'NX-1'").json()
    assert empty["QueryResponse"] == {}
    past_end = post_query(sim, tokens["access_token"], "select * from Item STARTPOSITION 50").json()
    assert past_end["QueryResponse"] == {}
    via_get = api_get(sim, tokens["access_token"], "query", query="select * from PaymentMethod").json()
    assert names(via_get["QueryResponse"]["PaymentMethod"]) == ["Cash", "Check", "Credit Card"]


@pytest.mark.parametrize(
    "text",
    [
        "select * form Account",
        "select * from Account where Name = 'a' OR Name = 'b'",
        "select Name from Account",
        "select * from Account where Name = 'unterminated",
        "select * from Account where Name != 'x'",
        "select * from Account MAXRESULTS many",
        "",
    ],
)
def test_unparseable_query_is_a_4000_fault(uk_sim, uk_tokens, text):
    sim, tokens = uk_sim, uk_tokens
    response = post_query(sim, tokens["access_token"], text)
    assert response.status_code == 400
    body = response.json()
    assert body["Fault"]["type"] == "ValidationFault"
    error = body["Fault"]["Error"][0]
    assert (error["code"], error["Message"], error["element"]) == ("4000", "Error parsing query", "")
    assert error["Detail"].startswith("QueryParserError:")


@pytest.mark.parametrize(
    "text",
    ["select * from Widget", "select * from Account MAXRESULTS 1001", "select * from Account where Id > '3'"],
)
def test_invalid_query_is_a_4001_fault(uk_sim, uk_tokens, text):
    sim, tokens = uk_sim, uk_tokens
    response = post_query(sim, tokens["access_token"], text)
    assert response.status_code == 400
    assert response.json()["Fault"]["Error"][0]["code"] == "4001"


# -- the company mirrors the world ---------------------------------------------------------------------------------


def test_chart_matches_the_world_with_its_near_misses(uk_sim, uk_tokens):
    sim, tokens = uk_sim, uk_tokens
    for code, name, kind in CHART:
        if kind != SALES:
            continue
        by_name = query_rows(sim, tokens, f"select * from Account where Name = '{name}'", "Account")
        if code not in QBO_ACCOUNT_NEAR_MISSES:
            assert [(row["Name"], row["AcctNum"], row["AccountType"]) for row in by_name] == [(name, code, "Income")]
        elif QBO_ACCOUNT_NEAR_MISSES[code] is None:
            assert by_name == []
        else:
            assert [(row["Name"], row["AcctNum"]) for row in by_name] == [QBO_ACCOUNT_NEAR_MISSES[code]]
    product = query_rows(sim, tokens, "select * from Account where AcctNum = 'PRD-001'", "Account")
    assert product == []
    undeposited = sim.company.table("Account").find(Name="Undeposited Funds")
    assert (undeposited["AccountType"], undeposited["AccountSubType"]) == ("Other Current Asset", "UndepositedFunds")
    assert sim.company.table("Account").find(Name="Accounts Receivable (A/R)")["AccountType"] == "Accounts Receivable"


def test_uk_tax_codes_carry_the_qbo_rates(uk_sim, uk_tokens):
    sim, tokens = uk_sim, uk_tokens
    codes = {row["Name"]: row for row in query_rows(sim, tokens, "select * from TaxCode", "TaxCode")}
    rates = {row["Id"]: row for row in query_rows(sim, tokens, "select * from TaxRate", "TaxRate")}
    for definition in build_world(profile="uk").tax_rates:
        detail = codes[definition.name]["SalesTaxRateList"]["TaxRateDetail"][0]
        assert rates[detail["TaxRateRef"]["value"]]["RateValue"] == definition.qbo_rate
        assert codes[definition.name]["TaxGroup"] is False
    assert codes["Zero-rated"]["Taxable"] is True
    assert codes["No VAT"]["Taxable"] is False


def test_us_tax_codes_are_pseudo_codes_and_groups(us_sim):
    tokens = connect(us_sim)
    codes = {row["Name"]: row for row in query_rows(us_sim, tokens, "select * from TaxCode", "TaxCode")}
    assert codes["TAX"] == {
        "Id": "TAX",
        "MetaData": codes["TAX"]["MetaData"],
        "Name": "TAX",
        "Description": "TAX",
        "Taxable": True,
        "TaxGroup": False,
    }
    assert codes["NON"]["Taxable"] is False
    california = codes["CA Sales Tax"]
    assert california["TaxGroup"] is True
    rate_id = california["SalesTaxRateList"]["TaxRateDetail"][0]["TaxRateRef"]["value"]
    assert api_get(us_sim, tokens["access_token"], f"taxrate/{rate_id}").json()["TaxRate"]["RateValue"] == 7.25


@pytest.mark.parametrize("profile", ["uk", "us"])
def test_name_clashes_come_from_the_world(profile):
    world = build_world(profile=profile)
    company = QboCompany.from_world(world)
    clashes = {
        kind: [qbo_display_name(c) for c in world.customers if c.qbo_name_clash == kind]
        for kind in ("customer", "vendor", "employee")
    }
    assert len(clashes["customer"]) == 2
    assert clashes["vendor"]
    assert clashes["employee"]
    for kind, entity in (("customer", "Customer"), ("vendor", "Vendor"), ("employee", "Employee")):
        for display_name in clashes[kind]:
            assert company.table(entity).find(DisplayName=display_name), (entity, display_name)
    for display_name in clashes["vendor"] + clashes["employee"]:
        assert company.table("Customer").find(DisplayName=display_name) is None


def test_same_world_gives_the_same_company():
    first = QboCompany.from_world(build_world(seed=7, profile="us"), bulk_accounts=5)
    second = QboCompany.from_world(build_world(seed=7, profile="us"), bulk_accounts=5)
    dump = {name: store.rows for name, store in first.stores.items()}
    assert json_dumps(dump) == json_dumps({name: store.rows for name, store in second.stores.items()})
    other = QboCompany.from_world(build_world(seed=8, profile="us"), bulk_accounts=5)
    assert json_dumps(dump) != json_dumps({name: store.rows for name, store in other.stores.items()})
