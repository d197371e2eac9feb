"""Webhooks of a company: its secrets, the URLs the services post to, and registering them in Nexudus."""

import secrets

from odoo import models
from odoo.exceptions import UserError

from ..tools.errors import ApiError
from ..tools.texts import translated
from .encrypted_fields import encrypted_char

NEXUDUS_WEBHOOK_PATH = "/nexudus_qbo/webhook/nexudus"
QBO_WEBHOOK_PATH = "/nexudus_qbo/webhook/qbo"
# The eWebhookAction names (research Nexudus §4) after which an invoice or a payment may have to move.
NEXUDUS_WEBHOOK_ACTIONS = (
    "CoworkerInvoiceCreate",
    "CoworkerInvoiceUpdate",
    "CoworkerInvoiceCreditNote",
    "CoworkerInvoicePaid",
    "CoworkerInvoiceReceivedPayment",
    "CoworkerInvoiceRefund",
)


class ResCompany(models.Model):
    _inherit = "res.company"

    nexudus_webhook_secret, nexudus_webhook_secret_encrypted = encrypted_char(
        "nexudus_webhook_secret",
        "Nexudus webhook shared secret",
        groups="base.group_system",
        help="The shared secret of your Nexudus app. When set, a Nexudus delivery without its signature is refused.",
    )
    nexudus_webhook_token, nexudus_webhook_token_encrypted = encrypted_char(
        "nexudus_webhook_token", "Nexudus webhook token", groups="base.group_system"
    )
    qbo_verifier_token, qbo_verifier_token_encrypted = encrypted_char(
        "qbo_verifier_token",
        "Intuit webhook verifier token",
        groups="base.group_system",
        help="The verifier token Intuit shows on your app's Webhooks page.",
    )

    def _nexudus_webhook_url(self):
        """The URL Nexudus posts this company's webhooks to; its random token is made on first use."""
        self.ensure_one()
        company = self.sudo()
        if not company.nexudus_webhook_token:
            company.nexudus_webhook_token = secrets.token_urlsafe(32)
        return f"{_base_url(self.env)}{NEXUDUS_WEBHOOK_PATH}/{self.id}/{company.nexudus_webhook_token}"

    def _nexudus_qbo_trigger_sync(self):
        """A webhook's only effect: the scheduled sync runs as soon as a cron worker is free."""
        self.env.ref("nexudus_qbo_connector.ir_cron_nexudus_qbo_sync").sudo()._trigger()

    def _nexudus_register_webhooks(self):
        """Create, in every location served, the Nexudus webhooks missing for this Odoo; return how many.

        Nexudus is read first, so clicking twice creates nothing the second time."""
        self.ensure_one()
        if not self.nexudus_location_ids:
            raise UserError(self.env._("Choose the Nexudus locations served first (Settings › Nexudus)."))
        url = self._nexudus_webhook_url()
        try:
            client = self._nexudus_client()
            actions = client.enum("eWebhookAction")
            missing = [name for name in NEXUDUS_WEBHOOK_ACTIONS if name not in actions]
            if missing:
                raise UserError(
                    self.env._(
                        "Nexudus does not offer the webhook actions %(actions)s. Nothing was registered; "
                        "contact Nexudus support.",
                        actions=", ".join(missing),
                    )
                )
            existing = {
                (hook.get("BusinessId"), hook.get("Action"))
                for hook in client.list("webhooks")
                if hook.get("URL") == url
            }
            created = 0
            for location in self.nexudus_location_ids:
                for name in NEXUDUS_WEBHOOK_ACTIONS:
                    if (location.nexudus_id, actions[name]) in existing:
                        continue
                    client.add(
                        "webhooks",
                        {
                            "BusinessId": location.nexudus_id,
                            "Name": f"Odoo QuickBooks connector: {name}",
                            "Action": actions[name],
                            "Description": "Tells Odoo to transfer invoices and payments to QuickBooks now.",
                            "URL": url,
                            "Active": True,
                        },
                    )
                    created += 1
        except ApiError as exc:
            raise UserError(
                self.env._(
                    "The Nexudus webhooks could not be registered (%(error)s). The webhooks already created are "
                    "kept; click the button again once this is solved.",
                    error=translated(self.env, exc),
                )
            ) from exc
        return created


def _base_url(env):
    return env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
