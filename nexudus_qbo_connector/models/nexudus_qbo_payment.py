import json
import logging
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import batching, ledger, payment_payload
from ..tools.batching import SEND_CHUNK
from ..tools.constants import PAYMENT_LOCK
from ..tools.errors import ApiError, ThrottledError, TransientError
from ..tools.invoice_payload import money
from ..tools.moments import READ_OVERLAP, naive_utc, nexudus_minute
from ..tools.qbo_client import quote
from ..tools.qbo_links import document_url
from ..tools.qbo_objects import field, marked, read, to_body
from ..tools.texts import translated
from ..tools.transferability import ACCOUNT_MAPPINGS, ADMINISTRATORS, MANAGERS, PAYMENT_METHODS, SETTINGS
from .nexudus_qbo_transfer_mixin import QUEUE_FIELDS

PAYMENT_STATES = [
    ("to_send", "To send"),
    ("sending", "Sending"),
    ("sent", "Sent"),
    ("held", "Held"),
    ("failed", "Failed"),
    ("attention", "Needs attention"),
    ("review", "Needs review"),
    ("done_by_hand", "Dealt with by hand"),
]
KINDS = [("payment", "Payment"), ("credit", "Credit applied"), ("refund", "Refund")]
WAITING_FOR = [("invoice", "Its invoice"), ("credit_note", "Its credit note"), ("settings", "QuickBooks settings")]
_logger = logging.getLogger(__name__)
REQUEST_NAMESPACE = uuid.UUID("5b1e0c52-2f0a-4d6e-8a43-7061796d656e")
CDC_WINDOW = timedelta(days=29)  # QuickBooks looks back 30 days at most; a day's margin for clocks
MOVABLE = ("to_send", "sending", "held")


