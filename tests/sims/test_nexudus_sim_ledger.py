"""The Nexudus simulator's customer ledger: the rows Nexudus keeps for each event, as the simulator reads it
(simulators/nexudus/invoices.py), the invoice fields that follow them, the refund command and the test helpers.

Seeded checks read ``NexudusData`` directly (no server); writes go through a simulator of their own.
"""

from collections import Counter, defaultdict
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from simulators.httpbase import json_dumps
from simulators.nexudus import NexudusData, NexudusSimulator
from simulators.nexudus.payments import REFUND_COMMAND, VOID, Rejected
from simulators.nexudus.values import parse_datetime
from simulators.world import build_world

from .test_nexudus_sim import send, sign_in

ZERO = Decimal("0.00")
CASH = {4, 11, 14, 25, 501, 996, 997, 998}
COMMAND = "/api/billing/coworkerinvoices/runcommand"
LEDGER = "/api/billing/coworkerledgerentries"
WORLD = {"seed": 1, "customers": 40, "invoices": 200, "credit_notes": 12, "payments": 120}


@pytest.fixture(scope="module")
def data():
    """A seeded world of about 200 invoices with payments."""
    return NexudusData.from_world(build_world(**WORLD))


@pytest.fixture
def sim():
    with NexudusSimulator(build_world(**WORLD)) as server:
        yield server


def rows_by_invoice(data):
    rows = defaultdict(list)
    for entry in data.coworkerledgerentries.values():
        rows[entry["CoworkerInvoiceId"]].append(entry)
    return rows


def code_rows(data, code):
    return [entry for entry in data.coworkerledgerentries.values() if entry["Code"] == code]


def is_cash(entry):
    return entry["PaymentGatewayName"] not in (None, 994, 995) or entry["Code"] in ("REFUND", "DDFAIL")


def net(rows):
    """Σ Credit − Debit."""
    return sum((entry["Credit"] - entry["Debit"] for entry in rows), ZERO)


def ordinary(invoice):
    return not (invoice["Draft"] or invoice["Void"] or invoice["CreditNote"])


def latest(sim, count=1):
    entries = list(sim.data.coworkerledgerentries.values())
    return entries[-count:] if count > 1 else entries[-1]


def fresh_invoice(sim, index=0):
    """An issued invoice with nothing in the ledger but its charge."""
    touched = {e["CoworkerInvoiceId"] for e in sim.data.coworkerledgerentries.values() if e["Code"] != "INV"}
    return [i for i in sim.data.coworkerinvoices.values() if ordinary(i) and i["Id"] not in touched][index]


