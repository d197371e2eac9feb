from psycopg2 import IntegrityError

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import ADDON, ConnectorCase, connect_qbo, sign_in_nexudus

TOGGLES = (
    "nexudus_qbo_send_payments",
    "nexudus_qbo_reconcile_payments",
    "nexudus_qbo_use_invoice_period",
    "nexudus_qbo_auto_send_invoices",
    "nexudus_qbo_auto_pull_payments",
)


@tagged("standard", "post_install", "-at_install")
class TestSettings(ConnectorCase):
    def test_defaults_are_those_of_nexudus_own_integration(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.nexudus_qbo_interval_minutes, 360)
        for toggle in TOGGLES:
            self.assertFalse(settings[toggle], toggle)

    def test_settings_round_trip(self):
        sign_in_nexudus(self)
        connect_qbo(self)
        with self.enter_registry_test_mode():
            self.env.company._qbo_refresh_lists()
        payments = self.env["nexudus.qbo.account"].search([("name", "=", "Payments")])
        vat = self.env["nexudus.qbo.tax.code"].search([("name", "=", "20.0% S")])
        locations = self.env["nexudus.qbo.location"].search([("company_id", "=", self.env.company.id)])
        values = dict.fromkeys(TOGGLES, True)
        values.update(
            nexudus_qbo_interval_minutes=15,
            nexudus_qbo_payments_account_id=payments.id,
            nexudus_qbo_default_tax_code_id=vat.id,
            nexudus_location_ids=[(6, 0, locations[:2].ids)],
            qbo_environment="production",
            nexudus_email="other@example.com",
        )
        self.env["res.config.settings"].create(values).execute()
        reopened = self.env["res.config.settings"].create({})
        for field, value in values.items():
            expected = locations[:2] if field == "nexudus_location_ids" else value
            if field.endswith("_id"):
                expected = self.env[reopened._fields[field].comodel_name].browse(value)
            self.assertEqual(reopened[field], expected, field)
        self.assertEqual(self.env.company.nexudus_qbo_interval_minutes, 15)

    def test_interval_is_five_minutes_at_least(self):
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self.env.company.nexudus_qbo_interval_minutes = 4
            self.env.flush_all()

    def test_lists_come_from_quickbooks_every_page_and_exactly(self):
        connect_qbo(self)
        with self.enter_registry_test_mode():
            self.env.company._qbo_refresh_lists()
        accounts = self.env["nexudus.qbo.account"].search([("company_id", "=", self.env.company.id)])
        qbo_accounts = [a for a in self.qbo.company.table("Account").rows.values() if a.get("Active", True)]
        self.assertEqual(len(accounts), len(qbo_accounts))
        payments = accounts.filtered(lambda a: a.name == "Payments")
        self.assertEqual((payments.acct_num, payments.account_type), ("PAY-001", "Bank"))
        self.assertTrue(payments.is_deposit_account)
        codes = self.env["nexudus.qbo.tax.code"].search([("company_id", "=", self.env.company.id)])
        rates = {code.name: code.rate for code in codes}
        self.assertEqual(rates["20.0% S"], 20)
        self.assertEqual(rates["Zero-rated"], 0)

    def test_locations_are_listed_by_test_connection(self):
        sign_in_nexudus(self)
        locations = self.env["nexudus.qbo.location"].search([("company_id", "=", self.env.company.id)])
        self.assertEqual(
            sorted(locations.mapped("nexudus_id")),
            sorted(self.nexudus.data.businesses),
        )
        self.assertEqual(self.env.company.nexudus_location_ids, locations, "all served until the operator chooses")
        # Nexudus documents no tax-inclusive flag: invoices say it by their own numbers, nothing is guessed here.
        self.assertFalse(any(locations.mapped("prices_include_tax")))
        self.assertEqual(locations.filtered(lambda loc: loc.name == "Dublin Docks").currency_code, "EUR")

    def test_users_without_settings_rights_read_no_secret_or_token(self):
        connect_qbo(self)
        for group in (f"{ADDON}.group_nexudus_qbo_manager", "account.group_account_manager"):
            user = new_test_user(self.env, login=f"nqc_{group}", groups=group)
            company = self.env.company.with_user(user)
            for field in ("nexudus_email", "nexudus_password", "qbo_client_id", "qbo_client_secret", "qbo_oauth_nonce"):
                with self.assertRaises(AccessError, msg=f"{group} read {field}"):
                    company.read([field])
            with self.assertRaises(AccessError):
                self.env["nexudus.qbo.token"].with_user(user).search_read([], ["access_token", "refresh_token"])
            # what they may see: the state and the QuickBooks company's name
            self.assertEqual(company.qbo_state, "connected")
            self.assertEqual(company.qbo_company_name, "Bridge Coworking Ltd")
