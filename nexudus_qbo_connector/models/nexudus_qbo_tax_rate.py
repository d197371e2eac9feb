from odoo import api, fields, models

from ..tools.matching import percent


class NexudusQboTaxRate(models.Model):
    """A tax rate of a Nexudus location, as last read from Nexudus ("Refresh lists")."""

    _name = "nexudus.qbo.tax.rate"
    _description = "Nexudus tax rate"
    _order = "location_id, name"

    company_id = fields.Many2one(related="location_id.company_id", store=True, index=True)
    location_id = fields.Many2one("nexudus.qbo.location", required=True, ondelete="cascade", index=True)
    nexudus_id = fields.Integer("Nexudus ID", required=True)
    name = fields.Char(required=True)
    rate = fields.Float("Rate (%)", digits=(7, 4))
    active = fields.Boolean(default=True)

    _location_nexudus_uniq = models.UniqueIndex("(location_id, nexudus_id)", "This Nexudus tax rate is already listed.")

    @api.depends("name", "rate")
    def _compute_display_name(self):
        for tax in self:
            tax.display_name = f"{tax.name} ({percent(tax.rate)})"

    def _values_from_nexudus(self, row):
        return {"name": row.get("Name") or "", "rate": float(row.get("Rate") or 0), "active": True}
