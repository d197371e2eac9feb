"""Payments through the Nexudus API: ledger entries and invoice commands (research §1.5, §1.6, §2.7), and the
plain-Python helpers tests use to change the ledger as people in Nexudus would.

Every entry made here follows the ledger reading of :mod:`.invoices` (rows, codes, signs) and the one rule of
:mod:`.ledger` for what it does to its invoice, as the seeded entries do.

Routes (bearer or basic auth like the reads; ``fail_next`` applies to them as to every /api/ call):

* ``POST /api/billing/coworkerledgerentries`` creates a CoworkerLedgerEntry from ``BusinessId``, ``CoworkerId``
  (both required), ``CoworkerInvoiceId``, ``Description``, ``Code``, ``Debit``, ``Credit``,
  ``PaymentGatewayName`` (an ePaymentProvider, 11 Manual by default) and ``TransactionDate`` (now by default).
  A refusal is HTTP 400 with Nexudus's validation envelope (``Errors`` naming each property,
  ``WasSuccessful: false``); success is 200 with the write envelope and ``Value: {"Id": <new id>}``.
* ``POST /api/billing/coworkerinvoices/runcommand`` with ``{"Key", "Ids", "Parameters"}`` runs:

  - ``PAY_COWORKER_INVOICE_MANUAL`` (parameter "Payment Method", an ePaymentProvider): a PAYM credit paying what
    each invoice still owes, dated now, with that ``PaymentGatewayName``;
  - ``VOID_INVOICE``: ``Void`` set; an issued invoice gets its VOID credit row (a draft, never issued, none);
  - ``COWORKER_INVOICE_REFUND`` (research §2.7 table): paid invoices only, none with a deposit line
    (``ContractDepositUniqueId``); ``Amount{invoiceId}`` (the id is part of the name) is the amount, all of
    ``PaidAmount`` when left out, never more; ``ePaymentProvider0`` (required; FAUX sent "994") is the gateway
    of the REFUND debit row put on the *same* invoice, which then owes that amount again (``Paid`` false); it sets
    ``Refunded`` and ``RefundedOn`` (now), and ``RefundedAmount`` adds the refund or stays 0 per the simulator's
    ``refunded_amount_reading`` ("amount" by default; "zero" is what FAUX saw live). ``Preview`` "true" checks
    everything, changes nothing and records no write.

  Commands always answer HTTP 200; one that cannot run says ``WasSuccessful: false`` and why in ``Message``.

Every successful write is noted in ``sim.writes`` as (entity, operation, id): ("CoworkerLedgerEntry", "create",
entry id) or ("CoworkerInvoice", command key, invoice id). :meth:`PaymentsMixin.fail_next_command` makes the
next commands fail (HTTP 200, ``WasSuccessful: false``) without doing anything.

Helpers for tests (plain Python under the lock, not HTTP, not in ``sim.writes``; each records its rows now,
applies them to the invoice and bumps its ``UpdatedOn``; refused uses raise :class:`Rejected`, a ValueError):

* ``sim.pay(invoice_id, amount, gateway=996, when=None)``: a PAYM credit, dated ``when`` (now by default);
* ``sim.refund(invoice_id, amount, gateway=None)``: a REFUND debit through ``gateway`` (the latest payment's
  method by default), at most ``PaidAmount``; sets ``Refunded``/``RefundedOn``/``RefundedAmount`` as the command;
* ``sim.reverse_direct_debit(entry_id)``: a DDFAIL debit ("Direct debit failed") of a direct-debit payment (3, 14,
  24, 25 or 989), same amount and gateway, on its invoice; once per payment;
* ``sim.allocate_credit(credit_note_id, invoice_id, amount)``: a CRED 994 credit on the invoice and a CRED 994
  debit on the credit note (same customer, at most the note's credit left and what the invoice owes);
* ``sim.add_gift(invoice_id, amount)``: a GIFT 995 credit on the invoice.

Simulator readings of what the research leaves open:

* uncertainty 4: an entry's ``Credit − Debit`` is applied to its invoice, so partial payments add up in
  ``PaidAmount`` (``ReceivedAmount`` follows); with gateway 994 or 995 (credit, not cash) it goes to
  ``CreditedAmount`` instead, except a REFUND or DDFAIL debit, which always takes cash back. It may not exceed
  what the invoice still owes (``TotalAmount − PaidAmount − CreditedAmount``). A negative amount (a ``Debit``,
  or a negative ``Credit``) takes back at most what was paid (or credited) and reopens a paid invoice; a POSTed
  entry sets ``Refunded`` only if its ``Code`` is REFUND. An entry of 0 is refused, and drafts, void invoices
  and credit notes take no entries. ``Balance`` is computed, not read: the customer's running balance after the
  entry (positive: they owe), entries without an invoice included.
* ``Paid`` is set once nothing is left to pay, and ``PaidOn`` is then the time of the request, not
  ``TransactionDate`` (as FAUX saw live); ``DueAmount`` and ``IsDue`` follow every entry.
* uncertainty 9: every entry (payment, refund, reversal, credit, void) bumps the invoice's ``UpdatedOn`` to now,
  so a ``from_CoworkerInvoice_UpdatedOn`` poll sees it; its lines' ``CoworkerInvoice*`` copies follow.
* uncertainty 12: a command runs on all its ``Ids`` or on none; its ``Value`` is null and its messages are the
  simulator's wording. ``VOID_INVOICE`` is refused on an invoice with any payment or credit applied, partly paid
  included, and on a credit note [I].
* throttling (§1.5): writes count against the documented limits like every API call, write windows
  included (:mod:`.limits`); a throttled write is refused before it is read and changes nothing.
"""

