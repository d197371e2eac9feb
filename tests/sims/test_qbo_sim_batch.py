"""QBO simulator batch endpoint: items run like single requests, per-item faults, requestid replay, 30 items."""

import pytest
import requests

from simulators.qbo import QboSimulator
from simulators.world import build_world

from .test_qbo_sim import TIMEOUT, api_get
from .test_qbo_sim_sales import Api, line, parsed, payment, sale, standard_invoice
from .test_qbo_sim_writes import fault_code


@pytest.fixture
def uk():
    with QboSimulator(build_world(profile="uk")) as sim:
        yield Api(sim)


def send(api, items, token=None, **params):
    token = api.tokens["access_token"] if token is None else token
    return requests.post(
        f"{api.sim.url}/v3/company/{api.sim.company.realm_id}/batch",
        params={"minorversion": "75", **params},
        json={"BatchItemRequest": items},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=TIMEOUT,
    )


def answers(response):
    assert response.status_code == 200, response.text
    return {entry["bId"]: entry for entry in parsed(response)["BatchItemResponse"]}


def test_batch_creates_invoices_with_a_fault_per_item(uk):
    good = sale(line("100.00", tax=uk.vat_code(20)), DocNumber="B-1")
    unknown_customer = sale(line("50.00", tax=uk.vat_code(20)), customer="999999")
    no_customer = {"Line": [line("10.00", tax=uk.vat_code(20))]}
    response = send(
        uk,
        [
            {"bId": "1", "operation": "create", "Invoice": good},
            {"bId": "2", "operation": "create", "Invoice": unknown_customer},
            {"bId": "3", "operation": "create", "Invoice": no_customer},
            {"bId": "4", "Query": "select * from Invoice where DocNumber = 'B-1'"},
        ],
    )
    results = answers(response)
    assert list(results) == ["1", "2", "3", "4"]
    created = results["1"]["Invoice"]
    assert (created["DocNumber"], created["TotalAmt"]) == ("B-1", 120)
    assert uk.current("Invoice", created["Id"])["SyncToken"] == "0"
    for bid, body in (("2", unknown_customer), ("3", no_customer)):
        single = uk.post("Invoice", body).json()["Fault"]
        assert results[bid]["Fault"] == single, "the same fault a single write gets"
    assert results["2"]["Fault"]["Error"][0]["code"] == "610"
    assert results["3"]["Fault"]["type"] == "ValidationFault"
    assert results["4"]["QueryResponse"] == {}, "a row created in the batch is not seen by its other items"
    assert [w for w in uk.sim.writes if w[0] == "Invoice"] == [("Invoice", "create", created["Id"])]


