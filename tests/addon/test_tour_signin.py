"""The setup screens in a real browser (Odoo's tour runner; it skips itself when no Chromium is found)."""

from odoo.tests import HttpCase, tagged

from .common import SimulatedServicesMixin, connect_qbo

SETTINGS = "/odoo/action-nexudus_qbo_connector.action_nexudus_qbo_settings"
ACCOUNT_MAPPINGS = "/odoo/action-nexudus_qbo_connector.action_nexudus_qbo_account_map"


@tagged("post_install", "-at_install")
class TestSigninTour(SimulatedServicesMixin, HttpCase):
    def test_two_factor_sign_in_then_one_account_mapped_for_all_locations(self):
        self.start_tour(SETTINGS, "nexudus_qbo_signin_tour", login="admin")
        company = self.env.company.sudo()
        self.assertEqual(company.nexudus_email, "2fa@example.com")
        token = self.env["nexudus.qbo.token"]._get(company, "nexudus")
        self.assertEqual(self.nexudus.access_tokens[token.access_token][0], 3)  # the 2FA user's token
        self.assertEqual(len(company.nexudus_location_ids), len(self.nexudus.data.businesses))

        connect_qbo(self)
        self.env["nexudus.qbo.account.map"].action_refresh_lists()
        self.start_tour(ACCOUNT_MAPPINGS, "nexudus_qbo_map_all_tour", login="admin")
        mapped = self.env["nexudus.qbo.account.map"].search([("nexudus_code", "=", "PRD-001")])
        self.assertEqual(len(mapped), 3)
        self.assertEqual(set(mapped.mapped("qbo_account_id.name")), {"Services"})
        self.assertTrue(all(mapped.mapped("ready")))