import json
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from ..httpbase import Response
from . import ledger
from .ledger import (
    CRED,
    CREDIT,
    DDFAIL,
    DIRECT_DEBITS,
    GIFT,
    GIFT_CARD,
    MANUAL,
    PAYM,
    REFUND,
    ZERO,
    is_cash,
    is_credit_applied,
)
from .values import iso, money, parse_datetime

LEDGER_ENTRIES = r"/api/billing/coworkerledgerentries"
RUN_COMMAND = r"/api/billing/coworkerinvoices/runcommand"
PAY, VOID, REFUND_COMMAND = "PAY_COWORKER_INVOICE_MANUAL", "VOID_INVOICE", "COWORKER_INVOICE_REFUND"
BANK = 996
ADMIN = "admin@example.com"  # who the test helpers act as


class Rejected(ValueError):
    """A write Nexudus refuses; ``errors`` are (property name or None, message, attempted value)."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" if name else message for name, message, _ in errors))

    @property
    def reason(self):
        """The messages alone, as a command's answer gives them."""
        return " ".join(message[:1].upper() + message[1:] for _, message, _ in self.errors)

    def body(self):
        errors = [
            {"AttemptedValue": value, "Message": message, "PropertyName": name} for name, message, value in self.errors
        ]
        return {"Message": str(self), "Value": None, "Errors": errors, "WasSuccessful": False}


def refuse(message, name=None, attempted=None):
    return Rejected([(name, message, attempted)])


def envelope(successful, message, value, updated_on, user):
    """Nexudus's answer to a write (POST, PUT, runcommand), research §1.6."""
    return {
        "Status": 200,
        "Message": message,
        "Value": value,
        "OpenInDialog": False,
        "OpenInWindow": False,
        "RedirectURL": None,
        "JavaScript": None,
        "UpdatedOn": updated_on,
        "UpdatedBy": user,
        "Errors": None,
        "WasSuccessful": successful,
    }


def json_body(request):
    try:
        body = json.loads(request.body.decode("utf-8"), parse_float=Decimal) if request.body else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise refuse("The request body must be a JSON object.")
    return body


