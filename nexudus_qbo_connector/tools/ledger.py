"""A Nexudus customer ledger read by its meaning: which entries are money moving, which are not.

A customer ledger debits what the customer owes and credits what they paid or were credited (research,
Nexudus API §2.7): each issued invoice has its debit row; a payment is a credit from a payment method
(``PaymentGatewayName``, an ePaymentProvider); a credit from ``994 Credit`` or ``995 Gift`` is credit
applied (a credit note, account credit, a gift card), not cash; a refund is positively identified — a debit
from a payment method on an invoice that had a payment from one before it. Everything else either records
a document (the invoice's own charge, a void, a credit note's own credit, credit consumed) and moves no
money, or cannot be classified and is left for a person. ``classify`` is the one place that decides.
"""

from dataclasses import dataclass

from .invoice_payload import money

PAYMENT, CREDIT, REFUND, DOCUMENT, ECHO, REVIEW = "payment", "credit", "refund", "document", "echo", "review"
CREDIT_PROVIDERS = {994: "Credit", 995: "Gift"}  # credit applied, not cash
ACCOUNTING_PROVIDERS = {500: "Xero", 501: "Quickbooks"}  # recorded from an accounting system
NOT_CASH = {990: "Bad debt"}  # a write-off: no money moved, a person decides


@dataclass(frozen=True)
class Reading:
    kind: str  # PAYMENT, CREDIT, REFUND, DOCUMENT, ECHO or REVIEW
    amount: object  # Decimal, positive
    why: str = ""  # for REVIEW: what did not fit


def _gateway(entry):
    value = entry.get("PaymentGatewayName")
    try:
        return int(value) if value not in (None, "", 0, "0") else None
    except (TypeError, ValueError):
        return -1  # a value no provider has: left for a person


def classify(entry, earlier_entries=(), from_qbo=False):
    """How one ledger ``entry`` of an invoice reads, given the invoice's ``earlier_entries`` (those dated
    before it). ``from_qbo``: the entry carries the connector's own QuickBooks marker."""
    credit, debit = money(entry.get("Credit")), money(entry.get("Debit"))
    gateway = _gateway(entry)
    if not entry.get("CoworkerInvoiceId"):
        return Reading(DOCUMENT, credit or debit)
    if from_qbo or gateway in ACCOUNTING_PROVIDERS:
        return Reading(ECHO, credit or debit)
    if credit < 0 or debit < 0 or (credit and debit):
        return Reading(REVIEW, credit or debit, "both a debit and a credit, or a negative amount")
    if not credit and not debit:
        return Reading(DOCUMENT, credit)
    if gateway is None:
        return Reading(DOCUMENT, credit or debit)  # the invoice's charge, a void, a credit note's own credit
    if gateway in NOT_CASH or gateway == -1:
        return Reading(REVIEW, credit or debit, f"payment method {NOT_CASH.get(gateway, 'unknown')}")
    if credit:
        return Reading(CREDIT if gateway in CREDIT_PROVIDERS else PAYMENT, credit)
    if gateway in CREDIT_PROVIDERS:
        return Reading(DOCUMENT, debit)  # credit consumed: the other side of an application
    paid_before = any(
        money(e.get("Credit")) > 0 and _gateway(e) not in (None, -1, *CREDIT_PROVIDERS, *NOT_CASH)
        for e in earlier_entries
    )
    if paid_before:
        return Reading(REFUND, debit)
    return Reading(REVIEW, debit, "a debit from a payment method with no payment before it")


def order_key(entry):
    """Ledger entries in the order they happened."""
    return (entry.get("TransactionDate") or entry.get("CreatedOn") or "", entry.get("Id") or 0)
