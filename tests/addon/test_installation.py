from odoo.exceptions import AccessError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import new_test_user, tagged

from .common import ADDON, ConnectorCase


@tagged("standard", "post_install", "-at_install")
class TestInstallation(ConnectorCase):
    def test_addon_is_installed_with_its_groups(self):
        module = self.env["ir.module.module"].search([("name", "=", ADDON)])
        self.assertEqual(module.state, "installed")
        user_group = self.env.ref(f"{ADDON}.group_nexudus_qbo_user")
        manager_group = self.env.ref(f"{ADDON}.group_nexudus_qbo_manager")
        self.assertEqual(user_group.privilege_id, manager_group.privilege_id)
        self.assertIn(user_group, manager_group.implied_ids)
        self.assertIn(self.env.ref("base.user_admin"), manager_group.user_ids)

    def test_settings_screen_has_the_connector_section(self):
        arch = self.env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="nexudus_qbo_connector"', arch)
        for field in ("nexudus_email", "nexudus_password", "qbo_client_id", "qbo_client_secret", "qbo_state"):
            self.assertIn(f'name="{field}"', arch)
        action = self.env.ref(f"{ADDON}.action_nexudus_qbo_settings")
        self.assertEqual(action.res_model, "res.config.settings")

    def test_endpoints_default_to_the_real_services_and_follow_system_parameters(self):
        company = self.env.company
        params = self.env["ir.config_parameter"].sudo()
        self.assertEqual(company._nexudus_qbo_endpoint("nexudus_api_url"), self.nexudus.url)
        params.set_param(f"{ADDON}.nexudus_api_url", False)
        params.set_param(f"{ADDON}.qbo_api_url", False)
        params.set_param(f"{ADDON}.intuit_token_url", False)
        self.assertEqual(company._nexudus_qbo_endpoint("nexudus_api_url"), "https://spaces.nexudus.com")
        self.assertEqual(
            company._nexudus_qbo_endpoint("intuit_token_url"),
            "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
        )
        company.qbo_environment = "sandbox"
        self.assertEqual(company._nexudus_qbo_endpoint("qbo_api_url"), "https://sandbox-quickbooks.api.intuit.com")
        company.qbo_environment = "production"
        self.assertEqual(company._nexudus_qbo_endpoint("qbo_api_url"), "https://quickbooks.api.intuit.com")

    def test_secrets_are_for_settings_administrators_only(self):
        manager = new_test_user(self.env, login="nqc_manager", groups=f"{ADDON}.group_nexudus_qbo_manager")
        company = self.env.company.with_user(manager)
        for field in ("nexudus_password", "qbo_client_secret"):
            with self.assertRaises(AccessError):
                company.read([field])
        with self.assertRaises(AccessError):
            self.env["nexudus.qbo.token"].with_user(manager).search([])
        self.assertEqual(self.env.company.sudo().read(["nexudus_password"])[0]["nexudus_password"], "secret")

    def test_neutralize_blanks_every_secret(self):
        self.env["nexudus.qbo.token"].sudo().create(
            {
                "company_id": self.env.company.id,
                "service": "qbo",
                "access_token": "at",
                "refresh_token": "rt",
            }
        )
        self.assertEqual(self.env.company.qbo_state, "connected")
        self.env.flush_all()
        queries = list(get_neutralization_queries([ADDON]))
        self.assertEqual(len(queries), 1, "Odoo finds the addon's data/neutralize.sql")
        self.env.cr.execute(queries[0])
        self.env.invalidate_all()
        company = self.env.company.sudo()
        self.assertFalse(company.nexudus_password)
        self.assertFalse(company.qbo_client_secret)
        self.assertEqual(company.qbo_state, "needs_reconnect")
        token = self.env["nexudus.qbo.token"].sudo().search([("company_id", "=", company.id)])
        self.assertFalse(token.access_token or token.refresh_token)