def integer(value):
    """An int from a JSON integer or a string of digits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if text.lstrip("-").isdigit() else None


def amount(value):
    """A ``Decimal`` to the cent from a JSON number or a numeric string, else None."""
    if isinstance(value, bool):
        return None
    try:
        result = Decimal(value.strip() if isinstance(value, str) else value)
        return money(result) if result.is_finite() else None
    except (InvalidOperation, TypeError, ValueError):  # not a number, or too large for the cent
        return None


def label(invoice):
    return invoice["InvoiceNumber"] or str(invoice["Id"])


def owed(invoice):
    return invoice["TotalAmount"] - invoice["PaidAmount"] - invoice["CreditedAmount"]


def check_open(invoice):
    """Refuse payments on a credit note, a void invoice or a draft."""
    for flag, what in (("CreditNote", "a credit note"), ("Void", "void"), ("Draft", "a draft")):
        if invoice[flag]:
            raise refuse(
                f"invoice {label(invoice)} is {what} and takes no payments.", "CoworkerInvoiceId", invoice["Id"]
            )


def check_amount(invoice, value, gateway=MANUAL, code=PAYM):
    """Refuse applying ``value`` (a payment or credit if positive, taken back if negative) to ``invoice``."""
    check_open(invoice)
    if value > owed(invoice):
        raise refuse(f"{value} is more than the {owed(invoice)} invoice {label(invoice)} still owes.", "Credit", value)
    credit_applied = is_credit_applied(code, gateway)
    held, what = (invoice["CreditedAmount"], "credited") if credit_applied else (invoice["PaidAmount"], "paid")
    if -value > held:
        raise refuse(f"{-value} takes back more than the {held} {what} on invoice {label(invoice)}.", "Debit", -value)


def positive_amount(value, name="amount"):
    """A helper's amount as a positive ``Decimal`` to the cent, else :class:`Rejected`."""
    result = amount(value)
    if result is None or result <= 0:
        raise refuse(f"{name} {value!r} is not a positive amount.")
    return result


def parameter_values(parameters):
    """A command's ``Parameters`` as {name in lower case: value}."""
    found = {}
    for parameter in parameters if isinstance(parameters, list) else []:
        if isinstance(parameter, dict) and parameter.get("Name") is not None:
            found[str(parameter["Name"]).casefold()] = parameter.get("Value")
    return found


class EntryForm:
    """The fields of a ledger entry POST, read with every problem collected before refusing."""

    def __init__(self, body, data):
        self.body, self.errors = body, []
        self.business = self.record(data.businesses, "BusinessId")
        self.coworker = self.record(data.coworkers, "CoworkerId")
        self.invoice = (
            self.record(data.coworkerinvoices, "CoworkerInvoiceId") if self.given("CoworkerInvoiceId") else None
        )
        self.debit, self.credit = self.money("Debit"), self.money("Credit")
        self.gateway = integer(body["PaymentGatewayName"]) if self.given("PaymentGatewayName") else MANUAL
        if self.gateway is None:
            self.fail("PaymentGatewayName", "is not a valid ePaymentProvider.")
        self.date = parse_datetime(body["TransactionDate"]) if self.given("TransactionDate") else None
        if self.given("TransactionDate") and self.date is None:
            self.fail("TransactionDate", "is not a valid date.")
        self.description, self.code = self.text("Description"), self.text("Code")
        if not self.errors:
            self.check_together()
        if self.errors:
            raise Rejected(self.errors)

    def given(self, name):
        return self.body.get(name) not in (None, "")

    def fail(self, name, message):
        self.errors.append((name, message, self.body.get(name)))

    def record(self, table, name):
        if not self.given(name):
            return self.fail(name, "is a required field")
        found = table.get(integer(self.body[name]))
        if found is None:
            self.fail(name, "was not found.")
        return found

    def money(self, name):
        value = amount(self.body[name]) if self.given(name) else ZERO
        if value is None:
            self.fail(name, "is not a valid number.")
        return value

    def text(self, name):
        value = self.body.get(name)
        if value is not None and not isinstance(value, str):
            self.fail(name, "is not a valid text.")
        return value

    def check_together(self):
        invoice = self.invoice
        if invoice is not None and invoice["CoworkerId"] != self.coworker["Id"]:
            self.fail("CoworkerInvoiceId", f"invoice {label(invoice)} belongs to {invoice['CoworkerFullName']}.")
        elif invoice is not None and invoice["BusinessId"] != self.business["Id"]:
            self.fail("CoworkerInvoiceId", f"invoice {label(invoice)} belongs to {invoice['BusinessName']}.")
        if self.credit == self.debit:
            self.fail("Credit", "Credit or Debit must be other than 0.")


