from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import matching
from .nexudus_qbo_account_map import MATCH_STATES


class NexudusQboTaxMap(models.Model):
    """Which QuickBooks tax code the lines of one Nexudus tax rate (by location, name and rate) carry.

    Non-US companies put the mapped tax code on each line. US companies mark each line taxable (TAX)
    or not (NON) and carry the rate on the invoice through the mapped tax code (a tax group).

    A tax code whose rate is not the Nexudus rate would put the lines in the wrong box of the VAT return:
    automatic matching never picks one, and a manager can set one by hand only by ticking "Rates differ on
    purpose", which stays on the row. A mapping whose QuickBooks rate changed since is no longer ready.
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
    qbo_rate = fields.Float("QuickBooks rate (%)", related="qbo_tax_code_id.rate", digits=(7, 4))
    rates_differ = fields.Boolean(
        "Rates differ", compute="_compute_rates_differ", store=True, help="The QuickBooks code's rate is not this one."
    )
    rate_difference_accepted = fields.Boolean(
        "Rates differ on purpose",
        help="Tick only when lines at this Nexudus rate must go to QuickBooks under a tax code of another rate "
        "(and the VAT return is right that way). Without it such a mapping is refused.",
    )
    ready = fields.Boolean(compute="_compute_ready", store=True)

    _location_rate_uniq = models.UniqueIndex(
        "(company_id, location_id, nexudus_name, nexudus_rate)",
        "This Nexudus tax rate is already mapped for this location.",
    )

    @api.depends("qbo_tax_code_id", "qbo_tax_code_id.rate", "nexudus_rate")
    def _compute_rates_differ(self):
        for row in self:
            code = row.qbo_tax_code_id
            row.rates_differ = bool(code) and matching.rate(code.rate) != matching.rate(row.nexudus_rate)

    @api.depends("qbo_tax_code_id", "rates_differ", "rate_difference_accepted")
    def _compute_ready(self):
        for row in self:
            row.ready = bool(row.qbo_tax_code_id) and (not row.rates_differ or row.rate_difference_accepted)

    @api.constrains("qbo_tax_code_id", "nexudus_rate", "rate_difference_accepted")
    def _check_rates(self):
        for row in self:
            if row.rates_differ and not row.rate_difference_accepted:
                raise ValidationError(
                    self.env._(
                        "The QuickBooks tax code “%(code)s” is at %(qbo_rate)s, but Nexudus charges %(rate)s "
                        "under “%(name)s” (%(location)s): lines sent with it would land in the wrong place of "
                        "the tax return. Pick a QuickBooks tax code at %(rate)s (create it in QuickBooks, then "
                        "Refresh lists), or, if the difference is intended, tick “Rates differ on purpose”.",
                        code=row.qbo_tax_code_id.name,
                        qbo_rate=matching.percent(row.qbo_tax_code_id.rate),
                        rate=matching.percent(row.nexudus_rate),
                        name=row.nexudus_name,
                        location=row.location_id.name,
                    )
                )

    @api.depends("nexudus_name", "nexudus_rate", "location_id")
    def _compute_display_name(self):
        for row in self:
            row.display_name = f"{row.nexudus_name} {matching.percent(row.nexudus_rate)} ({row.location_id.name})"

    def write(self, vals):
        if not self.env.context.get("nexudus_qbo_auto_match") and {"qbo_tax_code_id", "us_taxable"} & set(vals):
            vals = {**vals, "manual": True, "match_state": "manual", "match_reason": False}
        result = super().write(vals)
        # An acknowledgement is about one difference: it goes once the rates agree.
        agreed = self.filtered(lambda r: r.rate_difference_accepted and not r.rates_differ)
        if agreed:
            super(NexudusQboTaxMap, agreed).write({"rate_difference_accepted": False})
        if not self.env.context.get("nexudus_qbo_auto_match"):  # automatic matching re-evaluates once, at its end
            self.env["nexudus.qbo.invoice"]._reevaluate_waiting(self.company_id)
        return result

    @api.model_create_multi
    def create(self, vals_list):
        rows = super().create(vals_list)
        self.env["nexudus.qbo.invoice"]._reevaluate_waiting(rows.filtered("ready").company_id)
        return rows

    def _auto_match(self, qbo_tax_codes):
        """Match the rows not set by hand, by exact name and rate."""
        codes = [{"Id": code.qbo_id, "Name": code.name, "rate": code.rate} for code in qbo_tax_codes]
        for row in self.filtered("manual"):
            # A hand-made choice stays, but one whose QuickBooks rate changed since is held back, with why.
            reason = False
            if row.rates_differ and not row.rate_difference_accepted:
                reason = self.env._(
                    "QuickBooks now charges %(qbo_rate)s under “%(code)s”, not %(rate)s: pick another code, or "
                    "tick “Rates differ on purpose”",
                    qbo_rate=matching.percent(row.qbo_tax_code_id.rate),
                    code=row.qbo_tax_code_id.name,
                    rate=matching.percent(row.nexudus_rate),
                )
            if row.match_reason != reason:
                row.with_context(nexudus_qbo_auto_match=True).write({"match_reason": reason})
        for row in self.filtered(lambda r: not r.manual):
            state, qbo_id, reason = matching.match_tax(row.nexudus_name, row.nexudus_rate, codes)
            code = qbo_tax_codes.filtered(lambda c, qbo_id=qbo_id: c.qbo_id == qbo_id)[:1]
            row.with_context(nexudus_qbo_auto_match=True).write(
                {
                    "match_state": state,
                    "match_reason": reason or False,
                    "qbo_tax_code_id": code.id,
                    "us_taxable": bool(row.nexudus_rate),
                    "rate_difference_accepted": False,
                }
            )

    def action_reset_to_automatic(self):
        self.with_context(nexudus_qbo_auto_match=True).write({"manual": False})
        for company in self.company_id:
            codes = self.env["nexudus.qbo.tax.code"].search([("company_id", "=", company.id)])
            self.filtered(lambda r, c=company: r.company_id == c)._auto_match(codes)
        self.env["nexudus.qbo.invoice"]._reevaluate_waiting(self.company_id)

    def action_refresh_lists(self):
        self.env.company._nexudus_qbo_refresh_chart()