class NexudusQboPayment(models.Model):
    """A payment moving between Nexudus and QuickBooks, in one direction, and where it stands.

    Nexudus → QuickBooks: one row per Nexudus ledger entry paying, crediting or refunding a transferred
    invoice, read by its meaning (``tools/ledger.py``).
    QuickBooks → Nexudus: one row per QuickBooks payment line applied to a transferred invoice. The row
    is the queue and the log, like an invoice's; the payment as the other side sent it is kept as JSON.
    """

    _name = "nexudus.qbo.payment"
    _description = "Nexudus–QuickBooks payment"
    _inherit = ["mail.thread", "mail.activity.mixin", "nexudus.qbo.transfer.mixin", "nexudus.qbo.currency.sums"]
    _order = "payment_date desc, id desc"
    _check_company_auto = True
    # Written only by the connector (see the transfer mixin): the payment's state and log, the ids it has on
    # either side once moved, and the bookkeeping of the protocol.
    _queue_fields = ("state", "reason", "waiting_for", "qbo_payment_id", "nexudus_ledger_id", *QUEUE_FIELDS)
    _hand_states = ("to_send", "sending", "held", "failed", "attention", "review")

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    direction = fields.Selection(
        [("nexudus_to_qbo", "Nexudus → QuickBooks"), ("qbo_to_nexudus", "QuickBooks → Nexudus")],
        required=True,
        readonly=True,
    )
    invoice_id = fields.Many2one("nexudus.qbo.invoice", required=True, index=True, readonly=True, check_company=True)
    currency_id = fields.Many2one(related="invoice_id.currency_id", store=True)
    location_id = fields.Many2one(related="invoice_id.location_id", store=True, index=True)
    invoice_number = fields.Char("Nexudus invoice", related="invoice_id.number")
    qbo_invoice_number = fields.Char("QuickBooks invoice", related="invoice_id.qbo_doc_number")
    kind = fields.Selection(KINDS, required=True, default="payment", readonly=True)
    amount = fields.Monetary(readonly=True, help="Negative for a refund or reversal.")
    waiting_for = fields.Selection(WAITING_FOR, readonly=True, help="What a held payment waits for.")
    payment_date = fields.Date("Date", readonly=True)
    method = fields.Char(readonly=True)
    nexudus_ledger_id = fields.Integer("Nexudus ledger entry", readonly=True, index=True)
    qbo_payment_id = fields.Char("QuickBooks payment", readonly=True, index=True)
    state = fields.Selection(PAYMENT_STATES, default="to_send", required=True, readonly=True, index=True, tracking=True)
    reason = fields.Text("Why", readonly=True)
    source_json = fields.Text(readonly=True, groups="base.group_no_one")

    _nexudus_entry_uniq = models.UniqueIndex(
        "(company_id, nexudus_ledger_id) WHERE direction = 'nexudus_to_qbo'",
        "This Nexudus payment is already recorded.",
    )
    _qbo_line_uniq = models.UniqueIndex(
        "(company_id, qbo_payment_id, invoice_id) WHERE direction = 'qbo_to_nexudus'",
        "This QuickBooks payment is already recorded for this invoice.",
    )

    @api.depends("direction", "invoice_id", "amount", "kind")
    def _compute_display_name(self):
        labels = dict(KINDS)
        for payment in self:
            kind = labels.get(payment.kind) or self.env._("Payment")
            payment.display_name = f"{kind} {abs(payment.amount):.2f} – {payment.invoice_id.display_name}"

    def _source(self):
        return json.loads(self.sudo().source_json or "{}", parse_float=Decimal)

    def action_send(self):
        """Send the selected payments (a person asked), whatever the automatic options say: now, or in the
        background for too many for a click (``_send_method``)."""
        return self._run_in_own_transaction(self._send_method(), self.ids, self.env._("Send payments"))

    def action_retry(self):
        rows = self.filtered(lambda r: r.state in ("failed", "held"))
        return self._run_in_own_transaction(rows._send_method(), rows.ids, self.env._("Retry payments"))

    # ------------------------------------------------------------------------------------------------
    # Where a payment can be seen in QuickBooks (a received payment, whichever way it moved).

    qbo_url = fields.Char("In QuickBooks", compute="_compute_qbo_url")

    @api.depends("qbo_payment_id", "company_id.qbo_environment")
    def _compute_qbo_url(self):
        for payment in self:
            payment.qbo_url = document_url(payment.company_id.qbo_environment, "Payment", payment.qbo_payment_id)

    def action_open_in_qbo(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self.qbo_url, "target": "new"}

    # ------------------------------------------------------------------------------------------------
    # Finding payments on each side and moving them to the other, exactly once.
    #
    # Sync policy. Nexudus → QuickBooks: ledger entries of the served locations are read from a cursor on
    # ``CreatedOn``; an entry paying or refunding a mirrored invoice becomes a row, sent once its invoice is
    # in QuickBooks. QuickBooks → Nexudus: one change-data-capture request per run (a query on
    # ``LastUpdatedTime`` when the cursor is older than CDC's 30 days) finds payments made in QuickBooks
    # against transferred invoices; each becomes a ledger entry on the Nexudus invoice. Payments the
    # connector made itself carry a marker and are never echoed back. Deleted or voided QuickBooks payments
    # already recorded in Nexudus are left for a person ("Needs attention").
    # Each send follows the invoices' protocol: advisory lock, ``sending`` committed before the call, a
    # request id (QuickBooks) or a marker looked up before re-posting (Nexudus has no request id).

    _lock_namespace = PAYMENT_LOCK

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
            # The cursor stops short of the first entry whose invoice is not mirrored yet (its import failed or
            # came before the invoice): that entry and the ones after it are read again next time.
            waiting = [e for e in entries if e.get("CoworkerInvoiceId") and e["CoworkerInvoiceId"] not in by_invoice]
            stop = min((naive_utc(e["CreatedOn"]) for e in waiting if e.get("CreatedOn")), default=None)
            earlier = self._earlier_entries(company, by_invoice.values())
            for entry in sorted(entries, key=ledger.order_key):
                invoice = by_invoice.get(entry.get("CoworkerInvoiceId"))
                reading = ledger.classify(
                    entry,
                    earlier.get(invoice.id, []) if invoice else [],
                    from_qbo=bool(payment_payload.QBO_MARKER.search(entry.get("Description") or "")),
                )
                if invoice:
                    earlier.setdefault(invoice.id, []).append(entry)
                moves = reading.kind in (ledger.PAYMENT, ledger.CREDIT, ledger.REFUND, ledger.REVIEW)
                if moves and invoice and not invoice.transferred_by_nexudus and entry["Id"] not in known:
                    found |= self._row_from_ledger(company, invoice, entry, reading)
                created = naive_utc(entry["CreatedOn"]) if entry.get("CreatedOn") else None
                if created and (not newest or created > newest) and (not stop or created < stop):
                    newest = created
            location.payment_cursor = newest
            self._commit()
        return found | self._refunds_without_entries(company)

    def _refunds_without_entries(self, company):
        """Invoices Nexudus says were refunded (``Refunded``, ``RefundedAmount``: the refund command's path)
        with no refund in their ledger: one refund row each, standing for the invoice's flag (its ledger
        id is the invoice's id, negated). Without an amount a person decides."""
        invoices = self.env["nexudus.qbo.invoice"].search(
            [("company_id", "=", company.id), ("nexudus_refunded", "=", True), ("transferred_by_nexudus", "=", False)]
        )
        known = self.search(
            [("company_id", "=", company.id), ("kind", "=", "refund"), ("invoice_id", "in", invoices.ids)]
        ).invoice_id
        found = self.browse()
        for invoice in invoices - known:
            record = invoice._nexudus_record()
            amount = money(record.get("RefundedAmount"))
            entry = {
                "Id": -invoice.nexudus_id,
                "CoworkerInvoiceId": invoice.nexudus_id,
                "Debit": amount,
                "Credit": money(0),
                "PaymentGatewayName": None,
                "Code": "Refunded",
                "Description": f"Invoice {invoice.number} refunded in Nexudus",
                "TransactionDate": record.get("RefundedOn"),
                "TransactionDateLocal": record.get("RefundedOnLocal"),
            }
            reading = ledger.Reading(ledger.REFUND, amount) if amount > 0 else ledger.Reading(
                ledger.REVIEW, amount, "Nexudus says the invoice was refunded but gives no amount (RefundedAmount 0)"
            )  # fmt: skip
            found |= self._row_from_ledger(company, invoice, entry, reading)
        return found

    def _earlier_entries(self, company, invoices):
        """The ledger entries already read for these invoices (a refund needs the payment before it)."""
        rows = self.search(
            [
                ("company_id", "=", company.id),
                ("direction", "=", "nexudus_to_qbo"),
                ("invoice_id", "in", [invoice.id for invoice in invoices]),
            ]
        )
        earlier = {}
        for row in rows.sorted(lambda r: ledger.order_key(r._source())):
            earlier.setdefault(row.invoice_id.id, []).append(row._source())
        return earlier

    def _row_from_ledger(self, company, invoice, entry, reading):
        sign = -1 if reading.kind == ledger.REFUND else 1
        row = self.create(
            {
                "company_id": company.id,
                "direction": "nexudus_to_qbo",
                "invoice_id": invoice.id,
                "kind": {ledger.CREDIT: "credit", ledger.REFUND: "refund"}.get(reading.kind, "payment"),
                "amount": float(sign * reading.amount),
                "payment_date": (entry.get("TransactionDateLocal") or entry.get("TransactionDate") or "")[:10] or False,
                "method": payment_payload.provider_name(entry.get("PaymentGatewayName")) or False,
                "nexudus_ledger_id": entry["Id"],
                "source_json": json.dumps(entry, default=str),
            }
        )
        if reading.kind == ledger.REVIEW:
            row._review(reading.why)
        return row

    def _review(self, why):
        """Nothing is changed in QuickBooks for an entry the connector cannot read; a person looks at it."""
        entry = self._source()
        self.write({"state": "review"})
        self._set_reason(
            self.env._(
                "Nexudus ledger entry %(id)s on %(invoice)s is left for a person: %(why)s. Debit %(debit)s, credit "
                "%(credit)s, payment method %(method)s, code %(code)s, “%(description)s”, dated %(date)s. Nothing "
                "was changed in QuickBooks. Fix: record it in QuickBooks by hand if it moved money, then “Mark as "
                "dealt with”.",
                id=entry.get("Id"),
                invoice=self.invoice_id.display_name,
                why=why,
                debit=money(entry.get("Debit")),
                credit=money(entry.get("Credit")),
                method=payment_payload.provider_name(entry.get("PaymentGatewayName")) or "-",
                code=entry.get("Code") or "-",
                description=entry.get("Description") or "",
                date=(entry.get("TransactionDate") or "")[:10],
            )
        )

    # -- finding: QuickBooks -------------------------------------------------------------------------
    @api.model
    def _pull_qbo_payments(self, company, client=None):
        """Payments changed in QuickBooks since the company's cursor: one request (CDC, or a query when the
        cursor is older than CDC reaches back)."""
        client = client or company._qbo_client()
        since = company.qbo_payment_cursor - READ_OVERLAP if company.qbo_payment_cursor else None
        since = since or self._first_pull_start(company) or fields.Datetime.now()
        payments = self._qbo_payments_changed(client, since)
        found = self.browse()
        newest = since
        for payment in payments:
            stamp = field(payment, "MetaData", "LastUpdatedTime")
            if stamp:
                newest = max(newest, naive_utc(stamp))
            found |= self._take_qbo_payment(company, payment)
        company.sudo().qbo_payment_cursor = newest
        self._commit()
        return found

    def _qbo_payments_changed(self, client, since):
        """The QuickBooks payments changed since ``since``: by change data capture within its window, else
        by a query. A refusal becomes a message for a person; a throttled or unreachable service is raised
        as it is, for the run to pause and come back."""
        try:
            if fields.Datetime.now() - since < CDC_WINDOW:
                return client.changes(["Payment"], _iso(since))["Payment"]
            return client.query_documents("Payment", f"MetaData.LastUpdatedTime > {quote(_iso(since))}")
        except ApiError as exc:
            if exc.retryable:
                raise
            raise UserError(
                self.env._("Reading payments from QuickBooks failed: %(error)s", error=translated(self.env, exc))
            ) from exc

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
                ("qbo_payment_id", "=", payment.Id),
            ]
        )
        gone = field(payment, "status") == "Deleted" or payment_payload.is_voided(payment)
        if gone:
            for row in rows.filtered(lambda r: r.state not in ("attention", "done_by_hand")):
                row._report_gone(payment)
            return rows
        if payment_payload.is_from_nexudus(payment) or self.search_count(
            [
                ("company_id", "=", company.id),
                ("direction", "=", "nexudus_to_qbo"),
                ("qbo_payment_id", "=", payment.Id),
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
                        "payment_date": field(payment, "TxnDate") or False,
                        "method": field(payment, "PaymentMethodRef", "name") or False,
                        "qbo_payment_id": payment.Id,
                        "source_json": json.dumps(to_body(payment), default=str),
                    }
                )
            elif money(row.amount) != amount and row.state == "sent":
                row.write({"state": "attention"})
                row._set_reason(
                    self.env._(
                        "QuickBooks payment %(id)s on %(invoice)s changed from %(old)s to %(new)s after it was "
                        "recorded in Nexudus. Fix: correct the payment on the invoice in Nexudus, then “Mark as dealt "
                        "with”.",
                        id=payment.Id,
                        invoice=invoice.display_name,
                        old=money(row.amount),
                        new=amount,
                    )
                )
        return found

    def _report_gone(self, payment):
        what = self.env._("deleted") if field(payment, "status") == "Deleted" else self.env._("voided")
        if self.state in ("to_send", "held", "failed"):
            text = self.env._(
                "QuickBooks payment %(id)s was %(what)s in QuickBooks before it reached Nexudus: nothing was recorded "
                "there. “Mark as dealt with” once checked.",
                id=payment.Id,
                what=what,
            )
        else:
            text = self.env._(
                "QuickBooks payment %(id)s (%(amount)s on %(invoice)s) was %(what)s in QuickBooks after it was "
                "recorded in Nexudus (ledger entry %(entry)s). Fix: reverse that payment on the invoice in Nexudus, "
                "then “Mark as dealt with”.",
                id=payment.Id,
                amount=money(self.amount),
                invoice=self.invoice_id.display_name,
                what=what,
                entry=self.nexudus_ledger_id or "?",
            )
        self.write({"state": "attention"})
        self._set_reason(text)
        self._ask_manager(self.env._("QuickBooks payment removed"), text)

    def _set_reason(self, text):
        self.write({"reason": text or False})
        if text:
            self._post_reason(text)
            self._note({"held": "held", "failed": "failed"}.get(self.state, "attention"), text)

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
        if not directions and not self.search_count(
            [("company_id", "=", company.id), ("requested_by_id", "!=", False)], limit=1
        ):
            return 0
        remaining = self._phase(company, "moving payments", lambda: self._send_chunk(company, directions))
        self._notify_requesters(company, self._pending(company, directions), self.env._("Sync payments"))
        return remaining

    @api.model
    def _pending(self, company, directions):
        """What waits to be moved: the rows of ``directions``, and those a person's click handed over."""
        return self.search(
            [
                ("company_id", "=", company.id),
                "|", ("direction", "in", directions), ("requested_by_id", "!=", False),
                ("state", "in", MOVABLE),
                *self._not_tried_in_this_run(or_also=self._released()),
            ],
            order="payment_date, id",
        )  # fmt: skip

    @api.model
    def _send_chunk(self, company, directions):
        pending = self._pending(company, directions)
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

        def work(payments):
            company = payments.env.company  # in the action's own transaction, as the connector
            if pull == "_import_nexudus_payments":
                payments.env["nexudus.qbo.invoice"]._import_company(company)  # a payment's invoice may be new too
            found = getattr(payments, pull)(company)
            invoices = payments.env["nexudus.qbo.invoice"].search([("company_id", "=", company.id)])
            found |= payments._released_for(invoices)
            if found._too_many_for_a_click():
                found.filtered(lambda r: r.state in MOVABLE)._hand_to_background()
            else:
                found._send_each()

        return self._in_own_transaction(work, title)

    # -- sending ------------------------------------------------------------------------------------
    def _send_now(self):
        """Send these payments now (a person asked): failed ones are tried again as new requests."""
        for row in self.filtered(lambda r: r.state == "sent"):
            row._note("already", self.env._("%(name)s is already recorded on the other side.", name=row.display_name))
        self.filtered(lambda r: r.state == "failed").write({"state": "to_send"})
        self._commit()
        self._send_each()

    def _send_in_background(self):
        """Hand these payments to the scheduled action; failed ones are tried again as new requests."""
        for row in self.filtered(lambda r: r.state == "sent"):
            row._note("already", self.env._("%(name)s is already recorded on the other side.", name=row.display_name))
        self.filtered(lambda r: r.state == "failed").write({"state": "to_send"})
        self.filtered(lambda r: r.state in MOVABLE)._hand_to_background()

    def _final_outcome(self):
        if self.state == "sent":
            return "created" if self.direction == "nexudus_to_qbo" else "recorded"
        return {"held": "held", "failed": "failed", "attention": "attention", "review": "attention"}.get(
            self.state, "later"
        )

    def _send_each(self):
        for company in self.company_id:
            rows = self.filtered(lambda r, c=company: r.company_id == c and r.state in MOVABLE)
            context = _PaymentContext(company)
            ordered = rows.sorted(lambda r: (r.payment_date or fields.Date.today(), r.id))
            batched = ordered.filtered(lambda r: r.direction == "nexudus_to_qbo" and r.kind == "payment")
            batched = batched if len(batched) > 1 else batched.browse()
            for chunk in batching.chunks(batched):
                chunk._move_batch(context)
            (ordered - batched)._move_each(lambda row, context=context: row._move_locked(context))

    def _record_failure(self, exc):
        self.write({"state": "failed", "request_revision": self.request_revision + 1})
        self._set_reason(f"{self.display_name}: {exc}")
        run = self.env["nexudus.qbo.run"]._tallying()
        run._count(self.company_id, self.invoice_id.location_id, "payments_failed", rows=self)

    def _move_locked(self, context):
        with self._locked() as row:
            if not row or row._fresh().state not in MOVABLE:
                return
            row._mark_tried()
            if row.direction == "nexudus_to_qbo":
                row._to_qbo(context)
            else:
                row._to_nexudus(context)

    def _hold(self, reason, waiting_for):
        if self.state != "held" or self.reason != reason:
            self.write({"state": "held", "waiting_for": waiting_for})
            self._set_reason(reason)
        else:
            self._note("held", reason)
        self._commit()

    def _begin(self, request_id):
        self.write(
            {
                "state": "sending",
                "waiting_for": False,
                "request_id": request_id,
                "attempts": self.attempts + 1,
                "last_transfer_at": fields.Datetime.now(),
            }
        )
        self._commit()  # "sending" is on record before the request leaves

    @api.model
    def _released(self):
        """A domain: held rows whose invoice is now in QuickBooks (their cause has ended)."""
        return ["&", ("waiting_for", "=", "invoice"), ("invoice_id.transfer_state", "=", "sent")]

    @api.model
    def _retry_credits_for(self, notes):
        """Have the credit rows held for a credit note of these credit notes' customers tried again in this
        run (one of them may be the note they wait for)."""
        self.search(
            [
                ("company_id", "in", notes.company_id.ids),
                ("state", "=", "held"),
                ("waiting_for", "=", "credit_note"),
                ("invoice_id.nexudus_coworker_id", "in", notes.mapped("nexudus_coworker_id")),
            ]
        ).write({"tried_run_id": False})

    @api.model
    def _released_for(self, invoices):
        """The payments held for one of ``invoices`` that is now in QuickBooks."""
        return self.search([("invoice_id", "in", invoices.ids), ("state", "=", "held"), *self._released()])

    def _save_payment(self, context, body, request_id):
        """Save one QuickBooks Payment under the protocol (see ``_call_sent``); None when unanswered."""
        if self.state != "sending":
            self._begin(request_id)
        answered, payment = self._call_sent(
            lambda: read("Payment", context.client.save("Payment", body, request_id=request_id))
        )
        return payment if answered else None

    def _call_sent(self, call):
        """Make the call a row in *sending* stands for: refused unprocessed (asked to wait) → back to *To
        send*; unanswered → ``(False, None)``, looked up before anything is sent again; else ``(True, answer)``."""
        try:
            return True, call()
        except ThrottledError:
            self._unbegin()
            raise
        except TransientError as exc:
            self._unanswered(exc)
            return False, None

    def _unbegin(self):
        """The service refused the request unprocessed (asked to wait): nothing reached it."""
        self.write({"state": "to_send"})
        self._commit()

    def _done(self, message, already=False, **values):
        """The payment is on the other side: moved now, or ``already`` there (an interrupted move adopted)."""
        self.write({"state": "sent", "reason": False, "waiting_for": False, **values})
        key = "payments_to_qbo" if self.direction == "nexudus_to_qbo" else "payments_to_nexudus"
        self.env["nexudus.qbo.run"]._tallying()._count(self.company_id, self.invoice_id.location_id, key)
        self._log(message)
        self._note("already" if already else "created" if self.direction == "nexudus_to_qbo" else "recorded")
        self._commit()

    # -- Nexudus → QuickBooks -----------------------------------------------------------------------
    def _to_qbo(self, context):
        if not self._qbo_ready(context):
            return None
        if self.kind == "credit":
            return self._credit_in_qbo(context)
        if self.kind == "refund":
            return self._refund_in_qbo(context, -money(self.amount))
        deposit = self._deposit_or_hold(context)
        if not deposit:
            return None
        entry = self._source()
        request_id = self.request_id if self.state == "sending" else self._request_id(context)
        if self.state == "sending":
            found = self._find_qbo_payment(context, entry)
            if found:
                return self._adopt(found)
        qbo_invoice = context.client.get_document("Invoice", self.invoice_id.qbo_id)
        body = to_body(self._qbo_document(context, entry, qbo_invoice, deposit, money(field(qbo_invoice, "Balance"))))
        payment = self._save_payment(context, body, request_id)
        if not payment:
            return None
        return self._recorded(payment)

    def _qbo_ready(self, context):
        """Whether the payment may go to QuickBooks now; if not, it is held, saying why."""
        invoice = self.invoice_id
        hold = context.hold_reason()
        if hold:
            self._hold(hold, "settings")
            return False
        if invoice.transfer_state not in ("sent",) or not invoice.qbo_id:
            self._hold(
                self.env._(
                    "Waiting for %(invoice)s to be in QuickBooks (it is “%(state)s”): the payment follows it.",
                    invoice=invoice.display_name,
                    state=dict(invoice._fields["transfer_state"]._description_selection(self.env))[
                        invoice.transfer_state
                    ],
                ),
                "invoice",
            )
            return False
        return True

    def _deposit_or_hold(self, context):
        """The QuickBooks account the payment is deposited to; without one, the payment is held."""
        deposit = context.deposit_account(self.invoice_id.location_id)
        if not deposit:
            self._hold(
                self.env._(
                    "No QuickBooks account to deposit payments to. Fix (%(who)s): map the Nexudus Payments account "
                    "in %(where)s, or (%(admins)s) choose the Payments account in %(settings)s.",
                    who=MANAGERS,
                    where=ACCOUNT_MAPPINGS,
                    admins=ADMINISTRATORS,
                    settings=SETTINGS,
                ),
                "settings",
            )
        return deposit

    def _qbo_document(self, context, entry, qbo_invoice, deposit, balance):
        """The QuickBooks Payment of this row, applied to ``qbo_invoice`` with ``balance`` still open."""
        amount = money(self.amount)
        if balance < amount:
            raise UserError(
                self.env._(
                    "Payment of %(amount)s is more than the %(balance)s still open on %(invoice)s in QuickBooks. "
                    "Fix: check the invoice's payments in both systems.",
                    amount=amount,
                    balance=balance,
                    invoice=self.invoice_id.display_name,
                )
            )
        method_id, method_note = context.method(entry.get("PaymentGatewayName"))
        if method_note:
            self._log(method_note)
        return payment_payload.qbo_payment_document(
            entry,
            amount,
            invoice_id=self.invoice_id.qbo_id,
            customer_id=qbo_invoice.CustomerRef.value,
            deposit_account_id=deposit,
            method_id=method_id,
            currency=field(qbo_invoice, "CurrencyRef", "value") if context.multicurrency else None,
        )

    def _adopt(self, found):
        return self._done(
            self.env._("Found in QuickBooks after an interrupted transfer: adopted."),
            already=True,
            qbo_payment_id=found.Id,
        )

    def _recorded(self, payment):
        return self._done(
            self.env._(
                "Recorded in QuickBooks as payment %(id)s (%(amount)s).", id=payment.Id, amount=money(self.amount)
            ),
            qbo_payment_id=payment.Id,
        )

    # -- in batch requests -------------------------------------------------------------------------
    def _move_batch(self, context):
        """Send these payments (at most a batch) in one batch request, under the same protocol as one:
        lock, re-read, look up those in *Sending* with one query, commit *Sending*, call, record."""
        with self._locked() as rows:
            rows = rows._fresh().filtered(lambda r: r.state in MOVABLE)
            rows._mark_tried()
            self._commit()
            deposits = {}

            def check(row):
                if row._qbo_ready(context):
                    deposits[row] = row._deposit_or_hold(context)

            rows._move_each(check)
            ready = rows.filtered(lambda r: deposits.get(r))
            found = ready.filtered(lambda r: r.state == "sending")._find_qbo_payments(context)
            for row, payment in found.items():
                row._adopt(payment)
            bodies = (ready - ready.browse([row.id for row in found]))._qbo_bodies(context, deposits)
            if bodies:
                ready.filtered(lambda r: r in bodies)._send_in_batch(context, bodies, "payments")

    def _find_qbo_payments(self, context):
        """These rows' payments already in QuickBooks, by row: one query for their reference numbers, each
        matched by the marker in its memo."""
        if not self:
            return {}
        entries = {row: row._source() for row in self}
        numbers = ", ".join(dict.fromkeys(quote(str(entry["Id"])[:21]) for entry in entries.values()))
        payments = context.client.query_documents("Payment", f"PaymentRefNum IN ({numbers})")
        found = {}
        for row, entry in entries.items():
            payment = marked(payments, payment_payload.nexudus_marker(entry["Id"]))
            if payment:
                found[row] = payment
        return found

    def _qbo_bodies(self, context, deposits):
        """Each row's QuickBooks Payment, by row, from one query for their invoices; a payment more than its
        invoice still has open (counting those before it in the batch) fails."""
        if not self:
            return {}
        ids = ", ".join(dict.fromkeys(quote(row.invoice_id.qbo_id) for row in self))
        invoices = {row.Id: row for row in context.client.query_documents("Invoice", f"Id IN ({ids})")}
        balances = {key: money(field(row, "Balance")) for key, row in invoices.items()}
        bodies = {}

        def build(row):
            qbo_invoice = invoices.get(row.invoice_id.qbo_id)
            if not qbo_invoice:
                raise UserError(
                    self.env._(
                        "%(invoice)s is no longer in QuickBooks (ID %(id)s): its payment cannot be applied to it. Fix: "
                        "check whether it was deleted in QuickBooks.",
                        invoice=row.invoice_id.display_name,
                        id=row.invoice_id.qbo_id,
                    )
                )
            bodies[row] = row._qbo_document(
                context, row._source(), qbo_invoice, deposits[row], balances[qbo_invoice.Id]
            )
            balances[qbo_invoice.Id] -= money(row.amount)

        self._move_each(build)
        return bodies

    def _batch_key(self):
        return f"{self.direction}:{self.nexudus_ledger_id or self.qbo_payment_id}"

    def _sending_values(self):
        return {"waiting_for": False}

    def _batch_item(self, payload):
        return payload

    def _record_created(self, context, payload, document):
        self._recorded(document)

    def _send_alone(self, context):
        self._to_qbo(context)

    def _request_id(self, context):
        key = f"{context.realm}:{self._batch_key()}:{self.request_revision}"
        return str(uuid.uuid5(REQUEST_NAMESPACE, key))

    def _find_qbo_payment(self, context, entry):
        refs = f"PaymentRefNum = {quote(str(entry['Id'])[:21])}"
        return marked(context.client.query_documents("Payment", refs), payment_payload.nexudus_marker(entry["Id"]))

    def _credit_in_qbo(self, context):
        """Credit applied in Nexudus (``994 Credit``, ``995 Gift``) moves no cash: in QuickBooks it is a
        credit memo of the customer applied to the invoice — a zero-total Payment linking both, as QuickBooks
        records it. The memo is the invoice's own credit note's, else another credit note of the customer
        with credit left (account credit). With no credit note at all, a person decides."""
        invoice = self.invoice_id
        if self._source().get("PaymentGatewayName") == 995:
            return self._review(self.env._("a gift card, which QuickBooks has no credit memo for"))
        notes = self.env["nexudus.qbo.invoice"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("is_credit_note", "=", True),
                ("nexudus_coworker_id", "=", invoice.nexudus_coworker_id),
                ("transfer_state", "not in", ("skipped", "voided", "done_by_hand")),
            ]
        )
        if not notes:
            return self._review(self.env._("credit applied with no credit note of this customer to take it from"))
        entry = self._source()
        if self.state == "sending":
            found = self._find_qbo_payment(context, entry)
            if found:
                return self._done(self.env._("Found in QuickBooks after an interrupted transfer: adopted."),
                                  already=True, qbo_payment_id=found.Id)  # fmt: skip
        amount = money(self.amount)
        own_first = notes.sorted(lambda n: (n.original_invoice_id != invoice, n.issue_date or invoice.issue_date, n.id))
        for note in own_first.filtered(lambda n: n.transfer_state == "sent" and n.qbo_id):
            memo = context.client.get_document("CreditMemo", note.qbo_id)
            if money(field(memo, "RemainingCredit")) >= amount:
                return self._apply_memo(context, note, memo, amount)
        if notes.filtered(lambda n: n.transfer_state != "sent"):
            return self._hold(
                self.env._(
                    "Waiting for the credit notes of this customer (%(notes)s) to be in QuickBooks: this credit of "
                    "%(amount)s is applied from one of them.",
                    notes=", ".join(notes.filtered(lambda n: n.transfer_state != "sent").mapped("display_name")),
                    amount=amount,
                ),
                "credit_note",
            )
        return self._review(self.env._("no credit note of this customer has %(amount)s of credit left", amount=amount))

    def _apply_memo(self, context, note, memo, amount):
        invoice = self.invoice_id
        body = payment_payload.credit_application(
            self._source(),
            amount,
            invoice=(invoice.qbo_id, invoice.number),
            memo=(note.qbo_id, note.number),
            customer_ref=memo.CustomerRef,
            currency_ref=field(memo, "CurrencyRef") if context.multicurrency else None,
        )
        request_id = self.request_id if self.state == "sending" else self._request_id(context)
        payment = self._save_payment(context, body, request_id)
        if not payment:
            return
        note.write({"qbo_credit_applied": True})
        message = self.env._(
            "Credit applied in Nexudus: %(amount)s of credit note %(note)s applied to %(invoice)s in QuickBooks "
            "(payment %(id)s, no money deposited).",
            amount=amount,
            note=note.display_name,
            invoice=invoice.display_name,
            id=payment.Id,
        )
        note._log(message)
        self._done(message, qbo_payment_id=payment.Id)

    def _refund_in_qbo(self, context, refund):
        """A refund positively identified in Nexudus takes its amount back from the QuickBooks payment it
        matches — same invoice, made before it, same method when known, at least the amount: voided when it
        is the whole payment, reduced otherwise. No match: a person decides, QuickBooks is not touched."""
        entry = self._source()
        paid = self.search(
            [
                ("invoice_id", "=", self.invoice_id.id),
                ("direction", "=", "nexudus_to_qbo"),
                ("kind", "=", "payment"),
                ("state", "=", "sent"),
                ("qbo_payment_id", "!=", False),
            ]
        )
        if self.state == "sending" and self.qbo_payment_id:  # interrupted: its request may have been done
            current = context.client.get_document("Payment", self.qbo_payment_id)
            if payment_payload.is_voided(current):
                return self._done(
                    self.env._("Found voided in QuickBooks after an interrupted refund: adopted."),
                    qbo_payment_id=current.Id,
                )
            target = paid.filtered(lambda p: p.qbo_payment_id == current.Id)[:1]
            return self._take_back(context, target, current, refund)  # the same request id: done at most once
        refunded_at = ledger.order_key(entry)
        before = paid.filtered(lambda p: ledger.order_key(p._source()) < refunded_at)
        latest_first = sorted(before, key=lambda p: ledger.order_key(p._source()), reverse=True)
        gateway = entry.get("PaymentGatewayName")
        candidates = sorted(
            latest_first, key=lambda p: (p._source().get("PaymentGatewayName") != gateway, money(p.amount) != refund)
        )
        for target in candidates:
            current = context.client.get_document("Payment", target.qbo_payment_id)
            if money(field(current, "TotalAmt")) >= refund:
                return self._take_back(context, target, current, refund)
        return self._review(
            self.env._("a refund of %(amount)s that matches no payment sent to QuickBooks", amount=refund)
        )

    def _take_back(self, context, target, current, refund):
        request_id = self._request_id(context)
        self.qbo_payment_id = current.Id  # committed with "sending": the payment an interruption left it on
        self._begin(request_id)
        try:
            if money(field(current, "TotalAmt")) == refund:
                body = {"Id": current.Id, "SyncToken": current.SyncToken, "sparse": True}
                context.client.save("Payment", body, request_id=request_id, operation="void")
                message = self.env._(
                    "Refunded in Nexudus (ledger entry %(entry)s): QuickBooks payment %(id)s voided.",
                    entry=self.nexudus_ledger_id,
                    id=current.Id,
                )
            else:
                left = money(field(current, "TotalAmt")) - refund
                lines = [dict(to_body(line), Amount=left) for line in field(current, "Line", default=[])][:1]
                body = {
                    "Id": current.Id,
                    "SyncToken": current.SyncToken,
                    "sparse": True,
                    "TotalAmt": left,
                    "Line": lines,
                }
                answer = read("Payment", context.client.save("Payment", body, request_id=request_id))
                message = self.env._(
                    "Refunded %(refund)s in Nexudus (ledger entry %(entry)s): QuickBooks payment %(id)s reduced to "
                    "%(left)s.",
                    refund=refund,
                    entry=self.nexudus_ledger_id,
                    id=current.Id,
                    left=money(field(answer, "TotalAmt", default=left)),  # a repeated request gets the first answer
                )
        except ThrottledError:
            self._unbegin()
            raise
        target._log(message)
        self.invoice_id._log(message)
        self._done(message, qbo_payment_id=current.Id)

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
                    already=True,
                    nexudus_ledger_id=found["Id"],
                )
        else:
            self._begin(marker)
        body = payment_payload.ledger_entry(payment, amount, record, self.method)
        answered, entry_id = self._call_sent(lambda: nexudus.add("coworkerledgerentries", body))
        if not answered:
            return None
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


