"""Nexudus simulator payments: ledger entry POST, PAY_COWORKER_INVOICE_MANUAL and VOID_INVOICE, throttling.

Calls go through :func:`send`, a client that honours the documented request limits (see test_nexudus_sim).
"""

import base64
from datetime import datetime, timezone
from decimal import Decimal

import pytest
import requests

from simulators.httpbase import json_dumps
from simulators.nexudus import NexudusSimulator
from simulators.nexudus.limits import NexudusLimits
from simulators.nexudus.payments import PAY, VOID
from simulators.nexudus.values import parse_datetime

from .test_nexudus_sim import ADMIN, INVOICES, TIMEOUT, envelope, freeze, ids, send, sign_in
from .test_nexudus_sim_overview import page

LEDGER = "/api/billing/coworkerledgerentries"
COMMAND = "/api/billing/coworkerinvoices/runcommand"
WRITE_KEYS = {
    "Status",
    "Message",
    "Value",
    "OpenInDialog",
    "OpenInWindow",
    "RedirectURL",
    "JavaScript",
    "UpdatedOn",
    "UpdatedBy",
    "Errors",
    "WasSuccessful",
}
BANK = [{"Name": "Payment Method", "Type": "ePaymentProvider", "Value": 996}]


@pytest.fixture
def sim():
    with NexudusSimulator() as server:
        yield server


@pytest.fixture
def auth(sim):
    return {"Authorization": f"Bearer {sign_in(sim).json()['access_token']}"}


# -- helpers -------------------------------------------------------------------------------------------------


def post(sim, auth, path, body):
    headers = {**auth, "Content-Type": "application/json"}
    return send(sim, "POST", path, data=json_dumps(body), headers=headers)


def answer(response, status=200):
    assert response.status_code == status, response.text
    return response.json(parse_float=Decimal)


def open_invoices(sim):
    """Issued invoices nobody paid, refunded or credited (nothing in the ledger but their charge), in id order."""
    touched = {e["CoworkerInvoiceId"] for e in sim.data.coworkerledgerentries.values() if e["Code"] != "INV"}
    return [
        invoice
        for invoice in sim.data.coworkerinvoices.values()
        if not (invoice["Draft"] or invoice["Void"] or invoice["CreditNote"])
        and invoice["Id"] not in touched
        and invoice["TotalAmount"] > 0
    ]


def find(sim, **fields):
    return next(i for i in sim.data.coworkerinvoices.values() if all(i[k] == v for k, v in fields.items()))


def entry(invoice, credit=None, debit=None, **extra):
    """A ledger entry body paying ``credit`` (or taking back ``debit``) on ``invoice``, as research §2.7 B."""
    body = {
        "BusinessId": invoice["BusinessId"],
        "CoworkerId": invoice["CoworkerId"],
        "CoworkerInvoiceId": invoice["Id"],
        "Description": "Payment received",
        "Code": "PAYM",
        "Debit": debit or 0,
        "Credit": credit or 0,
        "Balance": 0,
        "PaymentGatewayName": 11,
        "TransactionDate": "2026-01-31T10:00:00Z",
    }
    return body | extra


def pay(sim, auth, invoice, credit=None, debit=None, **extra):
    """POST a ledger entry that must succeed; returns the stored entry."""
    body = answer(post(sim, auth, LEDGER, entry(invoice, credit, debit, **extra)))
    assert body["WasSuccessful"] is True
    return sim.data.coworkerledgerentries[body["Value"]["Id"]]


def refused(response):
    """The validation envelope of a refused write, checked; returns its Errors as (property, message)."""
    body = answer(response, 400)
    assert set(body) == {"Message", "Value", "Errors", "WasSuccessful"}
    assert (body["Value"], body["WasSuccessful"]) == (None, False)
    for error in body["Errors"]:
        assert set(error) == {"AttemptedValue", "Message", "PropertyName"}
    return [(error["PropertyName"], error["Message"]) for error in body["Errors"]]


