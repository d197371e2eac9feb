"""A customer ledger read by its meaning: charges are never payments, credit applied is not cash, a
refund is identified positively, anything else is left for a person."""

from decimal import Decimal

import pytest
from nqc_tools.ledger import CREDIT, DOCUMENT, ECHO, PAYMENT, REFUND, REVIEW, classify

D = Decimal


def entry(entry_id=1, debit="0", credit="0", gateway=None, invoice=50001, when="2026-02-01T10:00:00Z", **kw):
    return {
        "Id": entry_id,
        "CoworkerInvoiceId": invoice,
        "Debit": D(debit),
        "Credit": D(credit),
        "PaymentGatewayName": gateway,
        "TransactionDate": when,
        **kw,
    }


CHARGE = entry(1, debit="120.00", when="2026-02-01T00:00:00Z")
PAID = entry(2, credit="120.00", gateway=996, when="2026-02-03T00:00:00Z")


def test_the_invoices_own_charge_is_a_document_never_a_refund():
    assert classify(CHARGE).kind == DOCUMENT
    assert classify(CHARGE, [PAID]).kind == DOCUMENT, "even read after its payment"


@pytest.mark.parametrize("gateway", [4, 14, 11, 996, 997, 998, 991, 3, 25])
def test_a_credit_from_a_payment_method_is_a_payment(gateway):
    reading = classify(entry(credit="17.95", gateway=gateway), [CHARGE])
    assert (reading.kind, reading.amount) == (PAYMENT, D("17.95"))


@pytest.mark.parametrize("gateway", [994, 995])
def test_credit_and_gift_are_credit_applied_not_cash(gateway):
    assert classify(entry(credit="50.00", gateway=gateway), [CHARGE]).kind == CREDIT


def test_credit_consumed_on_the_credit_note_is_a_document():
    assert classify(entry(debit="50.00", gateway=994), [CHARGE]).kind == DOCUMENT


def test_a_debit_from_a_payment_method_after_a_payment_is_a_refund():
    reading = classify(entry(3, debit="20.00", gateway=996, when="2026-02-10T00:00:00Z"), [CHARGE, PAID])
    assert (reading.kind, reading.amount) == (REFUND, D("20.00"))


def test_a_reversed_direct_debit_is_a_refund_of_that_payment():
    direct_debit = entry(2, credit="120.00", gateway=14)
    assert classify(entry(3, debit="120.00", gateway=14, Code="DDFAIL"), [CHARGE, direct_debit]).kind == REFUND


def test_a_debit_from_a_payment_method_without_a_payment_before_it_is_left_for_a_person():
    reading = classify(entry(debit="20.00", gateway=996), [CHARGE])
    assert reading.kind == REVIEW and "no payment before it" in reading.why


@pytest.mark.parametrize(
    "odd",
    [
        entry(debit="5.00", credit="5.00", gateway=996),
        entry(credit="-5.00", gateway=996),
        entry(credit="5.00", gateway=990),
        entry(credit="5.00", gateway="card"),
    ],
)
def test_what_fits_no_reading_is_left_for_a_person(odd):
    assert classify(odd, [CHARGE]).kind == REVIEW


def test_payments_recorded_from_an_accounting_system_are_echoes():
    assert classify(entry(credit="10.00", gateway=501)).kind == ECHO
    assert classify(entry(credit="10.00", gateway=996), from_qbo=True).kind == ECHO


def test_an_entry_on_no_invoice_moves_nothing_here():
    assert classify(entry(credit="10.00", gateway=996, invoice=None)).kind == DOCUMENT
