from datetime import datetime, timezone

from odoo import fields, models
from odoo.exceptions import UserError

from ..tools import nexudus_client, qbo_client
from ..tools.errors import ApiError

# System parameters that point the connector at other hosts than the real services (the tests and
# the demo use them to reach the simulators). Each one defaults to the live service.
ENDPOINT_PARAMS = {
    "nexudus_api_url": nexudus_client.DEFAULT_URL,
    "qbo_api_url": None,  # None: the sandbox or production API host, by the company's environment
    "intuit_authorize_url": qbo_client.AUTHORIZE_URL,
    "intuit_token_url": qbo_client.TOKEN_URL,
    "intuit_revoke_url": qbo_client.REVOKE_URL,
}


class ResCompany(models.Model):
    _inherit = "res.company"

    # -- Nexudus sign-in (per company: each Odoo company serves its own Nexudus locations) ----------
    nexudus_email = fields.Char("Nexudus admin email", groups="base.group_system", copy=False)
    nexudus_password = fields.Char("Nexudus password", groups="base.group_system", copy=False)

    # -- QuickBooks Online OAuth 2.0 ------------------------------------------------------------------
    qbo_environment = fields.Selection(
        [("sandbox", "Sandbox"), ("production", "Production")],
        default="sandbox",
        string="QuickBooks environment",
    )
    qbo_client_id = fields.Char("QuickBooks client ID", groups="base.group_system", copy=False)
    qbo_client_secret = fields.Char("QuickBooks client secret", groups="base.group_system", copy=False)
    qbo_realm_id = fields.Char("QuickBooks company ID", copy=False, readonly=True)
    qbo_company_name = fields.Char("QuickBooks company", copy=False, readonly=True)
    qbo_country = fields.Char("QuickBooks company country", copy=False, readonly=True)
    qbo_state = fields.Selection(
        [("not_connected", "Not connected"), ("connected", "Connected"), ("needs_reconnect", "Needs reconnect")],
        string="QuickBooks connection",
        default="not_connected",
        required=True,
        copy=False,
        readonly=True,
    )

    def _nexudus_qbo_endpoint(self, key):
        """The URL of one external endpoint: the system parameter if set, else the real service."""
        self.ensure_one()
        value = self.env["ir.config_parameter"].sudo().get_param(f"nexudus_qbo_connector.{key}")
        if value:
            return value.rstrip("/")
        if key == "qbo_api_url":
            return qbo_client.API_URLS[self.qbo_environment or "sandbox"]
        return ENDPOINT_PARAMS[key]

    # -- Nexudus ---------------------------------------------------------------------------------
    def _nexudus_client(self, password=None):
        """A Nexudus client signed in as this company's admin user; new tokens are stored at once."""
        self.ensure_one()
        company = self.sudo()
        if not company.nexudus_email:
            raise UserError(
                self.env._("Enter the Nexudus admin email and password in Settings › Nexudus–QuickBooks first.")
            )
        token = self.env["nexudus.qbo.token"]._get(self, "nexudus")
        expires = token.access_expires_at
        return nexudus_client.NexudusClient(
            self._nexudus_qbo_endpoint("nexudus_api_url"),
            email=company.nexudus_email,
            password=password or company.nexudus_password,
            access_token=token.access_token,
            refresh_token=token.refresh_token,
            expires_at=expires.replace(tzinfo=timezone.utc).timestamp() if expires else None,
            on_tokens=self._nexudus_store_tokens,
        )

    def _nexudus_store_tokens(self, tokens):
        """Nexudus invalidates the previous refresh token as soon as it issues a new one: store it now."""
        self.env["nexudus.qbo.token"]._store(
            self,
            "nexudus",
            {
                "access_token": tokens["access_token"],
                "refresh_token": tokens["refresh_token"],
                "access_expires_at": _utc(tokens["expires_at"]),
            },
        )

    def _nexudus_locations(self, totp=None):
        """The Nexudus locations (businesses) the stored credentials can see, as a list of dicts."""
        client = self._nexudus_client()
        try:
            if totp:
                client.sign_in(totp=totp)
            return list(client.list("businesses", order_by="Name"))
        except ApiError as exc:
            raise UserError(str(exc)) from exc


def _utc(timestamp):
    return datetime.fromtimestamp(timestamp, timezone.utc).replace(tzinfo=None)