def command(sim, auth, key, ids, parameters=None):
    body = answer(post(sim, auth, COMMAND, {"Key": key, "Ids": ids, "Parameters": parameters or []}))
    assert set(body) == WRITE_KEYS and body["Status"] == 200
    return body


def failed(body):
    assert (body["WasSuccessful"], body["Value"]) == (False, None)
    return body["Message"]


def near_now(sim, stamp):
    """Stamped by the simulator clock a moment ago (a throttled call moves that clock a few seconds on)."""
    return abs(parse_datetime(stamp).timestamp() - sim.now()) < 60


def customer_balance(sim, coworker_id):
    """The customer's ledger balance: Σ Debit − Credit of all their entries (positive: they owe)."""
    entries = sim.data.coworkerledgerentries.values()
    return sum((e["Debit"] - e["Credit"] for e in entries if e["CoworkerId"] == coworker_id), Decimal("0.00"))


def snapshot(sim):
    return {key: dict(value) for key, value in sim.data.coworkerinvoices.items()}, len(sim.data.coworkerledgerentries)


# -- ledger entries --------------------------------------------------------------------------------------------


def test_a_full_payment_reconciles_the_invoice(sim, auth):
    invoice = open_invoices(sim)[0]
    total = invoice["TotalAmount"]
    balance_before = customer_balance(sim, invoice["CoworkerId"])
    response = post(sim, auth, LEDGER, entry(invoice, total))
    body = answer(response)
    assert set(body) == WRITE_KEYS
    assert (body["Status"], body["Message"], body["WasSuccessful"]) == (
        200,
        "CoworkerLedgerEntry was successfully created.",
        True,
    )
    assert (body["Errors"], body["OpenInDialog"], body["RedirectURL"], body["UpdatedBy"]) == (None, False, None, ADMIN)
    new_id = body["Value"]["Id"]
    assert body["Value"] == {"Id": new_id} and near_now(sim, body["UpdatedOn"])
    invoice = sim.data.coworkerinvoices[invoice["Id"]]
    assert (invoice["Paid"], invoice["PaidAmount"], invoice["ReceivedAmount"]) == (True, total, total)
    assert (invoice["DueAmount"], invoice["IsDue"]) == (0, False)
    assert near_now(sim, invoice["PaidOn"]), "PaidOn is the time of the request, not TransactionDate"
    assert near_now(sim, invoice["UpdatedOn"]) and invoice["UpdatedBy"] == ADMIN
    assert {line["CoworkerInvoicePaid"] for line in sim.data.lines_of(invoice["Id"])} == {True}
    stored = answer(send(sim, "GET", f"{LEDGER}/{new_id}", headers=auth))
    assert (stored["CoworkerInvoiceId"], stored["Credit"], stored["Debit"], stored["Balance"]) == (
        invoice["Id"],
        total,
        0,
        balance_before - total,
    )
    assert (stored["TransactionDate"], stored["PaymentGatewayName"], stored["Code"]) == (
        "2026-01-31T10:00:00Z",
        11,
        "PAYM",
    )
    assert set(stored) == set(next(iter(sim.data.coworkerledgerentries.values()))), "the seeded entries' fields"
    listed = envelope(sim, auth, LEDGER, CoworkerLedgerEntry_CoworkerInvoice=invoice["Id"])
    assert [r["Code"] for r in listed["Records"]] == ["INV", "PAYM"] and ids(listed["Records"])[-1] == new_id
    assert sim.writes == [("CoworkerLedgerEntry", "create", new_id)]


