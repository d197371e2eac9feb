from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    nexudus_email = fields.Char(related="company_id.nexudus_email", readonly=False)
    nexudus_password = fields.Char(related="company_id.nexudus_password", readonly=False)
    nexudus_totp = fields.Char("2FA code", help="Only for Nexudus accounts with two-factor authentication.")
    qbo_environment = fields.Selection(related="company_id.qbo_environment", readonly=False)
    qbo_client_id = fields.Char(related="company_id.qbo_client_id", readonly=False)
    qbo_client_secret = fields.Char(related="company_id.qbo_client_secret", readonly=False)
    qbo_state = fields.Selection(related="company_id.qbo_state")
    qbo_company_name = fields.Char(related="company_id.qbo_company_name")

    def action_nexudus_test_connection(self):
        """Sign in to Nexudus with the entered credentials and list the locations they can see."""
        self.ensure_one()
        self.execute()  # save the credentials first, as every other settings button does
        locations = self.company_id._nexudus_locations(totp=self.nexudus_totp)
        names = ", ".join(location.get("Name", "?") for location in locations) or self.env._("none")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Connected to Nexudus"),
                "message": self.env._(
                    "These credentials see %(count)s location(s): %(names)s", count=len(locations), names=names
                ),
                "type": "success",
                "sticky": False,
            },
        }
