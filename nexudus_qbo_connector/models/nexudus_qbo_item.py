from odoo import fields, models

from ..tools.qbo_objects import field


class NexudusQboItem(models.Model):
    """A product or service of the company's QuickBooks file ("Refresh lists"): invoice lines need one."""

    _name = "nexudus.qbo.item"
    _description = "QuickBooks product or service"
    _order = "name"

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True)
    qbo_id = fields.Char("QuickBooks ID", required=True)
    name = fields.Char(required=True)
    item_type = fields.Char("Type")
    income_account_id = fields.Many2one("nexudus.qbo.account", string="Income account", index=True)
    active = fields.Boolean(default=True)

    _company_qbo_uniq = models.UniqueIndex("(company_id, qbo_id)", "This QuickBooks item is already listed.")

    def _values_from_qbo(self, row, accounts_by_qbo_id):
        return {
            "name": field(row, "Name") or field(row, "Id"),
            "item_type": field(row, "Type") or False,
            "income_account_id": accounts_by_qbo_id.get(field(row, "IncomeAccountRef", "value"), False),
            "active": field(row, "Active", default=True),
        }