def test_two_partial_payments_add_up(sim, auth):
    invoice = open_invoices(sim)[0]
    total = invoice["TotalAmount"]
    first_part = (total * Decimal("0.4")).quantize(Decimal("0.01"))
    balance_before = customer_balance(sim, invoice["CoworkerId"])
    first = pay(sim, auth, invoice, str(first_part))
    assert first["Balance"] == balance_before - first_part, "the customer's running balance"
    assert (invoice["Paid"], invoice["PaidOn"], invoice["PaidAmount"]) == (False, None, first_part)
    assert (invoice["DueAmount"], invoice["IsDue"]) == (total - first_part, True)
    assert f"<td>{invoice['InvoiceNumber']}</td>" in page(sim) and ">Partly paid</span>" in page(sim)
    second = pay(sim, auth, invoice, total - first_part, PaymentGatewayName=996)
    assert second["Balance"] == balance_before - total
    assert (invoice["Paid"], invoice["PaidAmount"], invoice["DueAmount"]) == (True, total, 0)
    on_invoice = envelope(sim, auth, LEDGER, CoworkerLedgerEntry_CoworkerInvoice=invoice["Id"])["Records"]
    assert [(r["Debit"], r["Credit"], r["PaymentGatewayName"]) for r in on_invoice] == [
        (total, 0, None),
        (0, first_part, 11),
        (0, total - first_part, 996),
    ]


def test_more_than_the_invoice_owes_is_refused(sim, auth):
    invoice = open_invoices(sim)[0]
    before = snapshot(sim)
    over = invoice["TotalAmount"] + Decimal("0.01")
    response = post(sim, auth, LEDGER, entry(invoice, over))
    errors = refused(response)
    assert [name for name, _ in errors] == ["Credit"]
    body = response.json(parse_float=Decimal)
    assert body["Errors"][0]["AttemptedValue"] == over
    assert body["Message"] == f"Credit: {errors[0][1]}" and "still owes" in body["Message"]
    assert snapshot(sim) == before and sim.writes == []
    pay(sim, auth, invoice, "10.00")
    assert refused(post(sim, auth, LEDGER, entry(invoice, invoice["TotalAmount"])))[0][0] == "Credit"


def test_a_debit_or_negative_credit_takes_a_payment_back(sim, auth):
    invoice = open_invoices(sim)[0]
    total = invoice["TotalAmount"]
    pay(sim, auth, invoice, total)
    cursor = invoice["UpdatedOn"]
    sim.clock_offset += 5
    balance_before = customer_balance(sim, invoice["CoworkerId"])
    back = pay(sim, auth, invoice, debit="30.00", Description="Refund")
    assert (back["Debit"], back["Credit"], back["Balance"]) == (30, 0, balance_before + 30)
    assert invoice["Refunded"] is False, "only a REFUND code (or the refund command) is a refund"
    assert (invoice["Paid"], invoice["PaidOn"], invoice["PaidAmount"]) == (False, None, total - 30)
    assert (invoice["DueAmount"], invoice["IsDue"]) == (30, True)
    assert invoice["UpdatedOn"] > cursor
    assert {line["CoworkerInvoicePaid"] for line in sim.data.lines_of(invoice["Id"])} == {False}
    pay(sim, auth, invoice, "-10.00")
    assert invoice["PaidAmount"] == total - 40
    too_much = refused(post(sim, auth, LEDGER, entry(invoice, debit=total)))
    assert too_much[0][0] == "Debit" and "takes back more than" in too_much[0][1]
    pay(sim, auth, invoice, "40.00")
    assert invoice["Paid"] is True and near_now(sim, invoice["PaidOn"])


