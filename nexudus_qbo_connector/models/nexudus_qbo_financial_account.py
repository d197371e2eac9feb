from odoo import api, fields, models

ACCOUNT_TYPES = [("none", "None"), ("sales", "Sales"), ("payments", "Payments"), ("deposits", "Deposits")]
# Nexudus FinancialAccount.AccountType: 0 None, 1 Sales, 2 Payments, 3 Deposits.
NEXUDUS_ACCOUNT_TYPES = {0: "none", 1: "sales", 2: "payments", 3: "deposits"}


class NexudusQboFinancialAccount(models.Model):
    """A financial account of a Nexudus location's chart, as last read from Nexudus ("Refresh lists")."""

    _name = "nexudus.qbo.financial.account"
    _description = "Nexudus financial account"
    _order = "location_id, code"
    _rec_names_search = ["name", "code"]

    company_id = fields.Many2one(related="location_id.company_id", store=True, index=True)
    location_id = fields.Many2one("nexudus.qbo.location", required=True, ondelete="cascade", index=True)
    nexudus_id = fields.Integer("Nexudus ID", required=True)
    code = fields.Char(required=True)
    name = fields.Char(required=True)
    account_type = fields.Selection(ACCOUNT_TYPES, required=True, default="sales")
    active = fields.Boolean(default=True)

    _location_nexudus_uniq = models.UniqueIndex("(location_id, nexudus_id)", "This Nexudus account is already listed.")

    @api.depends("code", "name")
    def _compute_display_name(self):
        for account in self:
            account.display_name = f"{account.code} {account.name}"

    def _values_from_nexudus(self, row):
        return {
            "code": row.get("Code") or "",
            "name": row.get("Name") or "",
            "account_type": NEXUDUS_ACCOUNT_TYPES.get(row.get("AccountType"), "none"),
            "active": True,
        }
