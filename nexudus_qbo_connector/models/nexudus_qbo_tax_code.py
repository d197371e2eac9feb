from decimal import Decimal

from odoo import api, fields, models

from ..tools.qbo_objects import field


class NexudusQboTaxCode(models.Model):
    """A sales tax code of the company's QuickBooks file with its combined sales rate ("Refresh lists")."""

    _name = "nexudus.qbo.tax.code"
    _description = "QuickBooks tax code"
    _order = "name"

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True)
    qbo_id = fields.Char("QuickBooks ID", required=True)
    name = fields.Char(required=True)
    description = fields.Char()
    rate = fields.Float("Sales rate (%)", digits=(7, 4), help="The sum of the code's sales tax rates.")
    taxable = fields.Boolean()
    tax_group = fields.Boolean(help="A US tax group; TAX and NON are the US pseudo codes.")
    sales_rate_qbo_ids = fields.Char(
        "QuickBooks sales rate IDs", help="Comma-separated ids of the QuickBooks tax rates this code applies on sales."
    )
    active = fields.Boolean(default=True)

    _company_qbo_uniq = models.UniqueIndex("(company_id, qbo_id)", "This QuickBooks tax code is already listed.")

    @api.depends("name", "rate")
    def _compute_display_name(self):
        for code in self:
            code.display_name = f"{code.name} ({code.rate:g}%)" if code.rate else code.name

    def _values_from_qbo(self, row, rates):
        """``rates`` maps QBO TaxRate ids to their ``RateValue``."""
        details = field(row, "SalesTaxRateList", "TaxRateDetail", default=[])
        rate_ids = [field(d, "TaxRateRef", "value") for d in details]
        rate = sum((Decimal(str(rates.get(rate_id, 0))) for rate_id in rate_ids), Decimal(0))
        return {
            "name": field(row, "Name") or field(row, "Id"),
            "description": field(row, "Description") or False,
            "rate": float(rate),
            "taxable": bool(field(row, "Taxable", default=bool(details))),
            "tax_group": bool(field(row, "TaxGroup")),
            "sales_rate_qbo_ids": ",".join(str(rate_id) for rate_id in rate_ids if rate_id is not None),
            "active": field(row, "Active", default=True),
        }

    def _sales_rate_ids(self):
        return [rate_id for rate_id in (self.sales_rate_qbo_ids or "").split(",") if rate_id]