def test_validation_names_each_property(sim, auth):
    invoice = open_invoices(sim)[0]
    missing = post(sim, auth, LEDGER, {"Credit": 10, "CoworkerInvoiceId": 1})
    assert refused(missing) == [
        ("BusinessId", "is a required field"),
        ("CoworkerId", "is a required field"),
        ("CoworkerInvoiceId", "was not found."),
    ]
    assert answer(missing, 400)["Message"].startswith("BusinessId: is a required field; CoworkerId: ")
    bad = entry(invoice, "ten", PaymentGatewayName="bank", TransactionDate="soon", Description=5)
    assert [name for name, _ in refused(post(sim, auth, LEDGER, bad))] == [
        "Credit",
        "PaymentGatewayName",
        "TransactionDate",
        "Description",
    ]
    assert refused(post(sim, auth, LEDGER, entry(invoice)))[0] == ("Credit", "Credit or Debit must be other than 0.")
    assert refused(post(sim, auth, LEDGER, entry(invoice, "1e400")))[0] == ("Credit", "is not a valid number.")
    other = next(i for i in open_invoices(sim) if i["CoworkerId"] != invoice["CoworkerId"])
    assert refused(post(sim, auth, LEDGER, entry(invoice, 1, CoworkerInvoiceId=other["Id"])))[0][0] == (
        "CoworkerInvoiceId"
    )
    response = send(sim, "POST", LEDGER, data="[1]", headers=auth)
    assert refused(response) == [(None, "The request body must be a JSON object.")]
    assert sim.writes == []


@pytest.mark.parametrize("flag", ["Void", "Draft", "CreditNote"])
def test_void_draft_and_credit_note_take_no_payment(sim, auth, flag):
    invoice = find(sim, **{flag: True})
    errors = refused(post(sim, auth, LEDGER, entry(invoice, 1)))
    assert errors[0][0] == "CoworkerInvoiceId" and "takes no payments" in errors[0][1]


def test_an_entry_without_invoice_is_a_credit_on_account(sim, auth):
    invoice = open_invoices(sim)[0]
    before = snapshot(sim)[0]
    balance_before = customer_balance(sim, invoice["CoworkerId"])
    credit = pay(sim, auth, invoice, "25.00", CoworkerInvoiceId=None, TransactionDate=None)
    assert (credit["CoworkerInvoiceId"], credit["Balance"], credit["Credit"]) == (None, balance_before - 25, 25)
    assert near_now(sim, credit["TransactionDate"])
    assert snapshot(sim)[0] == before


def test_basic_auth_writes_and_no_auth_is_refused(sim):
    invoice = open_invoices(sim)[0]
    basic = {"Authorization": "Basic " + base64.b64encode(f"{ADMIN}:secret".encode()).decode()}
    assert pay(sim, basic, invoice, "1.00")["UpdatedBy"] == ADMIN
    assert requests.post(sim.url + LEDGER, json=entry(invoice, 1), timeout=TIMEOUT).status_code == 401
    assert requests.post(sim.url + COMMAND, json={"Key": PAY, "Ids": [1]}, timeout=TIMEOUT).status_code == 401


# -- commands --------------------------------------------------------------------------------------------------


def test_pay_command_pays_the_remaining_balance_now(sim, auth):
    invoice = open_invoices(sim)[0]
    pay(sim, auth, invoice, "10.00")
    left = invoice["DueAmount"]
    body = command(sim, auth, PAY, [invoice["Id"]], BANK)
    assert body["WasSuccessful"] is True and body["Message"] and body["UpdatedBy"] == ADMIN
    assert (invoice["Paid"], invoice["PaidAmount"], invoice["DueAmount"]) == (True, invoice["TotalAmount"], 0)
    made = max(sim.data.coworkerledgerentries.values(), key=lambda e: e["Id"])
    assert (made["CoworkerInvoiceId"], made["Credit"], made["PaymentGatewayName"], made["Balance"]) == (
        invoice["Id"],
        left,
        996,
        customer_balance(sim, invoice["CoworkerId"]),
    )
    assert near_now(sim, made["TransactionDate"]) and made["Code"] == "PAYM"
    assert sim.writes[-1] == ("CoworkerInvoice", PAY, invoice["Id"])
    string_value = [{"Name": "Payment Method", "Type": "ePaymentProvider", "Value": "997"}]
    second = open_invoices(sim)[0]
    assert command(sim, auth, PAY, [second["Id"]], string_value)["WasSuccessful"] is True
    assert max(sim.data.coworkerledgerentries.values(), key=lambda e: e["Id"])["PaymentGatewayName"] == 997


