from odoo import api, fields, models

from ..tools.nexudus_links import invoice_url
from ..tools.qbo_links import document_url


class NexudusQboInvoice(models.Model):
    """Where an invoice or credit note can be seen: in QuickBooks once sent, in Nexudus always (by the
    company's invoice address, see ``tools/nexudus_links``)."""

    _inherit = "nexudus.qbo.invoice"

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
