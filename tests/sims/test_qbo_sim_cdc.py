"""QBO simulator change data capture (``GET cdc``) and the "QuickBooks UI" payment helpers and buttons."""

import html
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests

from simulators.qbo import QboSimulator
from simulators.qbo.faults import WriteRejected
from simulators.qbo.query import PACIFIC
from simulators.world import build_world

from .test_qbo_sim import TIMEOUT, api_get, connect
from .test_qbo_sim_overview import page, section
from .test_qbo_sim_sales import Api, line, parsed, payment, sale, standard_invoice
from .test_qbo_sim_writes import fault_code

DAY = 86400


@pytest.fixture
def uk():
    with QboSimulator(build_world(profile="uk")) as sim:
        yield Api(sim)


def stamp(sim, seconds=0):
    """The simulator's now plus ``seconds`` as an ISO-8601 time with an offset."""
    return datetime.fromtimestamp(sim.now() + seconds, PACIFIC).isoformat(timespec="seconds")


def cdc(api, entities, since, token=None):
    params = {"entities": entities, "changedSince": since}
    return api_get(api.sim, token or api.tokens["access_token"], "cdc", **params)


def changes(api, entities, since):
    """The CDC groups as {entity: rows} in response order, checking each group's counters."""
    response = cdc(api, entities, since)
    assert response.status_code == 200, response.text
    body = parsed(response)
    assert set(body) == {"CDCResponse", "time"}
    [capture] = body["CDCResponse"]
    groups = {}
    for group in capture["QueryResponse"]:
        if not group:
            continue
        [entity] = set(group) - {"startPosition", "maxResults", "totalCount"}
        count = len(group[entity])
        assert (group["startPosition"], group["maxResults"], group["totalCount"]) == (1, count, count)
        groups[entity] = group[entity]
    return groups


def at(api, seconds):
    """Move the simulator clock to ``seconds`` after the test's start."""
    api.sim.clock_offset = seconds


def ids(rows):
    return [(row["Id"], row.get("status")) for row in rows]


def detail(response):
    assert response.status_code == 400, response.text
    return response.json()["Fault"]["Error"][0]


# -- what comes back ---------------------------------------------------------------------------------------------


def test_changes_since_come_grouped_in_the_order_requested(uk):
    since = stamp(uk.sim, -1)
    invoice = standard_invoice(uk)
    paid = uk.create("Payment", payment(50, ("Invoice", invoice, 50)))
    groups = changes(uk, "Payment,Invoice", since)
    assert list(groups) == ["Payment", "Invoice"]
    assert groups["Payment"] == [paid]
    assert groups["Invoice"] == [uk.current("Invoice", invoice["Id"])], "the full, current payload"
    assert groups["Invoice"][0]["Balance"] == 70
    assert list(changes(uk, "invoice,PAYMENT,Invoice", since)) == ["Invoice", "Payment"], "names ignore case, once"
    assert changes(uk, "Customer", since) == {}, "seeded rows are older"
    assert uk.sim.cdc_calls == [("Payment,Invoice", since), ("invoice,PAYMENT,Invoice", since), ("Customer", since)]


def test_nothing_changed_has_qbo_empty_shape(uk):
    standard_invoice(uk)
    response = cdc(uk, "Invoice,Payment", stamp(uk.sim, 5))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["CDCResponse"] == [{"QueryResponse": [{}]}]
    assert set(body) == {"CDCResponse", "time"}


def test_only_objects_updated_after_changed_since(uk):
    at(uk, 0)
    first = standard_invoice(uk)
    at(uk, 10)
    second = standard_invoice(uk)
    assert ids(changes(uk, "Invoice", stamp(uk.sim, -5))["Invoice"]) == [(second["Id"], None)]
    at(uk, 20)
    uk.update("Invoice", first, PrivateNote="changed")
    rows = changes(uk, "Invoice", stamp(uk.sim, -25))["Invoice"]
    assert ids(rows) == [(second["Id"], None), (first["Id"], None)], "ordered by LastUpdatedTime"
    assert rows[1]["PrivateNote"] == "changed"
    edge = rows[0]["MetaData"]["LastUpdatedTime"]
    assert ids(changes(uk, "Invoice", edge)["Invoice"]) == [(first["Id"], None)], "strictly after changedSince"


