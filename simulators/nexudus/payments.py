"""Payments through the Nexudus API: ledger entries and invoice commands (research §1.5, §1.6, §2.7).

Routes (bearer or basic auth like the reads; ``fail_next`` applies to them as to every /api/ call):

* ``POST /api/billing/coworkerledgerentries`` creates a CoworkerLedgerEntry from ``BusinessId``, ``CoworkerId``
  (both required), ``CoworkerInvoiceId``, ``Description``, ``Code``, ``Debit``, ``Credit``,
  ``PaymentGatewayName`` (an ePaymentProvider, 11 Manual by default) and ``TransactionDate`` (now by default).
  A refusal is HTTP 400 with Nexudus's validation envelope (``Errors`` naming each property,
  ``WasSuccessful: false``); success is 200 with the write envelope and ``Value: {"Id": <new id>}``.
* ``POST /api/billing/coworkerinvoices/runcommand`` with ``{"Key", "Ids", "Parameters"}`` runs
  ``PAY_COWORKER_INVOICE_MANUAL`` (parameter "Payment Method", an ePaymentProvider: a ledger entry paying what
  each invoice still owes, dated now, with that ``PaymentGatewayName``) or ``VOID_INVOICE``. Commands always
  answer HTTP 200; one that cannot run says ``WasSuccessful: false`` and why in ``Message``.

Every successful write is noted in ``sim.writes`` as (entity, operation, id): ("CoworkerLedgerEntry", "create",
entry id) or ("CoworkerInvoice", command key, invoice id). :meth:`PaymentsMixin.fail_next_command` makes the
next commands fail (HTTP 200, ``WasSuccessful: false``) without doing anything.

Simulator readings of what the research leaves open:

* uncertainty 4: an entry's ``Credit − Debit`` is applied to its invoice, so partial payments add up in
  ``PaidAmount`` (``ReceivedAmount`` follows). It may not exceed what the invoice still owes (``TotalAmount −
  PaidAmount − CreditedAmount``). A negative amount (a ``Debit``, or a negative ``Credit``: a refund or a
  reversed payment) takes back at most what was paid and reopens a paid invoice. An entry of 0 is refused, and
  drafts, void invoices and credit notes take no entries. ``Balance`` is computed, not read: what the invoice
  still owes after the entry (as in the seeded entries), or ``Debit − Credit`` for an entry without an invoice.
* ``Paid`` is set once nothing is left to pay, and ``PaidOn`` is then the time of the request, not
  ``TransactionDate`` (as FAUX saw live); ``DueAmount`` and ``IsDue`` follow every entry.
* uncertainty 9: every payment, reversal and void bumps the invoice's ``UpdatedOn`` to now, so a
  ``from_CoworkerInvoice_UpdatedOn`` poll sees it; its lines' ``CoworkerInvoice*`` copies follow.
* uncertainty 12: a command runs on all its ``Ids`` or on none; its ``Value`` is null and its messages are the
  simulator's wording. ``VOID_INVOICE`` is refused on an invoice with any payment, partly paid included.
* throttling (§1.5): writes count against the documented limits like every API call, write windows
  included (:mod:`.limits`); a throttled write is refused before it is read and changes nothing.
"""

import json
import uuid
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from ..httpbase import Response
from .invoices import LEDGER_BASE_ID, MANUAL
from .values import iso, local_iso, money, parse_datetime

LEDGER_ENTRIES = r"/api/billing/coworkerledgerentries"
RUN_COMMAND = r"/api/billing/coworkerinvoices/runcommand"
PAY, VOID = "PAY_COWORKER_INVOICE_MANUAL", "VOID_INVOICE"
ZERO = Decimal("0.00")


class Rejected(Exception):
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


