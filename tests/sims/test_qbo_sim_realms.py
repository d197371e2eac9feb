"""One QBO simulator, several companies (realms): the consent page's choice, each grant bound to its realm, data
and limits per realm (research §1.3: the redirect's ``realmId`` is the company used in every API path)."""

import re

import pytest
import requests

from simulators.qbo import AUTHORIZE_PATH, DEFAULT_CLIENT_ID, DEFAULT_REALM_ID, QboLimits, QboSimulator
from simulators.world import build_world

from .test_qbo_sim import REDIRECT, TIMEOUT, api_get, callback, exchange

SECOND = "9341455000002"


@pytest.fixture
def sim():
    with QboSimulator(build_world(profile="uk"), limits=QboLimits(per_minute=3)) as server:
        server.add_company(SECOND, name="Second Coworking Ltd")
        yield server


def connect_to(sim, realm_id):
    back = callback(sim.authorize(redirect_uri=REDIRECT, state="st", realm_id=realm_id))
    assert back["realmId"] == realm_id
    response = exchange(sim, back["code"])
    assert response.status_code == 200, response.text
    return response.json()


def test_the_consent_page_offers_each_company_and_the_grant_is_the_chosen_ones(sim):
    params = {"client_id": DEFAULT_CLIENT_ID, "response_type": "code", "scope": "com.intuit.quickbooks.accounting",
              "redirect_uri": REDIRECT, "state": "s1"}  # fmt: skip
    page = requests.get(sim.url + AUTHORIZE_PATH, params=params, timeout=TIMEOUT).text
    choices = dict(re.findall(r'<option value="(\d+)">([^<]*)</option>', page))
    assert choices == {
        DEFAULT_REALM_ID: f"Bridge Coworking Ltd (realm {DEFAULT_REALM_ID})",
        SECOND: f"Second Coworking Ltd (realm {SECOND})",
    }
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
    submitted = requests.post(sim.url + AUTHORIZE_PATH, data={**fields, "realm_id": SECOND, "action": "authorize"},
                              allow_redirects=False, timeout=TIMEOUT)  # fmt: skip
    back = callback(submitted.headers["Location"])
    assert (back["realmId"], back["state"]) == (SECOND, "s1")
    token = exchange(sim, back["code"]).json()["access_token"]
    info = api_get(sim, token, f"companyinfo/{SECOND}", realm=SECOND)
    assert info.json()["CompanyInfo"]["CompanyName"] == "Second Coworking Ltd"
    refused = api_get(sim, token, "preferences", realm=DEFAULT_REALM_ID)
    assert refused.status_code == 403, "a grant reaches only its own company"
    assert refused.json()["fault"]["error"][0]["code"] == "3100"


def test_an_unknown_company_cannot_be_chosen(sim):
    params = {"client_id": DEFAULT_CLIENT_ID, "response_type": "code", "scope": "com.intuit.quickbooks.accounting",
              "redirect_uri": REDIRECT, "state": "s2", "realm_id": "404", "action": "authorize"}  # fmt: skip
    response = requests.post(sim.url + AUTHORIZE_PATH, data=params, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 400


def test_each_company_holds_its_own_data(sim):
    first, second = connect_to(sim, DEFAULT_REALM_ID), connect_to(sim, SECOND)
    created = requests.post(
        f"{sim.url}/v3/company/{SECOND}/customer",
        json={"DisplayName": "Only Here Ltd"},
        headers={"Authorization": f"Bearer {second['access_token']}", "Accept": "application/json"},
        timeout=TIMEOUT,
    )
    assert created.status_code == 200, created.text
    assert sim.companies[SECOND].table("Customer").find(DisplayName="Only Here Ltd")
    assert not sim.companies[DEFAULT_REALM_ID].table("Customer").find(DisplayName="Only Here Ltd")
    query = "select * from Customer where DisplayName = 'Only Here Ltd'"
    assert api_get(sim, first["access_token"], "query", query=query).json()["QueryResponse"] == {}
    assert sim.company.realm_id == DEFAULT_REALM_ID, "outside a request: the first company"
    with sim.serving(SECOND):  # what a person does in the second company
        sim.set_preferences("SalesFormsPrefs", AutoApplyCredit=False)
    assert sim.companies[SECOND].preferences["SalesFormsPrefs"]["AutoApplyCredit"] is False
    assert sim.company.preferences["SalesFormsPrefs"]["AutoApplyCredit"] is True


def test_limits_are_counted_per_company(sim):
    first, second = connect_to(sim, DEFAULT_REALM_ID), connect_to(sim, SECOND)
    for _ in range(3):
        assert api_get(sim, first["access_token"], "preferences").status_code == 200
    assert api_get(sim, first["access_token"], "preferences").status_code == 429
    assert api_get(sim, second["access_token"], "preferences", realm=SECOND).status_code == 200
    assert sim.throttled == [(DEFAULT_REALM_ID, "per_minute")]
    assert sim.requests_per_realm == {DEFAULT_REALM_ID: 3, SECOND: 1}
    assert [realm for realm, _at, _batch in sim.admissions] == [DEFAULT_REALM_ID] * 3 + [SECOND]


def test_with_one_company_the_consent_page_offers_no_choice():
    with QboSimulator(build_world(profile="uk")) as alone:
        params = {"client_id": DEFAULT_CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT,
                  "scope": "com.intuit.quickbooks.accounting"}  # fmt: skip
        page = requests.get(alone.url + AUTHORIZE_PATH, params=params, timeout=TIMEOUT).text
        assert "<h1>Connect to Bridge Coworking Ltd</h1>" in page and "<select" not in page
