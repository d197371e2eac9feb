from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ConnectorCase, sign_in_nexudus


@tagged("standard", "post_install", "-at_install")
class TestNexudusConnection(ConnectorCase):
    def _token_requests(self):
        return [r for r in self.nexudus.request_log if r[1] == "/api/token"]

    def test_test_connection_shows_the_locations_and_stores_the_tokens(self):
        _dialog, action = sign_in_nexudus(self)
        self.assertEqual(action["params"]["type"], "success")
        for business in self.nexudus.data.businesses.values():
            self.assertIn(business["Name"], action["params"]["message"])
        token = self.env["nexudus.qbo.token"]._get(self.env.company, "nexudus")
        self.assertTrue(token.access_token)
        self.assertTrue(token.refresh_token)
        self.assertTrue(token.access_expires_at)

    def test_test_connection_signs_in_afresh_once_despite_a_stored_token(self):
        sign_in_nexudus(self)
        stored = self.env["nexudus.qbo.token"]._get(self.env.company, "nexudus").access_token
        before = len(self._token_requests())
        sign_in_nexudus(self)
        self.assertEqual(len(self._token_requests()), before + 1)
        self.assertNotEqual(self.env["nexudus.qbo.token"]._get(self.env.company, "nexudus").access_token, stored)

    def test_runs_reuse_the_stored_token(self):
        sign_in_nexudus(self)
        before = len(self._token_requests())
        with self.enter_registry_test_mode():
            self.env.company._nexudus_locations()
        self.assertEqual(len(self._token_requests()), before)

    def test_a_two_factor_sign_in_keeps_working_without_the_code(self):
        dialog, _action = sign_in_nexudus(self, email="2fa@example.com", password="secret")
        dialog.write({"totp": "123456"})
        with self.enter_registry_test_mode():
            action = dialog.action_sign_in()
        self.assertEqual(action["params"]["type"], "success")
        self.nexudus.clock_offset += 8 * 24 * 3600  # the access token expired; the refresh token still works
        self.addCleanup(setattr, self.nexudus, "clock_offset", 0.0)
        with self.enter_registry_test_mode():
            locations = self.env.company._nexudus_locations()
        self.assertEqual(len(locations), len(self.nexudus.data.businesses))

    def test_missing_email_asks_for_it(self):
        self.env.company.sudo().nexudus_email = False
        with self.assertRaisesRegex(UserError, "admin email"):
            self.env.company._nexudus_locations()
