"""The customer ledger (CoworkerLedgerEntry) mechanics shared by the seeded data and the writes.

One rule for every entry, whoever makes it (the generator in :mod:`.invoices`, the API writes, commands and test
helpers in :mod:`.payments`): :func:`entry` builds the row and :func:`apply` applies it to its invoice. The reading
itself (which rows exist, their codes and signs, what is inferred) is written out in :mod:`.invoices`.

What an entry does to its invoice (``value = Credit − Debit``):

- always: ``DueAmount −= value``, so over an invoice's rows ``Σ(Debit − Credit) == DueAmount``; and ``UpdatedOn``
  moves to the entry's time if that is later (research uncertainty 9);
- a document row (no ``PaymentGatewayName``: the invoice's charge, its void, a credit note's own credit) changes
  nothing else;
- a credit applied (``PaymentGatewayName`` 994 Credit or 995 Gift, any code but ``REFUND``) on an ordinary invoice
  adds ``value`` to ``CreditedAmount``; on a credit note (the credit consumed) it changes nothing else;
- anything else is cash: ``PaidAmount`` (and ``ReceivedAmount``) ``+= value``; a cash credit stamps
  ``LastPaymentAttempt``. ``REFUND`` and ``DDFAIL`` debits always take cash back, whatever their gateway;
- ``REFUND`` sets ``Refunded``, ``RefundedOn`` and adds the refund to ``RefundedAmount`` (``"amount"`` reading) or
  leaves it at 0 (``"zero"``, as FAUX saw live with the command);
- ``Paid`` is true on an ordinary invoice (not draft, void or credit note) once ``DueAmount`` is 0 and something
  was paid or credited; ``PaidOn`` is the moment that happened, null while not paid; ``IsDue`` is
  ``DueAmount > 0``.

``Balance`` is the customer's running balance after the entry (Σ Debit − Credit over all their entries, in the
order they were recorded): positive means the customer owes, negative that they hold credit.
"""

from decimal import Decimal

from .values import iso, local_iso, parse_datetime

ZERO = Decimal("0.00")
LEDGER_BASE_ID = 80000

# Entry codes (``Code`` is free text in Nexudus; these are the simulator's, "PAYM" is the one seen live).
INV, VOID, CN, CRED, PAYM, REFUND, DDFAIL, GIFT = "INV", "VOID", "CN", "CRED", "PAYM", "REFUND", "DDFAIL", "GIFT"

# ePaymentProvider values with a meaning here (research §2.7).
MANUAL, QUICKBOOKS, CREDIT, GIFT_CARD = 11, 501, 994, 995
CREDIT_APPLIED = frozenset({CREDIT, GIFT_CARD})  # credit, not cash
# Debits from a bank account that the bank can reverse days later: GoCardless, GoCardlessPro, StripeACH,
# StripeDirectDebit, ManualDirectDebit.
DIRECT_DEBITS = frozenset({3, 14, 24, 25, 989})
STRIPE, GOCARDLESS_PRO, STRIPE_DIRECT_DEBIT = 4, 14, 25
WITH_CARD_NUMBER = frozenset({3, 4, 14, 15, 24, 25})  # methods that leave a masked account or card number
TAKE_BACK = frozenset({REFUND, DDFAIL})  # debits that return cash, whatever the gateway
REFUNDED_AMOUNT_READINGS = ("amount", "zero")


def ordinary(invoice):
    """An issued invoice that can be paid: not a draft, not void, not a credit note."""
    return not (invoice["Draft"] or invoice["Void"] or invoice["CreditNote"])


def is_credit_applied(code, gateway):
    return gateway in CREDIT_APPLIED and code not in TAKE_BACK


def is_cash(code, gateway):
    return gateway is not None and not is_credit_applied(code, gateway)


def entry(entry_id, unique_id, business, coworker, invoice, fields, balance, when, created, zone, user):
    """A CoworkerLedgerEntry record. ``fields``: Code, Description, Debit, Credit, PaymentGatewayName."""
    gateway = fields["PaymentGatewayName"]
    return {
        "Id": entry_id,
        "UniqueId": unique_id,
        "BusinessId": business["Id"],
        "BusinessName": business["Name"],
        "CoworkerId": coworker["Id"],
        "CoworkerFullName": coworker["FullName"],
        "CoworkerInvoiceId": invoice and invoice["Id"],
        "CoworkerInvoiceInvoiceNumber": invoice and invoice["InvoiceNumber"],
        "CoworkerInvoiceUniqueId": invoice and invoice["UniqueId"],
        "Description": fields["Description"],
        "Code": fields["Code"],
        "Debit": fields["Debit"],
        "Credit": fields["Credit"],
        "Balance": balance,
        "PaymentGatewayName": gateway,
        "PaymentMethodNumber": "****4242" if gateway in WITH_CARD_NUMBER else None,
        "TransactionDate": iso(when),
        "TransactionDateLocal": local_iso(when, zone),
        "Billed": True,
        "ConnectedTransactionGuid": None,  # undocumented: the simulator never links entries
        "CreatedOn": iso(created),
        "UpdatedOn": iso(created),
        "UpdatedBy": user,
        "IsNew": False,
        "SystemId": None,
    }


def apply(invoice, record, moment, zone, user, refunded_reading="amount"):
    """Apply ledger ``record`` (recorded at ``moment``) to its ``invoice``; see the module docstring."""
    code, gateway = record["Code"], record["PaymentGatewayName"]
    value = record["Credit"] - record["Debit"]
    invoice["DueAmount"] -= value
    if is_credit_applied(code, gateway):
        if not invoice["CreditNote"]:
            invoice["CreditedAmount"] += value
    elif is_cash(code, gateway):
        invoice["PaidAmount"] += value
        invoice["ReceivedAmount"] = invoice["PaidAmount"]
        if value > 0:
            invoice["LastPaymentAttempt"], invoice["LastPaymentAttemptLocal"] = iso(moment), local_iso(moment, zone)
    if code == REFUND:
        invoice["Refunded"] = True
        invoice["RefundedOn"], invoice["RefundedOnLocal"] = iso(moment), local_iso(moment, zone)
        if refunded_reading == "amount":
            invoice["RefundedAmount"] += record["Debit"]
    paid = ordinary(invoice) and invoice["DueAmount"] == 0 and invoice["PaidAmount"] + invoice["CreditedAmount"] > 0
    if paid and not invoice["Paid"]:
        invoice["PaidOn"], invoice["PaidOnLocal"] = iso(moment), local_iso(moment, zone)
    elif not paid:
        invoice["PaidOn"] = invoice["PaidOnLocal"] = None
    invoice["Paid"] = paid
    invoice["IsDue"] = invoice["DueAmount"] > 0
    if parse_datetime(invoice["UpdatedOn"]) < moment:
        invoice["UpdatedOn"] = iso(moment)
    invoice["UpdatedBy"] = user
