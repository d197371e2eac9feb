import json
import logging
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from types import GeneratorType

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import batching, invoice_payload
from ..tools.advisory_locks import advisory_locks
from ..tools.batching import SEND_CHUNK
from ..tools.constants import IMPORT_LOCK, INVOICE_LOCK
from ..tools.errors import ApiError, NotFoundError, ThrottledError, TransientError
from ..tools.invoice_payload import money
from ..tools.matching import rate
from ..tools.moments import READ_OVERLAP, naive_utc, nexudus_minute
from ..tools.nexudus_links import invoice_url
from ..tools.qbo_client import quote
from ..tools.qbo_links import document_url
from ..tools.qbo_objects import field, marked, read, to_body
from ..tools.texts import translated
from ..tools.transferability import MANAGERS, TAX_MAPPINGS, summary
from .nexudus_qbo_transfer_mixin import QUEUE_FIELDS

NEXUDUS_STATUSES = [
    ("draft", "Draft"),
    ("issued", "Issued"),
    ("partly_paid", "Partly paid"),
    ("paid", "Paid"),
    ("void", "Void"),
    ("credit_note", "Credit note"),
]
TRANSFER_STATES = [
    ("to_send", "To send"),
    ("sending", "Sending"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("skipped", "Skipped"),
    ("to_void", "To void"),
    ("to_delete", "Delete pending"),
    ("voided", "Voided in QuickBooks"),
    ("done_by_hand", "Dealt with by hand"),
]
PAGE_SIZE = 1000  # records a request, Nexudus's largest page; invoices are committed a page at a time
EPOCH = datetime(2000, 1, 1)
_logger = logging.getLogger(__name__)
SENDABLE = ("to_send", "failed", "skipped", "sending", "to_void", "to_delete")
RUN_COUNTERS = {"sent": "sent_count", "failed": "failed_count", "to_delete": "failed_count", "skipped": "skipped_count"}


class NexudusQboInvoice(models.Model):
    """A Nexudus invoice or credit note mirrored in Odoo, and its transfer to QuickBooks.

    The row is the queue and the log: ``transfer_state`` says where the invoice stands, the chatter says
    what happened. The Nexudus record itself is kept as JSON (``nexudus_json``, ``nexudus_lines_json``)
    and every amount the transfer uses is read from there as Decimal; the monetary fields are for display
    and search.
    """

    _name = "nexudus.qbo.invoice"
    _description = "Nexudus invoice"
    _inherit = ["mail.thread", "mail.activity.mixin", "nexudus.qbo.transfer.mixin", "nexudus.qbo.currency.sums"]
    _order = "issue_date desc, id desc"
    _rec_name = "number"
    _check_company_auto = True
    _state_field = "transfer_state"
    _reason_field = "transfer_reason"
    # Written only by the connector (see the transfer mixin): the transfer's state and log, and its bookkeeping.
    _queue_fields = (
        "transfer_state",
        "transfer_reason",
        "qbo_id",
        "qbo_doc_number",
        "qbo_total",
        "qbo_credit_applied",
        "qbo_discard_id",
        "qbo_discard_entity",
        "followup_refused",
        "send_requested",
        *QUEUE_FIELDS,
    )
    _hand_states = ("to_send", "sending", "failed", "skipped", "to_void", "to_delete")

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    location_id = fields.Many2one("nexudus.qbo.location", required=True, index=True, readonly=True, check_company=True)
    nexudus_id = fields.Integer("Nexudus ID", required=True, readonly=True)
    nexudus_unique_id = fields.Char("Nexudus unique ID", readonly=True, index=True)
    number = fields.Char("Invoice number", readonly=True, help="The full Nexudus number.")
    is_credit_note = fields.Boolean("Credit note", readonly=True)
    original_invoice_id = fields.Many2one(
        "nexudus.qbo.invoice", string="Credited invoice", readonly=True, index="btree_not_null", check_company=True
    )
    nexudus_status = fields.Selection(NEXUDUS_STATUSES, string="Status in Nexudus", readonly=True)
    customer_name = fields.Char("Customer", readonly=True)
    nexudus_coworker_id = fields.Integer("Nexudus customer ID", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    currency_code = fields.Char("Currency code", readonly=True)
    amount_total = fields.Monetary("Total", readonly=True, help="As Nexudus says it: a credit note's is negative.")
    amount_tax = fields.Monetary("Tax", readonly=True)
    amount_paid = fields.Monetary("Paid", readonly=True)
    issue_date = fields.Date(readonly=True)
    due_date = fields.Date(readonly=True)
    period_start = fields.Date("Period from", readonly=True)
    period_end = fields.Date("Period to", readonly=True)
    nexudus_updated_on = fields.Char("Updated in Nexudus", readonly=True, help="Nexudus's UpdatedOn, as sent.")
    transferred_by_nexudus = fields.Boolean(
        "Transferred by Nexudus's own integration", readonly=True, help="Nexudus's QuickbooksInvoiceTransfered flag."
    )
    prices_reading = fields.Selection(
        [("inclusive", "Tax included"), ("exclusive", "Before tax")],
        "Prices",
        readonly=True,
        help="What the invoice's own lines say about its prices (empty: they cannot tell).",
    )
    nexudus_refunded = fields.Boolean("Refunded in Nexudus", readonly=True, help="Nexudus's Refunded flag.")
    nexudus_json = fields.Text(readonly=True, groups="base.group_no_one")
    nexudus_lines_json = fields.Text(readonly=True, groups="base.group_no_one")
    line_ids = fields.One2many("nexudus.qbo.invoice.line", "invoice_id", readonly=True)
    payment_ids = fields.One2many("nexudus.qbo.payment", "invoice_id", readonly=True)

    transfer_state = fields.Selection(
        TRANSFER_STATES, default="to_send", required=True, readonly=True, index=True, tracking=True
    )
    waiting_for_mappings = fields.Boolean(
        readonly=True, index=True, help="Skipped only because mappings are missing: it is sent once they are complete."
    )
    transfer_reason = fields.Text("Why", readonly=True, help="Why the invoice was skipped or failed, and the fix.")
    transfer_summary = fields.Char("Why (in short)", compute="_compute_transfer_summary")
    qbo_id = fields.Char("QuickBooks ID", readonly=True, copy=False)
    qbo_doc_number = fields.Char("QuickBooks number", readonly=True, copy=False)
    qbo_total = fields.Monetary(
        "QuickBooks total",
        readonly=True,
        copy=False,
        help="QuickBooks' TotalAmt, signed as Nexudus signs it: a credit note's is negative in Odoo, as in Nexudus "
        "(QuickBooks shows a credit memo's total as a positive amount).",
    )
    qbo_credit_applied = fields.Boolean("Credit applied in QuickBooks", readonly=True, copy=False)
    qbo_discard_id = fields.Char(
        "QuickBooks document to delete", readonly=True, copy=False, help="Left with a wrong total; deleted first."
    )
    qbo_discard_entity = fields.Char(readonly=True, copy=False)
    send_requested = fields.Boolean(
        readonly=True, copy=False, help="A person asked to send it: the scheduled action finishes what a click began."
    )
    followup_pending = fields.Selection(
        [("delete", "Document to delete"), ("void", "To void in QuickBooks"), ("credit", "Credit to apply")],
        "Follow-up pending",
        compute="_compute_followup_pending",
        store=True,
        index="btree_not_null",
        help="What is left to do in QuickBooks after the invoice itself was written: every run tries it again "
        "until it is done, or QuickBooks refuses it (the reason is then in “Follow-up refused”).",
    )
    followup_refused = fields.Text(
        "Follow-up refused", readonly=True, copy=False, help="Why QuickBooks refused the follow-up: it is not retried."
    )

    @api.depends(
        "transfer_state",
        "qbo_discard_id",
        "is_credit_note",
        "qbo_credit_applied",
        "followup_refused",
        "original_invoice_id.transfer_state",
        "company_id.nexudus_qbo_send_payments",
    )
    def _compute_followup_pending(self):
        for row in self:
            credit = (
                row.is_credit_note
                and row.transfer_state == "sent"
                and not row.qbo_credit_applied
                and row.original_invoice_id.transfer_state == "sent"
                and not row.company_id.nexudus_qbo_send_payments  # the payments' credit rows apply it then
                and not row.followup_refused
            )
            if row.qbo_discard_id:
                row.followup_pending = "delete"
            elif row.transfer_state == "to_void":
                row.followup_pending = "void"
            else:
                row.followup_pending = "credit" if credit else False

    _company_nexudus_uniq = models.UniqueIndex(
        "(company_id, nexudus_id)", "This Nexudus invoice is already mirrored for this company."
    )
    _company_qbo_uniq = models.UniqueIndex(
        "(company_id, is_credit_note, qbo_id) WHERE qbo_id IS NOT NULL",
        "Two Nexudus invoices cannot stand for the same QuickBooks document.",
    )

    @api.depends("number", "nexudus_id", "is_credit_note")
    def _compute_display_name(self):
        for invoice in self:
            kind = self.env._("Credit note") if invoice.is_credit_note else self.env._("Invoice")
            invoice.display_name = f"{kind} {invoice.number or invoice.nexudus_id}"

    @api.depends("transfer_reason")
    def _compute_transfer_summary(self):
        for invoice in self:
            invoice.transfer_summary = summary(invoice.transfer_reason)

    # -- the Nexudus record ------------------------------------------------------------------------
    def _nexudus_record(self):
        """The Nexudus invoice dict, numbers as Decimal."""
        return json.loads(self.sudo().nexudus_json or "{}", parse_float=Decimal)

    def _nexudus_lines(self):
        return json.loads(self.sudo().nexudus_lines_json or "[]", parse_float=Decimal)

    # -- what people do ----------------------------------------------------------------------------
    def action_send_to_qbo(self):
        """Send the selected invoices, whatever the automatic-send option says: now, or in the background
        for too many for a click (``_send_method``)."""
        return self._run_in_own_transaction(self._send_method(), self.ids, self.env._("Send to QuickBooks"))

    def action_retry(self):
        """Try failed invoices again as a new request (after fixing what their reason says)."""
        failed = self.filtered(lambda r: r.transfer_state == "failed")
        return self._run_in_own_transaction(failed._send_method(), failed.ids, self.env._("Retry"))

    def action_refresh_from_nexudus(self):
        """Read the selected invoices again from Nexudus, lines included."""
        return self._run_in_own_transaction("_refresh_now", self.ids, self.env._("Refresh from Nexudus"))

    @api.model
    def action_import_from_nexudus(self):
        """Sync now › Invoices from Nexudus: what the scheduled action does for the current company, now —
        read what changed in Nexudus, decide again for the invoices waiting, send what waits to be sent (in
        the background when it is too much for a click)."""

        def work(invoices):
            company = invoices.env.company  # in the action's own transaction, as the connector
            invoices._import_and_evaluate(company)
            invoices._send_or_hand_over(company)
            if not company.nexudus_qbo_auto_send_invoices:
                invoices.search([("company_id", "=", company.id), ("transfer_state", "=", "to_send")])._note("to_send")

        return self._in_own_transaction(work, self.env._("Invoices from Nexudus"))

    # -- the scheduled action ------------------------------------------------------------------------
    @api.model
    def _cron_sync(self):
        """Every served company this worker can claim (``nexudus.qbo.scheduler``: the scheduled action and
        its lanes run this in parallel, one company per worker at a time): import from Nexudus (once per
        scheduled or triggered moment), then send a chunk of invoices and of payments; a service asking
        to wait pauses only what needs it (see the transfer mixin). Odoo calls this again within the same
        run while it reports work remaining, and reschedules the run at once when the run ends with work
        left; when the run's time is up (what ``_commit_progress`` returns), the companies not reached wait
        for the next call. A company another worker holds is left to it.
        """
        scheduler = self.env["nexudus.qbo.scheduler"]
        wave = scheduler._wave()
        scheduler._fan_out(wave)
        companies = self.env["res.company"].search([("nexudus_location_ids", "!=", False)])
        run, remaining, time_left = None, 0, float("inf")
        for company in companies.filtered(lambda c: c.qbo_state == "connected"):
            if time_left <= 0:  # the run's time is up: this company is taken by the next call or run
                remaining += 1
                continue
            with scheduler._claim(company) as mine:
                if not mine:
                    continue  # another worker syncs it and reports what it leaves
                run = self.env["nexudus.qbo.run"]._current() if run is None else run
                # The scheduled action is the connector at work; what is tried or read once in this run is marked.
                connector = self._as_connector().with_context(nexudus_qbo_run_id=run.id)
                company = company.with_env(connector.env)  # what reads through the company is in the run
                first_call = scheduler._first_read(company, wave) if wave else run._first_time(company, "read")
                with run._measuring(company):
                    remaining += connector.with_company(company)._sync_company(company, first_call)
                    payments = connector.env["nexudus.qbo.payment"].with_company(company)
                    remaining += payments._sync_payments(company, first_call)
                time_left = self.env["ir.cron"]._commit_progress()
        if run is not None and not remaining:
            run._finish()
        self.env["ir.cron"]._commit_progress(remaining=remaining)

    # ------------------------------------------------------------------------------------------------
    # Reading Nexudus invoices into Odoo, incrementally and in bulk.
    #
    # Sync policy: customers first (every coworker changed since the company's cursor), then per served
    # location the invoices, in ``UpdatedOn`` order from the location's cursor (minus an overlap), a page of
    # a thousand at a time, each next page starting from the last ``UpdatedOn`` seen rather than by page
    # number, so an invoice updated while we read moves later instead of opening a gap. Rows are
    # deduplicated by Nexudus id and ``UpdatedOn``. Lines are read with the documented range filter on
    # their own ``UpdatedOn`` over the window being imported, once per import for every location, and
    # matched to their invoices here; only an invoice new to Odoo whose lines the window missed (created
    # before it) is read on its own. A mirrored invoice none of whose lines changed keeps its lines. The
    # cursors are committed with each page, so a throttled import resumes where it stopped.

    def _import_company(self, company, client=None):
        """Read what changed in Nexudus for every location ``company`` serves; returns the rows touched."""
        client = client or company._nexudus_client()
        self._import_coworkers(company, client)
        lines = _LineWindow(self, client)
        touched = self._import_locations(company, client, lines)
        self.search(
            [("company_id", "=", company.id), ("is_credit_note", "=", True), ("original_invoice_id", "=", False)]
        )._link_originals()
        return touched

    def _import_coworkers(self, company, client):
        """Every Nexudus customer changed since the company's cursor, a page at a time."""
        coworkers = self.env["nexudus.qbo.coworker"]
        since = company.nexudus_coworker_cursor
        for records in self._pages_since(client, "coworkers", "Coworker", {}, since - READ_OVERLAP if since else EPOCH):
            coworkers._upsert(company, records)
            newest = max((naive_utc(r.get("UpdatedOn")) for r in records if r.get("UpdatedOn")), default=None)
            if newest and (not company.nexudus_coworker_cursor or newest > company.nexudus_coworker_cursor):
                company.sudo().nexudus_coworker_cursor = newest
            self._commit()

    def _link_originals(self):
        """Point credit notes at the invoice they credit (it may have been read after them)."""
        for note in self:
            guid = note._nexudus_record().get("OriginalInvoiceGuid")
            original = guid and self.search(
                [("company_id", "=", note.company_id.id), ("nexudus_unique_id", "=", guid)], limit=1
            )
            if original:
                note.original_invoice_id = original

    def _import_locations(self, company, client, lines, since=None):
        """Read the invoices of each location ``company`` serves that no other worker is importing (each
        under its import lock), from the location's cursor or from ``since`` (the sweep's window); returns
        the rows touched."""
        run = self.env["nexudus.qbo.run"]._tallying()
        touched = self.browse()
        for location in company.nexudus_location_ids:
            with advisory_locks(self.env.cr, IMPORT_LOCK, location.id) as taken:
                if not taken:
                    continue  # another worker is importing this location right now
                self._commit()  # read the cursor as the last importer left it
                location.invalidate_recordset()
                read = self._import_location(company, location, client, lines, since)
                run._count(company, location, "read_count", len(read))
                touched |= read
        return touched

    def _import_location(self, company, location, client, lines, since=None):
        touched = self.browse()
        if since is None:
            since = location.invoice_cursor - READ_OVERLAP if location.invoice_cursor else EPOCH
        filters = {"CoworkerInvoice_Business": location.nexudus_id}
        for records in self._pages_since(client, "coworkerinvoices", "CoworkerInvoice", filters, since):
            touched |= self._upsert_page(company, location, records, lines, since)
        return touched

    def _pages_since(self, client, entity, prefix, filters, since):
        """Pages of ``entity`` records updated since ``since``, in ``UpdatedOn`` order (keyset paging)."""
        page = 1
        while True:
            records = self._nexudus_call(
                client.page,
                entity,
                {**filters, f"from_{prefix}_UpdatedOn": nexudus_minute(since)},
                order_by="UpdatedOn",
                size=PAGE_SIZE,
                page=page,
            )
            if records:
                yield records
            if len(records) < PAGE_SIZE:
                return
            last = max(naive_utc(r.get("UpdatedOn")) for r in records)
            # A full page within one minute cannot move the filter on: take the next page number instead.
            page, since = (page + 1, since) if nexudus_minute(last) == nexudus_minute(since) else (1, last)

    def _upsert_page(self, company, location, records, lines, since):
        records = [r for r in records if r.get("BusinessId") in (None, location.nexudus_id)]
        existing = {
            row.nexudus_id: row
            for row in self.search([("company_id", "=", company.id), ("nexudus_id", "in", [r["Id"] for r in records])])
        }
        changed = [
            r for r in records if r["Id"] not in existing or existing[r["Id"]].nexudus_updated_on != r.get("UpdatedOn")
        ]
        found = lines.for_invoices(
            since, [r["Id"] for r in changed], new_ids={r["Id"] for r in changed} - set(existing)
        )
        touched = self.browse()
        for record in changed:
            if record["Id"] in existing:
                touched |= existing[record["Id"]]._update_from_nexudus(record, found.get(record["Id"]))
        new = [record for record in changed if record["Id"] not in existing]
        touched |= self._create_from_nexudus(company, location, new, found)
        touched._evaluate()
        newest = max((naive_utc(r.get("UpdatedOn")) for r in records), default=None)
        if newest and (not location.invoice_cursor or newest > location.invoice_cursor):
            location.invoice_cursor = newest
        if changed:
            location._detect_prices_include_tax()
        self._commit()
        return touched

    def _nexudus_call(self, method, *args, **kw):
        """A Nexudus read: a refusal becomes a message for a person; a throttled or unreachable service is
        raised as it is, for the caller to pause and come back."""
        try:
            result = method(*args, **kw)
            return list(result) if isinstance(result, GeneratorType) else result
        except ApiError as exc:
            if exc.retryable:
                raise
            raise UserError(
                self.env._("Reading from Nexudus failed: %(error)s", error=translated(self.env, exc))
            ) from exc

    def _create_from_nexudus(self, company, location, records, lines):
        """Create the rows of Nexudus invoice dicts new to Odoo, in one go (``lines`` by invoice id)."""
        rows = self.with_context(mail_create_nosubscribe=True).create(
            [
                {
                    **self._row_values(record, lines.get(record["Id"]), location),
                    "company_id": company.id,
                    "location_id": location.id,
                    "nexudus_id": record["Id"],
                }
                for record in records
            ]
        )
        rows._note("read")
        return rows.with_env(self.env)

    def _update_from_nexudus(self, record, lines):
        """Update this row from its Nexudus invoice dict; ``lines`` None keeps the row's lines. The caller
        decides again whether it is to be sent (``_evaluate``)."""
        before = self._nexudus_record()
        self.write(self._row_values(record, lines, self.location_id))
        self._note("updated")
        self._after_nexudus_change(before)
        return self

    def _row_values(self, record, lines, location):
        values = self._values_from_nexudus(record, lines, location)
        if lines is not None:
            values["line_ids"] = [fields.Command.clear()] + [
                fields.Command.create(self._line_values(line)) for line in lines
            ]
        return values

    def _values_from_nexudus(self, record, lines, location):
        currency = self._currency_of(record, location)
        original = self.browse()
        if record.get("CreditNote") and record.get("OriginalInvoiceGuid"):
            original = self.search([("nexudus_unique_id", "=", record["OriginalInvoiceGuid"])], limit=1)
        return {
            "nexudus_unique_id": record.get("UniqueId"),
            "number": record.get("InvoiceNumber") or False,
            "is_credit_note": bool(record.get("CreditNote")),
            "original_invoice_id": original.id,
            "nexudus_status": _status(record),
            "customer_name": record.get("BillToName") or record.get("CoworkerFullName") or False,
            "nexudus_coworker_id": record.get("CoworkerId") or 0,
            "currency_id": currency.id,
            "currency_code": record.get("CurrencyCode") or False,
            "amount_total": float(money(record.get("TotalAmount"))),
            "amount_tax": float(money(record.get("TaxAmount"))),
            "amount_paid": float(money(record.get("PaidAmount"))),
            "issue_date": (record.get("CreatedOnLocal") or record.get("CreatedOn") or "")[:10] or False,
            "due_date": (record.get("DueDateLocal") or record.get("DueDate") or "")[:10] or False,
            "period_start": (record.get("InvoiceFromDateLocal") or record.get("InvoiceFromDate") or "")[:10] or False,
            "period_end": (record.get("InvoiceToDateLocal") or record.get("InvoiceToDate") or "")[:10] or False,
            "nexudus_updated_on": record.get("UpdatedOn"),
            "transferred_by_nexudus": bool(record.get("QuickbooksInvoiceTransfered")),
            "nexudus_refunded": bool(record.get("Refunded")),
            "nexudus_json": json.dumps(record, default=str),
            **(
                {"nexudus_lines_json": json.dumps(lines, default=str), "prices_reading": _prices_reading(lines)}
                if lines is not None
                else {}
            ),
        }

    def _currency_of(self, record, location):
        """The invoice's currency (its own, else its location's, else the company's), made active so that
        every amount shows in it."""
        code = record.get("CurrencyCode") or location.currency_code
        currency = self.env["res.currency"].with_context(active_test=False).search([("name", "=", code)], limit=1)
        if currency and not currency.active:
            currency.sudo().active = True
        return currency or location.company_id.currency_id

    def _line_values(self, line):
        return {
            "nexudus_id": line.get("Id"),
            "position": line.get("Position") or 0,
            "description": line.get("DisplayAs") or line.get("Description") or False,
            "account_code": line.get("FinancialAccountCode") or False,
            "account_name": line.get("FinancialAccountName") or False,
            "quantity": float(line.get("Quantity") or 0),
            "unit_price": float(line.get("UnitPrice") or 0),
            "subtotal": float(line.get("SubTotal") or 0),
            "discount": float(line.get("DiscountAmount") or 0),
            "tax_name": line.get("TaxCategoryName") or False,
            "tax_rate": float(line.get("TaxRate") or 0),
            "tax_amount": float(line.get("TaxAmount") or 0),
        }

    def _after_nexudus_change(self, before):
        """React to a change made in Nexudus after the invoice was transferred (one not transferred yet is
        decided again by ``_evaluate``)."""
        record = self._nexudus_record()
        transferred = self.transfer_state in ("sent", "voided", "to_void", "sending", "done_by_hand")
        if self.transfer_state == "sent" and record.get("Void") and not before.get("Void"):
            self._set_state(
                "to_void", self.env._("Voided in Nexudus after it was transferred: to be voided in QuickBooks.")
            )
        elif transferred and before.get("TotalAmount") != record.get("TotalAmount"):
            self._log(
                self.env._(
                    "The total changed in Nexudus after the transfer (%(before)s → %(after)s); QuickBooks was not "
                    "changed. Correct it in QuickBooks or credit it in Nexudus.",
                    before=before.get("TotalAmount"),
                    after=record.get("TotalAmount"),
                )
            )

    def _refresh_now(self):
        """Read these invoices again from Nexudus, lines included (a person asked, or a payment was just
        recorded on them): two requests per invoice."""
        for company in self.company_id:
            client = company._nexudus_client()
            for row in self.filtered(lambda r, c=company: r.company_id == c):
                record = self._nexudus_call(client.get, "coworkerinvoices", row.nexudus_id)
                lines = self._nexudus_call(
                    client.list, "coworkerinvoicelines", {"CoworkerInvoiceLine_CoworkerInvoice": row.nexudus_id}
                )
                row._update_from_nexudus(record, lines)._evaluate()
                row._note("refreshed")
                self._commit()

    # ------------------------------------------------------------------------------------------------
    # Where an invoice or credit note can be seen: in QuickBooks once sent, in Nexudus always (by the
    # company's invoice address, see ``tools/nexudus_links``).

    qbo_url = fields.Char("In QuickBooks", compute="_compute_qbo_url")
    nexudus_url = fields.Char("In Nexudus", compute="_compute_nexudus_url")

    @api.depends("qbo_id", "is_credit_note", "transfer_state", "company_id.qbo_environment")
    def _compute_qbo_url(self):
        for invoice in self:
            shown = invoice.transfer_state in ("sent", "to_void", "voided") and invoice.qbo_id
            entity = "CreditMemo" if invoice.is_credit_note else "Invoice"
            invoice.qbo_url = shown and document_url(invoice.company_id.qbo_environment, entity, invoice.qbo_id)

    def action_open_in_qbo(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self.qbo_url, "target": "new"}

    @api.depends("nexudus_id", "company_id.nexudus_invoice_url_template")
    def _compute_nexudus_url(self):
        for invoice in self:
            invoice.nexudus_url = invoice_url(invoice.company_id.nexudus_invoice_url_template, invoice.nexudus_id)

    def action_open_in_nexudus(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self.nexudus_url, "target": "new"}

    # ------------------------------------------------------------------------------------------------
    # Sending mirrored invoices to QuickBooks, exactly once.
    #
    # Exactly-once protocol (the transfer mixin's; one bad invoice never stops the others), for one invoice
    # or a batch of up to 30 new ones (``_move_batch``):
    # 1. take a session advisory lock on each invoice (a second worker skips it), read the rows afresh;
    # 2. rows found in ``sending`` were interrupted after their request left: look the documents up in
    #    QuickBooks (one query for a batch's numbers; for one invoice by number, else by customer and date;
    #    always by the marker in the memo) and adopt them; a batch's rest is sent again under its request id;
    # 3. otherwise write ``sending`` with the request id (a batch's: derived from realm, invoices and
    #    revisions, each row with its ``bId``; one invoice's: from realm, invoice and revision) and commit;
    # 4. call QuickBooks with that request id (a repeated id gets the first answer back), then record each
    #    result and commit. A lost answer leaves ``sending`` for step 2 of the next run.
    # A refusal bumps the revision, so that the next attempt (after the fix) is a new request.

    _lock_namespace = INVOICE_LOCK

    # -- states ------------------------------------------------------------------------------------
    def _set_state(self, state, reason=False, **values):
        before = {row.id: row.transfer_state for row in self}
        values.setdefault("waiting_for_mappings", False)
        self.write({"transfer_state": state, "transfer_reason": reason or False, **values})
        if reason and state in ("failed", "skipped", "to_void", "to_delete"):
            self._post_reason(reason)
        run = self.env["nexudus.qbo.run"]._tallying()
        for row in self.filtered(lambda r: before[r.id] != state and state in RUN_COUNTERS):
            failed = row if RUN_COUNTERS[state] == "failed_count" else None
            run._count(row.company_id, row.location_id, RUN_COUNTERS[state], rows=failed)

    def _evaluate(self):
        """Decide whether an invoice not yet in QuickBooks is to be sent, or skipped and why. Rows that
        come to the same decision are written together."""
        charts = {}  # the mappings, read once per company
        decided = defaultdict(list)  # (state, reason, waiting for mappings): row ids
        for row in self.filtered(lambda r: r.transfer_state in ("to_send", "skipped")):
            company = row.company_id
            if company not in charts:
                charts[company] = company._nexudus_qbo_chart()
            reason, waiting = row._skip_reason(charts[company])
            if reason:
                if (row.transfer_state, row.transfer_reason) != ("skipped", reason):
                    decided["skipped", reason, waiting].append(row.id)
                elif row.waiting_for_mappings != waiting:  # skipped before the flag existed: said already
                    row.waiting_for_mappings = waiting
                row._note("waiting" if waiting else "left_out", reason)
            elif row.transfer_state == "skipped":
                decided["to_send", False, False].append(row.id)
                row._note("ready")
        for (state, reason, waiting), ids in decided.items():
            self.browse(ids)._set_state(state, reason, waiting_for_mappings=waiting)

    def _skip_reason(self, chart):
        """``(why the invoice is not sent, whether it waits for its mappings)``, ``(False, False)`` when it
        can be sent; ``chart``: the company's mappings (``res.company._nexudus_qbo_chart``)."""
        record = self._nexudus_record()
        if record.get("Draft"):
            return self.env._("Draft in Nexudus: only issued invoices are transferred."), False
        if self.transferred_by_nexudus:
            return self.env._(
                "Already transferred by Nexudus's own QuickBooks integration (QuickbooksInvoiceTransfered): sending "
                "it again would duplicate it. Turn Nexudus's automatic QuickBooks transfer off."
            ), False
        if record.get("Void"):
            return self.env._("Voided in Nexudus before it was transferred: nothing to send."), False
        problems = self.company_id._nexudus_qbo_transfer_problems(record, self._nexudus_lines(), chart=chart)
        if problems:
            return self.env._("Waiting for its mappings (it is sent once they are complete):\n%(problems)s",
                              problems="\n".join(translated(self.env, p) for p in problems)), True  # fmt: skip
        return False, False

    @api.model
    def _reevaluate_waiting(self, companies):
        """Decide again, now, for the skipped invoices of ``companies`` (a mapping changed, or they were read
        again): those whose mappings are complete become *To send*, their reason cleared, and are sent by
        the next run when automatic sending is on."""
        waiting = self._as_connector().search([("company_id", "in", companies.ids), ("transfer_state", "=", "skipped")])
        waiting._evaluate()
        return waiting

    # -- running -----------------------------------------------------------------------------------
    @api.model
    def _sync_company(self, company, first_call=True):
        """One call of the scheduled run for one company; returns how many invoices are left to send.
        Reading from Nexudus and sending to QuickBooks are steps of their own: a throttled or failing
        import never keeps the run from sending what is already imported, nor the other way round."""
        if first_call:
            self._phase(company, "invoices from Nexudus", lambda: self._import_and_evaluate(company))
        remaining = self._phase(company, "sending invoices", lambda: self._send_chunk(company))
        self._notify_requesters(company, self._pending(company), self.env._("Send to QuickBooks"))
        return remaining

    @api.model
    def _import_and_evaluate(self, company):
        self._import_company(company)
        self._reevaluate_waiting(company)
        self._commit()

    @api.model
    def _pending(self, company):
        """What waits to be sent: every invoice to send when automatic sending is on, else those a person
        asked for; interrupted transfers and pending follow-ups (``followup_pending``) always."""
        if company.nexudus_qbo_auto_send_invoices:
            wanted = ["|", ("transfer_state", "in", ("to_send", "sending")), ("followup_pending", "!=", False)]
        else:
            wanted = ["|", "|", ("transfer_state", "=", "sending"), ("followup_pending", "!=", False),
                      "&", ("transfer_state", "=", "to_send"), ("send_requested", "=", True)]  # fmt: skip
        return self.search(
            [("company_id", "=", company.id), *wanted, *self._not_tried_in_this_run()],
            order="is_credit_note, issue_date, id",
        )

    @api.model
    def _send_chunk(self, company):
        """Send the next chunk of what waits; returns how many are left."""
        pending = self._pending(company)
        chunk = pending[:SEND_CHUNK]
        if chunk:
            chunk._send_company(company)
        self.env["ir.cron"]._commit_progress(len(chunk))
        return len(pending) - len(chunk)

    @api.model
    def _send_or_hand_over(self, company):
        """A person's Sync now: send what waits now, or hand it to the scheduled action when it is too much
        for a click."""
        pending = self._pending(company)
        if pending._too_many_for_a_click():
            pending._send_in_background()
        else:
            self._send_chunk(company)

    # -- long work started by a click: in the background (see the transfer mixin) ---------------------
    def _send_in_background(self):
        """Hand these invoices to the scheduled action: what can be sent is marked as asked for."""
        for row in self.filtered(lambda r: r.transfer_state not in SENDABLE):
            row._note("already", row._in_qbo_text())
        rows = self.filtered(lambda r: r.transfer_state in SENDABLE)
        rows.filtered(lambda r: r.transfer_state == "failed").write({"transfer_state": "to_send"})
        rows._evaluate()
        queued = rows.filtered(lambda r: r.transfer_state in ("to_send", "sending", "to_void", "to_delete"))
        queued.write({"send_requested": True})
        queued._hand_to_background()

    def _final_outcome(self):
        if self.transfer_state == "skipped":
            return "waiting" if self.waiting_for_mappings else "left_out"
        return {"sent": "created", "voided": "voided", "failed": "failed", "to_delete": "failed"}.get(
            self.transfer_state, "later"
        )

    def _send_now(self):
        """Send these invoices (a person asked): pre-flight checks first, refusing with their fixes. What a
        busy or unreachable service leaves unsent is marked as asked for, so the scheduled action finishes it."""
        try:
            for company in self.company_id:
                for row in self.filtered(lambda r, c=company: r.company_id == c and r.transfer_state not in SENDABLE):
                    row._note("already", row._in_qbo_text())
                rows = self.filtered(lambda r, c=company: r.company_id == c and r.transfer_state in SENDABLE)
                rows.filtered(lambda r: r.transfer_state == "failed").write({"transfer_state": "to_send"})
                rows._evaluate()
                ordered = rows.sorted(lambda r: (r.is_credit_note, r.issue_date or fields.Date.today(), r.id))
                ordered.with_context(nexudus_qbo_resend=True)._send_company(company)
                if company.nexudus_qbo_send_payments:  # the payments that waited for these invoices follow them
                    self.env["nexudus.qbo.payment"]._released_for(rows)._send_each()
        except (ThrottledError, TransientError) as exc:
            self._rollback_keeping(exc)
            self.invalidate_recordset()
            self.filtered(lambda r: r.transfer_state == "to_send").write({"send_requested": True})
            self._commit()
            raise

    def _send_company(self, company):
        """Send these rows of ``company``; the pre-flight checks and QuickBooks' preferences are read once
        per scheduled run (each click checks afresh). New documents go in batch requests, as do lost batch
        answers to look up; the rest (voids, deletes, follow-ups, a single document) one row at a time."""
        company._nexudus_qbo_assert_ready()
        client = company._qbo_client()
        context = _SendContext(company, client, company._qbo_preferences(client))
        recovering = self.filtered(lambda r: r.transfer_state == "sending" and r.batch_request_id)
        new = self.filtered(lambda r: r.transfer_state == "to_send" and not r.followup_pending)
        batched = recovering | (new if len(new) > 1 else new.browse())
        for batch_id in dict.fromkeys(recovering.mapped("batch_request_id")):
            recovering.filtered(lambda r, b=batch_id: r.batch_request_id == b)._move_batch(context)
        for chunk in batching.chunks(batched - recovering):
            chunk._move_batch(context)
        (self - batched)._move_each(lambda row: row._transfer_locked(context))

    def _record_failure(self, exc):
        reason = self._failure_text(exc)
        self._set_state("failed", reason, request_revision=self.request_revision + 1)
        self._note("failed", reason)
        self._ask_manager(self.env._("Transfer to QuickBooks failed"), reason)

    def _in_qbo_text(self):
        return self.env._(
            "%(name)s is already in QuickBooks (ID %(id)s): nothing was sent again.",
            name=self.display_name,
            id=self.qbo_id or "-",
        )

    def _transfer_locked(self, context):
        with self._locked() as row:
            if row:
                row._fresh()._transfer_fresh(context)

    def _transfer_fresh(self, context):
        # Another worker finished it meanwhile; a sent row comes back only for its follow-up.
        if self.transfer_state == "voided" or (self.transfer_state == "sent" and not self.followup_pending):
            self._note("already", self._in_qbo_text())
            return
        self._mark_tried()
        if self.transfer_state == "to_delete":
            if not self._finish_discard(context):
                return
            if self.env.context.get("nexudus_qbo_resend") or self.send_requested:  # a person asked: send it again
                self.write({"transfer_state": "to_send"})
        if self.transfer_state == "to_void":
            self._void_in_qbo(context)
        elif self.transfer_state == "sending":
            self._recover(context)
        elif self.transfer_state == "to_send":
            self._transfer(context)
        self._followups(context)

    def _followups(self, context):
        """Apply the credit of sent credit notes, and of those that waited for these invoices."""
        self.filtered(lambda r: r.followup_pending == "credit")._apply_credit(context)
        invoices = self.filtered(lambda r: r.transfer_state == "sent" and not r.is_credit_note)
        if invoices:  # credit notes sent before their invoice are applied as soon as it is in QuickBooks
            waiting = self.search([("original_invoice_id", "in", invoices.ids), ("followup_pending", "=", "credit")])
            waiting._apply_credit(context)

    # -- in batch requests -------------------------------------------------------------------------
    def _move_batch(self, context):
        """Send these new rows (at most a batch) in one batch request, or look up the batch these rows in
        *Sending* went in. Same protocol as one row: lock, re-read, commit *Sending*, call, record."""
        with self._locked() as rows:
            rows._fresh()
            done = rows.filtered(
                lambda r: r.transfer_state == "voided" or (r.transfer_state == "sent" and not r.followup_pending)
            )
            for row in done:
                row._note("already", row._in_qbo_text())
            recovering = rows.filtered(lambda r: r.transfer_state == "sending" and r.batch_request_id)
            new = rows.filtered(lambda r: r.transfer_state == "to_send" and not r.followup_pending)
            (rows - done - recovering - new)._move_each(lambda row: row._transfer_fresh(context))
            (recovering | new)._mark_tried()
            new._evaluate()
            self._commit()
            new = new.filtered(lambda r: r.transfer_state == "to_send")
            links = self.env["nexudus.qbo.customer.link"]
            links._create_in_batch(context.company, context, [row._nexudus_record() for row in new])
            payloads = (recovering | new)._payloads(context)
            if recovering:
                recovering.filtered(lambda r: r in payloads)._recover_batch(context, payloads)
            new = new.filtered(lambda r: r in payloads and r.transfer_state == "to_send")
            if new:
                new._send_in_batch(context, payloads, "invoices")
            (recovering | new).filtered(lambda r: r.transfer_state == "sent")._followups(context)

    def _payloads(self, context):
        """Each row's payload, by row; a row whose payload cannot be built fails (``_move_each``)."""
        payloads = {}

        def build(row):
            payloads[row] = row._payload(context)

        self._move_each(build)
        return payloads

    def _batch_key(self):
        return self.nexudus_id

    def _batch_item(self, payload):
        return payload.document

    def _record_created(self, context, payload, document):
        self._record_sent(context, payload, document)

    def _send_alone(self, context):
        self._transfer(context)

    def _recover_batch(self, context, payloads):
        """These rows went in one batch whose answer was lost: adopt what one query per entity finds in
        QuickBooks, and send the rest again in the same batch request (QuickBooks answers a repeated request id
        with its first answer; a forgotten one sends only what is not there)."""
        found = self._find_batch_in_qbo(context, payloads)
        for row, document in found.items():
            row._log(self.env._("Found in QuickBooks after an interrupted transfer: adopted, not sent again."))
            row._record_sent(context, payloads[row], document, outcome="already")
        self._commit()
        missing = self.filtered(lambda r: r not in found)
        if missing:
            missing._call_batch(context, payloads)

    def _find_batch_in_qbo(self, context, payloads):
        """The QuickBooks documents of these rows, by row: one query per entity for their numbers (a row
        without a number is looked up on its own), each matched by the marker in its memo."""
        found = {}
        for entity in {payloads[row].entity for row in self}:
            rows = self.filtered(lambda r, e=entity: payloads[r].entity == e)
            numbered = rows.filtered(lambda r: payloads[r].doc_number)
            if numbered:
                numbers = ", ".join(quote(payloads[row].doc_number) for row in numbered)
                documents = context.client.query_documents(entity, f"DocNumber IN ({numbers})")
                for row in numbered:
                    document = marked(documents, payloads[row].marker)
                    if document:
                        found[row] = document
            for row in rows - numbered:
                document = row._find_in_qbo(context, payloads[row])
                if document:
                    found[row] = document
        return found

    def _request_id(self, context):
        return batching.request_id(context.realm, self.nexudus_id, self.request_revision)

    def _transfer(self, context):
        self._evaluate()
        if self.transfer_state != "to_send":
            self._commit()
            return
        payload = self._payload(context)
        request_id = self._request_id(context)
        self.write(
            {
                "transfer_state": "sending",
                "request_id": request_id,
                "batch_request_id": False,
                "batch_item_id": False,
                "attempts": self.attempts + 1,
                "last_transfer_at": fields.Datetime.now(),
            }
        )
        self._commit()  # the row says "sending" before the request leaves
        try:
            document = self._save(context, payload, request_id)
        except ThrottledError:
            self.write({"transfer_state": "to_send"})  # refused unprocessed: nothing reached QuickBooks
            self._commit()
            raise
        except TransientError as exc:
            self._unanswered(exc)
            return
        self._record_sent(context, payload, document)
        self._commit()

    def _recover(self, context):
        """The row was left in ``sending``: adopt the QuickBooks document if it exists, else send again
        with the same request id (QuickBooks answers a repeated id with its first answer)."""
        payload = self._payload(context)
        document = self._find_in_qbo(context, payload)
        if document:
            self._log(self.env._("Found in QuickBooks after an interrupted transfer: adopted, not sent again."))
            self._record_sent(context, payload, document, outcome="already")
            self._commit()
            return
        try:
            document = self._save(context, payload, self.request_id)
        except TransientError as exc:
            self._note("later", self.env._("QuickBooks did not answer (%(error)s).", error=translated(self.env, exc)))
            self._commit()
            return
        self._record_sent(context, payload, document)
        self._commit()

    def _find_in_qbo(self, context, payload):
        if payload.doc_number:
            where = f"DocNumber = {quote(payload.doc_number)}"
        else:
            where = f"CustomerRef = {quote(payload.body['CustomerRef']['value'])}"
            if payload.body.get("TxnDate"):
                where += f" AND TxnDate = {quote(payload.body['TxnDate'])}"
        return marked(context.client.query_documents(payload.entity, where), payload.marker)

    @staticmethod
    def _save(context, payload, request_id):
        """Send the payload's body; QuickBooks' answer read as a document."""
        return read(payload.entity, context.client.save(payload.entity, payload.body, request_id=request_id))

    def _record_sent(self, context, payload, document, outcome="created"):
        """Record the QuickBooks ``document`` as this invoice's; ``outcome``: created now, or found already
        there (an interrupted transfer adopted). The caller commits (a batch's rows at once)."""
        total = invoice_payload.money(field(document, "TotalAmt"))
        if total != payload.total:
            return self._record_mismatch(context, payload, document, total)
        self._set_state(
            "sent",
            send_requested=False,
            qbo_id=field(document, "Id"),
            qbo_doc_number=field(document, "DocNumber") or False,
            qbo_total=float(-total if self.is_credit_note else total),  # signed as in Nexudus
            last_transfer_at=fields.Datetime.now(),
        )
        self._log(
            self.env._(
                "Sent to QuickBooks as %(entity)s %(number)s (ID %(id)s), total %(total)s.",
                entity=payload.entity,
                number=field(document, "DocNumber", default=""),
                id=field(document, "Id"),
                total=total,
            )
        )
        self._note(outcome, self._in_qbo_text() if outcome == "already" else None)
        if self.is_credit_note:
            self.env["nexudus.qbo.payment"]._retry_credits_for(self)
        return None

    def _record_mismatch(self, context, payload, document, total):
        """QuickBooks' total differs from Nexudus's: the document must go again. The row says *Delete
        pending* with the document's id until QuickBooks confirms the delete, and only then *Failed*."""
        reason = self.env._(
            "QuickBooks computed %(qbo)s for %(name)s where Nexudus says %(nexudus)s (difference %(diff)s). Fix "
            "(%(who)s): check the tax codes mapped for its lines (the QuickBooks rate must equal the Nexudus rate) "
            "in %(where)s, then Retry.",
            who=MANAGERS,
            where=TAX_MAPPINGS,
            qbo=total,
            name=self.display_name,
            nexudus=payload.total,
            diff=payload.total - total,
        )
        self._set_state(
            "to_delete",
            reason,
            qbo_discard_id=document.Id,
            qbo_discard_entity=payload.entity,
            request_revision=self.request_revision + 1,
        )
        self._note("failed", reason)
        self._commit()
        self._finish_discard(context)

    def _finish_discard(self, context):
        """Delete the QuickBooks document left with a wrong total; True once it is gone. Until then the row
        stays *Delete pending* and nothing is sent for it; a throttle is raised after saying so."""
        entity, document_id = self.qbo_discard_entity, self.qbo_discard_id
        try:
            current = context.client.get_document(entity, document_id)
            context.client.save(
                entity,
                {"Id": document_id, "SyncToken": field(current, "SyncToken", default="0")},
                request_id=f"{self.request_id}-discard-{document_id}",
                operation="delete",
            )
        except NotFoundError:
            _logger.info("QuickBooks %s %s was already deleted", entity, document_id)
        except ApiError as exc:
            reason = self.env._(
                "QuickBooks %(entity)s %(id)s (wrong total) is still in QuickBooks: its delete did not go through "
                "(%(error)s). It is deleted before anything else is sent for this invoice.",
                entity=entity,
                id=document_id,
                error=translated(self.env, exc),
            )
            self._log(reason)
            self._note("later", reason)
            self._commit()
            if isinstance(exc, ThrottledError):
                raise
            return False
        self.write({"transfer_state": "failed", "qbo_discard_id": False, "qbo_discard_entity": False})
        self._log(self.env._("QuickBooks %(entity)s %(id)s (wrong total) was deleted.", entity=entity, id=document_id))
        self._commit()
        return True

    def _payload(self, context):
        record = self._nexudus_record()
        try:
            return invoice_payload.build(record, self._nexudus_lines(), context.target(self, record))
        except invoice_payload.PayloadError as exc:
            raise UserError("\n".join(translated(self.env, p) for p in exc.problems)) from exc

    def _void_in_qbo(self, context):
        if not self.qbo_id:
            self._set_state("voided")
            self._note("voided")
            self._commit()
            return
        document = context.client.get_document("Invoice", self.qbo_id)
        context.client.save(
            "Invoice",
            {"Id": self.qbo_id, "SyncToken": document.SyncToken},
            request_id=f"{self.request_id}-void",
            operation="void",
        )
        self._set_state("voided", self.env._("Voided in QuickBooks, as it was in Nexudus."))
        self._log(self.env._("Voided in QuickBooks (ID %(id)s).", id=self.qbo_id))
        self._note("voided")
        self._commit()

    def _apply_credit(self, context):
        """Apply sent credit memos to their original invoice while that invoice is open in QuickBooks. When
        Nexudus payments are sent too, the ledger says which credit went where, and how much: its credit
        rows apply the memos (``nexudus.qbo.payment``), not this."""
        for note in self.filtered(lambda n: n.followup_pending == "credit"):
            try:
                note._apply_one_credit(context)
            except ApiError as exc:
                if exc.retryable:
                    raise
                note._refuse_credit(translated(self.env, exc))

    def _refuse_credit(self, why):
        """The credit cannot be applied: say why on the row and in the chatter; it is no longer retried."""
        reason = self.env._(
            "Credit note %(name)s was not applied to invoice %(number)s in QuickBooks: %(why)s Apply it there by hand "
            "(Receive payment, with the credit memo) if it should be.",
            name=self.display_name,
            number=self.original_invoice_id.number,
            why=why,
        )
        self.write({"followup_refused": reason})
        self._post_reason(reason)
        self._note("failed", reason)
        self._commit()

    def _apply_one_credit(self, context):
        original = self.original_invoice_id
        invoice = context.client.get_document("Invoice", original.qbo_id)
        memo = context.client.get_document("CreditMemo", self.qbo_id)
        balance = invoice_payload.money(field(invoice, "Balance"))
        remaining = invoice_payload.money(field(memo, "RemainingCredit"))
        if remaining <= 0:  # applied already (an answer lost on the way)
            self.write({"qbo_credit_applied": True})
            self._commit()
            return
        if balance <= 0:
            self._refuse_credit(self.env._("the invoice has nothing left to pay in QuickBooks."))
            return
        amount = min(balance, remaining)
        body = {
            "CustomerRef": to_body(invoice.CustomerRef),
            "TotalAmt": Decimal("0.00"),
            "TxnDate": field(memo, "TxnDate"),
            "PrivateNote": f"Nexudus credit note {self.number} applied to invoice {original.number} "
            f"[nexudus-credit {self.nexudus_id}]",
            "Line": [
                {"Amount": amount, "LinkedTxn": [{"TxnId": original.qbo_id, "TxnType": "Invoice"}]},
                {"Amount": amount, "LinkedTxn": [{"TxnId": self.qbo_id, "TxnType": "CreditMemo"}]},
            ],
        }
        if field(memo, "CurrencyRef"):
            body["CurrencyRef"] = to_body(memo.CurrencyRef)
        context.client.save("Payment", body, request_id=f"{self.request_id}-apply")
        self.write({"qbo_credit_applied": True})
        self._log(
            self.env._(
                "Applied %(amount)s of this credit to invoice %(number)s in QuickBooks.",
                amount=amount,
                number=original.number,
            )  # fmt: skip
        )
        self._commit()

    def _failure_text(self, exc):
        if isinstance(exc, ApiError):
            code = f" (code {exc.code})" if exc.code else ""
            detail = exc.detail or translated(self.env, exc.message)
            return self.env._(
                "QuickBooks refused %(name)s%(code)s: %(detail)s Fix: %(fix)s",
                name=self.display_name,
                code=code,
                detail=detail,
                fix=self._fix_for(exc.code),
            )
        text = translated(self.env, exc)
        return text if self.number and self.number in text else f"{self.display_name}: {text}"

    def _fix_for(self, code):
        """What an accountant does about a QuickBooks error code."""
        fixes = {
            "6140": self.env._(
                "another QuickBooks document already has this number. Give each Nexudus location its own invoice "
                "reference format (Nexudus › Settings › Invoices), or check whether it was entered in QuickBooks "
                "by hand; then Retry."
            ),
            "610": self.env._(
                "an account, item, customer or tax code it uses was made inactive in QuickBooks. Reactivate it, or "
                "(%(who)s) “Refresh lists” and correct the mapping in Nexudus–QuickBooks › Mappings; then Retry.",
                who=MANAGERS,
            ),
            "6000": self.env._("correct what QuickBooks names (mapping, tax code or customer), then Retry."),
            "6210": self.env._("the period is closed in QuickBooks: reopen it or change the closing date, then Retry."),
        }
        return fixes.get(code) or self.env._("correct what QuickBooks names, then Retry.")


class _LineWindow:
    """Invoice lines read in bulk by their own ``UpdatedOn`` (the documented range filter), once per
    import for every location, widened when a location's window starts earlier."""

    def __init__(self, invoices, client):
        self.invoices, self.client = invoices, client
        self.since = None
        self.by_invoice = {}

    def for_invoices(self, since, invoice_ids, new_ids):
        """Lines by invoice id; an invoice already mirrored whose lines did not change is left out (it
        keeps its lines), a new one the window missed is read on its own."""
        if invoice_ids and (self.since is None or since < self.since):
            self._read(since)
        found = {i: self.by_invoice[i] for i in invoice_ids if i in self.by_invoice}
        for invoice_id in sorted(set(new_ids) - set(found)):
            found[invoice_id] = self.invoices._nexudus_call(
                self.client.list, "coworkerinvoicelines", {"CoworkerInvoiceLine_CoworkerInvoice": invoice_id}
            )
        return found

    def _read(self, since):
        seen = {}
        for records in self.invoices._pages_since(
            self.client, "coworkerinvoicelines", "CoworkerInvoiceLine", {}, since
        ):
            seen.update((line["Id"], line) for line in records)
        self.by_invoice = {}
        for line in seen.values():
            self.by_invoice.setdefault(line.get("CoworkerInvoiceId"), []).append(line)
        self.since = since


def _prices_reading(lines):
    readings = {invoice_payload.line_pricing(line) for line in lines} - {invoice_payload.EITHER, None}
    return readings.pop() if len(readings) == 1 else False


def _status(record):
    if record.get("CreditNote"):
        return "credit_note"
    if record.get("Void"):
        return "void"
    if record.get("Draft"):
        return "draft"
    paid, total = money(record.get("PaidAmount")), money(record.get("TotalAmount"))
    if record.get("Paid") or (total and paid >= total):
        return "paid"
    return "partly_paid" if paid > 0 else "issued"


class _SendContext:
    """What every invoice of one run shares: the client, the preferences, the mappings (read once)."""

    def __init__(self, company, client, preferences):
        self.company = company
        self.client = client
        self._nexudus = None
        self.realm = company.sudo().qbo_realm_id
        self.custom_numbers = bool(field(preferences, "SalesFormsPrefs", "CustomTxnNumbers"))
        self.multicurrency = bool(field(preferences, "CurrencyPrefs", "MultiCurrencyEnabled"))
        self.home_currency = field(preferences, "CurrencyPrefs", "HomeCurrency", "value") or company.qbo_home_currency
        self.us = (company.qbo_country or "").upper() in ("US", "USA", "UNITED STATES")
        env = company.env
        self.items = {
            (m.location_id.id, m.nexudus_code): m.qbo_item_id.qbo_id
            for m in env["nexudus.qbo.account.map"].search([("company_id", "=", company.id), ("ready", "=", True)])
            if m.qbo_item_id
        }
        self.taxes = {}
        for m in env["nexudus.qbo.tax.map"].search([("company_id", "=", company.id), ("ready", "=", True)]):
            self.taxes[(m.location_id.id, m.nexudus_name, rate(m.nexudus_rate))] = self._tax_target(
                m.qbo_tax_code_id, m.us_taxable
            )
        default = company.nexudus_qbo_default_tax_code_id
        self.default_tax = self._tax_target(default, False) if default else None

    def nexudus(self):
        """The Nexudus client, signed in on first use (most invoices need no Nexudus call to be sent)."""
        if self._nexudus is None:
            self._nexudus = self.company._nexudus_client()
        return self._nexudus

    @staticmethod
    def _tax_target(code, us_taxable):
        rate_ids = code._sales_rate_ids()
        return invoice_payload.TaxTarget(
            code.qbo_id,
            rate_ids,
            us_taxable=us_taxable,
            percent=Decimal(str(round(code.rate, 4))) if len(rate_ids) == 1 else None,
        )

    def target(self, invoice, record):
        location = invoice.location_id
        link = invoice.env["nexudus.qbo.customer.link"]._resolve_for_invoice(self.company, self, record)
        return invoice_payload.Target(
            customer_id=link.qbo_customer_id,
            us=self.us,
            custom_txn_numbers=self.custom_numbers,
            use_invoice_period=self.company.nexudus_qbo_use_invoice_period,
            multicurrency=self.multicurrency,
            prices_include_tax=location.prices_include_tax,
            time_zone=location.time_zone or "UTC",
            items={code: item for (loc, code), item in self.items.items() if loc == location.id},
            taxes={(name, value): t for (loc, name, value), t in self.taxes.items() if loc == location.id},
            default_tax=self.default_tax,
        )
