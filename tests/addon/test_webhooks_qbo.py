"""The QuickBooks webhook receiver, for CloudEvents and the legacy eventNotifications (research QBO §3.4, §5.9):
signed with the company's verifier token, the company found by its realm; forged, stale and replayed refused."""

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import tagged

from .common import ADDON
from .webhook_common import WebhookCase

PATH = "/nexudus_qbo/webhook/qbo"
TOKEN = "verifier-token-of-this-company"


class QboWebhookMixin:
    def setUp(self):
        super().setUp()
        self.company.sudo().write({"qbo_realm_id": self.qbo.company.realm_id, "qbo_verifier_token": TOKEN})
        self.env.flush_all()

    def body(self, moment=None, entity_id="1", realm=None):
        """A notification as the simulator words it, at ``moment`` (now by default)."""
        payload = self.qbo.notification("Payment", "create", entity_id, moment or datetime.now(timezone.utc))
        if realm:
            payload = json.loads(json.dumps(payload).replace(self.qbo.company.realm_id, realm))
        return json.dumps(payload).encode()

    def signed(self, body, token=TOKEN):
        return {"intuit-signature": base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()}

    def test_a_payment_recorded_in_quickbooks_triggers_the_sync(self):
        self.qbo.subscribe_webhooks(self.base_url() + PATH, TOKEN)
        self.addCleanup(self.qbo.subscribe_webhooks, None)
        before = self.triggers()
        with self.allow_requests(all_requests=True):  # the simulator's posts carry no test cookie
            self.qbo.notify("Payment", "create", "77")
            self.assertTrue(self.qbo.wait_for_deliveries())
        self.assertEqual(self.qbo.webhook_answers[-1], 200)
        body = self.body(entity_id="78")
        self.assertLess(self.post(PATH, body, self.signed(body)).elapsed.total_seconds(), 3)  # Intuit waits 3 s
        self.assertEqual(self.triggers(), before + 2)
        deliveries = self.env["nexudus.qbo.webhook.delivery"].search([("source", "=", "qbo")])
        self.assertEqual(len(deliveries), 2)
        self.assertEqual((deliveries[0].company_id, deliveries[0].summary), (self.company, self.expected_summary))

    def test_a_wrong_signature_or_token_is_refused(self):
        body = self.body()
        before = self.triggers()
        self.assertEqual(self.post(PATH, body).status_code, 401)
        self.assertEqual(self.post(PATH, body, self.signed(body, "another app's token")).status_code, 401)
        self.assertEqual(self.post(PATH, body + b" ", self.signed(body)).status_code, 401)
        self.assertEqual(self.triggers(), before)

    def test_an_unknown_realm_is_refused(self):
        body = self.body(realm="999999999")
        self.assertEqual(self.post(PATH, body, self.signed(body)).status_code, 401)

    def test_a_company_without_verifier_token_refuses(self):
        self.company.sudo().qbo_verifier_token = False
        self.env.flush_all()
        body = self.body()
        self.assertEqual(self.post(PATH, body, self.signed(body)).status_code, 401)

    def test_a_stale_delivery_is_refused(self):
        """Older than two hours: past Intuit's last retry (about 20 + 30 + 50 minutes after the first try)."""
        before = self.triggers()
        old = self.body(datetime.now(timezone.utc) - timedelta(hours=2, minutes=1))
        self.assertEqual(self.post(PATH, old, self.signed(old)).status_code, 400)
        self.assertEqual(self.triggers(), before)
        retried = self.body(datetime.now(timezone.utc) - timedelta(minutes=100))
        self.assertEqual(self.post(PATH, retried, self.signed(retried)).status_code, 200)

    def test_a_replayed_delivery_is_refused(self):
        body = self.body()
        self.assertEqual(self.post(PATH, body, self.signed(body)).status_code, 200)
        before = self.triggers()
        self.assertEqual(self.post(PATH, body, self.signed(body)).status_code, 400)
        self.assertEqual(self.triggers(), before)

    def test_a_body_of_another_shape_is_refused(self):
        for body in (b"{}", b"[]", b"[{}]", b"not json", b'{"eventNotifications": [{}]}'):
            self.assertEqual(self.post(PATH, body, self.signed(body)).status_code, 400, body)


@tagged("standard", "post_install", "-at_install")
class TestQboWebhooksCloudEvents(QboWebhookMixin, WebhookCase):
    qbo_format = "cloudevents"
    expected_summary = "qbo.payment.created.v1"

    def test_the_same_event_ids_in_another_body_are_a_replay(self):
        body = self.body()
        self.assertEqual(self.post(PATH, body, self.signed(body)).status_code, 200)
        again = json.dumps(json.loads(body), indent=1).encode()  # same events, other bytes
        self.assertEqual(self.post(PATH, again, self.signed(again)).status_code, 400)

    def test_settings_show_the_url_to_paste_at_intuit(self):
        self.assertEqual(self.env["res.config.settings"].create({}).qbo_webhook_url, self.base_url() + PATH)

    def test_deliveries_are_forgotten_after_a_day(self):
        body = self.body()
        self.assertEqual(self.post(PATH, body, self.signed(body)).status_code, 200)
        deliveries = self.env["nexudus.qbo.webhook.delivery"].search([])
        deliveries.received_at = datetime.now() - timedelta(days=1, minutes=1)
        deliveries._gc_deliveries()
        self.assertFalse(deliveries.exists())

    def test_a_neutralized_copy_accepts_no_delivery(self):
        self.company.sudo().nexudus_webhook_secret = "shared"
        self.env.flush_all()
        for query in get_neutralization_queries([ADDON]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        company = self.company.sudo()
        self.assertFalse(company.qbo_verifier_token or company.nexudus_webhook_secret)
        body = self.body()
        self.assertEqual(self.post(PATH, body, self.signed(body)).status_code, 401)


@tagged("standard", "post_install", "-at_install")
class TestQboWebhooksLegacy(QboWebhookMixin, WebhookCase):
    qbo_format = "legacy"
    expected_summary = "Payment Create"
