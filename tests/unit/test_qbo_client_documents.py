"""The QuickBooks client with python-quickbooks documents against the strict QuickBooks simulator: bodies the
simulator takes, answers, queries, change data capture and batches read back with exact money."""

from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from nqc_tools import qbo_objects as qo
from nqc_tools.http_client import wire_json
from nqc_tools.invoice_payload import Target, TaxTarget, build
from nqc_tools.payment_payload import qbo_payment_document
from nqc_tools.qbo_client import QboClient, QboOAuth, quote

from simulators.qbo import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REALM_ID
from simulators.qbo.server import QboSimulator
from simulators.world import build_world

D = Decimal
REDIRECT = "http://127.0.0.1:8069/nexudus_qbo/oauth/callback"


@pytest.fixture(scope="module")
def sim():
    with QboSimulator(build_world(seed=5, profile="uk")) as server:
        yield server


@pytest.fixture(scope="module")
def api(sim):
    oauth = QboOAuth(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, REDIRECT, token_url=f"{sim.url}/oauth2/v1/tokens/bearer")
    redirect = sim.authorize(DEFAULT_CLIENT_ID, REDIRECT, "s", "com.intuit.quickbooks.accounting")
    tokens = oauth.exchange_code(parse_qs(urlsplit(redirect).query)["code"][0])
    return QboClient(sim.url, DEFAULT_REALM_ID, access_token=tokens["access_token"])


def uk_invoice(api, number, net="33.34", quantity=3):
    """A one-line invoice at 20% VAT built by the connector's builder from the simulator's records."""
    customer = api.query_documents("Customer", "Active = true")[0]
    item = api.query_documents("Item", "Active = true")[0]
    rate = next(r for r in api.query_documents("TaxRate") if r.RateValue == 20)
    code = next(  # the code charging exactly 20% on sales; a TaxCode has no python-quickbooks class here
        c for c in api.query_documents("TaxCode") if [d["TaxRateRef"]["value"] for d in _rates(c)] == [rate.Id]
    )
    tax = (D(net) * D("0.2")).quantize(D("0.01"))
    record = {"Id": 1, "InvoiceNumber": number, "CreatedOn": "2026-03-02T10:00:00Z", "TotalAmount": D(net) + tax}
    line = {
        "Id": 1,
        "Quantity": quantity,
        "UnitPrice": D(net) / quantity,
        "SubTotal": D(net),
        "TaxAmount": tax,
        "TaxRate": D("20"),
        "TaxCategoryName": "20.0% S",
        "FinancialAccountCode": "DESK",
    }
    target = Target(
        customer_id=customer.Id,
        items={"DESK": item.Id},
        taxes={("20.0% S", D("20.0000")): TaxTarget(code.Id, [rate.Id], percent=D("20"))},
    )
    return build(record, [line], target)


def _rates(code):
    rates = code.SalesTaxRateList
    return (rates.get("TaxRateDetail") if isinstance(rates, dict) else None) or []


def test_a_built_invoice_is_taken_and_read_back_as_a_document(api, sim):
    payload = uk_invoice(api, "DOC-1")
    saved = api.save_document(payload.document, request_id="doc-1")
    assert isinstance(saved, qo.Invoice)
    assert saved.TotalAmt == payload.total == D("40.01") and isinstance(saved.TotalAmt, Decimal)
    assert api.get("Invoice", saved.Id)["TotalAmt"] == D("40.01"), "plain answers read with Decimal too"
    assert saved.DocNumber == "DOC-1" and saved.Id
    assert isinstance(saved.Line[0], qo.SalesItemLine)
    again = api.get_document("Invoice", saved.Id)
    assert qo.to_body(again) == qo.to_body(saved)
    [found] = api.query_documents("Invoice", f"DocNumber = {quote('DOC-1')}")
    assert found.Id == saved.Id and found.Balance == D("40.01")


def test_change_data_capture_gives_documents(api, sim):
    since = datetime.fromtimestamp(sim.now() - 1, timezone.utc).isoformat(timespec="seconds")
    invoice = api.save_document(uk_invoice(api, "DOC-CDC").document, request_id="doc-cdc")
    entry = {"Id": 77, "TransactionDate": "2026-03-03T10:00:00Z"}
    paid = api.save_document(
        qbo_payment_document(entry, D("10.01"), invoice_id=invoice.Id, customer_id=invoice.CustomerRef.value),
        request_id="pay-cdc",
    )
    found = api.changes(["Payment", "Invoice"], since)
    assert [p.Id for p in found["Payment"]] == [paid.Id]
    assert found["Payment"][0].TotalAmt == D("10.01")
    assert invoice.Id in [i.Id for i in found["Invoice"]]
    current = next(i for i in found["Invoice"] if i.Id == invoice.Id)
    assert current.Balance == D("30.00"), "exact: 40.01 - 10.01"


def test_a_batch_body_is_taken_and_its_answer_read(api):
    good = uk_invoice(api, "DOC-B1").document
    unknown = uk_invoice(api, "DOC-B2").document
    unknown.CustomerRef = qo.ref("999999")
    body = qo.batch_body(
        [
            ("1", "create", good),
            ("2", "create", unknown),
            ("3", "query", "select * from Invoice where DocNumber = 'DOC-1'"),
        ]
    )
    answer = api.call(
        "POST", "batch", data=wire_json(body).encode("utf-8"), headers={"Content-Type": "application/json"}
    )
    results = qo.read_batch(answer)
    created, fault = results["1"]
    assert fault is None and created.DocNumber == "DOC-B1" and created.TotalAmt == D("40.01")
    document, fault = results["2"]
    assert document is None and fault.Error[0].code == "610"
    rows, fault = results["3"]
    assert fault is None and [row.DocNumber for row in rows["Invoice"]] == ["DOC-1"]


def test_batch_documents_read_each_answer_and_a_fault_gives_the_same_error_as_its_entry(api):
    from nqc_tools.errors import NotFoundError

    good = uk_invoice(api, "DOC-BD1").document
    unknown = uk_invoice(api, "DOC-BD2").document
    unknown.CustomerRef = qo.ref("999999")
    items = [("1", "create", good), ("2", "create", unknown)]
    results = api.batch_documents(items, request_id="batch-documents")
    created, fault = results["1"]
    assert fault is None and isinstance(created, qo.Invoice) and created.TotalAmt == D("40.01")
    document, fault = results["2"]
    assert document is None and isinstance(api.item_error(fault), NotFoundError)
    entries = api.batch(items, request_id="batch-documents")  # the same request: QuickBooks' first answer
    assert type(api.item_error(entries["2"])) is type(api.item_error(fault))
    assert str(api.item_error(entries["2"])) == str(api.item_error(fault))


def test_preferences_are_read_as_a_document(api):
    prefs = api.preferences_document()
    assert (
        qo.field(prefs, "CurrencyPrefs", "HomeCurrency", "value")
        == api.preferences()["CurrencyPrefs"]["HomeCurrency"]["value"]
    )
