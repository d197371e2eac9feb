"""The Nexudus webhook receiver and the "Register Nexudus webhooks" button, under both signing readings
(research uncertainty 11: webhooks of an app are signed with its shared secret; others may not be)."""

import hashlib
import hmac
import json

from odoo.exceptions import UserError
from odoo.tests import tagged

from .webhook_common import WebhookCase

WEBHOOK_ACTIONS = 6  # invoice create, update, credit note, paid, received payment, refund


def locations_names(company):
    return ", ".join(company.nexudus_location_ids.mapped("name"))


class NexudusWebhookMixin:
    def setUp(self):
        super().setUp()
        if self.nexudus_signing == "signed":
            self.company.sudo().nexudus_webhook_secret = self.nexudus.shared_secret
        self.nexudus.reset_limits()  # the class shares one simulator: each test signs in afresh
        self.nexudus.webhooks.clear()  # and registers its own
        self.company._nexudus_locations()

    def register(self):
        return self.env["res.config.settings"].create({}).action_nexudus_register_webhooks()

    def url_path(self):
        return self.company._nexudus_webhook_url().removeprefix(self.base_url())

    def signed(self, body):
        digest = hmac.new(self.nexudus.shared_secret.encode(), body, hashlib.sha256).hexdigest().upper()
        return {"X-Nexudus-Hook-Signature": digest}

    def test_register_creates_the_missing_webhooks_once(self):
        action = self.register()
        locations = len(self.company.nexudus_location_ids)
        self.assertEqual(len(self.nexudus.webhooks), WEBHOOK_ACTIONS * locations)
        self.assertIn(f"switched back on for {locations_names(self.company)}: {WEBHOOK_ACTIONS * locations}.",
                      action["params"]["message"])  # fmt: skip
        urls = {hook["URL"] for hook in self.nexudus.webhooks.values()}
        self.assertEqual(urls, {self.company._nexudus_webhook_url()})
        self.assertTrue(next(iter(urls)).startswith(self.base_url() + "/nexudus_qbo/webhook/nexudus/"))
        again = self.register()
        self.assertEqual(len(self.nexudus.webhooks), WEBHOOK_ACTIONS * locations)
        self.assertIn("nothing was changed", again["params"]["message"])

    def test_register_switches_back_on_what_nexudus_disabled(self):
        self.register()
        disabled = next(iter(self.nexudus.webhooks.values()))
        disabled.update(Active=False, ErrorCount=10, LastError="401: bad or missing signature")
        action = self.register()
        self.assertIn(f"switched back on for {locations_names(self.company)}: 1.", action["params"]["message"])
        self.assertTrue(disabled["Active"])
        self.assertEqual(self.nexudus.writes[-1], ("WebHook", "update", disabled["Id"]))

    def test_register_says_plainly_when_nexudus_refuses(self):
        self.nexudus.fail_next(status=400)  # a refusal: not retried
        with self.assertRaisesRegex(UserError, "The Nexudus webhooks could not be registered"):
            self.company._nexudus_register_webhooks()

    def test_an_invoice_issued_in_nexudus_triggers_the_sync(self):
        self.register()
        before = self.triggers()
        self.env.flush_all()  # what the button's request commits
        with self.allow_requests(all_requests=True):  # the simulator's posts carry no test cookie
            self.nexudus.issue_invoice()
            self.assertTrue(self.nexudus.wait_for_deliveries())
        self.assertFalse([hook["LastError"] for hook in self.nexudus.webhooks.values() if hook["LastError"]])
        self.assertEqual(self.triggers(), before + 1)
        delivery = self.env["nexudus.qbo.webhook.delivery"].search([("source", "=", "nexudus")], limit=1)
        self.assertEqual(delivery.company_id, self.company)

    def test_the_url_token_is_the_companys_own_and_stable(self):
        token = self.company._nexudus_webhook_token()
        self.assertEqual(len(token), 64)
        self.assertEqual(self.company._nexudus_webhook_token(), token)
        other = self.env["res.company"].create({"name": "Another coworking company"})
        self.assertNotEqual(other._nexudus_webhook_token(), token)
        body = json.dumps([{"Id": 3}]).encode()
        path = self.url_path().replace(f"/{self.company.id}/", f"/{other.id}/")  # this token, another company
        self.assertEqual(self.post(path, body, self.signed(body)).status_code, 401)

    def test_a_wrong_token_is_refused(self):
        body = json.dumps([{"Id": 1}]).encode()
        before = self.triggers()
        forged = self.url_path()[:-4] + "AAAA"
        self.assertEqual(self.post(forged, body, self.signed(body)).status_code, 401)
        self.assertEqual(self.post(f"/nexudus_qbo/webhook/nexudus/999999/{'A' * 43}", body).status_code, 401)
        self.assertEqual(self.triggers(), before)

    def test_a_replayed_delivery_is_refused(self):
        body = json.dumps([{"Id": 42}]).encode()
        headers = self.signed(body) if self.nexudus_signing == "signed" else {}
        self.assertEqual(self.post(self.url_path(), body, headers).status_code, 200)
        before = self.triggers()
        self.assertEqual(self.post(self.url_path(), body, headers).status_code, 400)
        self.assertEqual(self.triggers(), before)

    def test_a_body_that_is_not_one_record_is_refused(self):
        for body in (b"{}", b"[]", b"not json"):
            headers = self.signed(body) if self.nexudus_signing == "signed" else {}
            self.assertEqual(self.post(self.url_path(), body, headers).status_code, 400)


@tagged("standard", "post_install", "-at_install")
class TestNexudusWebhooksSigned(NexudusWebhookMixin, WebhookCase):
    """Webhooks of a registered Nexudus app: the company keeps its shared secret; a signature is required."""

    nexudus_signing = "signed"

    def test_a_missing_or_wrong_signature_is_refused(self):
        body = json.dumps([{"Id": 7}]).encode()
        before = self.triggers()
        self.assertEqual(self.post(self.url_path(), body).status_code, 401)
        wrong = {"X-Nexudus-Hook-Signature": self.signed(body)["X-Nexudus-Hook-Signature"].lower()}
        self.assertEqual(self.post(self.url_path(), body, wrong).status_code, 401)
        self.assertEqual(self.post(self.url_path(), body + b" ", self.signed(body)).status_code, 401)
        self.assertEqual(self.triggers(), before)


@tagged("standard", "post_install", "-at_install")
class TestNexudusWebhooksUnsigned(NexudusWebhookMixin, WebhookCase):
    """Webhooks Nexudus does not sign: no shared secret is set, and the URL's token alone admits them."""

    nexudus_signing = "unsigned"

    def test_a_shared_secret_set_refuses_unsigned_deliveries(self):
        self.register()
        self.company.sudo().nexudus_webhook_secret = "a secret Nexudus does not use"
        before = self.triggers()
        self.env.flush_all()  # what the button's request commits
        with self.allow_requests(all_requests=True):  # the simulator's posts carry no test cookie
            self.nexudus.issue_invoice()
            self.assertTrue(self.nexudus.wait_for_deliveries())
        self.assertEqual(self.triggers(), before)
        self.assertTrue(all(hook["ErrorCount"] == 1 for hook in self.nexudus.webhooks.values() if hook["LastError"]))
