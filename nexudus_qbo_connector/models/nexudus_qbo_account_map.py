from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import list_payload, matching
from ..tools.errors import ApiError, RejectedError
from ..tools.notifications import notification
from ..tools.qbo_client import quote
from ..tools.qbo_objects import field
from ..tools.texts import translated
from .nexudus_qbo_account import DEPOSIT_TYPES
from .nexudus_qbo_financial_account import ACCOUNT_TYPES

# QBO account types of the Revenue classification: what an item's income account for sales can be.
INCOME_TYPES = ("Income", "Other Income")

# What a mapping (or the form mapping an account for all locations) offers, by its ``company_id`` and
# ``nexudus_type``. Sales: an income account; Payments: an account payments can be deposited to; others: any.
QBO_ACCOUNT_DOMAIN = (
    f"[('company_id', '=', company_id)] + ("
    f"[('account_type', 'in', {list(INCOME_TYPES)!r})] if nexudus_type == 'sales' else "
    f"[('account_type', 'in', {list(DEPOSIT_TYPES)!r})] if nexudus_type == 'payments' else [])"
)
QBO_ITEM_DOMAIN = "[('company_id', '=', company_id), ('item_type', '=', 'Service')]"

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
        domain=QBO_ACCOUNT_DOMAIN,
        help="Sales accounts go to a QuickBooks Income or Other Income account, the Payments account to a Bank or "
        "Other Current Asset account.",
    )
    qbo_item_id = fields.Many2one(
        "nexudus.qbo.item",
        string="QuickBooks item",
        check_company=True,
        domain=QBO_ITEM_DOMAIN,
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

    def action_map_for_all_locations(self):
        """Open the form that maps this row's Nexudus account (code and name) in every served location."""
        if len(self) != 1:
            raise UserError(self.env._("Select one mapping: its Nexudus account is mapped for all locations."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Map for all locations"),
            "res_model": "nexudus.qbo.map.all.locations",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_company_id": self.company_id.id,
                "default_nexudus_code": self.nexudus_code,
                "default_nexudus_name": self.nexudus_name,
                "default_nexudus_type": self.nexudus_type,
                "default_qbo_account_id": self.qbo_account_id.id,
                "default_qbo_item_id": self.qbo_item_id.id,
            },
        }

    def action_refresh_lists(self):
        self.env.company._nexudus_qbo_refresh_chart()

    # -- items ---------------------------------------------------------------------------------------
    def action_create_items(self):
        """Give each selected mapping a QuickBooks Service item named after its account and using it as
        income account: created in QuickBooks, or an existing item of that name with that account adopted.
        The notification names the items created and adopted, or says why nothing was done."""
        self.check_access("write")  # before anything is created in QuickBooks
        rows = self.filtered(lambda r: r.qbo_account_id and not r.qbo_item_id and r.nexudus_type != "payments")
        if not rows:
            return self._notify(self.env._("No QuickBooks item created"), self._nothing_to_create_reason(), "warning")
        created, adopted = {}, {}
        for company in rows.company_id:
            client = company._qbo_client()
            done = {}  # account -> item, so that rows sharing an account share one call
            for row in rows.filtered(lambda r, c=company: r.company_id == c):
                item = done.get(row.qbo_account_id)
                if not item:
                    item, made = row._create_item(client)
                    done[row.qbo_account_id] = item
                    (created if made else adopted)[item.id] = item.name
                row.with_context(nexudus_qbo_auto_match=True).write({"qbo_item_id": item.id, "match_reason": False})
        self.env["nexudus.qbo.invoice"]._reevaluate_waiting(rows.company_id)
        parts = []
        if created:
            parts.append(self.env._("Created in QuickBooks: %(names)s.", names=", ".join(sorted(created.values()))))
        if adopted:
            parts.append(
                self.env._(
                    "Adopted (QuickBooks already has them, with the same name and account): %(names)s.",
                    names=", ".join(sorted(adopted.values())),
                )
            )
        parts.append(self.env._("Mappings given their item: %(count)s.", count=len(rows)))
        return self._notify(self.env._("QuickBooks items"), " ".join(parts))

    def _nothing_to_create_reason(self):
        """Why none of these mappings can get an item, counted by reason."""
        with_item = self.filtered("qbo_item_id")
        no_account = self.filtered(lambda r: not r.qbo_account_id and r.nexudus_type != "payments")
        payments = self.filtered(lambda r: r.nexudus_type == "payments" and not r.qbo_item_id)
        reasons = []
        if with_item:
            reasons.append(self.env._("%(count)s already have an item", count=len(with_item)))
        if no_account:
            reasons.append(
                self.env._("%(count)s have no QuickBooks account yet: pick the account first", count=len(no_account))
            )
        if payments:
            reasons.append(self.env._("%(count)s are Payments accounts, which need no item", count=len(payments)))
        if not reasons:
            return self.env._("Select the mappings that need an item first.")
        return self.env._("Of the selected mappings, %(reasons)s.", reasons="; ".join(reasons))

    def _notify(self, title, message, kind="success"):
        return notification(title, message, kind, sticky=kind == "warning")

    def _create_item(self, client):
        """``(item, created)``: the QuickBooks Service item for this row's account, created, or adopted
        (``created`` False) when one of that name with that account is in the list read or in QuickBooks."""
        account = self.qbo_account_id
        name = matching.clean_name(account.name)
        listed = self.env["nexudus.qbo.item"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("name", "=", name),
                ("item_type", "=", "Service"),
                ("income_account_id", "=", account.id),
            ],
            limit=1,
        )
        if listed:
            return listed, False
        request_id = f"nqc-item-{self.company_id.id}-{account.qbo_id}"
        created = True
        try:
            row = client.save_document(list_payload.service_item(name, account.qbo_id), request_id=request_id)
        except RejectedError as exc:
            if exc.code != "6240":
                raise UserError(self._item_error(name, exc)) from exc
            created = False
            row = next(iter(client.query_documents("Item", f"Name = {quote(name)}")), None)
            if field(row, "IncomeAccountRef", "value") != account.qbo_id:
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
        return self.company_id._nexudus_qbo_store_item(row), created

    def _item_error(self, name, exc):
        return self.env._(
            "QuickBooks refused to create the item “%(name)s” for Nexudus account %(code)s: %(error)s",
            name=name,
            code=self.nexudus_code,
            error=translated(self.env, exc),
        )