def test_failed_commands_answer_200_with_was_successful_false(sim, auth):
    invoice, other = open_invoices(sim)[:2]
    command(sim, auth, PAY, [invoice["Id"]], BANK)
    before = snapshot(sim)
    void = find(sim, Void=True)
    assert "already paid" in failed(command(sim, auth, PAY, [invoice["Id"]], BANK))
    assert "is void" in failed(command(sim, auth, PAY, [void["Id"]], BANK))
    assert "not found" in failed(command(sim, auth, PAY, [999999], BANK))
    assert "no command 'PAY_EVERYTHING'" in failed(command(sim, auth, "PAY_EVERYTHING", [other["Id"]], BANK))
    assert "Payment Method" in failed(command(sim, auth, PAY, [other["Id"]]))
    bad_method = [{"Name": "Payment Method", "Type": "ePaymentProvider", "Value": "bank"}]
    assert "not an ePaymentProvider" in failed(command(sim, auth, PAY, [other["Id"]], bad_method))
    assert "Ids is empty" in failed(command(sim, auth, PAY, [], BANK))
    assert failed(command(sim, auth, PAY, [other["Id"], invoice["Id"]], BANK)), "all or nothing"
    assert snapshot(sim) == before
    assert sim.writes == [("CoworkerInvoice", PAY, invoice["Id"])]


def test_void_invoice_command(sim, auth):
    invoice, partly = open_invoices(sim)[:2]
    pay(sim, auth, partly, "1.00")
    cursor = invoice["UpdatedOn"]
    body = command(sim, auth, VOID, [invoice["Id"]])
    assert body["WasSuccessful"] is True
    assert (invoice["Void"], invoice["DueAmount"], invoice["IsDue"]) == (True, 0, False)
    assert invoice["UpdatedOn"] > cursor
    assert "already void" in failed(command(sim, auth, VOID, [invoice["Id"]]))
    assert "cannot be voided" in failed(command(sim, auth, VOID, [partly["Id"]]))
    assert partly["Void"] is False
    assert sim.writes[-1] == ("CoworkerInvoice", VOID, invoice["Id"])


def test_fail_next_command_fails_without_doing_anything(sim, auth):
    invoice = open_invoices(sim)[0]
    sim.fail_next_command("The invoice is locked by another process.")
    body = command(sim, auth, PAY, [invoice["Id"]], BANK)
    assert failed(body) == "The invoice is locked by another process."
    assert invoice["Paid"] is False and sim.writes == []
    assert command(sim, auth, PAY, [invoice["Id"]], BANK)["WasSuccessful"] is True


# -- throttling and failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [LEDGER, COMMAND])
def test_fail_next_applies_to_writes(sim, auth, path):
    invoice = open_invoices(sim)[0]
    body = entry(invoice, "5.00") if path == LEDGER else {"Key": PAY, "Ids": [invoice["Id"]], "Parameters": BANK}
    sim.fail_next(status=409, retry_after=5)
    throttled = post(sim, auth, path, body)
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (409, "5")
    assert throttled.json() == {"Message": "You must wait before accessing this url again."}
    sim.fail_next(status=429, retry_after=3)
    assert "Wait 3 seconds" in answer(post(sim, auth, path, body), 429)["Message"]
    sim.fail_next(status=500)
    assert answer(post(sim, auth, path, body), 500) == {"Message": "An error has occurred."}
    assert invoice["PaidAmount"] == 0 and sim.writes == []
    assert answer(post(sim, auth, path, body))["WasSuccessful"] is True


