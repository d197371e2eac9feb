import json
import logging
import uuid
from datetime import datetime, timedelta, timezone

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import payment_payload
from ..tools.errors import ApiError, ThrottledError, TransientError
from ..tools.invoice_payload import money
from ..tools.moments import READ_OVERLAP, naive_utc, nexudus_minute
from ..tools.qbo_client import quote

_logger = logging.getLogger(__name__)

LOCK_NAMESPACE = 0x4E54  # pg advisory lock class for "one worker moves this payment"
REQUEST_NAMESPACE = uuid.UUID("5b1e0c52-2f0a-4d6e-8a43-7061796d656e")
CDC_WINDOW = timedelta(days=29)  # QuickBooks looks back 30 days at most; a day's margin for clocks
SEND_CHUNK = 100
MOVABLE = ("to_send", "sending", "held")


def _iso(moment):
    return moment.replace(tzinfo=timezone.utc).isoformat(timespec="seconds")


class NexudusQboPayment(models.Model):
    """Finding payments on each side and moving them to the other, exactly once.

    Sync policy. Nexudus → QuickBooks: ledger entries of the served locations are read from a cursor on
    ``CreatedOn``; an entry paying or refunding a mirrored invoice becomes a row, sent once its invoice is
    in QuickBooks. QuickBooks → Nexudus: one change-data-capture request per run (a query on
    ``LastUpdatedTime`` when the cursor is older than CDC's 30 days) finds payments made in QuickBooks
    against transferred invoices; each becomes a ledger entry on the Nexudus invoice. Payments the
    connector made itself carry a marker and are never echoed back. Deleted or voided QuickBooks payments
    already recorded in Nexudus are left for a person ("Needs attention").
    Each send follows the invoices' protocol: advisory lock, ``sending`` committed before the call, a
    request id (QuickBooks) or a marker looked up before re-posting (Nexudus has no request id).
    """

    _inherit = "nexudus.qbo.payment"

    # -- finding: Nexudus ----------------------------------------------------------------------------
    @api.model
    def _import_nexudus_payments(self, company, client=None):
        client = client or company._nexudus_client()
        invoices = self.env["nexudus.qbo.invoice"]
        found = self.browse()
        for location in company.nexudus_location_ids:
            since = location.payment_cursor - READ_OVERLAP if location.payment_cursor else datetime(2000, 1, 1)
            filters = {
                "CoworkerLedgerEntry_Business": location.nexudus_id,
                "from_CoworkerLedgerEntry_CreatedOn": nexudus_minute(since),
            }
            entries = invoices._nexudus_call(client.list, "coworkerledgerentries", filters, order_by="CreatedOn")
            by_invoice = {
                row.nexudus_id: row
                for row in invoices.search(
                    [
                        ("company_id", "=", company.id),
                        ("nexudus_id", "in", [e.get("CoworkerInvoiceId") for e in entries]),
                    ]
                )
            }
            known = set(
                self.search(
                    [
                        ("company_id", "=", company.id),
                        ("direction", "=", "nexudus_to_qbo"),
                        ("nexudus_ledger_id", "in", [e["Id"] for e in entries]),
                    ]
                ).mapped("nexudus_ledger_id")
            )
            newest = location.payment_cursor
            for entry in entries:
                amount = payment_payload.ledger_amount(entry)
                invoice = by_invoice.get(entry.get("CoworkerInvoiceId"))
                if amount is not None and invoice and not invoice.transferred_by_nexudus and entry["Id"] not in known:
                    found |= self.create(self._values_from_ledger(company, invoice, entry, amount))
                created = naive_utc(entry["CreatedOn"]) if entry.get("CreatedOn") else None
                if created and (not newest or created > newest):
                    newest = created
            location.payment_cursor = newest
            self._commit()
        return found

    def _values_from_ledger(self, company, invoice, entry, amount):
        return {
            "company_id": company.id,
            "direction": "nexudus_to_qbo",
            "invoice_id": invoice.id,
            "amount": float(amount),
            "payment_date": (entry.get("TransactionDateLocal") or entry.get("TransactionDate") or "")[:10] or False,
            "method": payment_payload.provider_name(entry.get("PaymentGatewayName")) or False,
            "nexudus_ledger_id": entry["Id"],
            "source_json": json.dumps(entry, default=str),
        }

    # -- finding: QuickBooks -------------------------------------------------------------------------
    @api.model
    def _pull_qbo_payments(self, company, client=None):
        """Payments changed in QuickBooks since the company's cursor: one request (CDC, or a query when the
        cursor is older than CDC reaches back)."""
        client = client or company._qbo_client()
        now = fields.Datetime.now()
        since = company.qbo_payment_cursor - READ_OVERLAP if company.qbo_payment_cursor else None
        since = since or self._first_pull_start(company) or now
        try:
            if now - since < CDC_WINDOW:
                answer = client.call("GET", "cdc", params={"entities": "Payment", "changedSince": _iso(since)})
                payments = [
                    row
                    for group in (answer.get("CDCResponse") or [{}])[0].get("QueryResponse") or []
                    for row in group.get("Payment") or []
                ]
            else:
                stamp = quote(_iso(since))
                payments = client.query_all("Payment", f"MetaData.LastUpdatedTime > {stamp}")
        except ApiError as exc:
            if exc.retryable:
                raise  # throttled or down: the run pauses and comes back
            raise UserError(self.env._("Reading payments from QuickBooks failed: %(error)s", error=exc)) from exc
        found = self.browse()
        newest = since
        for payment in payments:
            stamp = (payment.get("MetaData") or {}).get("LastUpdatedTime")
            if stamp:
                newest = max(newest, naive_utc(stamp))
            found |= self._take_qbo_payment(company, payment)
        company.sudo().qbo_payment_cursor = newest
        self._commit()
        return found

    def _first_pull_start(self, company):
        """With no cursor yet: payments cannot be older than the first invoice this connector sent."""
        first = self.env["nexudus.qbo.invoice"].search(
            [("company_id", "=", company.id), ("qbo_id", "!=", False)], order="last_transfer_at", limit=1
        )
        return first.last_transfer_at and first.last_transfer_at - timedelta(minutes=1)

    def _take_qbo_payment(self, company, payment):
        rows = self.search(
            [
                ("company_id", "=", company.id),
                ("direction", "=", "qbo_to_nexudus"),
                ("qbo_payment_id", "=", payment["Id"]),
            ]
        )
        gone = payment.get("status") == "Deleted" or payment_payload.is_voided(payment)
        if gone:
            for row in rows.filtered(lambda r: r.state != "attention"):
                row._report_gone(payment)
            return rows
        if payment_payload.is_from_nexudus(payment) or self.search_count(
            [
                ("company_id", "=", company.id),
                ("direction", "=", "nexudus_to_qbo"),
                ("qbo_payment_id", "=", payment["Id"]),
            ]
        ):
            return self.browse()  # made by the connector: never echoed back
        found = self.browse()
        invoices = self.env["nexudus.qbo.invoice"]
        for qbo_invoice_id, amount in payment_payload.invoice_lines(payment):
            invoice = invoices.search(
                [("company_id", "=", company.id), ("qbo_id", "=", qbo_invoice_id), ("is_credit_note", "=", False)],
                limit=1,
            )
            if not invoice:
                continue
            row = rows.filtered(lambda r, i=invoice: r.invoice_id == i)
            if not row:
                found |= self.create(
                    {
                        "company_id": company.id,
                        "direction": "qbo_to_nexudus",
                        "invoice_id": invoice.id,
                        "amount": float(amount),
                        "payment_date": payment.get("TxnDate") or False,
                        "method": (payment.get("PaymentMethodRef") or {}).get("name") or False,
                        "qbo_payment_id": payment["Id"],
                        "source_json": json.dumps(payment, default=str),
                    }
                )
            elif money(row.amount) != amount and row.state == "sent":
                row.write({"state": "attention"})
                row._set_reason(
                    self.env._(
                        "QuickBooks payment %(id)s on %(invoice)s changed from %(old)s to %(new)s after it was "
                        "recorded in Nexudus. Fix: correct the payment on the invoice in Nexudus, then “Mark as dealt "
                        "with”.",
                        id=payment["Id"],
                        invoice=invoice.display_name,
                        old=money(row.amount),
                        new=amount,
                    )
                )
        return found

    def _report_gone(self, payment):
        what = self.env._("deleted") if payment.get("status") == "Deleted" else self.env._("voided")
        if self.state in ("to_send", "held", "failed"):
            text = self.env._(
                "QuickBooks payment %(id)s was %(what)s in QuickBooks before it reached Nexudus: nothing was recorded "
                "there. “Mark as dealt with” once checked.",
                id=payment["Id"],
                what=what,
            )
        else:
            text = self.env._(
                "QuickBooks payment %(id)s (%(amount)s on %(invoice)s) was %(what)s in QuickBooks after it was "
                "recorded in Nexudus (ledger entry %(entry)s). Fix: reverse that payment on the invoice in Nexudus, "
                "then “Mark as dealt with”.",
                id=payment["Id"],
                amount=money(self.amount),
                invoice=self.invoice_id.display_name,
                what=what,
                entry=self.nexudus_ledger_id or "?",
            )
        self.write({"state": "attention"})
        self._set_reason(text)
        manager = self.env.ref("nexudus_qbo_connector.group_nexudus_qbo_manager").user_ids[:1]
        if manager:
            summary = self.env._("QuickBooks payment removed")
            self.activity_schedule("mail.mail_activity_data_todo", summary=summary, note=text, user_id=manager.id)

    def _set_reason(self, text):
        self.write({"reason": text or False})
        if text:
            self.message_post(body=text)

    # -- the scheduled action -----------------------------------------------------------------------
    @api.model
    def _sync_payments(self, company, first_call=True):
        """One call of the scheduled run for one company's payments; returns how many are left to move.
        Each direction's reading and moving is a step of its own: one service asking to wait pauses only
        the steps that call it."""
        to_qbo = company.nexudus_qbo_send_payments
        to_nexudus = company.nexudus_qbo_reconcile_payments and company.nexudus_qbo_auto_pull_payments
        if first_call and to_qbo:
            self._phase(company, "payments from Nexudus", lambda: self._import_nexudus_payments(company))
        if first_call and to_nexudus:
            self._phase(company, "payments from QuickBooks", lambda: self._pull_qbo_payments(company))
        directions = [d for d, on in (("nexudus_to_qbo", to_qbo), ("qbo_to_nexudus", to_nexudus)) if on]
        if not directions:
            return 0
        return self._phase(company, "moving payments", lambda: self._send_chunk(company, directions))

    @api.model
    def _send_chunk(self, company, directions):
        pending = self.search(
            [
                ("company_id", "=", company.id),
                ("direction", "in", directions),
                ("state", "in", MOVABLE),
                *self._not_tried_in_this_run(),
            ],
            order="payment_date, id",
        )
        chunk = pending[:SEND_CHUNK]
        chunk._send_each()
        self.env["ir.cron"]._commit_progress(len(chunk))
        return len(pending) - len(chunk)

    @api.model
    def action_pull_from_qbo(self):
        """Get the payments made in QuickBooks now and record them in Nexudus."""
        company = self.env.company
        if not company.nexudus_qbo_reconcile_payments:
            raise UserError(
                self.env._(
                    "Tick “Reconcile payments made in QuickBooks with Nexudus invoices” in Settings › Nexudus ↔ "
                    "QuickBooks Online first."
                )
            )
        return self._pull_and_move("_pull_qbo_payments", self.env._("Payments from QuickBooks"))

    @api.model
    def action_import_from_nexudus(self):
        """Read the payments recorded in Nexudus now and send them to QuickBooks."""
        return self._pull_and_move("_import_nexudus_payments", self.env._("Payments from Nexudus"))

    @api.model
    def _pull_and_move(self, pull, title):
        with self.env.registry.cursor() as cr:
            env = self.env(cr=cr, su=True)
            payments = env["nexudus.qbo.payment"]
            found = payments.browse()

            def work():
                nonlocal found
                if pull == "_import_nexudus_payments":
                    env["nexudus.qbo.invoice"]._import_company(env.company)  # a payment's invoice may be new too
                found = getattr(payments, pull)(env.company)
                found._send_each()

            pause = payments._paused(work)
            result = payments._notify_result(found.exists()._state_counts(), title, pause)
        return result

    # -- sending ------------------------------------------------------------------------------------
    def _send_now(self):
        """Send these payments now (a person asked): failed ones are tried again as new requests."""
        self.filtered(lambda r: r.state == "failed").write({"state": "to_send"})
        self._commit()
        self._send_each()

    def _send_each(self):
        for company in self.company_id:
            rows = self.filtered(lambda r, c=company: r.company_id == c and r.state in MOVABLE)
            context = _PaymentContext(company)
            ordered = rows.sorted(lambda r: (r.payment_date or fields.Date.today(), r.id))
            ordered._move_each(lambda row, context=context: row._move_locked(context))

    def _record_failure(self, exc):
        self.write({"state": "failed", "request_revision": self.request_revision + 1})
        self._set_reason(f"{self.display_name}: {exc}")

    def _move_locked(self, context):
        cr = self.env.cr
        cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, self.id))
        if not cr.fetchone()[0]:
            return
        try:
            self._commit()
            self.invalidate_recordset()
            if self.state not in MOVABLE:
                return
            self._mark_tried()
            if self.direction == "nexudus_to_qbo":
                self._to_qbo(context)
            else:
                self._to_nexudus(context)
        finally:
            cr.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, self.id))

    def _hold(self, reason):
        if self.state != "held" or self.reason != reason:
            self.write({"state": "held"})
            self._set_reason(reason)
        self._commit()

    def _begin(self, request_id):
        self.write(
            {
                "state": "sending",
                "request_id": request_id,
                "attempts": self.attempts + 1,
                "last_transfer_at": fields.Datetime.now(),
            }
        )
        self._commit()  # "sending" is on record before the request leaves

    def _unbegin(self):
        """The service refused the request unprocessed (asked to wait): nothing reached it."""
        self.write({"state": "to_send"})
        self._commit()

    def _done(self, message, **values):
        self.write({"state": "sent", "reason": False, **values})
        self.message_post(body=message)
        self._commit()

    # -- Nexudus → QuickBooks -----------------------------------------------------------------------
    def _to_qbo(self, context):
        invoice = self.invoice_id
        hold = context.hold_reason()
        if hold:
            return self._hold(hold)
        if invoice.transfer_state not in ("sent",) or not invoice.qbo_id:
            return self._hold(
                self.env._(
                    "Waiting for %(invoice)s to be in QuickBooks (it is “%(state)s”): the payment follows it.",
                    invoice=invoice.display_name,
                    state=dict(invoice._fields["transfer_state"]._description_selection(self.env))[
                        invoice.transfer_state
                    ],
                )
            )
        deposit = context.deposit_account(invoice.location_id)
        if not deposit:
            return self._hold(
                self.env._(
                    "No QuickBooks account to deposit payments to. Fix: map the Nexudus Payments account in "
                    "Nexudus–QuickBooks › Account mappings, or choose the Payments account in Settings."
                )
            )
        entry = self._source()
        amount = money(entry.get("Credit")) - money(entry.get("Debit"))
        if amount < 0:
            return self._refund_in_qbo(context, -amount)
        request_id = self.request_id if self.state == "sending" else self._request_id(context)
        if self.state == "sending":
            found = self._find_qbo_payment(context, entry)
            if found:
                return self._done(
                    self.env._("Found in QuickBooks after an interrupted transfer: adopted."),
                    qbo_payment_id=found["Id"],
                )
        qbo_invoice = context.client.get("Invoice", invoice.qbo_id)
        if money(qbo_invoice.get("Balance")) < amount:
            raise UserError(
                self.env._(
                    "Payment of %(amount)s is more than the %(balance)s still open on %(invoice)s in QuickBooks. "
                    "Fix: check the invoice's payments in both systems.",
                    amount=amount,
                    balance=money(qbo_invoice.get("Balance")),
                    invoice=invoice.display_name,
                )
            )
        body = payment_payload.qbo_payment(
            entry,
            amount,
            invoice_id=invoice.qbo_id,
            customer_id=qbo_invoice["CustomerRef"]["value"],
            deposit_account_id=deposit,
            method_id=context.method_id(entry.get("PaymentGatewayName")),
            currency=(qbo_invoice.get("CurrencyRef") or {}).get("value") if context.multicurrency else None,
        )
        if self.state != "sending":
            self._begin(request_id)
        try:
            payment = context.client.save("Payment", body, request_id=request_id)
        except ThrottledError:
            self._unbegin()
            raise
        except TransientError as exc:
            self.message_post(
                body=self.env._("QuickBooks did not answer (%(error)s): looked up before any resend.", error=exc)
            )
            return self._commit()
        self._done(
            self.env._("Recorded in QuickBooks as payment %(id)s (%(amount)s).", id=payment["Id"], amount=amount),
            qbo_payment_id=payment["Id"],
        )

    def _request_id(self, context):
        key = (
            f"{context.realm}:{self.direction}:{self.nexudus_ledger_id or self.qbo_payment_id}:{self.request_revision}"
        )
        return str(uuid.uuid5(REQUEST_NAMESPACE, key))

    def _find_qbo_payment(self, context, entry):
        marker = payment_payload.nexudus_marker(entry["Id"])
        refs = f"PaymentRefNum = {quote(str(entry['Id'])[:21])}"
        rows = context.client.query_all("Payment", refs)
        return next((row for row in rows if marker in (row.get("PrivateNote") or "")), None)

    def _refund_in_qbo(self, context, refund):
        """A Nexudus refund or reversal takes the amount back from the invoice's latest QuickBooks payment:
        voided when it is the whole payment, reduced otherwise."""
        paid = self.search(
            [
                ("invoice_id", "=", self.invoice_id.id),
                ("direction", "=", "nexudus_to_qbo"),
                ("state", "=", "sent"),
                ("amount", ">", 0),
                ("qbo_payment_id", "!=", False),
            ],
            order="payment_date desc, id desc",
        )
        target = next((p for p in paid if money(p.amount) >= refund), None)
        if not target:
            raise UserError(
                self.env._(
                    "Refund of %(refund)s on %(invoice)s matches no payment sent to QuickBooks. Fix: record the refund "
                    "in QuickBooks by hand (Refund receipt), then “Mark as dealt with”.",
                    refund=refund,
                    invoice=self.invoice_id.display_name,
                )
            )
        current = context.client.get("Payment", target.qbo_payment_id)
        request_id = self._request_id(context)
        self._begin(request_id)
        if money(current.get("TotalAmt")) == refund:
            body = {"Id": current["Id"], "SyncToken": current["SyncToken"], "sparse": True}
            context.client.save("Payment", body, request_id=request_id, operation="void")
            message = self.env._("Voided QuickBooks payment %(id)s (refunded in Nexudus).", id=current["Id"])
        else:
            left = money(current.get("TotalAmt")) - refund
            lines = [dict(line, Amount=left) for line in current.get("Line") or []][:1]
            body = {
                "Id": current["Id"],
                "SyncToken": current["SyncToken"],
                "sparse": True,
                "TotalAmt": left,
                "Line": lines,
            }
            context.client.save("Payment", body, request_id=request_id)
            message = self.env._(
                "Reduced QuickBooks payment %(id)s by %(refund)s (refunded in Nexudus).",
                id=current["Id"],
                refund=refund,
            )
        self._done(message, qbo_payment_id=current["Id"])

    # -- QuickBooks → Nexudus -----------------------------------------------------------------------
    def _to_nexudus(self, context):
        invoice = self.invoice_id
        record = invoice._nexudus_record()
        payment = self._source()
        amount = money(self.amount)
        marker = payment_payload.qbo_marker(payment["Id"])
        nexudus = context.nexudus()
        if self.state == "sending":
            entries = self.env["nexudus.qbo.invoice"]._nexudus_call(
                nexudus.list, "coworkerledgerentries", {"CoworkerLedgerEntry_CoworkerInvoice": invoice.nexudus_id}
            )
            found = next((e for e in entries if marker in (e.get("Description") or "")), None)
            if found:
                return self._done(
                    self.env._("Found in Nexudus after an interrupted transfer: adopted."),
                    nexudus_ledger_id=found["Id"],
                )
        else:
            self._begin(marker)
        body = payment_payload.ledger_entry(payment, amount, record, self.method)
        try:
            entry_id = nexudus.add("coworkerledgerentries", body)
        except ThrottledError:
            self._unbegin()
            raise
        except TransientError as exc:
            self.message_post(
                body=self.env._("Nexudus did not answer (%(error)s): looked up before any resend.", error=exc)
            )
            return self._commit()
        self._done(
            self.env._(
                "Recorded on Nexudus invoice %(invoice)s as ledger entry %(entry)s (%(amount)s).",
                invoice=invoice.display_name,
                entry=entry_id,
                amount=amount,
            ),
            nexudus_ledger_id=entry_id or 0,
        )
        try:  # the invoice's paid amount and status as Nexudus now has them (the next import would too)
            invoice._refresh_now()
        except (ApiError, UserError) as exc:
            _logger.info("Could not refresh %s from Nexudus: %s", invoice.display_name, exc)