def test_deleted_objects_follow_the_active_ones(uk):
    since = stamp(uk.sim, -1)
    invoice = standard_invoice(uk)
    at(uk, 10)
    early = uk.create("Payment", payment(10, ("Invoice", invoice, 10)))
    at(uk, 20)
    uk.sim.delete_payment(early["Id"])
    at(uk, 30)
    late = uk.create("Payment", payment(20, ("Invoice", invoice, 20)))
    memo = uk.create("CreditMemo", sale(line(10, tax="1")))
    at(uk, 40)
    assert uk.post("CreditMemo", {"Id": memo["Id"], "SyncToken": "0"}, operation="delete").status_code == 200
    groups = changes(uk, "Payment,CreditMemo,Invoice", since)
    assert ids(groups["Payment"]) == [(late["Id"], None), (early["Id"], "Deleted")]
    deleted = groups["Payment"][1]
    assert deleted == {
        "domain": "QBO",
        "status": "Deleted",
        "Id": early["Id"],
        "MetaData": {"LastUpdatedTime": deleted["MetaData"]["LastUpdatedTime"]},
    }
    when = datetime.fromisoformat(deleted["MetaData"]["LastUpdatedTime"])
    assert abs((when - datetime.fromisoformat(since)).total_seconds() - 21) <= 2, "the moment of the delete"
    assert ids(groups["CreditMemo"]) == [(memo["Id"], "Deleted")]
    assert [e for e, _, _ in uk.sim.deleted] == ["Payment", "CreditMemo"]
    assert ids(changes(uk, "Payment", stamp(uk.sim, -15))["Payment"]) == [(late["Id"], None)]


def test_voided_payment_is_an_ordinary_row(uk):
    invoice = standard_invoice(uk)
    paid = uk.create("Payment", payment(120, ("Invoice", invoice, 120), PrivateNote="bank"))
    since = stamp(uk.sim, -1)
    at(uk, 5)
    uk.sim.void_payment(paid["Id"])
    groups = changes(uk, "Payment,Invoice", since)
    [voided] = groups["Payment"]
    assert (voided["Id"], voided["TotalAmt"], voided["PrivateNote"]) == (paid["Id"], 0, "Voided - bank")
    assert "status" not in voided
    assert groups["Invoice"][0]["Balance"] == 120, "the invoice reopened"


# -- limits --------------------------------------------------------------------------------------------------


def test_look_back_is_thirty_days(uk):
    old = detail(cdc(uk, "Invoice", stamp(uk.sim, -31 * DAY)))
    assert (old["code"], old["Message"]) == ("500", "Unsupported Operation")
    assert "older than fixed days is not supported" in old["Detail"]
    assert changes(uk, "Invoice", stamp(uk.sim, -29 * DAY)) == {}
    day = datetime.fromtimestamp(uk.sim.now() - 2 * DAY, PACIFIC).date().isoformat()
    assert changes(uk, "Invoice", day) == {}, "a date alone is midnight"


def test_at_most_cap_objects_the_oldest_first(uk):
    uk.sim.cdc_cap = 3
    since = stamp(uk.sim, -1)
    made = []
    for step in range(5):
        at(uk, 10 * step)
        made.append(uk.create("Payment", payment(1)) if step % 2 else standard_invoice(uk))
    at(uk, 50)
    gone = uk.create("Payment", payment(1))
    at(uk, 60)
    uk.sim.delete_payment(gone["Id"])
    groups = changes(uk, "Payment,Invoice", since)
    assert ids(groups["Payment"]) == [(made[1]["Id"], None)]
    assert ids(groups["Invoice"]) == [(made[0]["Id"], None), (made[2]["Id"], None)]
    cursor = max(row["MetaData"]["LastUpdatedTime"] for rows in groups.values() for row in rows)
    rest = changes(uk, "Payment,Invoice", cursor)
    assert ids(rest["Payment"]) == [(made[3]["Id"], None), (gone["Id"], "Deleted")], "deleted ones count too"
    assert ids(rest["Invoice"]) == [(made[4]["Id"], None)]
    uk.sim.cdc_cap = 1000
    assert sum(len(rows) for rows in changes(uk, "Payment,Invoice", since).values()) == 6


