from odoo import api, fields, models
from odoo.exceptions import UserError

MODELS = ("nexudus.qbo.invoice", "nexudus.qbo.payment")


class NexudusQboMarkDealtWith(models.TransientModel):
    """Mark as dealt with: a Manager says that invoices or payments were settled outside the connector,
    and why. The rows then say *Dealt with by hand*, the connector no longer moves them, and their chatter
    keeps who and why (``nexudus.qbo.transfer.mixin._mark_done_by_hand``)."""

    _name = "nexudus.qbo.mark.dealt.with"
    _description = "Mark Nexudus–QuickBooks rows as dealt with by hand"

    invoice_ids = fields.Many2many("nexudus.qbo.invoice", string="Invoices")
    payment_ids = fields.Many2many("nexudus.qbo.payment", string="Payments")
    reason = fields.Text(
        "Why",
        required=True,
        help="What was done by hand, and where (in QuickBooks, in Nexudus): kept in the chatter of each row.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        model, ids = self.env.context.get("active_model"), self.env.context.get("active_ids") or []
        if model in MODELS:
            rows = self.env[model].browse(ids)
            rows._check_hand_rights()
            values["invoice_ids" if model == MODELS[0] else "payment_ids"] = [fields.Command.set(rows.ids)]
        return values

    def action_confirm(self):
        self.ensure_one()
        rows = self.invoice_ids or self.payment_ids
        if not rows:
            raise UserError(self.env._("Select the invoices or payments that were dealt with first."))
        rows._mark_done_by_hand(self.reason)
        return {"type": "ir.actions.client", "tag": "soft_reload"}
