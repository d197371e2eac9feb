from odoo import fields, models


class NexudusQboInvoiceLine(models.Model):
    """One line of a mirrored Nexudus invoice, for reading; the transfer reads the invoice's JSON."""

    _name = "nexudus.qbo.invoice.line"
    _description = "Nexudus invoice line"
    _order = "invoice_id, position, id"

    invoice_id = fields.Many2one("nexudus.qbo.invoice", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="invoice_id.company_id", store=True)
    currency_id = fields.Many2one(related="invoice_id.currency_id")
    nexudus_id = fields.Integer("Nexudus ID")
    position = fields.Integer()
    description = fields.Char()
    account_code = fields.Char("Account code")
    account_name = fields.Char("Account")
    quantity = fields.Float(digits=(16, 2))
    unit_price = fields.Monetary()
    subtotal = fields.Monetary("Subtotal (before tax)")
    discount = fields.Monetary()
    tax_name = fields.Char("Tax rate")
    tax_rate = fields.Float("Rate (%)", digits=(7, 4))
    tax_amount = fields.Monetary("Tax")