def test_update_void_and_delete_go_through_the_single_write_rules(uk):
    first, second, third = (standard_invoice(uk) for _ in range(3))
    paid = uk.create("Payment", payment(120, ("Invoice", first, 120)))
    results = answers(
        send(
            uk,
            [
                {"bId": "u", "operation": "update",
                 "Invoice": {"Id": second["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "batch"}},
                {"bId": "v", "operation": "update", "optionsData": "void",
                 "Payment": {"Id": paid["Id"], "SyncToken": paid["SyncToken"]}},
                {"bId": "d", "operation": "delete", "Invoice": {"Id": third["Id"], "SyncToken": "0"}},
                {"bId": "s", "operation": "update", "Invoice": {"Id": first["Id"], "SyncToken": "0", "sparse": True}},
                {"bId": "c", "operation": "delete", "Customer": {"Id": "1", "SyncToken": "0"}},
                {"bId": "n", "operation": "update", "Invoice": {"SyncToken": "0", "sparse": True}},
                {"bId": "x", "operation": "merge", "Invoice": {"Id": first["Id"], "SyncToken": "0"}},
                {"bId": "e", "operation": "create"},
            ],
        )
    )  # fmt: skip
    assert (results["u"]["Invoice"]["PrivateNote"], results["u"]["Invoice"]["SyncToken"]) == ("batch", "1")
    assert results["v"]["Payment"]["TotalAmt"] == 0
    assert uk.current("Invoice", first["Id"])["Balance"] == 120, "voiding the payment reopened the invoice"
    assert results["d"]["Invoice"] == {"status": "Deleted", "domain": "QBO", "Id": third["Id"]}
    codes = {bid: results[bid]["Fault"]["Error"][0]["code"] for bid in "scnxe"}
    assert codes == {"s": "5010", "c": "500", "n": "2020", "x": "2170", "e": "2310"}
    assert ("Payment", "void", paid["Id"]) in uk.sim.writes


def test_items_do_not_see_what_earlier_items_created(uk):
    new_id = str(uk.table("Customer").next_id)
    invoice = sale(line("10.00", tax=uk.vat_code(20)), customer=new_id)
    results = answers(
        send(
            uk,
            [
                {"bId": "c", "operation": "create", "Customer": {"DisplayName": "Batch New Ltd"}},
                {"bId": "i", "operation": "create", "Invoice": invoice},
                {"bId": "q", "Query": "select * from Customer where DisplayName = 'Batch New Ltd'"},
            ],
        )
    )  # fmt: skip
    assert results["c"]["Customer"]["Id"] == new_id
    assert results["i"]["Fault"]["Error"][0]["code"] == "610"
    assert results["q"]["QueryResponse"] == {}
    assert uk.current("Customer", new_id)["DisplayName"] == "Batch New Ltd", "visible once the batch is over"


def test_request_id_replays_the_whole_batch(uk):
    items = [{"bId": "a", "operation": "create", "Customer": {"DisplayName": "Replay Ltd"}}]
    first = send(uk, items, requestid="batch-0001")
    again = send(uk, items, requestid="batch-0001")
    assert again.json()["BatchItemResponse"] == first.json()["BatchItemResponse"]
    assert "Customer" in first.json()["BatchItemResponse"][0]
    assert uk.sim.replays == ["batch-0001"]
    assert [w[1] for w in uk.sim.writes if w[0] == "Customer"] == ["create"]


def test_request_id_and_batch_id_lengths(uk):
    query = {"bId": "q", "Query": "select * from CompanyCurrency"}
    assert send(uk, [query], requestid="r" * 36).status_code == 200
    assert fault_code(send(uk, [query], requestid="r" * 37)) == "2050"
    long_bid = {**query, "bId": "b" * 11}
    assert send(uk, [long_bid]).status_code == 200, "bIds are only limited when a requestid is sent"
    refused = send(uk, [long_bid], requestid="with-rid")
    assert fault_code(refused) == "2050" and "bId" in refused.json()["Fault"]["Error"][0]["Detail"]


def test_at_most_thirty_items(uk):
    items = [{"bId": str(n), "Query": "select * from CompanyCurrency"} for n in range(31)]
    assert fault_code(send(uk, items)) == "6000"
    assert len(answers(send(uk, items[:30]))) == 30


@pytest.mark.parametrize(
    ("items", "code"),
    [
        ([], "2020"),
        ([{"Query": "select * from Item"}], "2020"),
        ([{"bId": "a", "Query": "select * from Item"}, {"bId": "a", "Query": "select * from Item"}], "2310"),
    ],
)
def test_malformed_batches_are_refused_whole(uk, items, code):
    assert fault_code(send(uk, items)) == code


def test_query_fault_and_token(uk):
    text = "select * from Nothing"
    results = answers(send(uk, [{"bId": "q", "Query": text}]))
    single = api_get(uk.sim, uk.tokens["access_token"], "query", query=text)
    assert results["q"]["Fault"] == single.json()["Fault"]
    assert send(uk, [{"bId": "q", "Query": "select * from Item"}], token="expired").status_code == 401


def test_injected_faults_treat_a_batch_as_one_write(uk):
    items = [{"bId": "a", "operation": "create", "Customer": {"DisplayName": "Flaky Ltd"}}]
    uk.sim.fail_next_write()
    failed = send(uk, items, requestid="flaky")
    assert failed.status_code == 500 and failed.json()["Fault"]["type"] == "SystemFault"
    assert not uk.table("Customer").find(DisplayName="Flaky Ltd")
    uk.sim.drop_response_after_commit()
    with pytest.raises(requests.ConnectionError):
        send(uk, items, requestid="flaky")
    assert uk.table("Customer").find(DisplayName="Flaky Ltd"), "committed before the connection dropped"
    assert "Customer" in send(uk, items, requestid="flaky").json()["BatchItemResponse"][0]
