from odoo import api, fields, models


class NexudusQboLocation(models.Model):
    """A Nexudus location (business) seen by a company's Nexudus credentials.

    Filled by "Test connection"; the company picks which of them it serves. Accounts, tax rates and
    invoice numbering are per location in Nexudus, so everything the connector moves hangs off one.
    """

    _name = "nexudus.qbo.location"
    _description = "Nexudus location"
    _order = "name"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, ondelete="cascade", index=True)
    nexudus_id = fields.Integer("Nexudus ID", required=True)
    name = fields.Char(required=True)
    currency_code = fields.Char("Currency")
    country_name = fields.Char("Country")
    time_zone = fields.Char("Time zone", help="The location's own time zone: invoice dates are taken in it.")
    prices_include_tax = fields.Boolean(
        help="Whether prices in this location are entered tax included: detected from its invoices' own numbers "
        "until a manager sets it here (it then stays). It decides only for invoices whose lines cannot tell (no "
        "tax and no discount on any line); every other invoice says it by its own numbers."
    )
    prices_include_tax_set_by_hand = fields.Boolean(readonly=True)
    inclusive_invoices = fields.Integer("Invoices with prices tax included", readonly=True)
    exclusive_invoices = fields.Integer("Invoices with prices before tax", readonly=True)
    prices_include_tax_source = fields.Char("Prices include tax: how", compute="_compute_prices_include_tax_source")
    active = fields.Boolean(default=True)
    payment_cursor = fields.Datetime(
        "Payments read up to", help="The newest Nexudus ledger entry CreatedOn read for this location."
    )
    invoice_cursor = fields.Datetime(
        "Invoices read up to", help="The newest Nexudus UpdatedOn read for this location's invoices."
    )

    _company_nexudus_uniq = models.UniqueIndex("(company_id, nexudus_id)", "This Nexudus location is already listed.")

    @api.depends("prices_include_tax_set_by_hand", "inclusive_invoices", "exclusive_invoices")
    def _compute_prices_include_tax_source(self):
        for location in self:
            if location.prices_include_tax_set_by_hand:
                location.prices_include_tax_source = self.env._("Set by hand")
            else:
                location.prices_include_tax_source = self.env._(
                    "Detected (%(count)s invoices)", count=location.inclusive_invoices + location.exclusive_invoices
                )

    def write(self, vals):
        if "prices_include_tax" in vals and not self.env.context.get("nexudus_qbo_detected"):
            vals = {**vals, "prices_include_tax_set_by_hand": True}
        return super().write(vals)

    def _detect_prices_include_tax(self):
        """Count the location's invoices by what their lines say; unless a manager set it, follow them."""
        invoices = self.env["nexudus.qbo.invoice"]
        for location in self:
            counts = dict(invoices._read_group([("location_id", "=", location.id)], ["prices_reading"], ["__count"]))
            inclusive, exclusive = counts.get("inclusive", 0), counts.get("exclusive", 0)
            values = {"inclusive_invoices": inclusive, "exclusive_invoices": exclusive}
            if not location.prices_include_tax_set_by_hand and inclusive + exclusive:
                values["prices_include_tax"] = inclusive > exclusive
            location.with_context(nexudus_qbo_detected=True).write(values)

    def _sync_from_nexudus(self, company, businesses):
        """Create or update one record per Nexudus business dict; archive those no longer seen."""
        existing = {
            loc.nexudus_id: loc
            for loc in self.with_context(active_test=False).search([("company_id", "=", company.id)])
        }
        seen = self.browse()
        for business in businesses:
            values = {
                "name": business.get("Name") or str(business["Id"]),
                "currency_code": business.get("CurrencyCode") or False,
                "country_name": business.get("CountryName") or False,
                "time_zone": business.get("SimpleTimeZoneName") or business.get("SimpleTimeZoneId") or False,
                "active": True,
            }
            location = existing.get(business["Id"])
            if location:
                location.write(values)
            else:
                location = self.create({**values, "company_id": company.id, "nexudus_id": business["Id"]})
            seen |= location
        (self.browse([loc.id for loc in existing.values()]) - seen).active = False
        return seen
