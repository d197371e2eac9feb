"""The whole "Connect with QuickBooks" round trip through the real callback controller and the
QuickBooks simulator's consent page, and the refusals of forged, expired and replayed states."""

import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import requests

from odoo.tests import HttpCase, tagged
from odoo.tools.misc import hash_sign

from .common import SimulatedServicesMixin

CALLBACK = "/nexudus_qbo/oauth/callback"


@tagged("standard", "post_install", "-at_install")
class TestQboOAuthRoundTrip(SimulatedServicesMixin, HttpCase):
    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        self.authenticate("admin", "admin")

    def _consent(self, action="authorize"):
        """Click "Connect with QuickBooks", then the simulator's consent button; return Intuit's redirect."""
        admin = self.env.ref("base.user_admin")  # the user of the browser session clicks the button
        url = self.env["res.config.settings"].with_user(admin).create({}).action_qbo_connect()["url"]
        page = requests.get(url, timeout=10)
        self.assertEqual(page.status_code, 200)
        self.assertIn("Bridge Coworking Ltd", page.text)
        form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
        form["action"] = action
        answer = requests.post(f"{self.qbo.url}/connect/oauth2", data=form, allow_redirects=False, timeout=10)
        self.assertEqual(answer.status_code, 302)
        redirect = answer.headers["Location"]
        self.assertTrue(redirect.startswith(self.base_url() + CALLBACK), redirect)
        return redirect

    def _callback(self, redirect):
        parts = urlsplit(redirect)
        return self.url_open(f"{parts.path}?{parts.query}", allow_redirects=False)

    def test_connect_through_the_consent_page_and_the_callback(self):
        response = self._callback(self._consent())
        self.assertEqual(response.status_code, 303)
        self.assertTrue(
            response.headers["Location"].endswith("/odoo/action-nexudus_qbo_connector.action_qbo_connected")
        )
        company = self.env.company
        company.invalidate_recordset()
        self.assertEqual(company.qbo_state, "connected")
        self.assertEqual(company.qbo_realm_id, self.qbo.company.realm_id)
        self.assertEqual(company.qbo_company_name, "Bridge Coworking Ltd")
        self.assertEqual(company.qbo_country, "GB")
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.qbo_company_name, "Bridge Coworking Ltd")

    def test_the_page_after_the_callback_confirms_the_connection(self):
        """What the browser loads after the callback: the server action the redirect names, which the web
        client runs with /web/action/run."""
        admin = self.env.ref("base.user_admin")
        after_callback = self.env.ref("nexudus_qbo_connector.action_qbo_connected").with_user(admin)
        settings_action = self.env.ref("nexudus_qbo_connector.action_nexudus_qbo_settings")
        self.assertEqual(after_callback.run()["id"], settings_action.id)  # not connected: just Settings
        self._callback(self._consent())
        self.env.invalidate_all()
        action = after_callback.run()
        self.assertEqual((action["tag"], action["params"]["type"]), ("display_notification", "success"))
        self.assertEqual(action["params"]["title"], "Connected to QuickBooks")
        self.assertIn("QuickBooks company Bridge Coworking Ltd (GB)", action["params"]["message"])
        self.assertEqual(action["params"]["next"]["id"], settings_action.id)

    def test_the_browser_shows_the_notification_after_the_callback(self):
        self._callback(self._consent())
        self.start_tour(
            "/odoo/action-nexudus_qbo_connector.action_qbo_connected", "nexudus_qbo_connected_tour", login="admin"
        )

    def test_replayed_state_is_refused(self):
        redirect = self._consent()
        self.assertEqual(self._callback(redirect).status_code, 303)
        replay = self._callback(redirect)
        self.assertEqual(replay.status_code, 400)
        self.assertIn("already used", replay.text)

    def test_forged_state_is_refused(self):
        redirect = self._consent()
        query = parse_qs(urlsplit(redirect).query)
        forged = hash_sign(
            self.env(su=True),
            "someone.else",
            {"company_id": self.env.company.id, "user_id": self.env.ref("base.user_admin").id, "nonce": "x"},
        )
        for state in (forged, "not-even-base64", ""):
            response = self.url_open(
                f"{CALLBACK}?code={query['code'][0]}&realmId=1&state={state}", allow_redirects=False
            )
            self.assertEqual(response.status_code, 400)
            self.assertIn("invalid or has expired", response.text)
        self.assertEqual(self.env.company.qbo_state, "not_connected")

    def test_expired_state_is_refused(self):
        redirect = self._consent()
        query = parse_qs(urlsplit(redirect).query)
        company = self.env.company.sudo()
        payload = {
            "company_id": company.id,
            "user_id": self.env.ref("base.user_admin").id,
            "nonce": company.qbo_oauth_nonce,
        }  # everything right, but an hour and a second old
        expired = hash_sign(
            self.env(su=True), "nexudus_qbo_connector.oauth", payload, expiration=datetime.now() - timedelta(seconds=1)
        )
        response = self.url_open(f"{CALLBACK}?code={query['code'][0]}&realmId=1&state={expired}", allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertIn("invalid or has expired", response.text)
        self.assertEqual(self.env.company.qbo_state, "not_connected")

    def test_cancel_on_the_consent_page_connects_nothing(self):
        response = self._callback(self._consent(action="cancel"))
        self.assertEqual(response.status_code, 400)
        self.assertIn("access_denied", response.text)
        self.assertEqual(self.env.company.qbo_state, "not_connected")
