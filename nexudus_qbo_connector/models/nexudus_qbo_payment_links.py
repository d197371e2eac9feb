from odoo import api, fields, models

from ..tools.qbo_links import document_url


class NexudusQboPayment(models.Model):
    """Where a payment can be seen in QuickBooks (a received payment, whichever way it moved)."""

    _inherit = "nexudus.qbo.payment"

    qbo_url = fields.Char("In QuickBooks", compute="_compute_qbo_url")

    @api.depends("qbo_payment_id", "company_id.qbo_environment")
    def _compute_qbo_url(self):
        for payment in self:
            payment.qbo_url = document_url(payment.company_id.qbo_environment, "Payment", payment.qbo_payment_id)

    def action_open_in_qbo(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self.qbo_url, "target": "new"}
