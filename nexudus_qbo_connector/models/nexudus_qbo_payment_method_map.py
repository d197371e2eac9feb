from odoo import api, fields, models

from ..tools import payment_payload


class NexudusQboPaymentMethodMap(models.Model):
    """Which QuickBooks payment method a Nexudus payment provider (ePaymentProvider) is recorded under.

    Rows appear with QuickBooks' usual names the first time a provider is seen; a manager changes them
    here. A method QuickBooks does not have is created there when Settings say so; otherwise the payment
    is sent without a method and says so.
    """

    _name = "nexudus.qbo.payment.method.map"
    _description = "Nexudus–QuickBooks payment method mapping"
    _order = "provider"
    _rec_name = "provider_name"

    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    provider = fields.Integer("Nexudus provider", required=True, help="The Nexudus ePaymentProvider number.")
    provider_name = fields.Char("Nexudus payment method", required=True)
    qbo_method_name = fields.Char(
        "QuickBooks payment method", help="Its name in QuickBooks' list of payment methods; empty: none."
    )

    _company_provider_uniq = models.UniqueIndex("(company_id, provider)", "This Nexudus provider is already mapped.")

    def write(self, vals):
        result = super().write(vals)
        self.env["nexudus.qbo.invoice"]._reevaluate_waiting(self.company_id)
        return result

    @api.model
    def _name_for(self, company, provider):
        """The QuickBooks method name for ``provider`` (None: record without a method)."""
        if not provider:
            return None
        row = self.sudo().search([("company_id", "=", company.id), ("provider", "=", int(provider))], limit=1)
        if not row:
            row = self.sudo().create(
                {
                    "company_id": company.id,
                    "provider": int(provider),
                    "provider_name": payment_payload.provider_name(int(provider)),
                    "qbo_method_name": payment_payload.METHOD_BY_PROVIDER.get(int(provider)) or False,
                }
            )
        return row.qbo_method_name or None