def check_amount(invoice, value):
    """Refuse applying ``value`` (a payment if positive, a reversal if negative) to ``invoice``."""
    check_open(invoice)
    if value > owed(invoice):
        raise refuse(f"{value} is more than the {owed(invoice)} invoice {label(invoice)} still owes.", "Credit", value)
    if -value > invoice["PaidAmount"]:
        raise refuse(
            f"{-value} takes back more than the {invoice['PaidAmount']} paid on invoice {label(invoice)}.",
            "Debit",
            -value,
        )


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
                check_amount(form.invoice, form.credit - form.debit)
        except Rejected as exc:
            return Response(400, exc.body())
        entry = self.add_entry(
            form.business,
            form.coworker,
            form.invoice,
            {"Description": form.description, "Code": form.code, "Debit": form.debit, "Credit": form.credit},
            form.gateway,
            user,
            form.date,
        )
        self.writes.append(("CoworkerLedgerEntry", "create", entry["Id"]))
        message = "CoworkerLedgerEntry was successfully created."
        return Response(200, envelope(True, message, {"Id": entry["Id"]}, entry["CreatedOn"], user))

    def add_entry(self, business, coworker, invoice, fields, gateway, user, when=None):
        """Store a ledger entry (``fields``: Description, Code, Debit, Credit) and apply it to its invoice, if any."""
        moment = self.clock()
        when = when or moment
        debit, credit = fields["Debit"], fields["Credit"]
        if invoice is not None:
            self.settle(invoice, credit - debit, moment, user)
        entry_id = max(self.data.coworkerledgerentries, default=LEDGER_BASE_ID - 1) + 1
        entry = {
            "Id": entry_id,
            "UniqueId": str(uuid.uuid4()),
            "BusinessId": business["Id"],
            "BusinessName": business["Name"],
            "CoworkerId": coworker["Id"],
            "CoworkerFullName": coworker["FullName"],
            "CoworkerInvoiceId": invoice and invoice["Id"],
            "CoworkerInvoiceInvoiceNumber": invoice and invoice["InvoiceNumber"],
            "CoworkerInvoiceUniqueId": invoice and invoice["UniqueId"],
            "Description": fields["Description"],
            "Code": fields["Code"],
            "Debit": debit,
            "Credit": credit,
            "Balance": owed(invoice) if invoice is not None else debit - credit,
            "PaymentGatewayName": gateway,
            "PaymentMethodNumber": None,
            "TransactionDate": iso(when),
            "TransactionDateLocal": local_iso(when, ZoneInfo(business["SimpleTimeZoneName"])),
            "Billed": True,
            "ConnectedTransactionGuid": None,
            "CreatedOn": iso(moment),
            "UpdatedOn": iso(moment),
            "UpdatedBy": user,
            "IsNew": False,
            "SystemId": None,
        }
        self.data.coworkerledgerentries[entry_id] = entry
        return entry

    def settle(self, invoice, value, moment, user):
        """Apply a payment (or, negative, a reversal) of ``value`` to ``invoice`` and bump its ``UpdatedOn``."""
        zone = ZoneInfo(self.data.businesses[invoice["BusinessId"]]["SimpleTimeZoneName"])
        paid_amount = invoice["PaidAmount"] + value
        left = invoice["TotalAmount"] - paid_amount - invoice["CreditedAmount"]
        changes = {"PaidAmount": paid_amount, "ReceivedAmount": paid_amount, "Paid": left == 0, "DueAmount": left}
        if left != 0:
            changes |= {"PaidOn": None, "PaidOnLocal": None}
        elif not invoice["Paid"]:
            changes |= {"PaidOn": iso(moment), "PaidOnLocal": local_iso(moment, zone)}
        if value > 0:
            changes |= {"LastPaymentAttempt": iso(moment), "LastPaymentAttemptLocal": local_iso(moment, zone)}
        invoice.update(changes, IsDue=left > 0, UpdatedOn=iso(moment), UpdatedBy=user)
        self.data.sync_lines(invoice["Id"])

    # -- commands --------------------------------------------------------------------------------
    def run_command(self, request, user):
        if self._command_failures:
            return self.command_answer(False, self._command_failures.pop(0), user)
        commands = {PAY: self.pay_invoices, VOID: self.void_invoices}
        try:
            body = json_body(request)
            command = commands.get(body.get("Key"))
            if command is None:
                raise refuse(f"There is no command {body.get('Key')!r} for CoworkerInvoice.")
            invoices = self.command_invoices(body.get("Ids"))
            message = command(invoices, body.get("Parameters"), user)
        except Rejected as exc:
            return self.command_answer(False, exc.reason, user)
        self.writes += [("CoworkerInvoice", body["Key"], invoice["Id"]) for invoice in invoices]
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
            business, coworker = self.data.businesses[invoice["BusinessId"]], self.data.coworkers[invoice["CoworkerId"]]
            fields = {"Description": f"Payment for invoice {label(invoice)}", "Code": "PAYM", "Debit": ZERO}
            self.add_entry(business, coworker, invoice, fields | {"Credit": owed(invoice)}, gateway, user)
        return f"{len(invoices)} invoice(s) marked as paid."

    def void_invoices(self, invoices, parameters, user):
        """VOID_INVOICE: void invoices without payments."""
        for invoice in invoices:
            if invoice["Void"]:
                raise refuse(f"Invoice {label(invoice)} is already void.")
            if invoice["PaidAmount"] > 0:
                raise refuse(f"Invoice {label(invoice)} has payments: a paid invoice cannot be voided.")
        stamp = iso(self.clock())
        for invoice in invoices:
            invoice.update(Void=True, DueAmount=ZERO, IsDue=False, UpdatedOn=stamp, UpdatedBy=user)
        return f"{len(invoices)} invoice(s) voided."


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
