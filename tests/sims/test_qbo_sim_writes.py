"""QBO simulator writes: Customer and Item create, sparse and full update, the faults and request-id replay."""

import pytest
import requests

from simulators.qbo import QboSimulator
from simulators.world import build_world

from .test_qbo_sim import TIMEOUT, connect, query_rows


@pytest.fixture
def sim():
    with QboSimulator(build_world(profile="uk")) as server:
        yield server


@pytest.fixture
def tokens(sim):
    return connect(sim)


def post(sim, tokens, entity, body, **params):
    return requests.post(
        f"{sim.url}/v3/company/{sim.company.realm_id}/{entity}",
        params={"minorversion": "75", **params},
        json=body,
        headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"},
        timeout=TIMEOUT,
    )


def fault_code(response):
    assert response.status_code == 400, response.text
    return response.json()["Fault"]["Error"][0]["code"]


def income_account(sim):
    return sim.company.table("Account").find(Name="Membership Revenue")


def test_customer_create_fills_in_what_qbo_sets(sim, tokens):
    response = post(sim, tokens, "customer", {"DisplayName": "Nova Studio Ltd"})
    assert response.status_code == 200, response.text
    row = response.json()["Customer"]
    assert row["SyncToken"] == "0"
    assert (row["FullyQualifiedName"], row["PrintOnCheckName"], row["Active"]) == ("Nova Studio Ltd",) * 2 + (True,)
    assert row["CurrencyRef"]["value"] == "GBP"
    assert [r["Id"] for r in query_rows(sim, tokens, "select * from Customer where DisplayName = 'Nova Studio Ltd'",
                                        "Customer")] == [row["Id"]]  # fmt: skip


def test_display_name_is_unique_across_customers_vendors_and_employees(sim, tokens):
    assert fault_code(post(sim, tokens, "customer", {"DisplayName": "Office Supplies Co"})) == "6240"
    assert fault_code(post(sim, tokens, "customer", {"DisplayName": "  office supplies co "})) == "6240"
    detail = post(sim, tokens, "customer", {"DisplayName": "Office Supplies Co"}).json()["Fault"]["Error"][0]["Detail"]
    assert "Another customer, vendor or employee is already using this name" in detail


def test_names_with_a_colon_or_newline_are_refused(sim, tokens):
    assert fault_code(post(sim, tokens, "customer", {"DisplayName": "Acme: London"})) == "6000"
    assert fault_code(post(sim, tokens, "customer", {"DisplayName": "Acme\nLondon"})) == "6000"
    assert fault_code(post(sim, tokens, "customer", {"CompanyName": "No display name"})) == "2020"


def test_sparse_update_needs_the_current_sync_token(sim, tokens):
    row = post(sim, tokens, "customer", {"DisplayName": "Sparse Ltd", "CompanyName": "Sparse"}).json()["Customer"]
    updated = post(sim, tokens, "customer", {"Id": row["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    assert updated.status_code == 200, updated.text
    assert updated.json()["Customer"]["SyncToken"] == "1"
    assert updated.json()["Customer"]["CompanyName"] == "Sparse"
    assert updated.json()["Customer"]["Active"] is False
    stale = post(sim, tokens, "customer", {"Id": row["Id"], "SyncToken": "0", "sparse": True, "Active": True})
    assert fault_code(stale) == "5010"
    full = post(sim, tokens, "customer", {"Id": row["Id"], "SyncToken": "1", "DisplayName": "Sparse Ltd"})
    assert "CompanyName" not in full.json()["Customer"], "a full update clears what it omits"
    assert full.json()["Customer"]["Active"] is True


def test_inactive_customer_still_holds_its_name(sim, tokens):
    row = post(sim, tokens, "customer", {"DisplayName": "Gone Ltd"}).json()["Customer"]
    post(sim, tokens, "customer", {"Id": row["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    assert fault_code(post(sim, tokens, "customer", {"DisplayName": "Gone Ltd"})) == "6240"
    sim.inactive_names_collide = False
    assert post(sim, tokens, "customer", {"DisplayName": "Gone Ltd"}).status_code == 200


def test_currency_is_fixed_once_set(sim, tokens):
    row = post(sim, tokens, "customer", {"DisplayName": "Fixed Ltd"}).json()["Customer"]
    change = {"Id": row["Id"], "SyncToken": "0", "sparse": True, "CurrencyRef": {"value": "EUR"}}
    assert fault_code(post(sim, tokens, "customer", change)) == "6000"
    assert fault_code(post(sim, tokens, "customer", {"DisplayName": "Yen Ltd", "CurrencyRef": {"value": "JPY"}})) == (
        "6000"
    )


def test_service_item_needs_an_active_income_account(sim, tokens):
    account = income_account(sim)
    body = {"Name": "Membership Revenue", "Type": "Service", "IncomeAccountRef": {"value": account["Id"]}}
    response = post(sim, tokens, "item", body)
    assert response.status_code == 200, response.text
    assert response.json()["Item"]["IncomeAccountRef"] == {"value": account["Id"], "name": account["Name"]}
    assert fault_code(post(sim, tokens, "item", body)) == "6240"
    assert fault_code(post(sim, tokens, "item", {"Name": "No account", "Type": "Service"})) == "2020"
    assert fault_code(post(sim, tokens, "item", {"Name": "Odd", "Type": "Gadget"})) == "2170"
    inactive = sim.company.table("Account").find(Active=False)
    gone = {"Name": "Old", "Type": "Service", "IncomeAccountRef": {"value": inactive["Id"]}}
    assert fault_code(post(sim, tokens, "item", gone)) == "610"
    assert fault_code(post(sim, tokens, "item", {**body, "Name": "Desk: hot"})) == "6000"


def test_request_id_replays_the_first_answer(sim, tokens):
    first = post(sim, tokens, "customer", {"DisplayName": "Once Ltd"}, requestid="req-1")
    again = post(sim, tokens, "customer", {"DisplayName": "Once Ltd"}, requestid="req-1")
    assert first.status_code == again.status_code == 200
    assert first.json()["Customer"]["Id"] == again.json()["Customer"]["Id"]
    assert sim.replays == ["req-1"]
    assert [w for w in sim.writes if w[0] == "Customer"] == [("Customer", "create", first.json()["Customer"]["Id"])]
    assert fault_code(post(sim, tokens, "customer", {"DisplayName": "x"}, requestid="r" * 51)) == "2050"


def test_injected_failure_then_lost_response(sim, tokens):
    sim.fail_next_write(status=503)
    failed = post(sim, tokens, "customer", {"DisplayName": "Retry Ltd"}, requestid="req-2")
    assert failed.status_code == 503
    assert failed.json()["Fault"]["type"] == "SystemFault"
    sim.drop_response_after_commit()
    with pytest.raises(requests.ConnectionError):
        post(sim, tokens, "customer", {"DisplayName": "Retry Ltd"}, requestid="req-2")
    replay = post(sim, tokens, "customer", {"DisplayName": "Retry Ltd"}, requestid="req-2")
    assert replay.status_code == 200
    rows = sim.company.table("Customer").rows.values()
    assert [r["DisplayName"] for r in rows].count("Retry Ltd") == 1