@pytest.mark.parametrize(
    ("entities", "since", "code"),
    [
        ("TaxCode", 0, "500"),
        ("Invoice,TaxRate", 0, "500"),
        ("Widget", 0, "2170"),
        ("", 0, "2020"),
        ("Invoice", None, "2020"),
        ("Invoice", "yesterday", "2020"),
        ("Invoice", "2026-13-40T00:00:00Z", "2020"),
    ],
)
def test_bad_requests_are_faults(uk, entities, since, code):
    since = stamp(uk.sim, -60) if since == 0 else since
    params = {"entities": entities} | ({} if since is None else {"changedSince": since})
    response = api_get(uk.sim, uk.tokens["access_token"], "cdc", **params)
    assert fault_code(response) == code
    assert response.json()["Fault"]["type"] == "ValidationFault"


def test_unsupported_entity_is_named(uk):
    error = detail(cdc(uk, "Payment,TaxCode", stamp(uk.sim, -60)))
    assert error["Detail"] == "Operation cdc is not supported for TaxCode."


def test_cdc_needs_a_token_for_the_realm(uk):
    response = requests.get(
        f"{uk.sim.url}/v3/company/{uk.sim.company.realm_id}/cdc",
        params={"entities": "Invoice", "changedSince": stamp(uk.sim, -60)},
        timeout=TIMEOUT,
    )
    assert response.status_code == 401
    other = api_get(uk.sim, uk.tokens["access_token"], "cdc", realm="123", entities="Invoice")
    assert other.status_code == 403
    assert uk.sim.cdc_calls == []


# -- the simulator clock -----------------------------------------------------------------------------------------


def test_clock_offset_moves_now_stamps_and_the_window(uk):
    real_since = stamp(uk.sim, -60)
    at(uk, 40 * DAY)
    uk.tokens = connect(uk.sim)  # the old access token expired on the way
    invoice = standard_invoice(uk)
    written = datetime.fromisoformat(invoice["MetaData"]["LastUpdatedTime"])
    assert written > datetime.now(PACIFIC) + timedelta(days=39)
    assert fault_code(cdc(uk, "Invoice", real_since)) == "500", "40 days before the simulator's now"
    response = cdc(uk, "Invoice", stamp(uk.sim, -60))
    assert ids(parsed(response)["CDCResponse"][0]["QueryResponse"][0]["Invoice"]) == [(invoice["Id"], None)]
    assert datetime.fromisoformat(response.json()["time"]) > datetime.now(PACIFIC) + timedelta(days=39)


def test_changed_since_forms(uk):
    since = datetime.fromtimestamp(uk.sim.now() - 5, PACIFIC)
    invoice = standard_invoice(uk)
    utc = since.astimezone(timezone.utc)
    for text in (
        since.isoformat(timespec="seconds"),
        utc.isoformat(timespec="seconds"),
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        since.astimezone(timezone(timedelta(hours=2))).isoformat(timespec="milliseconds"),
        since.replace(tzinfo=None).isoformat(timespec="seconds"),
    ):
        assert ids(changes(uk, "Invoice", text)["Invoice"]) == [(invoice["Id"], None)], text
    naive_utc = utc.replace(tzinfo=None).isoformat(timespec="seconds")
    assert changes(uk, "Invoice", naive_utc) == {}, "a time without an offset is Pacific time"


# -- the "QuickBooks UI": helpers ---------------------------------------------------------------------------------


