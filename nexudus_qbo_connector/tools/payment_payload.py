"""Payments between Nexudus and QuickBooks: which ledger entries are payments, the QuickBooks Payment for
one (a python-quickbooks document, or its body), and the Nexudus ledger entry for a QuickBooks payment line.

Markers in memos and descriptions say which side a payment started on, so that nothing is echoed back:
a QuickBooks payment the connector made carries ``[nexudus-payment <ledger id>]``; a Nexudus ledger entry
it made carries ``[qbo-payment <payment id>]`` and QuickBooks (501) as provider.
"""

import re
from decimal import Decimal

from .invoice_payload import money
from .qbo_objects import LinkedTxn, Payment, PaymentLine, field, ref, to_body

QUICKBOOKS_PROVIDER = 501  # Nexudus ePaymentProvider "Quickbooks"
# QuickBooks payment method name (lower case) -> Nexudus ePaymentProvider; anything else is QuickBooks (501).
PROVIDER_BY_METHOD = {"cash": 997, "check": 998, "cheque": 998, "credit card": 991, "bank transfer": 996}
# Nexudus ePaymentProvider -> the QuickBooks payment method name it is recorded under, when QuickBooks has it.
# (the defaults of the payment method mappings a manager can change)
METHOD_BY_PROVIDER = {997: "Cash", 998: "Check", 991: "Credit Card", 992: "Credit Card", 993: "Credit Card",
                      4: "Credit Card", 15: "Credit Card", 996: "Bank Transfer", 3: "Direct Debit",
                      14: "Direct Debit", 25: "Direct Debit", 989: "Direct Debit"}  # fmt: skip
# Nexudus ePaymentProvider names (research, ledger entries), for people reading a payment.
PROVIDER_NAMES = {3: "GoCardless", 4: "Stripe", 11: "Manual", 14: "GoCardless Pro", 15: "Credit card",
                  24: "Stripe ACH", 25: "Stripe Direct Debit", 500: "Xero", 501: "QuickBooks",
                  989: "Manual direct debit", 990: "Bad debt", 991: "Credit card (manual)", 994: "Credit",
                  995: "Gift", 996: "Bank transfer", 997: "Cash", 998: "Check", 999: "Other"}  # fmt: skip
NEXUDUS_MARKER = re.compile(r"\[nexudus-(?:payment|credit) ")
QBO_MARKER = re.compile(r"\[qbo-payment (\w+)\]")


def nexudus_marker(entry_id):
    return f"[nexudus-payment {entry_id}]"


def qbo_marker(payment_id):
    return f"[qbo-payment {payment_id}]"


def qbo_payment_document(
    entry, amount, *, invoice_id, customer_id, deposit_account_id=None, method_id=None, currency=None
):
    """The QuickBooks Payment applying ``amount`` of the Nexudus ledger ``entry`` to invoice ``invoice_id``."""
    document = Payment(
        CustomerRef=ref(customer_id),
        TotalAmt=amount,
        Line=[_applied(amount, invoice_id, "Invoice")],
        PaymentRefNum=str(entry["Id"])[:21],
        PrivateNote=f"Nexudus payment {entry['Id']} for invoice {entry.get('CoworkerInvoiceInvoiceNumber') or ''} "
        f"{nexudus_marker(entry['Id'])}",
    )
    date = (entry.get("TransactionDateLocal") or entry.get("TransactionDate") or "")[:10]
    if date:
        document.TxnDate = date
    if deposit_account_id:
        document.DepositToAccountRef = ref(deposit_account_id)
    if method_id:
        document.PaymentMethodRef = ref(method_id)
    if currency:
        document.CurrencyRef = ref(currency)
    return document


def credit_application(entry, amount, **kw):
    """The body of ``credit_application_document`` (same arguments)."""
    return to_body(credit_application_document(entry, amount, **kw))


def credit_application_document(entry, amount, *, invoice, memo, customer_ref, currency_ref=None):
    """The zero-total QuickBooks Payment applying ``amount`` of credit memo ``memo`` (id, number) to
    ``invoice`` (id, number), for the Nexudus ledger ``entry`` that records the credit applied;
    ``customer_ref`` and ``currency_ref`` are references as QuickBooks gave them (dicts or read ``Ref``s)."""
    document = Payment(
        CustomerRef=ref(customer_ref),
        TotalAmt=money(0),
        PaymentRefNum=str(entry["Id"])[:21],
        PrivateNote=f"Nexudus credit {entry['Id']}: credit note {memo[1]} applied to invoice {invoice[1]} "
        f"{nexudus_marker(entry['Id'])}",
        Line=[_applied(amount, invoice[0], "Invoice"), _applied(amount, memo[0], "CreditMemo")],
    )
    date = (entry.get("TransactionDateLocal") or entry.get("TransactionDate") or "")[:10]
    if date:
        document.TxnDate = date
    if currency_ref:
        document.CurrencyRef = ref(currency_ref)
    return document


def _applied(amount, txn_id, txn_type):
    return PaymentLine(Amount=amount, LinkedTxn=[LinkedTxn(TxnId=txn_id, TxnType=txn_type)])


def provider_name(provider):
    return PROVIDER_NAMES.get(provider, f"Nexudus provider {provider}") if provider else ""


def is_from_nexudus(payment):
    """Whether a QuickBooks payment was made by the connector (a Nexudus payment, or a credit applied)."""
    return bool(NEXUDUS_MARKER.search(field(payment, "PrivateNote", default="")))


def invoice_lines(payment):
    """``[(invoice id, amount)]``: what a QuickBooks payment applies to invoices."""
    applied = []
    for line in field(payment, "Line", default=[]):
        for link in field(line, "LinkedTxn", default=[]):
            if field(link, "TxnType") == "Invoice":
                applied.append((str(field(link, "TxnId")), money(field(line, "Amount"))))
    return applied


def is_voided(payment):
    return money(field(payment, "TotalAmt")) == 0 and field(payment, "PrivateNote", default="").startswith("Voided")


def provider_for(method_name):
    return PROVIDER_BY_METHOD.get((method_name or "").strip().lower(), QUICKBOOKS_PROVIDER)


def ledger_entry(payment, amount, invoice, method_name=None):
    """The Nexudus ledger entry recording ``amount`` of QuickBooks ``payment`` on the Nexudus ``invoice``."""
    method = f" by {method_name}" if method_name else ""
    return {
        "BusinessId": invoice["BusinessId"],
        "CoworkerId": invoice["CoworkerId"],
        "CoworkerInvoiceId": invoice["Id"],
        "Description": f"QuickBooks payment {payment['Id']}{method} {qbo_marker(payment['Id'])}",
        "Code": "PAYM",
        "Debit": Decimal("0.00"),
        "Credit": amount,
        "Balance": Decimal("0.00"),
        "PaymentGatewayName": provider_for(method_name),
        "TransactionDate": f"{payment.get('TxnDate')}T12:00:00Z" if payment.get("TxnDate") else None,
    }
