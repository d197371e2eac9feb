"""The sign-in dialog in a real browser (Odoo's tour runner; it skips itself when no Chromium is found)."""

from odoo.tests import HttpCase, tagged

from .common import SimulatedServicesMixin


@tagged("post_install", "-at_install")
class TestSigninTour(SimulatedServicesMixin, HttpCase):
    def test_two_factor_sign_in_through_the_dialog(self):
        self.start_tour(
            "/odoo/action-nexudus_qbo_connector.action_nexudus_qbo_settings", "nexudus_qbo_signin_tour", login="admin"
        )
        company = self.env.company.sudo()
        self.assertEqual(company.nexudus_email, "2fa@example.com")
        token = self.env["nexudus.qbo.token"]._get(company, "nexudus")
        self.assertEqual(self.nexudus.access_tokens[token.access_token][0], 3)  # the 2FA user's token
        self.assertEqual(len(company.nexudus_location_ids), len(self.nexudus.data.businesses))
