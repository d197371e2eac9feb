from odoo import fields, models

from ..tools.qbo_objects import field


class NexudusQboCustomer(models.Model):
    """A customer of the company's QuickBooks file, as last read from QuickBooks ("Refresh lists") or as
    the connector created or adopted it: what a customer link points to."""

    _name = "nexudus.qbo.customer"
    _description = "QuickBooks customer"
    _order = "name"
    _rec_names_search = ["name", "company_name", "email"]

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True)
    qbo_id = fields.Char("QuickBooks ID", required=True)
    name = fields.Char("Display name", required=True)
    company_name = fields.Char("Company name")
    email = fields.Char()
    currency_code = fields.Char("Currency")
    active = fields.Boolean(default=True)

    _company_qbo_uniq = models.UniqueIndex("(company_id, qbo_id)", "This QuickBooks customer is already listed.")

    def _values_from_qbo(self, row):
        return {
            "name": field(row, "DisplayName") or field(row, "Id"),
            "company_name": field(row, "CompanyName") or False,
            "email": field(row, "PrimaryEmailAddr", "Address") or False,
            "currency_code": field(row, "CurrencyRef", "value") or False,
            "active": field(row, "Active", default=True),
        }
