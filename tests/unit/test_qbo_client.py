"""The Intuit OAuth and QuickBooks clients against the QuickBooks simulator."""

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest
from nqc_tools import batching
from nqc_tools.errors import AuthError, InvalidGrantError, NotFoundError, RejectedError, TransientError
from nqc_tools.qbo_client import QboClient, QboOAuth, quote
from nqc_tools.qbo_objects import Customer

from simulators.chaos import FaultPlan, FaultRates
from simulators.qbo import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REALM_ID
from simulators.qbo.server import QboSimulator
from simulators.world import build_world

REDIRECT = "http://127.0.0.1:8069/nexudus_qbo/oauth/callback"


@pytest.fixture(scope="module")
def sim():
    with QboSimulator(build_world(seed=5), bulk_accounts=1100) as server:
        yield server


def oauth_for(sim, secret=DEFAULT_CLIENT_SECRET):
    return QboOAuth(
        DEFAULT_CLIENT_ID,
        secret,
        REDIRECT,
        authorize_url=f"{sim.url}/connect/oauth2",
        token_url=f"{sim.url}/oauth2/v1/tokens/bearer",
        revoke_url=f"{sim.url}/v2/oauth2/tokens/revoke",
    )


def connect(sim, oauth):
    redirect = sim.authorize(DEFAULT_CLIENT_ID, REDIRECT, "st4te", "com.intuit.quickbooks.accounting")
    query = parse_qs(urlsplit(redirect).query)
    assert query["state"] == ["st4te"]
    assert query["realmId"] == [DEFAULT_REALM_ID]
    return oauth.exchange_code(query["code"][0])


def test_authorization_url_carries_what_intuit_needs(sim):
    url = oauth_for(sim).authorization_url("abc")
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{sim.url}/connect/oauth2"
    assert query["client_id"] == [DEFAULT_CLIENT_ID]
    assert query["response_type"] == ["code"]
    assert query["scope"] == ["com.intuit.quickbooks.accounting"]
    assert query["redirect_uri"] == [REDIRECT]
    assert query["state"] == ["abc"]


def test_code_exchange_gives_tokens_with_expiries(sim):
    tokens = connect(sim, oauth_for(sim))
    assert tokens["access_token"]
    assert tokens["refresh_token"]
    assert tokens["refresh_expires_at"] > tokens["expires_at"]
    assert tokens.get("refresh_hard_expires_at")


def test_refresh_rotates_and_the_old_refresh_token_is_then_refused(sim):
    oauth = oauth_for(sim)
    first = connect(sim, oauth)
    second = oauth.refresh(first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    with pytest.raises(InvalidGrantError, match="Reconnect"):
        oauth.refresh(first["refresh_token"])


def test_replayed_code_is_invalid_grant(sim):
    oauth = oauth_for(sim)
    redirect = sim.authorize(DEFAULT_CLIENT_ID, REDIRECT, "s", "com.intuit.quickbooks.accounting")
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    oauth.exchange_code(code)
    with pytest.raises(InvalidGrantError):
        oauth.exchange_code(code)


def test_wrong_secret_is_an_auth_error(sim):
    with pytest.raises(AuthError, match="client id or secret"):
        connect(sim, oauth_for(sim, secret="nope"))  # noqa: S106


def test_revoke_ends_the_connection(sim):
    oauth = oauth_for(sim)
    tokens = connect(sim, oauth)
    oauth.revoke(tokens["refresh_token"])
    with pytest.raises(InvalidGrantError):
        oauth.refresh(tokens["refresh_token"])


@pytest.fixture(scope="module")
def api(sim):
    tokens = connect(sim, oauth_for(sim))
    return QboClient(sim.url, DEFAULT_REALM_ID, access_token=tokens["access_token"])


def test_company_info_and_preferences(sim, api):
    info = api.company_info()
    assert info["CompanyName"] == sim.company.company_info["CompanyName"]
    assert info["Country"] == "GB"
    prefs = api.preferences()
    assert "AutoApplyCredit" in prefs["SalesFormsPrefs"]
    assert sim.minor_versions[-1] == 75


def test_query_all_reads_past_the_first_thousand_rows(sim, api):
    rows = api.query_all("Account")
    active = [a for a in sim.company.table("Account").rows.values() if a.get("Active", True)]
    assert len(rows) == len(active) > 1000
    assert len({row["Id"] for row in rows}) == len(rows)


def test_query_quotes_names_with_apostrophes(sim, api):
    customer = next(c for c in sim.company.table("Customer").rows.values() if "'" in c["DisplayName"])
    rows = api.query_all("Customer", f"DisplayName = {quote(customer['DisplayName'])}")
    assert [row["Id"] for row in rows] == [customer["Id"]]


def test_errors_are_typed(sim, api):
    with pytest.raises(NotFoundError):
        api.get("Account", "999999")
    with pytest.raises(RejectedError) as caught:
        api.query("SELECT * FROM Account WHERE Name = 'a' OR Name = 'b'")
    assert caught.value.code == "4000"


def test_expired_access_token_asks_for_a_fresh_one_once(sim):
    oauth = oauth_for(sim)
    tokens = connect(sim, oauth)
    fresh = []

    def renew():
        fresh.append(oauth.refresh(tokens["refresh_token"]))
        return fresh[-1]["access_token"]

    client = QboClient(sim.url, DEFAULT_REALM_ID, access_token="expired-or-bogus", on_unauthorized=renew)
    assert client.company_info()["CompanyName"]
    assert len(fresh) == 1


def test_token_service_down_is_transient_and_the_refresh_token_stays_good(sim):
    oauth = oauth_for(sim)
    tokens = connect(sim, oauth)
    sim.fault_plan = FaultPlan(1, replace(FaultRates.none(), burst_5xx=1.0), burst=(1, 1))
    sim.fault_plan.active = True
    try:
        with pytest.raises(TransientError):
            oauth.refresh(tokens["refresh_token"])
    finally:
        sim.fault_plan = None
    assert oauth.refresh(tokens["refresh_token"])["access_token"]


def test_batch_answers_by_item_and_faults_as_single_requests_would(api):
    customers = api.query_all("Customer")
    items = [
        ("1", "create", Customer(DisplayName="Batch Test Ltd")),
        ("2", "create", Customer(DisplayName=customers[0]["DisplayName"])),
        ("3", "update", Customer(Id="999999", SyncToken="0", DisplayName="X")),
    ]
    request_id = batching.request_id("test", "customers", "batch-answers")
    answers = api.batch(items, request_id=request_id)
    assert answers["1"]["Customer"]["DisplayName"] == "Batch Test Ltd"
    assert isinstance(api.item_error(answers["2"]), RejectedError)
    assert isinstance(api.item_error(answers["3"]), NotFoundError)
    again = api.batch(items, request_id=request_id)  # the same request: QuickBooks' first answer
    assert again["1"]["Customer"]["Id"] == answers["1"]["Customer"]["Id"]