def test_write_limit_per_minute(sim, auth):
    freeze(sim)
    sim.clock_offset += 60  # past the sign-in's request
    on_account = entry(open_invoices(sim)[0], "1.00", CoworkerInvoiceId=None)
    statuses = []
    for _ in range(61):
        sim.clock_offset += 0.125  # paced: within 1 request per 100 ms
        statuses.append(requests.post(sim.url + LEDGER, json=on_account, headers=auth, timeout=TIMEOUT).status_code)
    assert statuses == [200] * 60 + [409], "60 writes per minute"
    assert sim.throttled_count == 1 and len(sim.writes) == 60
    sim.clock_offset += 0.125
    throttled = requests.post(sim.url + LEDGER, json=on_account, headers=auth, timeout=TIMEOUT)
    # The first write leaves the minute 60 s after it: 60 - 61 x 0.125 = 52.375 s from now.
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (409, "53")
    assert throttled.json() == {"Message": "You must wait before accessing this url again."}
    sim.clock_offset += 0.125
    assert requests.get(sim.url + INVOICES, headers=auth, timeout=TIMEOUT).status_code == 200, "a read is no write"
    sim.clock_offset += 52.375 - 0.125
    assert requests.post(sim.url + LEDGER, json=on_account, headers=auth, timeout=TIMEOUT).status_code == 200
    assert len(sim.writes) == 61


def test_commands_are_writes(sim, auth):
    sim.limits = NexudusLimits(writes_per_minute=1)
    invoice, other = open_invoices(sim)[:2]
    sim.clock_offset += 60  # past the sign-in, a POST too
    assert command(sim, auth, PAY, [invoice["Id"]], BANK)["WasSuccessful"] is True
    sim.clock_offset += 1
    refused = requests.post(sim.url + COMMAND, json={"Key": VOID, "Ids": [other["Id"]]}, headers=auth, timeout=TIMEOUT)
    assert (refused.status_code, refused.headers["Retry-After"]) == (409, "59")
    assert other["Void"] is False and sim.throttle_log[-1][:3] == ("POST", COMMAND, ADMIN)


# -- incremental polling ---------------------------------------------------------------------------------------


def test_payments_bump_updated_on_for_incremental_polls(sim, auth):
    invoice, untouched = open_invoices(sim)[:2]
    cursor = max(i["UpdatedOn"] for i in sim.data.coworkerinvoices.values())
    entries_since = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M")
    before = ids(envelope(sim, auth, INVOICES, from_CoworkerInvoice_UpdatedOn=cursor)["Records"])
    assert invoice["Id"] not in before
    pay(sim, auth, invoice, "5.00")
    changed = envelope(sim, auth, INVOICES, from_CoworkerInvoice_UpdatedOn=cursor, orderBy="UpdatedOn")["Records"]
    assert ids(changed) == [*before, invoice["Id"]] and untouched["Id"] not in ids(changed)
    assert changed[-1]["PaidAmount"] == Decimal("5.00") and changed[-1]["UpdatedOn"] > cursor
    new_entries = envelope(sim, auth, LEDGER, from_CoworkerLedgerEntry_CreatedOn=entries_since)["Records"]
    assert [(r["CoworkerInvoiceId"], r["Credit"]) for r in new_entries] == [(invoice["Id"], 5)]


def test_overview_shows_payments(sim, auth):
    invoice = open_invoices(sim)[0]
    command(sim, auth, PAY, [invoice["Id"]], BANK)
    text = page(sim)
    row = text[text.index(f"<td>{invoice['InvoiceNumber']}</td>") :]
    row = row[: row.index("</tr>")]
    assert f"{invoice['TotalAmount']:,.2f}</td>" in row and ">Paid</span>" in row
    assert invoice["PaidOnLocal"][:10] in row
    payments = text[text.index("<h2>Latest ledger entries (") :]
    assert f"<td>Payment for invoice {invoice['InvoiceNumber']}</td>" in payments and "<td>Bank</td>" in payments
    assert "<td>PAYM</td>" in payments and "<td>INV</td>" in payments