def run_command(sim, key, ids, parameters):
    token = sign_in(sim).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json_dumps({"Key": key, "Ids": ids, "Parameters": parameters})
    response = send(sim, "POST", COMMAND, data=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json(parse_float=Decimal)


def refund_parameters(invoice_id, amount=None, provider="994", preview="false"):
    parameters = [{"Name": "Preview", "Value": preview}, {"Name": "ePaymentProvider0", "Value": provider}]
    if amount is not None:
        parameters.insert(0, {"Name": f"Amount{invoice_id}", "Value": str(amount)})
    return parameters


# -- the seeded ledger ---------------------------------------------------------------------------------------


def test_every_issued_invoice_has_exactly_one_charge_equal_to_its_total(data):
    rows = rows_by_invoice(data)
    for invoice in data.coworkerinvoices.values():
        charges = [entry for entry in rows[invoice["Id"]] if entry["Code"] == "INV"]
        if invoice["Draft"] or invoice["CreditNote"]:
            assert not charges
            continue
        assert len(charges) == 1, invoice["InvoiceNumber"]
        charge = charges[0]
        assert (charge["Debit"], charge["Credit"], charge["PaymentGatewayName"]) == (invoice["TotalAmount"], 0, None)
        assert charge["TransactionDate"] == invoice["CreatedOn"]
        assert charge["Description"] == f"Invoice {invoice['InvoiceNumber']}"
    named = {entry["CoworkerInvoiceId"] for entry in data.coworkerledgerentries.values()}
    assert named <= set(data.coworkerinvoices), "every row names an invoice"
    assert not [i for i in named if data.coworkerinvoices[i]["Draft"]], "drafts have no rows"


def test_each_invoices_rows_add_up_to_what_it_says(data):
    rows = rows_by_invoice(data)
    for invoice in data.coworkerinvoices.values():
        own = rows[invoice["Id"]]
        assert -net(own) == invoice["DueAmount"], invoice["InvoiceNumber"]
        if invoice["CreditNote"]:
            consumed = sum((e["Debit"] for e in own if e["Code"] == "CRED"), ZERO)
            assert invoice["DueAmount"] == invoice["TotalAmount"] + consumed <= 0, "minus the credit left"
            assert (invoice["Paid"], invoice["PaidAmount"], invoice["CreditedAmount"]) == (False, 0, 0)
            continue
        if invoice["Draft"] or invoice["Void"]:
            assert (invoice["DueAmount"], invoice["PaidAmount"], invoice["CreditedAmount"]) == (0, 0, 0)
            continue
        not_the_charge = [entry for entry in own if entry["Code"] != "INV"]
        assert net(not_the_charge) == invoice["TotalAmount"] - invoice["DueAmount"]
        assert invoice["PaidAmount"] == invoice["ReceivedAmount"] == net(filter(is_cash, own))
        assert invoice["CreditedAmount"] == net(e for e in own if e["PaymentGatewayName"] in (994, 995))
        assert invoice["DueAmount"] == invoice["TotalAmount"] - invoice["PaidAmount"] - invoice["CreditedAmount"]
        assert invoice["Paid"] == (invoice["DueAmount"] == 0)
        assert invoice["IsDue"] == (invoice["DueAmount"] > 0)
        assert bool(invoice["PaidOn"]) == invoice["Paid"]
        if own:
            newest = max(parse_datetime(entry["TransactionDate"]) for entry in own)
            assert parse_datetime(invoice["UpdatedOn"]) >= newest, "every entry bumps UpdatedOn"


def test_a_void_reverses_its_charge(data):
    rows = rows_by_invoice(data)
    voided = [invoice for invoice in data.coworkerinvoices.values() if invoice["Void"]]
    assert voided
    for invoice in voided:
        own = rows[invoice["Id"]]
        assert [(e["Code"], e["Debit"], e["Credit"], e["PaymentGatewayName"]) for e in own] == [
            ("INV", invoice["TotalAmount"], 0, None),
            ("VOID", 0, invoice["TotalAmount"], None),
        ]
        assert own[0]["TransactionDate"] < own[1]["TransactionDate"]


def test_credit_notes_credit_allocations_pair_with_a_debit_on_the_note(data):
    invoices, entries = data.coworkerinvoices, list(data.coworkerledgerentries.values())
    by_guid = {invoice["UniqueId"]: invoice for invoice in invoices.values()}
    notes = [invoice for invoice in invoices.values() if invoice["CreditNote"]]
    for note in notes:
        own = rows_by_invoice(data)[note["Id"]]
        assert (own[0]["Code"], own[0]["Credit"], own[0]["Debit"], own[0]["PaymentGatewayName"]) == (
            "CN",
            -note["TotalAmount"],
            0,
            None,
        )
        assert all(entry["Code"] == "CRED" and entry["Credit"] == 0 for entry in own[1:])
    kinds = Counter()
    for index, entry in enumerate(entries):
        if entry["PaymentGatewayName"] != 994:
            continue
        assert entry["Code"] == "CRED"
        if entry["Credit"]:
            pair = entries[index + 1]
            note, invoice = invoices[pair["CoworkerInvoiceId"]], invoices[entry["CoworkerInvoiceId"]]
            assert note["CreditNote"] and ordinary(invoice) and note["CoworkerId"] == invoice["CoworkerId"]
            assert (pair["Code"], pair["PaymentGatewayName"], pair["Debit"], pair["Credit"]) == (
                "CRED",
                994,
                entry["Credit"],
                0,
            )
            assert pair["TransactionDate"] == entry["TransactionDate"] >= note["CreatedOn"]
            kinds["allocation" if by_guid[note["OriginalInvoiceGuid"]] is invoice else "account credit"] += 1
        else:
            assert entries[index - 1]["Credit"] == entry["Debit"], "a debit on a note follows its credit"
    assert kinds["allocation"] and kinds["account credit"], kinds
    # A cancelled invoice paid before its credit note leaves credit on the account: not all the note's credit
    # went to it (the rest stays on the note or went to the customer's next invoices).
    originals = [(note, by_guid[note["OriginalInvoiceGuid"]]) for note in notes]
    paid_first = [(note, original) for note, original in originals if original["PaidAmount"]]
    assert paid_first and any(original["CreditedAmount"] < -note["TotalAmount"] for note, original in paid_first)
    for note, original in originals:
        if not original["PaidAmount"]:
            assert original["CreditedAmount"] >= -note["TotalAmount"], "all of it allocated to the original"


def test_payments_come_by_the_customers_methods(data):
    payments = code_rows(data, "PAYM")
    gateways = Counter(entry["PaymentGatewayName"] for entry in payments)
    assert {4, 14, 996, 997, 998, 11, 501} <= set(gateways), gateways
    assert set(gateways) <= CASH
    for entry in payments:
        assert entry["Credit"] > 0 and entry["Debit"] == 0
        assert entry["Description"] == f"Payment for invoice {entry['CoworkerInvoiceInvoiceNumber']}"
        assert bool(entry["PaymentMethodNumber"]) == (entry["PaymentGatewayName"] in (4, 14, 25))
    partly = [i for i in data.coworkerinvoices.values() if ordinary(i) and 0 < i["PaidAmount"] < i["TotalAmount"]]
    instalments = Counter(entry["CoworkerInvoiceId"] for entry in payments)
    assert partly and max(instalments.values()) > 1


def test_refunds_are_cash_debits_after_a_payment(data):
    rows = rows_by_invoice(data)
    refunds = code_rows(data, "REFUND")
    assert len(refunds) >= 3
    whole = part = 0
    for refund in refunds:
        invoice = data.coworkerinvoices[refund["CoworkerInvoiceId"]]
        before = [e for e in rows[invoice["Id"]] if e["Id"] < refund["Id"] and e["Code"] == "PAYM"]
        assert refund["Credit"] == 0 and refund["PaymentGatewayName"] in CASH
        assert any(p["PaymentGatewayName"] == refund["PaymentGatewayName"] for p in before)
        assert refund["Debit"] <= max(p["Credit"] for p in before)
        whole += any(p["Credit"] == refund["Debit"] for p in before)
        part += all(p["Credit"] > refund["Debit"] for p in before)
        assert invoice["Refunded"] is True and invoice["RefundedOn"] == refund["CreatedOn"]
        assert invoice["RefundedAmount"] == sum(e["Debit"] for e in rows[invoice["Id"]] if e["Code"] == "REFUND")
        assert invoice["Paid"] is False and invoice["DueAmount"] >= refund["Debit"], "owes the refund again"
    assert whole and part
    assert all(
        not i["Refunded"]
        for i in data.coworkerinvoices.values()
        if i["Id"] not in {r["CoworkerInvoiceId"] for r in refunds}
    )


def test_reversed_direct_debits_follow_their_payment(data):
    rows = rows_by_invoice(data)
    reversals = code_rows(data, "DDFAIL")
    assert {entry["PaymentGatewayName"] for entry in reversals} == {14, 25}
    for reversal in reversals:
        invoice = data.coworkerinvoices[reversal["CoworkerInvoiceId"]]
        payment = next(
            e
            for e in rows[invoice["Id"]]
            if e["Id"] in data.reversed_payments and e["Id"] < reversal["Id"] and e["Credit"] == reversal["Debit"]
        )
        assert payment["PaymentGatewayName"] == reversal["PaymentGatewayName"]
        assert reversal["Credit"] == 0 and reversal["Description"] == "Direct debit failed"
        days = parse_datetime(reversal["TransactionDate"]) - parse_datetime(payment["TransactionDate"])
        assert 3 <= days.days <= 7
        assert not invoice["Paid"] and not invoice["Refunded"]


def test_gift_cards_credit_an_invoice_with_no_counterpart(data):
    gifts = code_rows(data, "GIFT")
    assert gifts
    for gift in gifts:
        invoice = data.coworkerinvoices[gift["CoworkerInvoiceId"]]
        assert (gift["PaymentGatewayName"], gift["Debit"]) == (995, 0) and gift["Credit"] > 0
        assert invoice["CreditedAmount"] >= gift["Credit"] and ordinary(invoice)
    assert not [e for e in data.coworkerledgerentries.values() if e["PaymentGatewayName"] == 995 and e["Debit"]]


def test_balance_is_the_customers_running_balance_in_date_order(data):
    balances, last = defaultdict(Decimal), ""
    for entry in data.coworkerledgerentries.values():
        balances[entry["CoworkerId"]] += entry["Debit"] - entry["Credit"]
        assert entry["Balance"] == balances[entry["CoworkerId"]]
        assert entry["TransactionDate"] == entry["CreatedOn"] >= last, "ids follow the dates"
        last = entry["TransactionDate"]
        invoice = data.coworkerinvoices[entry["CoworkerInvoiceId"]]
        assert (entry["CoworkerId"], entry["BusinessId"]) == (invoice["CoworkerId"], invoice["BusinessId"])
        assert (entry["CoworkerInvoiceInvoiceNumber"], entry["CoworkerInvoiceUniqueId"]) == (
            invoice["InvoiceNumber"],
            invoice["UniqueId"],
        )
    assert any(balance > 0 for balance in balances.values()), "customers owing"
    assert any(entry["Balance"] < 0 for entry in data.coworkerledgerentries.values()), "customers holding credit"
    assert data.balances == balances


def test_money_has_odd_pence(data):
    amounts = [e["Credit"] or e["Debit"] for e in data.coworkerledgerentries.values()]
    pence = Counter(amount % 1 for amount in amounts)
    assert (
        len(pence) > 50 and sum(count for p, count in pence.items() if p not in (0, Decimal("0.5"))) > len(amounts) // 2
    )
    assert all(amount == amount.quantize(Decimal("0.01")) and amount > 0 for amount in amounts)


def test_no_payments_means_no_money_rows():
    data = NexudusData.from_world(build_world(seed=7, customers=12, invoices=40, payments=0))
    assert {e["Code"] for e in data.coworkerledgerentries.values()} == {"INV", "VOID", "CN", "CRED"}
    by_guid = {invoice["UniqueId"]: invoice for invoice in data.coworkerinvoices.values()}
    for note in (i for i in data.coworkerinvoices.values() if i["CreditNote"]):
        original = by_guid[note["OriginalInvoiceGuid"]]
        assert original["CreditedAmount"] == -note["TotalAmount"] and note["DueAmount"] == 0
        assert original["Paid"] == (original["DueAmount"] == 0), "a cancelled unpaid invoice is paid by its note"


def test_the_same_seed_gives_the_same_ledger(data):
    again = NexudusData.from_world(build_world(**WORLD))
    assert again.coworkerledgerentries == data.coworkerledgerentries
    assert again.coworkerinvoices == data.coworkerinvoices


def test_refunded_amount_can_stay_zero_as_seen_live(data):
    zero = NexudusData.from_world(build_world(**WORLD), refunded_amount_reading="zero")
    refunded = [i for i in zero.coworkerinvoices.values() if i["Refunded"]]
    assert refunded and all(i["RefundedAmount"] == 0 and i["RefundedOn"] for i in refunded)
    assert zero.coworkerledgerentries == data.coworkerledgerentries
    with pytest.raises(ValueError):
        NexudusData.from_world(build_world(), refunded_amount_reading="half")


# -- the refund command --------------------------------------------------------------------------------------


def test_refund_command_refunds_a_paid_invoice(sim):
    invoice = fresh_invoice(sim)
    sim.pay(invoice["Id"], invoice["TotalAmount"], gateway=4)
    assert invoice["Paid"] is True
    cursor, seeded = invoice["UpdatedOn"], len(sim.data.coworkerledgerentries)
    sim.clock_offset += 5
    part = Decimal("12.50")
    body = run_command(sim, REFUND_COMMAND, [invoice["Id"]], refund_parameters(invoice["Id"], part))
    assert body["WasSuccessful"] is True, body["Message"]
    refund = latest(sim)
    assert len(sim.data.coworkerledgerentries) == seeded + 1
    assert (refund["Code"], refund["Debit"], refund["Credit"], refund["PaymentGatewayName"]) == ("REFUND", part, 0, 994)
    assert (invoice["Refunded"], invoice["RefundedAmount"], invoice["RefundedOn"]) == (True, part, refund["CreatedOn"])
    assert (invoice["Paid"], invoice["PaidOn"], invoice["PaidAmount"]) == (False, None, invoice["TotalAmount"] - part)
    assert invoice["DueAmount"] == part and invoice["UpdatedOn"] > cursor
    assert sim.writes[-1] == ("CoworkerInvoice", REFUND_COMMAND, invoice["Id"])


def test_refund_command_refunds_everything_paid_by_default_and_refuses_what_it_cannot(sim):
    paid, unpaid = fresh_invoice(sim), fresh_invoice(sim, 1)
    sim.pay(paid["Id"], paid["TotalAmount"], gateway=997)
    before = (dict(paid), len(sim.data.coworkerledgerentries))
    over = refund_parameters(paid["Id"], paid["TotalAmount"] + Decimal("0.01"))
    assert "more than" in run_command(sim, REFUND_COMMAND, [paid["Id"]], over)["Message"]
    assert "not paid" in run_command(sim, REFUND_COMMAND, [unpaid["Id"]], refund_parameters(unpaid["Id"]))["Message"]
    both = run_command(sim, REFUND_COMMAND, [paid["Id"], unpaid["Id"]], refund_parameters(paid["Id"]))
    assert both["WasSuccessful"] is False, "all or nothing"
    no_provider = [{"Name": f"Amount{paid['Id']}", "Value": "1.00"}]
    assert "ePaymentProvider0" in run_command(sim, REFUND_COMMAND, [paid["Id"]], no_provider)["Message"]
    preview = run_command(sim, REFUND_COMMAND, [paid["Id"]], refund_parameters(paid["Id"], preview="true"))
    assert preview["WasSuccessful"] is True and preview["Message"].startswith("Preview")
    assert (dict(paid), len(sim.data.coworkerledgerentries)) == before and sim.writes == []
    assert run_command(sim, REFUND_COMMAND, [paid["Id"]], refund_parameters(paid["Id"], provider=997))["WasSuccessful"]
    assert (latest(sim)["Debit"], latest(sim)["PaymentGatewayName"]) == (paid["TotalAmount"], 997)
    assert (paid["PaidAmount"], paid["DueAmount"], paid["RefundedAmount"]) == (
        0,
        paid["TotalAmount"],
        paid["TotalAmount"],
    )


def test_refund_command_refuses_an_invoice_with_a_deposit_line(sim):
    deposit = next(
        invoice
        for invoice in sim.data.coworkerinvoices.values()
        if ordinary(invoice) and any(line["ContractDepositUniqueId"] for line in sim.data.lines_of(invoice["Id"]))
    )
    if deposit["DueAmount"]:
        sim.pay(deposit["Id"], deposit["DueAmount"])
    assert deposit["Paid"] is True
    answer = run_command(sim, REFUND_COMMAND, [deposit["Id"]], refund_parameters(deposit["Id"]))
    assert answer["WasSuccessful"] is False and "deposit" in answer["Message"]


def test_refund_command_can_leave_refunded_amount_at_zero():
    with NexudusSimulator(build_world(), refunded_amount_reading="zero") as server:
        invoice = fresh_invoice(server)
        server.pay(invoice["Id"], invoice["TotalAmount"])
        assert run_command(server, REFUND_COMMAND, [invoice["Id"]], refund_parameters(invoice["Id"], "10.01"))[
            "WasSuccessful"
        ]
        assert (invoice["Refunded"], invoice["RefundedAmount"], latest(server)["Debit"]) == (
            True,
            0,
            Decimal("10.01"),
        )
        assert invoice["PaidAmount"] == invoice["TotalAmount"] - Decimal("10.01")
    with pytest.raises(ValueError):
        NexudusSimulator(build_world(), refunded_amount_reading="none")


def test_void_command_reverses_the_charge_and_refuses_credit_notes(sim):
    invoice = fresh_invoice(sim)
    assert run_command(sim, VOID, [invoice["Id"]], [])["WasSuccessful"] is True
    void = latest(sim)
    assert (void["Code"], void["Credit"], void["Debit"], void["PaymentGatewayName"]) == (
        "VOID",
        invoice["TotalAmount"],
        0,
        None,
    )
    assert (invoice["Void"], invoice["DueAmount"], invoice["Paid"]) == (True, 0, False)
    note = next(i for i in sim.data.coworkerinvoices.values() if i["CreditNote"])
    assert "credit note" in run_command(sim, VOID, [note["Id"]], [])["Message"]
    credited = next(i for i in sim.data.coworkerinvoices.values() if ordinary(i) and i["CreditedAmount"])
    assert "cannot be voided" in run_command(sim, VOID, [credited["Id"]], [])["Message"]
    draft = next(i for i in sim.data.coworkerinvoices.values() if i["Draft"])
    seeded = len(sim.data.coworkerledgerentries)
    assert run_command(sim, VOID, [draft["Id"]], [])["WasSuccessful"] is True
    assert len(sim.data.coworkerledgerentries) == seeded, "a draft was never issued: nothing to reverse"


# -- helpers for tests ---------------------------------------------------------------------------------------


def test_pay_helper_records_a_dated_payment(sim):
    invoice = fresh_invoice(sim)
    cursor = invoice["UpdatedOn"]
    when = datetime(2026, 7, 1, 9, 30, tzinfo=timezone.utc)
    entry = sim.pay(invoice["Id"], "17.95", gateway=997, when=when)
    assert (entry["Code"], entry["Credit"], entry["PaymentGatewayName"], entry["TransactionDate"]) == (
        "PAYM",
        Decimal("17.95"),
        997,
        "2026-07-01T09:30:00Z",
    )
    assert invoice["PaidAmount"] == Decimal("17.95") and invoice["UpdatedOn"] > cursor
    assert sim.pay(invoice["Id"], invoice["DueAmount"])["PaymentGatewayName"] == 996
    assert invoice["Paid"] is True and sim.writes == [], "helpers are no API writes"
    with pytest.raises(Rejected):
        sim.pay(invoice["Id"], "0.01")
    with pytest.raises(Rejected):
        sim.pay(invoice["Id"], "-5")


def test_refund_helper_goes_back_through_the_payment_method(sim):
    invoice = fresh_invoice(sim)
    with pytest.raises(Rejected):
        sim.refund(invoice["Id"], "1.00")  # nothing paid
    sim.pay(invoice["Id"], "199.99", gateway=14)
    refund = sim.refund(invoice["Id"], "12.50")
    assert (refund["Code"], refund["Debit"], refund["PaymentGatewayName"]) == ("REFUND", Decimal("12.50"), 14)
    assert (invoice["PaidAmount"], invoice["Refunded"], invoice["RefundedAmount"]) == (
        Decimal("187.49"),
        True,
        Decimal("12.50"),
    )
    assert sim.refund(invoice["Id"], "7.49", gateway=996)["PaymentGatewayName"] == 996
    assert invoice["RefundedAmount"] == Decimal("19.99")
    with pytest.raises(Rejected):
        sim.refund(invoice["Id"], "180.01")


def test_reverse_direct_debit_helper(sim):
    invoice = fresh_invoice(sim)
    payment = sim.pay(invoice["Id"], invoice["TotalAmount"], gateway=25)
    assert invoice["Paid"] is True
    cursor = invoice["UpdatedOn"]
    sim.clock_offset += 5
    reversal = sim.reverse_direct_debit(payment["Id"])
    assert (reversal["Code"], reversal["Description"], reversal["Debit"], reversal["PaymentGatewayName"]) == (
        "DDFAIL",
        "Direct debit failed",
        invoice["TotalAmount"],
        25,
    )
    assert (invoice["Paid"], invoice["PaidAmount"], invoice["DueAmount"]) == (False, 0, invoice["TotalAmount"])
    assert invoice["UpdatedOn"] > cursor and invoice["Refunded"] is False
    with pytest.raises(Rejected):
        sim.reverse_direct_debit(payment["Id"])  # once
    cash = sim.pay(invoice["Id"], "5.00", gateway=997)
    with pytest.raises(Rejected):
        sim.reverse_direct_debit(cash["Id"])  # not a direct debit


def test_allocate_credit_helper_pairs_the_rows(sim):
    note = next(i for i in sim.data.coworkerinvoices.values() if i["CreditNote"] and i["DueAmount"] < 0)
    left = -note["DueAmount"]
    invoice = next(
        i
        for i in sim.data.coworkerinvoices.values()
        if ordinary(i) and i["CoworkerId"] == note["CoworkerId"] and i["DueAmount"] >= Decimal("0.02")
    )
    amount = min(left, invoice["DueAmount"]) - Decimal("0.01")
    on_invoice, on_note = sim.allocate_credit(note["Id"], invoice["Id"], amount)
    assert (on_invoice["Code"], on_invoice["Credit"], on_invoice["PaymentGatewayName"]) == ("CRED", amount, 994)
    assert (on_note["Code"], on_note["Debit"], on_note["CoworkerInvoiceId"]) == ("CRED", amount, note["Id"])
    assert note["DueAmount"] == -left + amount and on_note["Id"] == on_invoice["Id"] + 1
    assert on_note["Balance"] == on_invoice["Balance"] + amount
    with pytest.raises(Rejected):
        sim.allocate_credit(note["Id"], invoice["Id"], left)  # more than the note has left
    other = next(i for i in sim.data.coworkerinvoices.values() if ordinary(i) and i["CoworkerId"] != note["CoworkerId"])
    with pytest.raises(Rejected):
        sim.allocate_credit(note["Id"], other["Id"], "0.01")


def test_add_gift_helper(sim):
    invoice = fresh_invoice(sim)
    gift = sim.add_gift(invoice["Id"], "25.00")
    assert (gift["Code"], gift["Credit"], gift["PaymentGatewayName"]) == ("GIFT", Decimal("25.00"), 995)
    assert (invoice["CreditedAmount"], invoice["PaidAmount"]) == (Decimal("25.00"), 0)
    sim.pay(invoice["Id"], invoice["DueAmount"])
    assert invoice["Paid"] is True and invoice["PaidAmount"] == invoice["TotalAmount"] - Decimal("25.00")


def test_a_posted_credit_by_credit_or_gift_is_no_cash(sim):
    invoice = fresh_invoice(sim)
    token = sign_in(sim).json()["access_token"]
    body = {
        "BusinessId": invoice["BusinessId"],
        "CoworkerId": invoice["CoworkerId"],
        "CoworkerInvoiceId": invoice["Id"],
        "Credit": "40.00",
        "PaymentGatewayName": 994,
    }
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    assert send(sim, "POST", LEDGER, data=json_dumps(body), headers=headers).json()["WasSuccessful"] is True
    assert (invoice["CreditedAmount"], invoice["PaidAmount"]) == (Decimal("40.00"), 0)


def test_touching_an_issue_or_a_void_records_its_row(sim):
    draft = next(i for i in sim.data.coworkerinvoices.values() if i["Draft"] and i["InvoiceNumber"])
    sim.touch_invoice(draft["Id"], Draft=False)
    charge = latest(sim)
    assert (charge["Code"], charge["CoworkerInvoiceId"], charge["Debit"]) == ("INV", draft["Id"], draft["TotalAmount"])
    assert draft["DueAmount"] == draft["TotalAmount"] and charge["CreatedOn"] == draft["UpdatedOn"]
    sim.touch_invoice(draft["Id"], Void=True)
    assert (latest(sim)["Code"], latest(sim)["Credit"], draft["DueAmount"]) == ("VOID", draft["TotalAmount"], 0)
