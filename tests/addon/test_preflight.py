import copy

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import ConnectorCase, connect_qbo, sign_in_nexudus


@tagged("standard", "post_install", "-at_install")
class TestPreflight(ConnectorCase):
    def setUp(self):
        super().setUp()
        preferences = self.qbo.company.preferences
        saved = copy.deepcopy(preferences)
        self.addCleanup(lambda: (preferences.clear(), preferences.update(saved)))
        self.sales_prefs = preferences["SalesFormsPrefs"]
        self.currency_prefs = preferences["CurrencyPrefs"]
        sign_in_nexudus(self)
        self.company = self.env.company
        self.company.nexudus_location_ids = self.env["nexudus.qbo.location"].search([])

    def _checks(self):
        with self.enter_registry_test_mode():
            preflight = self.env["nexudus.qbo.preflight"]._run(self.company)
        return preflight, {line.name: line for line in preflight.line_ids}

    def _connect_and_choose(self):
        connect_qbo(self)
        with self.enter_registry_test_mode():
            self.company._qbo_refresh_lists()
        self.company.nexudus_qbo_payments_account_id = self.env["nexudus.qbo.account"].search(
            [("name", "=", "Payments")]
        )
        self.company.nexudus_qbo_default_tax_code_id = self.env["nexudus.qbo.tax.code"].search(
            [("name", "=", "No VAT")]
        )

    def test_not_connected_blocks_with_the_fix(self):
        preflight, lines = self._checks()
        self.assertFalse(preflight.ready)
        self.assertEqual(lines["QuickBooks connection"].status, "error")
        self.assertIn("Connect with QuickBooks", lines["QuickBooks connection"].fix)
        self.assertEqual(lines["Nexudus API access"].status, "ok")

    def test_auto_apply_on_in_quickbooks_blocks_with_where_to_untick(self):
        self._connect_and_choose()
        self.sales_prefs.update(AutoApplyCredit=True, AutoApplyPayments=True)
        preflight, lines = self._checks()
        self.assertFalse(preflight.ready)
        for label in ("Automatically apply credits", "Automatically apply payments"):
            self.assertEqual(lines[label].status, "error")
            self.assertIn("Account and settings › Advanced", lines[label].fix)
            self.assertIn(label, lines[label].fix)
        with self.enter_registry_test_mode(), self.assertRaisesRegex(UserError, "Automatically apply credits"):
            self.env["nexudus.qbo.preflight"]._assert_ready(self.company)

    def test_everything_right_is_ready(self):
        self._connect_and_choose()
        self.sales_prefs.update(AutoApplyCredit=False, AutoApplyPayments=False, CustomTxnNumbers=True)
        preflight, lines = self._checks()
        self.assertTrue(preflight.ready, [(line.name, line.message) for line in preflight.line_ids])
        self.assertEqual(lines["Payments account"].status, "ok")
        self.assertEqual(lines["Default tax code"].status, "ok")
        self.assertIn("Non-US company (GB)", lines["Tax model"].message)
        self.assertIn("GBP", lines["Currencies"].message)
        self.assertIn("EUR", lines["Currencies"].message)
        with self.enter_registry_test_mode():
            self.env["nexudus.qbo.preflight"]._assert_ready(self.company)

    def test_custom_numbers_off_and_missing_choices_are_warnings(self):
        connect_qbo(self)
        self.sales_prefs.update(AutoApplyCredit=False, AutoApplyPayments=False, CustomTxnNumbers=False)
        preflight, lines = self._checks()
        self.assertTrue(preflight.ready)
        self.assertEqual(lines["Custom transaction numbers"].status, "warning")
        self.assertIn("Custom transaction numbers", lines["Custom transaction numbers"].fix)
        self.assertEqual(lines["Payments account"].status, "warning")

    def test_foreign_currency_location_needs_multicurrency(self):
        self._connect_and_choose()
        self.sales_prefs.update(AutoApplyCredit=False, AutoApplyPayments=False)
        self.currency_prefs["MultiCurrencyEnabled"] = False
        preflight, lines = self._checks()
        self.assertFalse(preflight.ready)
        self.assertEqual(lines["Currencies"].status, "error")
        self.assertIn("EUR", lines["Currencies"].message)
        self.company.nexudus_location_ids = self.company.nexudus_location_ids.filtered(
            lambda loc: loc.currency_code == "GBP"
        )
        self.assertEqual(self._checks()[1]["Currencies"].status, "ok")

    def test_deleted_payments_account_is_caught(self):
        self._connect_and_choose()
        self.sales_prefs.update(AutoApplyCredit=False, AutoApplyPayments=False)
        account = self.qbo.company.table("Account").get(self.company.nexudus_qbo_payments_account_id.qbo_id)
        account["Active"] = False
        self.addCleanup(account.__setitem__, "Active", True)
        _preflight, lines = self._checks()
        self.assertEqual(lines["Payments account"].status, "error")
        self.assertIn("no longer exists or is inactive", lines["Payments account"].message)

    def test_nexudus_user_without_api_access_blocks(self):
        self.company.sudo().nexudus_email = "noapi@example.com"
        self.env["nexudus.qbo.token"]._get(self.company, "nexudus").unlink()
        _preflight, lines = self._checks()
        self.assertEqual(lines["Nexudus API access"].status, "error")
        self.assertIn("API access", lines["Nexudus API access"].message)

    def test_button_opens_the_checklist(self):
        with self.enter_registry_test_mode():
            action = self.env["res.config.settings"].create({}).action_nexudus_qbo_preflight()
        self.assertEqual(action["res_model"], "nexudus.qbo.preflight")
        self.assertTrue(self.env["nexudus.qbo.preflight"].browse(action["res_id"]).line_ids)
