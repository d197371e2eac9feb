from odoo import api, fields, models

from ..tools.qbo_objects import field

# QBO account types a payment can be deposited to (Payment.DepositToAccountRef).
DEPOSIT_TYPES = ("Bank", "Other Current Asset")


class NexudusQboAccount(models.Model):
    """An account of the company's QuickBooks chart, as last read from QuickBooks ("Refresh lists")."""

    _name = "nexudus.qbo.account"
    _description = "QuickBooks account"
    _order = "acct_num, name"
    _rec_names_search = ["name", "acct_num"]

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True)
    qbo_id = fields.Char("QuickBooks ID", required=True)
    name = fields.Char(required=True)
    acct_num = fields.Char("Number")
    account_type = fields.Char("Type")
    account_sub_type = fields.Char("Detail type")
    currency_code = fields.Char("Currency")
    is_deposit_account = fields.Boolean(
        compute="_compute_is_deposit_account",
        store=True,
        help="Payments can be deposited to Bank and Other Current Asset accounts.",
    )
    active = fields.Boolean(default=True)

    _company_qbo_uniq = models.UniqueIndex("(company_id, qbo_id)", "This QuickBooks account is already listed.")

    @api.depends("name", "acct_num")
    def _compute_display_name(self):
        for account in self:
            account.display_name = f"{account.acct_num} {account.name}" if account.acct_num else account.name

    @api.depends("account_type")
    def _compute_is_deposit_account(self):
        for account in self:
            account.is_deposit_account = account.account_type in DEPOSIT_TYPES

    def _values_from_qbo(self, row):
        return {
            "name": field(row, "Name") or field(row, "Id"),
            "acct_num": field(row, "AcctNum") or False,
            "account_type": field(row, "AccountType") or False,
            "account_sub_type": field(row, "AccountSubType") or False,
            "currency_code": field(row, "CurrencyRef", "value") or False,
            "active": field(row, "Active", default=True),
        }
