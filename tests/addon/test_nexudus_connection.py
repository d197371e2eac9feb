from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ConnectorCase


@tagged("standard", "post_install", "-at_install")
class TestNexudusConnection(ConnectorCase):
    def _test_connection(self, **values):
        with self.enter_registry_test_mode():
            settings = self.env["res.config.settings"].create(values)
            return settings.action_nexudus_test_connection()

    def test_test_connection_shows_the_locations_and_stores_the_tokens(self):
        action = self._test_connection()
        self.assertEqual(action["params"]["type"], "success")
        for business in self.nexudus.data.businesses.values():
            self.assertIn(business["Name"], action["params"]["message"])
        token = self.env["nexudus.qbo.token"]._get(self.env.company, "nexudus")
        self.assertTrue(token.access_token)
        self.assertTrue(token.refresh_token)
        self.assertTrue(token.access_expires_at)

    def test_stored_token_is_reused_rather_than_signing_in_again(self):
        self._test_connection()
        before = [r for r in self.nexudus.request_log if r[1] == "/api/token"]
        self._test_connection()
        after = [r for r in self.nexudus.request_log if r[1] == "/api/token"]
        self.assertEqual(len(after), len(before))

    def test_wrong_password_is_reported_plainly(self):
        with self.assertRaisesRegex(UserError, "refused the sign-in"):
            self._test_connection(nexudus_password="not-the-password", nexudus_email="admin@example.com")

    def test_user_without_api_access_is_told_what_to_tick(self):
        with self.assertRaisesRegex(UserError, "API access"):
            self._test_connection(nexudus_email="noapi@example.com", nexudus_password="secret")

    def test_two_factor_code_is_used_when_given(self):
        with self.assertRaisesRegex(UserError, "two-factor"):
            self._test_connection(nexudus_email="2fa@example.com", nexudus_password="secret")
        action = self._test_connection(
            nexudus_email="2fa@example.com", nexudus_password="secret", nexudus_totp="123456"
        )
        self.assertEqual(action["params"]["type"], "success")

    def test_missing_email_asks_for_it(self):
        self.env.company.sudo().nexudus_email = False
        with self.assertRaisesRegex(UserError, "admin email"):
            self.env.company._nexudus_locations()
