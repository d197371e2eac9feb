from odoo import api, fields, models

from ..tools import matching
from .nexudus_qbo_account_map import MATCH_STATES


class NexudusQboTaxMap(models.Model):
    """Which QuickBooks tax code the lines of one Nexudus tax rate (by location, name and rate) carry.

    Non-US companies put the mapped tax code on each line. US companies mark each line taxable (TAX)
    or not (NON) and carry the rate on the invoice through the mapped tax code (a tax group).
    """

    _name = "nexudus.qbo.tax.map"
    _description = "Nexudus–QuickBooks tax mapping"
    _order = "location_id, nexudus_name"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    location_id = fields.Many2one("nexudus.qbo.location", required=True, ondelete="cascade", check_company=True)
    nexudus_name = fields.Char("Nexudus tax rate", required=True)
    nexudus_rate = fields.Float("Nexudus rate (%)", digits=(7, 4))
    qbo_tax_code_id = fields.Many2one(
        "nexudus.qbo.tax.code",
        string="QuickBooks tax code",
        check_company=True,
        domain="[('company_id', '=', company_id)]",
    )
    us_taxable = fields.Boolean(
        "Taxable (US)",
        help="US companies only: lines with this rate are marked taxable (TAX) rather than NON.",
    )
    match_state = fields.Selection(MATCH_STATES, default="unmatched", required=True, readonly=True)
    match_reason = fields.Char("Why", readonly=True)
    manual = fields.Boolean("Set by hand", readonly=True, help="A refresh never changes a mapping set by hand.")
    ready = fields.Boolean(compute="_compute_ready", store=True)

    _location_rate_uniq = models.UniqueIndex(
        "(company_id, location_id, nexudus_name, nexudus_rate)",
        "This Nexudus tax rate is already mapped for this location.",
    )

    @api.depends("qbo_tax_code_id")
    def _compute_ready(self):
        for row in self:
            row.ready = bool(row.qbo_tax_code_id)

    @api.depends("nexudus_name", "nexudus_rate", "location_id")
    def _compute_display_name(self):
        for row in self:
            row.display_name = f"{row.nexudus_name} {matching.percent(row.nexudus_rate)} ({row.location_id.name})"

    def write(self, vals):
        if not self.env.context.get("nexudus_qbo_auto_match") and {"qbo_tax_code_id", "us_taxable"} & set(vals):
            vals = {**vals, "manual": True, "match_state": "manual", "match_reason": False}
        return super().write(vals)

    def _auto_match(self, qbo_tax_codes):
        """Match the rows not set by hand, by exact name and rate."""
        codes = [{"Id": code.qbo_id, "Name": code.name, "rate": code.rate} for code in qbo_tax_codes]
        for row in self.filtered(lambda r: not r.manual):
            state, qbo_id, reason = matching.match_tax(row.nexudus_name, row.nexudus_rate, codes)
            code = qbo_tax_codes.filtered(lambda c, qbo_id=qbo_id: c.qbo_id == qbo_id)[:1]
            row.with_context(nexudus_qbo_auto_match=True).write(
                {
                    "match_state": state,
                    "match_reason": reason or False,
                    "qbo_tax_code_id": code.id,
                    "us_taxable": bool(row.nexudus_rate),
                }
            )

    def action_reset_to_automatic(self):
        self.with_context(nexudus_qbo_auto_match=True).write({"manual": False})
        for company in self.company_id:
            codes = self.env["nexudus.qbo.tax.code"].search([("company_id", "=", company.id)])
            self.filtered(lambda r, c=company: r.company_id == c)._auto_match(codes)

    def action_refresh_lists(self):
        self.env.company._nexudus_qbo_refresh_chart()