def test_record_payment_goes_through_the_api_rules(uk):
    invoice = standard_invoice(uk)
    paid = uk.sim.record_payment(invoice["Id"], "50.00", payment_method_name="Check", txn_date="2026-02-01")
    assert paid["Line"] == [{"Amount": 50, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]
    assert (paid["TotalAmt"], paid["UnappliedAmt"], paid["TxnDate"]) == (50, 0, "2026-02-01")
    assert paid["CustomerRef"] == invoice["CustomerRef"]
    assert paid["PaymentMethodRef"] == {"value": uk.table("PaymentMethod").find(Name="Check")["Id"], "name": "Check"}
    after = uk.current("Invoice", invoice["Id"])
    assert (after["Balance"], after["LinkedTxn"]) == (70, [{"TxnId": paid["Id"], "TxnType": "Payment"}])
    assert uk.sim.writes[-1] == ("Payment", "create", paid["Id"])
    rest = uk.sim.record_payment(invoice["Id"], Decimal("70"))
    assert "PaymentMethodRef" not in rest and rest["TxnDate"]
    assert uk.current("Invoice", invoice["Id"])["Balance"] == 0
    with pytest.raises(WriteRejected) as over:
        uk.sim.record_payment(invoice["Id"], "0.01")
    assert over.value.code == "6000"
    with pytest.raises(WriteRejected) as unknown:
        uk.sim.record_payment("999", "1")
    assert unknown.value.code == "610"
    with pytest.raises(WriteRejected):
        uk.sim.record_payment(standard_invoice(uk)["Id"], "1", payment_method_name="Bitcoin")


def test_void_and_delete_payment_helpers(uk):
    invoice = standard_invoice(uk)
    first = uk.sim.record_payment(invoice["Id"], "20")
    second = uk.sim.record_payment(invoice["Id"], "30")
    voided = uk.sim.void_payment(first["Id"])
    assert (voided["TotalAmt"], voided["PrivateNote"], voided["SyncToken"]) == (0, "Voided", "1")
    assert uk.sim.delete_payment(second["Id"]) == {"status": "Deleted", "domain": "QBO", "Id": second["Id"]}
    assert uk.current("Invoice", invoice["Id"])["Balance"] == 120
    assert uk.sim.writes[-2:] == [("Payment", "void", first["Id"]), ("Payment", "delete", second["Id"])]
    with pytest.raises(WriteRejected):
        uk.sim.void_payment(first["Id"])
    with pytest.raises(WriteRejected):
        uk.sim.delete_payment(second["Id"])


# -- the "QuickBooks UI": buttons ---------------------------------------------------------------------------------


def press(api, route, **form):
    return requests.post(api.sim.url + route, data=form, allow_redirects=False, timeout=TIMEOUT)


def test_receive_payment_button_pays_an_open_invoice(uk):
    invoice = standard_invoice(uk, DocNumber="LON-1")
    invoices = section(page(uk.sim), "Invoices")
    button = re.search(r'<form class="act" method="post" action="/sim/receive-payment">(.*?)</form>', invoices)
    assert f'name="invoice_id" value="{invoice["Id"]}"' in button.group(1)
    assert 'name="amount" value="120.00"' in button.group(1)
    assert ">Receive payment</button>" in button.group(1)
    response = press(uk, "/sim/receive-payment", invoice_id=invoice["Id"], amount="45.50")
    assert (response.status_code, response.headers["Location"]) == (303, "/")
    assert uk.current("Invoice", invoice["Id"])["Balance"] == Decimal("74.50")
    assert 'name="amount" value="74.50"' in section(page(uk.sim), "Invoices")
    assert press(uk, "/sim/receive-payment", invoice_id=invoice["Id"], amount="74.50").status_code == 303
    text = page(uk.sim)
    assert "/sim/receive-payment" not in section(text, "Invoices"), "a paid invoice has no button"
    assert section(text, "Payments").count('action="/sim/void-payment"') == 2


def test_refused_payment_says_why(uk):
    invoice = standard_invoice(uk)
    over = press(uk, "/sim/receive-payment", invoice_id=invoice["Id"], amount="500")
    assert over.status_code == 400
    assert "exceeds its open balance" in html.unescape(over.text)
    assert press(uk, "/sim/receive-payment", invoice_id=invoice["Id"], amount="ten").status_code == 400
    assert "needs invoice_id and amount" in press(uk, "/sim/receive-payment", invoice_id=invoice["Id"]).text
    assert uk.table("Payment").rows == {}


def test_void_and_delete_buttons(uk):
    invoice = standard_invoice(uk)
    paid = uk.sim.record_payment(invoice["Id"], "120")
    assert press(uk, "/sim/void-payment", payment_id=paid["Id"]).status_code == 303
    payments = section(page(uk.sim), "Payments")
    assert 'action="/sim/void-payment"' not in payments and 'action="/sim/delete-payment"' in payments
    assert press(uk, "/sim/delete-payment", payment_id=paid["Id"]).status_code == 303
    assert "<h2>Payments (0, 1 deleted)</h2>" in page(uk.sim)
    assert press(uk, "/sim/delete-payment", payment_id=paid["Id"]).status_code == 400
    assert uk.current("Invoice", invoice["Id"])["Balance"] == 120
