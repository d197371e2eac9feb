from odoo import api, fields, models

from ..tools.qbo_links import document_url


class NexudusQboInvoice(models.Model):
    """Where a sent invoice or credit note can be seen in QuickBooks.

    There is no "Open in Nexudus": the research documents no web address of an invoice in the Nexudus
    admin panel, and an invented one would lead nowhere."""

    _inherit = "nexudus.qbo.invoice"

    qbo_url = fields.Char("In QuickBooks", compute="_compute_qbo_url")

    @api.depends("qbo_id", "is_credit_note", "transfer_state", "company_id.qbo_environment")
    def _compute_qbo_url(self):
        for invoice in self:
            shown = invoice.transfer_state in ("sent", "to_void", "voided") and invoice.qbo_id
            entity = "CreditMemo" if invoice.is_credit_note else "Invoice"
            invoice.qbo_url = shown and document_url(invoice.company_id.qbo_environment, entity, invoice.qbo_id)

    def action_open_in_qbo(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self.qbo_url, "target": "new"}