def _iso(moment):
    return moment.replace(tzinfo=timezone.utc).isoformat(timespec="seconds")


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
        return bool(field(self.preferences, "CurrencyPrefs", "MultiCurrencyEnabled"))

    def hold_reason(self):
        """Why no payment may go to QuickBooks now (research: automatic application must be off)."""
        on = [
            name
            for name, key in (
                ("Automatically apply payments", "AutoApplyPayments"),
                ("Automatically apply credits", "AutoApplyCredit"),
            )
            if field(self.preferences, "SalesFormsPrefs", key)
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

    def method(self, provider):
        """(QuickBooks payment method id or None, a note for the payment's log or None). A method that
        cannot be found or made never stops the payment: it goes without one and says so."""
        env = self.company.env
        name = env["nexudus.qbo.payment.method.map"]._name_for(self.company, provider)
        if not name:
            return None, None
        try:
            if self._methods is None:
                rows = (
                    env["nexudus.qbo.run"]
                    ._in_run()
                    ._cached(
                        self.company,
                        "payment_methods",
                        lambda: {row.Name: row.Id for row in self.client.query_documents("PaymentMethod")},
                    )
                )
                self._methods = {key.casefold(): value for key, value in rows.items() if key}
            found = self._methods.get(name.casefold())
            if not found and self.company.nexudus_qbo_create_payment_methods:
                found = read(
                    "PaymentMethod", self.client.call("POST", "paymentmethod", json={"Name": name})["PaymentMethod"]
                ).Id
                self._methods[name.casefold()] = found
        except ApiError as exc:
            if isinstance(exc, ThrottledError):
                raise
            return None, env._(
                "Sent without a payment method: QuickBooks' payment method “%(name)s” could not be read or made "
                "(%(error)s).",
                name=name,
                error=translated(env, exc),
            )
        if not found:
            return None, env._(
                "Sent without a payment method: QuickBooks has none named “%(name)s”. Fix: add it in QuickBooks, "
                "or (%(who)s) change the mapping in %(where)s, or (%(admins)s) let the connector create it in "
                "%(settings)s.",
                name=name,
                who=MANAGERS,
                where=PAYMENT_METHODS,
                admins=ADMINISTRATORS,
                settings=SETTINGS,
            )
        return found, None