class PaymentsMixin:
    """The payment routes; the simulator provides ``data``, ``lock``, ``now``, ``route`` and the auth checks."""

    def init_payments(self):
        self.writes = []  # (entity, operation, id) of every successful write, in order
        self._command_failures = []  # messages for the next runcommand answers

    def payment_routes(self):
        self.route("POST", LEDGER_ENTRIES, self._writing(self.create_ledger_entry))
        self.route("POST", RUN_COMMAND, self._writing(self.run_command))

    def fail_next_command(self, message, count=1):
        """Make the next ``count`` runcommand calls answer HTTP 200, ``WasSuccessful: false`` and ``message``."""
        with self.lock:
            self._command_failures += [message] * count

    def _writing(self, handler):
        """Authenticate, then run ``handler(request, user email)`` under the lock (limits are checked before)."""

        def write(request):
            denied = self.authenticate(request)
            if denied:
                return denied
            with self.lock:
                return handler(request, self.api_user(request)["Email"])

        return write

    def clock(self):
        return datetime.fromtimestamp(self.now(), timezone.utc)

    # -- ledger entries --------------------------------------------------------------------------
    def create_ledger_entry(self, request, user):
        try:
            form = EntryForm(json_body(request), self.data)
            if form.invoice is not None:
                check_amount(form.invoice, form.credit - form.debit, form.gateway, form.code)
        except Rejected as exc:
            return Response(400, exc.body())
        fields = {"Description": form.description, "Code": form.code, "Debit": form.debit, "Credit": form.credit}
        entry = self.add_entry(form.invoice, fields, form.gateway, user, form.date, form.coworker, form.business)
        self.writes.append(("CoworkerLedgerEntry", "create", entry["Id"]))
        message = "CoworkerLedgerEntry was successfully created."
        return Response(200, envelope(True, message, {"Id": entry["Id"]}, entry["CreatedOn"], user))

    def add_entry(self, invoice, fields, gateway, user, when=None, coworker=None, business=None):
        """Record a ledger entry now (``fields``: Description, Code, Debit, Credit; ``when``: its TransactionDate,
        now by default) and apply it to its invoice, if any, whose lines follow."""
        moment = self.clock()
        entry = self.data.record_entry(
            invoice, fields | {"PaymentGatewayName": gateway}, when or moment, moment, user, coworker, business
        )
        if invoice is not None:
            self.data.sync_lines(invoice["Id"])
        return entry

    # -- commands --------------------------------------------------------------------------------
    def run_command(self, request, user):
        if self._command_failures:
            return self.command_answer(False, self._command_failures.pop(0), user)
        commands = {PAY: self.pay_invoices, VOID: self.void_invoices, REFUND_COMMAND: self.refund_invoices}
        try:
            body = json_body(request)
            command = commands.get(body.get("Key"))
            if command is None:
                raise refuse(f"There is no command {body.get('Key')!r} for CoworkerInvoice.")
            invoices = self.command_invoices(body.get("Ids"))
            message, changed = command(invoices, body.get("Parameters"), user)
        except Rejected as exc:
            return self.command_answer(False, exc.reason, user)
        self.writes += [("CoworkerInvoice", body["Key"], invoice["Id"]) for invoice in changed]
        return self.command_answer(True, message, user)

    def command_answer(self, successful, message, user):
        return Response(200, envelope(successful, message, None, iso(self.clock()), user))

    def command_invoices(self, ids):
        if not isinstance(ids, list) or not ids:
            raise refuse("No CoworkerInvoice was selected: Ids is empty.")
        invoices = []
        for value in ids:
            invoice = self.data.coworkerinvoices.get(integer(value))
            if invoice is None:
                raise refuse(f"CoworkerInvoice {value} was not found.")
            invoices.append(invoice)
        return invoices

    def pay_invoices(self, invoices, parameters, user):
        """PAY_COWORKER_INVOICE_MANUAL: pay what each invoice still owes, dated now."""
        gateway = payment_method(parameters)
        for invoice in invoices:
            check_open(invoice)
            if owed(invoice) <= 0:
                raise refuse(f"Invoice {label(invoice)} is already paid.")
        for invoice in invoices:
            fields = {"Description": f"Payment for invoice {label(invoice)}", "Code": PAYM, "Debit": ZERO}
            self.add_entry(invoice, fields | {"Credit": owed(invoice)}, gateway, user)
        return f"{len(invoices)} invoice(s) marked as paid.", invoices

    def void_invoices(self, invoices, parameters, user):
        """VOID_INVOICE: void invoices without payments or credit applied; an issued one gets its VOID row."""
        for invoice in invoices:
            if invoice["Void"]:
                raise refuse(f"Invoice {label(invoice)} is already void.")
            if invoice["CreditNote"]:
                raise refuse(f"Invoice {label(invoice)} is a credit note: a credit note cannot be voided.")
            if invoice["PaidAmount"] or invoice["CreditedAmount"]:
                raise refuse(f"Invoice {label(invoice)} has payments: a paid invoice cannot be voided.")
        stamp = iso(self.clock())
        for invoice in invoices:
            invoice.update(Void=True, UpdatedOn=stamp, UpdatedBy=user)
            if invoice["Draft"]:  # never issued: nothing in the ledger to reverse
                invoice.update(DueAmount=ZERO, IsDue=False)
            else:
                fields = {"Description": f"Invoice {label(invoice)} voided", "Code": ledger.VOID, "Debit": ZERO}
                self.add_entry(invoice, fields | {"Credit": invoice["DueAmount"]}, None, user)
        return f"{len(invoices)} invoice(s) voided.", invoices

    def refund_invoices(self, invoices, parameters, user):
        """COWORKER_INVOICE_REFUND: refund paid invoices (``Amount{id}``, all that was paid by default) through
        ``ePaymentProvider0``; ``Preview`` "true" checks and changes nothing."""
        named = parameter_values(parameters)
        if named.get("epaymentprovider0") in (None, ""):
            raise refuse("The ePaymentProvider0 parameter is required.")
        gateway = integer(named["epaymentprovider0"])
        if gateway is None:
            raise refuse(f"The ePaymentProvider0 parameter {named['epaymentprovider0']!r} is not an ePaymentProvider.")
        refunds = []
        for invoice in invoices:
            if not invoice["Paid"]:
                raise refuse(f"Invoice {label(invoice)} is not paid: only paid invoices can be refunded.")
            if any(line["ContractDepositUniqueId"] for line in self.data.lines_of(invoice["Id"])):
                raise refuse(f"Invoice {label(invoice)} has a deposit line and cannot be refunded.")
            raw = named.get(f"amount{invoice['Id']}")
            value = invoice["PaidAmount"] if raw in (None, "") else amount(raw)
            if value is None or value <= 0:
                raise refuse(f"Amount{invoice['Id']} {raw!r} is not an amount to refund.")
            if value > invoice["PaidAmount"]:
                raise refuse(f"{value} is more than the {invoice['PaidAmount']} paid on invoice {label(invoice)}.")
            refunds.append((invoice, value))
        if str(named.get("preview", "")).strip().casefold() == "true":
            total = sum((value for _invoice, value in refunds), ZERO)
            return f"Preview: {len(refunds)} invoice(s), {total} would be refunded.", []
        for invoice, value in refunds:
            fields = {"Description": f"Refund for invoice {label(invoice)}", "Code": REFUND, "Credit": ZERO}
            self.add_entry(invoice, fields | {"Debit": value}, gateway, user)
        return f"{len(refunds)} invoice(s) refunded.", invoices

    # -- helpers for tests and demos (plain Python, not HTTP; not in ``writes``) -----------------------
    def pay(self, invoice_id, amount, gateway=BANK, when=None):
        """A payment of ``amount`` on the invoice through ``gateway`` (an ePaymentProvider), recorded now and dated
        ``when`` (an aware datetime, now by default): a PAYM credit. Returns the entry."""
        with self.lock:
            invoice, value = self.data.coworkerinvoices[invoice_id], positive_amount(amount)
            check_amount(invoice, value, gateway)
            fields = {"Description": f"Payment for invoice {label(invoice)}", "Code": PAYM, "Debit": ZERO}
            return dict(self.add_entry(invoice, fields | {"Credit": value}, gateway, ADMIN, when))

    def refund(self, invoice_id, amount, gateway=None):
        """Money paid on the invoice going back to the customer: a REFUND debit through ``gateway`` (by default
        the method of the invoice's latest payment), ``Refunded``/``RefundedOn`` set, ``RefundedAmount`` per the
        switch. Returns the entry."""
        with self.lock:
            invoice, value = self.data.coworkerinvoices[invoice_id], positive_amount(amount)
            if gateway is None:
                gateway = self.latest_payment_method(invoice)
            check_amount(invoice, -value, gateway, REFUND)
            fields = {"Description": f"Refund for invoice {label(invoice)}", "Code": REFUND, "Credit": ZERO}
            return dict(self.add_entry(invoice, fields | {"Debit": value}, gateway, ADMIN))

    def reverse_direct_debit(self, entry_id):
        """The bank reverses direct-debit payment ``entry_id`` (GoCardless, Stripe direct debit...): a DDFAIL
        debit of the same amount and gateway on the same invoice, which owes that again. Returns the entry."""
        with self.lock:
            payment = self.data.coworkerledgerentries[entry_id]
            invoice = self.data.coworkerinvoices.get(payment["CoworkerInvoiceId"])
            gateway = payment["PaymentGatewayName"]
            if invoice is None or payment["Credit"] <= 0 or gateway not in DIRECT_DEBITS:
                raise refuse(f"Entry {entry_id} is not a direct-debit payment on an invoice.")
            if entry_id in self.data.reversed_payments:
                raise refuse(f"Entry {entry_id} was reversed already.")
            check_amount(invoice, -payment["Credit"], gateway, DDFAIL)
            fields = {"Description": "Direct debit failed", "Code": DDFAIL, "Debit": payment["Credit"], "Credit": ZERO}
            self.data.reversed_payments.add(entry_id)
            return dict(self.add_entry(invoice, fields, gateway, ADMIN))

    def allocate_credit(self, credit_note_id, invoice_id, amount):
        """Apply ``amount`` of a credit note's credit to an invoice of the same customer: a CRED 994 credit on the
        invoice and a CRED 994 debit on the credit note. Returns (invoice entry, credit note entry)."""
        with self.lock:
            note, invoice = self.data.coworkerinvoices[credit_note_id], self.data.coworkerinvoices[invoice_id]
            value = positive_amount(amount)
            if not note["CreditNote"] or note["Void"]:
                raise refuse(f"Invoice {label(note)} is not a credit note.")
            if value > -note["DueAmount"]:
                raise refuse(f"Credit note {label(note)} has {-note['DueAmount']} of credit left, not {value}.")
            if note["CoworkerId"] != invoice["CoworkerId"]:
                raise refuse(f"Credit note {label(note)} and invoice {label(invoice)} are not the same customer's.")
            check_amount(invoice, value, CREDIT, CRED)
            on_invoice = {"Description": f"Credit note {label(note)} applied", "Code": CRED, "Debit": ZERO}
            on_note = {"Description": f"Applied to invoice {label(invoice)}", "Code": CRED, "Credit": ZERO}
            return (
                dict(self.add_entry(invoice, on_invoice | {"Credit": value}, CREDIT, ADMIN)),
                dict(self.add_entry(note, on_note | {"Debit": value}, CREDIT, ADMIN)),
            )

    def add_gift(self, invoice_id, amount):
        """A gift card pays ``amount`` of the invoice: a GIFT 995 credit, no counterpart. Returns the entry."""
        with self.lock:
            invoice, value = self.data.coworkerinvoices[invoice_id], positive_amount(amount)
            check_amount(invoice, value, GIFT_CARD, GIFT)
            fields = {"Description": "Gift card", "Code": GIFT, "Debit": ZERO}
            return dict(self.add_entry(invoice, fields | {"Credit": value}, GIFT_CARD, ADMIN))

    def latest_payment_method(self, invoice):
        """The gateway of the invoice's latest cash payment (refused when nothing was paid)."""
        entries = self.data.coworkerledgerentries.values()
        for entry in reversed(entries):
            mine = entry["CoworkerInvoiceId"] == invoice["Id"] and entry["Credit"] > 0
            if mine and is_cash(entry["Code"], entry["PaymentGatewayName"]):
                return entry["PaymentGatewayName"]
        raise refuse(f"Nothing was paid on invoice {label(invoice)}.")


def payment_method(parameters):
    """The ePaymentProvider of the "Payment Method" parameter."""
    for parameter in parameters if isinstance(parameters, list) else []:
        if not isinstance(parameter, dict):
            continue
        if str(parameter.get("Name", "")).casefold() == "payment method" or parameter.get("Type") == "ePaymentProvider":
            value = integer(parameter.get("Value"))
            if value is None:
                raise refuse(f"Payment Method {parameter.get('Value')!r} is not an ePaymentProvider.")
            return value
    raise refuse("The Payment Method parameter is required.")
