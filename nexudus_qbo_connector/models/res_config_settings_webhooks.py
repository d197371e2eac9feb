from odoo import fields, models

from ..tools.notifications import notification
from .res_company_webhooks import QBO_WEBHOOK_PATH, _base_url


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    nexudus_webhook_secret = fields.Char(related="company_id.nexudus_webhook_secret", readonly=False)
    qbo_verifier_token = fields.Char(related="company_id.qbo_verifier_token", readonly=False)
    qbo_webhook_url = fields.Char(
        "Intuit webhook endpoint URL",
        compute="_compute_qbo_webhook_url",
        help="Paste this URL on your Intuit app's Webhooks page.",
    )

    def _compute_qbo_webhook_url(self):
        for settings in self:
            settings.qbo_webhook_url = f"{_base_url(self.env)}{QBO_WEBHOOK_PATH}"

    def action_nexudus_register_webhooks(self):
        """Create in Nexudus the webhooks that tell this Odoo to run as soon as invoices and payments change."""
        self.ensure_one()
        self.execute()
        company = self.company_id
        created = company._nexudus_register_webhooks()
        locations = ", ".join(company.nexudus_location_ids.mapped("name"))
        if not created:
            message = self.env._(
                "Every Nexudus webhook was already registered for %(locations)s: nothing was created.",
                locations=locations,
            )
        else:
            message = self.env._(
                "%(count)s Nexudus webhooks were created for %(locations)s. Nexudus now tells Odoo when invoices "
                "are issued, changed, credited or paid.",
                count=created,
                locations=locations,
            )
        return notification(self.env._("Nexudus webhooks registered"), message)
