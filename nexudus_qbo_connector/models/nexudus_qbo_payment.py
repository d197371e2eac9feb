import json
from decimal import Decimal

from odoo import api, fields, models

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
    _queue_fields = (
        "state",
        "reason",
        "waiting_for",
        "attempts",
        "request_revision",
        "request_id",
        "qbo_payment_id",
        "nexudus_ledger_id",
        "last_transfer_at",
        "tried_run_id",
        "requested_by_id",
        "batch_request_id",
        "batch_item_id",
    )
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
    attempts = fields.Integer(readonly=True)
    request_revision = fields.Integer(readonly=True)
    request_id = fields.Char("Request ID", readonly=True, copy=False)
    last_transfer_at = fields.Datetime("Last transfer", readonly=True, copy=False)
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
