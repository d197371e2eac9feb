import json
from decimal import Decimal

from odoo import api, fields, models

from ..tools.transferability import summary

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
        "attempts",
        "request_revision",
        "request_id",
        "qbo_id",
        "qbo_doc_number",
        "qbo_total",
        "qbo_credit_applied",
        "last_transfer_at",
        "qbo_discard_id",
        "qbo_discard_entity",
        "followup_refused",
        "send_requested",
        "requested_by_id",
        "tried_run_id",
        "batch_request_id",
        "batch_item_id",
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
    attempts = fields.Integer(readonly=True)
    request_revision = fields.Integer(
        readonly=True, help="Bumped after QuickBooks refused a request, so the next attempt is a new request."
    )
    request_id = fields.Char("Request ID", readonly=True, copy=False)
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
    last_transfer_at = fields.Datetime("Last transfer", readonly=True, copy=False)
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
        """Every served company: import from Nexudus (first call of a run for it), then send a chunk of
        invoices and of payments; a service asking to wait pauses only what needs it (see the transfer
        mixin). Odoo calls this again within the same run while it reports work remaining, and reschedules
        the run at once when the run ends with work left; when the run's time is up (what
        ``_commit_progress`` returns), the companies not reached wait for the next call.
        """
        run = self.env["nexudus.qbo.run"]._current()
        # The scheduled action is the connector at work; what is tried or read once in this run is marked.
        self = self._as_connector().with_context(nexudus_qbo_run_id=run.id)  # noqa: PLW0642
        companies = self.env["res.company"].search([("nexudus_location_ids", "!=", False)])
        remaining, time_left = 0, float("inf")
        for company in companies.filtered(lambda c: c.qbo_state == "connected"):
            if time_left <= 0:  # the run's time is up: this company is taken by the next call or run
                remaining += 1
                continue
            first_call = run._first_time(company, "read")  # imports and pulls once per run and company
            with run._measuring(company):
                remaining += self.with_company(company)._sync_company(company, first_call)
                payments = self.env["nexudus.qbo.payment"].with_company(company)
                remaining += payments._sync_payments(company, first_call)
            time_left = self.env["ir.cron"]._commit_progress()
        self.env["ir.cron"]._commit_progress(remaining=remaining)
