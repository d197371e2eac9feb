from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.nexudus_qbo_account_map import QBO_ACCOUNT_DOMAIN, QBO_ITEM_DOMAIN
from ..models.nexudus_qbo_financial_account import ACCOUNT_TYPES


class NexudusQboMapAllLocations(models.TransientModel):
    """Map one Nexudus account (code and name) in every served location whose chart has it, at once.

    Nexudus keeps a chart per location, so an account used by three locations has three mapping rows; this
    writes the same QuickBooks account (and item) on all of them, through the rows' own checks.
    """

    _name = "nexudus.qbo.map.all.locations"
    _description = "Map a Nexudus account for all locations"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    nexudus_code = fields.Char("Nexudus code", required=True, readonly=True)
    nexudus_name = fields.Char("Nexudus name", readonly=True)
    nexudus_type = fields.Selection(ACCOUNT_TYPES, string="Nexudus type", required=True, readonly=True)
    location_ids = fields.Many2many(
        "nexudus.qbo.location",
        string="Locations",
        compute="_compute_location_ids",
        help="The served locations whose Nexudus chart has this account: it is mapped in each of them.",
    )
    qbo_account_id = fields.Many2one(
        "nexudus.qbo.account",
        string="QuickBooks account",
        required=True,
        check_company=True,
        domain=QBO_ACCOUNT_DOMAIN,
    )
    qbo_item_id = fields.Many2one(
        "nexudus.qbo.item",
        string="QuickBooks item",
        check_company=True,
        domain=QBO_ITEM_DOMAIN,
        help="The product/service the QuickBooks invoice lines of this account carry. Left empty, use “Create "
        "QuickBooks items” afterwards.",
    )

    @api.depends("company_id", "nexudus_code", "nexudus_name")
    def _compute_location_ids(self):
        for wizard in self:
            wizard.location_ids = wizard._mappings().location_id

    def _mappings(self):
        """The rows of this Nexudus account (same code and name) in the locations the company serves."""
        return self.env["nexudus.qbo.account.map"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("location_id", "in", self.company_id.nexudus_location_ids.ids),
                ("nexudus_code", "=", self.nexudus_code),
                ("nexudus_name", "=", self.nexudus_name),
            ]
        )

    @api.onchange("qbo_account_id")
    def _onchange_qbo_account_id(self):
        """Propose the item the automatic matching would: the Service item using the account."""
        if self.nexudus_type == "payments" or not self.qbo_account_id:
            self.qbo_item_id = False
        elif self.qbo_item_id.income_account_id != self.qbo_account_id:
            self.qbo_item_id = self.env["nexudus.qbo.account.map"]._matching_item(
                self.qbo_account_id, self.company_id._nexudus_qbo_items()
            )

    def action_map(self):
        self.ensure_one()
        rows = self._mappings()
        if not rows:
            raise UserError(
                self.env._(
                    "No served location has Nexudus account %(code)s “%(name)s”: refresh the lists first.",
                    code=self.nexudus_code,
                    name=self.nexudus_name or "",
                )
            )
        item = self.qbo_item_id if self.nexudus_type != "payments" else self.env["nexudus.qbo.item"]
        rows.write({"qbo_account_id": self.qbo_account_id.id, "qbo_item_id": item.id})
        message = self.env._(
            "Nexudus account %(code)s “%(name)s” is mapped to %(account)s in %(count)s locations: %(locations)s.",
            code=self.nexudus_code,
            name=self.nexudus_name or "",
            account=self.qbo_account_id.display_name,
            count=len(rows),
            locations=", ".join(rows.location_id.mapped("name")),
        )
        if self.nexudus_type != "payments" and not item:
            message += " " + self.env._("It has no QuickBooks item yet: use “Create QuickBooks items”.")
        kind = "success" if all(rows.mapped("ready")) else "warning"
        return rows._notify(self.env._("Mapped for all locations"), message, kind)
