from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import matching
from ..tools.errors import ApiError, RejectedError
from ..tools.qbo_client import quote
from .nexudus_qbo_account import DEPOSIT_TYPES
from .nexudus_qbo_financial_account import ACCOUNT_TYPES

# QBO account types of the Revenue classification: what an item's income account for sales can be.
INCOME_TYPES = ("Income", "Other Income")

MATCH_STATES = [
    ("matched", "Matched"),
    ("manual", "Set by hand"),
    ("unmatched", "Unmatched"),
    ("ambiguous", "Ambiguous"),
]


class NexudusQboAccountMap(models.Model):
    """Where the lines of one Nexudus account (by location and code) go in QuickBooks.

    Sales and deposit lines need an income account and the QuickBooks item invoice lines carry; the
    Payments account needs the Bank or Other Current Asset account payments are deposited to. Rows are
    created and matched by "Refresh lists"; a row someone edited by hand is never re-matched.
    """

    _name = "nexudus.qbo.account.map"
    _description = "Nexudus–QuickBooks account mapping"
    _order = "location_id, nexudus_code"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    location_id = fields.Many2one("nexudus.qbo.location", required=True, ondelete="cascade", check_company=True)
    nexudus_code = fields.Char("Nexudus code", required=True)
    nexudus_name = fields.Char("Nexudus name")
    nexudus_type = fields.Selection(ACCOUNT_TYPES, string="Nexudus type", default="sales", required=True)
    qbo_account_id = fields.Many2one(
        "nexudus.qbo.account",
        string="QuickBooks account",
        check_company=True,
        # Sales: an income account; Payments: an account payments can be deposited to; others: any.
        domain=f"[('company_id', '=', company_id)] + ("
        f"[('account_type', 'in', {list(INCOME_TYPES)!r})] if nexudus_type == 'sales' else "
        f"[('account_type', 'in', {list(DEPOSIT_TYPES)!r})] if nexudus_type == 'payments' else [])",
        help="Sales accounts go to a QuickBooks Income or Other Income account, the Payments account to a Bank or "
        "Other Current Asset account.",
    )
    qbo_item_id = fields.Many2one(
        "nexudus.qbo.item",
        string="QuickBooks item",
        check_company=True,
        domain="[('company_id', '=', company_id), ('item_type', '=', 'Service')]",
        help="The product/service QuickBooks invoice lines of this account carry. Create one per account "
        "with “Create QuickBooks items”, or pick an existing Service item.",
    )
    match_state = fields.Selection(MATCH_STATES, default="unmatched", required=True, readonly=True)
    match_reason = fields.Char("Why", readonly=True)
    manual = fields.Boolean("Set by hand", readonly=True, help="A refresh never changes a mapping set by hand.")
    ready = fields.Boolean(compute="_compute_ready", store=True, help="Lines of this account can be transferred.")

    _location_code_uniq = models.UniqueIndex(
        "(company_id, location_id, nexudus_code)",
        "This Nexudus account is already mapped for this location.",
    )

    @api.depends("nexudus_type", "qbo_account_id", "qbo_item_id", "qbo_account_id.account_type")
    def _compute_ready(self):
        for row in self:
            fits = bool(row.qbo_account_id) and not row._account_type_problem(row.qbo_account_id)
            row.ready = fits and (row.nexudus_type == "payments" or bool(row.qbo_item_id))

    @api.depends("nexudus_code", "nexudus_name", "location_id")
    def _compute_display_name(self):
        for row in self:
            row.display_name = f"{row.nexudus_code} {row.nexudus_name or ''} ({row.location_id.name})"

    @api.constrains("nexudus_type", "qbo_account_id")
    def _check_account_type(self):
        for row in self:
            problem = row._account_type_problem(row.qbo_account_id)
            if problem:
                raise ValidationError(
                    self.env._("Nexudus account %(code)s: %(problem)s.", code=row.nexudus_code, problem=problem)
                )

    def _account_type_problem(self, account):
        """Why ``account`` cannot take this row's lines (False when it can)."""
        if not account:
            return False
        if self.nexudus_type == "payments" and account.account_type not in DEPOSIT_TYPES:
            return self.env._(
                "“%(name)s” is a %(type)s account; payments need a Bank or Other Current Asset account",
                name=account.display_name,
                type=account.account_type or "typeless",
            )
        if self.nexudus_type == "sales" and account.account_type not in INCOME_TYPES:
            return self.env._(
                "“%(name)s” is a %(type)s account; sales need an Income or Other Income account",
                name=account.display_name,
                type=account.account_type or "typeless",
            )
        return False

    def write(self, vals):
        if not self.env.context.get("nexudus_qbo_auto_match") and {"qbo_account_id", "qbo_item_id"} & set(vals):
            vals = {**vals, "manual": True, "match_state": "manual", "match_reason": False}
        result = super().write(vals)
        if not self.env.context.get("nexudus_qbo_auto_match"):  # automatic matching re-evaluates once, at its end
            self.env["nexudus.qbo.invoice"]._reevaluate_waiting(self.company_id)
        return result

    @api.model_create_multi
    def create(self, vals_list):
        rows = super().create(vals_list)
        self.env["nexudus.qbo.invoice"]._reevaluate_waiting(rows.filtered("ready").company_id)
        return rows

    # -- matching ----------------------------------------------------------------------------------
    def _auto_match(self, qbo_accounts, items):
        """Match the rows not set by hand: account by exact name and code, then its item."""
        for row in self.filtered(lambda r: not r.manual):
            state, qbo_id, reason = matching.match_account(row.nexudus_code, row.nexudus_name, qbo_accounts)
            account = (
                self.env["nexudus.qbo.account"].search(
                    [("company_id", "=", row.company_id.id), ("qbo_id", "=", qbo_id)], limit=1
                )
                if qbo_id
                else None
            )
            problem = row._account_type_problem(account) if account else False
            if problem:
                state, reason, account = "unmatched", problem, None
            values = {
                "match_state": state,
                "match_reason": reason or False,
                "qbo_account_id": account.id if account else False,
            }
            if account and row.nexudus_type != "payments":
                item = row._matching_item(account, items)
                values["qbo_item_id"] = item.id
                if not item:
                    values["match_reason"] = self.env._(
                        "no QuickBooks Service item uses this account: create one or pick one"
                    )
            row.with_context(nexudus_qbo_auto_match=True).write(values)

    def _matching_item(self, account, items):
        """The Service item for ``account``: the one using it as income account, preferring one named
        like the account; none when several qualify and none is named so."""
        candidates = items.filtered(lambda i: i.income_account_id == account and i.item_type == "Service")
        named = candidates.filtered(lambda i: i.name == matching.clean_name(account.name))
        if named:
            return named[:1]
        return candidates if len(candidates) == 1 else items.browse()

    def action_reset_to_automatic(self):
        """Forget the hand-made choice and match again from the last lists read."""
        self.with_context(nexudus_qbo_auto_match=True).write({"manual": False})
        for company in self.company_id:
            rows = self.filtered(lambda r, c=company: r.company_id == c)
            rows._auto_match(company._nexudus_qbo_accounts_as_rows(), company._nexudus_qbo_items())
        self.env["nexudus.qbo.invoice"]._reevaluate_waiting(self.company_id)

    def action_refresh_lists(self):
        self.env.company._nexudus_qbo_refresh_chart()

    # -- items ---------------------------------------------------------------------------------------
    def action_create_items(self):
        """Create one QuickBooks Service item per selected mapping, named after the account and using
        it as income account; an existing item of that name with that account is adopted instead."""
        rows = self.filtered(lambda r: r.qbo_account_id and not r.qbo_item_id and r.nexudus_type != "payments")
        if not rows:
            raise UserError(
                self.env._(
                    "Select mappings that have a QuickBooks account and no item yet (Payments accounts need none)."
                )
            )
        for company in rows.company_id:
            client = company._qbo_client()
            for row in rows.filtered(lambda r, c=company: r.company_id == c):
                row._create_item(client)
        self.env["nexudus.qbo.invoice"]._reevaluate_waiting(rows.company_id)
        return True

    def _create_item(self, client):
        account = self.qbo_account_id
        name = matching.clean_name(account.name)
        body = {"Name": name, "Type": "Service", "IncomeAccountRef": {"value": account.qbo_id}}
        request_id = f"nqc-item-{self.company_id.id}-{account.qbo_id}"
        try:
            row = client.call("POST", "item", params={"requestid": request_id}, json=body)["Item"]
        except RejectedError as exc:
            if exc.code != "6240":
                raise UserError(self._item_error(name, exc)) from exc
            row = next(iter(client.query_all("Item", f"Name = {quote(name)}")), None)
            income = ((row or {}).get("IncomeAccountRef") or {}).get("value")
            if income != account.qbo_id:
                raise UserError(
                    self.env._(
                        "A QuickBooks product or service named “%(name)s” already exists with another income "
                        "account. Pick it, or rename it in QuickBooks, for Nexudus account %(code)s.",
                        name=name,
                        code=self.nexudus_code,
                    )
                ) from exc
        except ApiError as exc:
            raise UserError(self._item_error(name, exc)) from exc
        item = self.company_id._nexudus_qbo_store_item(row)
        self.with_context(nexudus_qbo_auto_match=True).write({"qbo_item_id": item.id, "match_reason": False})

    def _item_error(self, name, exc):
        return self.env._(
            "QuickBooks refused to create the item “%(name)s” for Nexudus account %(code)s: %(error)s",
            name=name,
            code=self.nexudus_code,
            error=exc,
        )