class _PaymentContext:
    """What the payments of one run share: clients (made on first use), preferences, accounts."""

    def __init__(self, company):
        self.company = company
        self.realm = company.sudo().qbo_realm_id
        self._client = self._nexudus = self._prefs = self._methods = None

    @property
    def client(self):
        if self._client is None:
            self._client = self.company._qbo_client()
        return self._client

    def nexudus(self):
        if self._nexudus is None:
            self._nexudus = self.company._nexudus_client()
        return self._nexudus

    @property
    def preferences(self):
        if self._prefs is None:
            self._prefs = self.company._qbo_preferences(self.client)
        return self._prefs

    @property
    def multicurrency(self):
        return bool((self.preferences.get("CurrencyPrefs") or {}).get("MultiCurrencyEnabled"))

    def hold_reason(self):
        """Why no payment may go to QuickBooks now (research: automatic application must be off)."""
        sales = self.preferences.get("SalesFormsPrefs") or {}
        on = [
            name
            for name, key in (
                ("Automatically apply payments", "AutoApplyPayments"),
                ("Automatically apply credits", "AutoApplyCredit"),
            )
            if sales.get(key)
        ]
        if not on:
            return None
        env = self.company.env
        return env._(
            "Held: QuickBooks has “%(options)s” on, which would apply this payment to other invoices. Fix: turn it off "
            "in QuickBooks (⚙ › Account and settings › Advanced › Automation), then Retry.",
            options="”, “".join(on),
        )

    def deposit_account(self, location):
        mapping = self.company.env["nexudus.qbo.account.map"].search(
            [("location_id", "=", location.id), ("nexudus_type", "=", "payments"), ("ready", "=", True)], limit=1
        )
        account = mapping.qbo_account_id or self.company.nexudus_qbo_payments_account_id
        return account.qbo_id or None

    def method_id(self, provider):
        name = payment_payload.METHOD_BY_PROVIDER.get(provider)
        if not name:
            return None
        if self._methods is None:
            self._methods = {row.get("Name"): row["Id"] for row in self.client.query_all("PaymentMethod")}
        return self._methods.get(name)
