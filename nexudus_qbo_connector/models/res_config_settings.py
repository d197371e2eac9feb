from odoo import api, fields, models

from ..tools.notifications import notification
from ..tools.webhooks import QBO_WEBHOOK_PATH
from .nexudus_qbo_run import DEFAULT_RETENTION_DAYS, RETENTION_PARAM


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    nexudus_email = fields.Char(related="company_id.nexudus_email", readonly=False)
    nexudus_password = fields.Char(related="company_id.nexudus_password", readonly=False)
    nexudus_location_ids = fields.Many2many(related="company_id.nexudus_location_ids", readonly=False)
    nexudus_invoice_url_template = fields.Char(related="company_id.nexudus_invoice_url_template", readonly=False)
    qbo_environment = fields.Selection(related="company_id.qbo_environment", readonly=False)
    qbo_client_id = fields.Char(related="company_id.qbo_client_id", readonly=False)
    qbo_client_secret = fields.Char(related="company_id.qbo_client_secret", readonly=False)
    qbo_state = fields.Selection(related="company_id.qbo_state")
    qbo_company_name = fields.Char(related="company_id.qbo_company_name")
    qbo_country = fields.Char(related="company_id.qbo_country")
    qbo_redirect_uri = fields.Char(
        "Redirect URI", compute="_compute_intuit_urls", help="Register this URI in your Intuit app's settings."
    )
    nexudus_qbo_send_payments = fields.Boolean(related="company_id.nexudus_qbo_send_payments", readonly=False)
    nexudus_qbo_reconcile_payments = fields.Boolean(related="company_id.nexudus_qbo_reconcile_payments", readonly=False)
    nexudus_qbo_payments_account_id = fields.Many2one(
        related="company_id.nexudus_qbo_payments_account_id", readonly=False
    )
    nexudus_qbo_default_tax_code_id = fields.Many2one(
        related="company_id.nexudus_qbo_default_tax_code_id", readonly=False
    )
    nexudus_qbo_use_invoice_period = fields.Boolean(related="company_id.nexudus_qbo_use_invoice_period", readonly=False)
    nexudus_qbo_auto_send_invoices = fields.Boolean(related="company_id.nexudus_qbo_auto_send_invoices", readonly=False)
    nexudus_qbo_auto_pull_payments = fields.Boolean(related="company_id.nexudus_qbo_auto_pull_payments", readonly=False)
    nexudus_qbo_create_payment_methods = fields.Boolean(
        related="company_id.nexudus_qbo_create_payment_methods", readonly=False
    )
    nexudus_qbo_interval_minutes = fields.Integer(related="company_id.nexudus_qbo_interval_minutes", readonly=False)
    nexudus_qbo_run_retention_days = fields.Integer(
        "Keep run history (days)", config_parameter=RETENTION_PARAM, default=DEFAULT_RETENTION_DAYS
    )
    nexudus_webhook_secret = fields.Char(related="company_id.nexudus_webhook_secret", readonly=False)
    qbo_verifier_token = fields.Char(related="company_id.qbo_verifier_token", readonly=False)
    qbo_webhook_url = fields.Char(
        "Intuit webhook endpoint URL",
        compute="_compute_intuit_urls",
        help="Paste this URL on your Intuit app's Webhooks page.",
    )

    def _compute_intuit_urls(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        for settings in self:
            settings.qbo_redirect_uri = f"{base_url}/nexudus_qbo/oauth/callback"
            settings.qbo_webhook_url = f"{base_url}{QBO_WEBHOOK_PATH}"

    def _notify(self, title, message, kind="success"):
        return notification(title, message, kind)

    def action_nexudus_test_connection(self):
        """Open the Nexudus sign-in dialog, which signs in afresh and lists the locations the user sees."""
        self.ensure_one()
        return self.env["nexudus.qbo.signin"]._open_for(self.company_id)

    def action_qbo_connect(self):
        """Send the browser to Intuit's consent page; Intuit sends it back to the callback controller."""
        self.ensure_one()
        self.execute()
        return {"type": "ir.actions.act_url", "url": self.company_id._qbo_authorization_url(), "target": "self"}

    @api.model
    def _qbo_connected_notification(self):
        """After Intuit's callback: name the QuickBooks company now connected, then open these settings."""
        settings = self.env["ir.actions.act_window"]._for_xml_id("nexudus_qbo_connector.action_nexudus_qbo_settings")
        company = self.env.company
        if company.qbo_state != "connected":
            return settings
        return notification(
            self.env._("Connected to QuickBooks"),
            self.env._(
                "%(company)s now keeps its books in the QuickBooks company %(name)s (%(country)s).",
                company=company.name,
                name=company.qbo_company_name,
                country=company.qbo_country,
            ),
            then=settings,
        )

    def action_qbo_disconnect(self):
        self.ensure_one()
        self.company_id._qbo_disconnect()
        return self._notify(
            self.env._("QuickBooks disconnected"),
            self.env._("The connection was revoked at Intuit and its tokens forgotten."),
        )

    def action_qbo_refresh_lists(self):
        self.ensure_one()
        self.execute()
        self.company_id._qbo_refresh_lists()
        return self._notify(
            self.env._("QuickBooks lists refreshed"), self.env._("Accounts and tax codes were read from QuickBooks.")
        )

    def action_nexudus_qbo_preflight(self):
        self.ensure_one()
        self.execute()
        preflight = self.env["nexudus.qbo.preflight"]._run(self.company_id)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Pre-flight checks"),
            "res_model": "nexudus.qbo.preflight",
            "res_id": preflight.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_nexudus_register_webhooks(self):
        """Create in Nexudus the webhooks that tell this Odoo to run as soon as invoices and payments change."""
        self.ensure_one()
        self.execute()
        company = self.company_id
        created = company._nexudus_register_webhooks()
        locations = ", ".join(company.nexudus_location_ids.mapped("name"))
        if not created:
            message = self.env._(
                "Every Nexudus webhook was already registered and active for %(locations)s: nothing was changed.",
                locations=locations,
            )
        else:
            message = self.env._(
                "Nexudus webhooks created or switched back on for %(locations)s: %(count)s. Nexudus now tells Odoo "
                "when invoices are issued, changed, credited or paid.",
                count=created,
                locations=locations,
            )
        return self._notify(self.env._("Nexudus webhooks registered"), message)
