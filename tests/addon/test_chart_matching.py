from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common import ConnectorCase, FreshServicesCase, connect_qbo, sign_in_nexudus


@tagged("standard", "post_install", "-at_install")
class TestChartMatching(ConnectorCase):
    def setUp(self):
        super().setUp()
        sign_in_nexudus(self)
        connect_qbo(self)
        self.company = self.env.company
        self.london = self.env["nexudus.qbo.location"].search([("name", "=", "London Bridge")])

    def _refresh(self):
        with self.enter_registry_test_mode():
            self.env["nexudus.qbo.account.map"].action_refresh_lists()

    def _account_map(self, code, location=None):
        return self.env["nexudus.qbo.account.map"].search(
            [("location_id", "=", (location or self.london).id), ("nexudus_code", "=", code)]
        )

    def _tax_map(self, name, location=None):
        return self.env["nexudus.qbo.tax.map"].search(
            [("location_id", "=", (location or self.london).id), ("nexudus_name", "=", name)]
        )

    def test_refresh_lists_both_sides_per_location(self):
        self._refresh()
        for location in self.company.nexudus_location_ids:
            accounts = self.env["nexudus.qbo.financial.account"].search([("location_id", "=", location.id)])
            expected = [
                a for a in self.nexudus.data.financialaccounts.values() if a["BusinessId"] == location.nexudus_id
            ]
            self.assertEqual(sorted(accounts.mapped("code")), sorted(a["Code"] for a in expected))
            self.assertEqual(
                self.env["nexudus.qbo.account.map"].search_count([("location_id", "=", location.id)]), len(expected)
            )
            self.assertEqual(
                len(self.env["nexudus.qbo.tax.map"].search([("location_id", "=", location.id)])),
                len(self.world.tax_rates),
            )
        items = self.env["nexudus.qbo.item"].search([("company_id", "=", self.company.id)])
        self.assertIn("Services", items.mapped("name"))

    def test_exact_name_and_code_match_near_misses_do_not(self):
        self._refresh()
        membership = self._account_map("MEM-001")
        self.assertEqual(membership.match_state, "matched")
        self.assertEqual(
            (membership.qbo_account_id.name, membership.qbo_account_id.acct_num), ("Membership Revenue", "MEM-001")
        )
        events = self._account_map("EVT-001")
        self.assertEqual(events.match_state, "unmatched")
        self.assertFalse(events.qbo_account_id)
        self.assertEqual(events.match_reason, "code differs: EVT-001 vs evt-001")
        products = self._account_map("PRD-001")
        self.assertEqual(products.match_state, "unmatched")
        self.assertIn("no QuickBooks account is named “Product Sales”", products.match_reason)

    def test_payments_account_goes_to_a_deposit_account(self):
        self._refresh()
        payments = self._account_map("PAY-001")
        self.assertEqual(payments.match_state, "matched")
        self.assertEqual(payments.qbo_account_id.account_type, "Bank")
        self.assertTrue(payments.ready, "a Payments account needs no item")

    def test_exact_name_and_rate_match_same_name_other_rate_does_not(self):
        self._refresh()
        vat = self._tax_map("20.0% S")
        self.assertEqual(vat.match_state, "matched")
        self.assertEqual(vat.qbo_tax_code_id.name, "20.0% S")
        zero = self._tax_map("Zero-rated")
        self.assertEqual(zero.match_state, "unmatched")
        self.assertEqual(zero.match_reason, "rate differs: 5% vs 0%")
        self.assertFalse(zero.qbo_tax_code_id)

    def test_a_hand_made_mapping_survives_refresh(self):
        self._refresh()
        events = self._account_map("EVT-001")
        near_miss = self.env["nexudus.qbo.account"].search([("acct_num", "=", "evt-001")])
        events.qbo_account_id = near_miss
        zero = self._tax_map("Zero-rated")
        zero_code = self.env["nexudus.qbo.tax.code"].search([("name", "=", "Zero-rated")])
        zero.write({"qbo_tax_code_id": zero_code.id, "rate_difference_accepted": True})  # 5% in Nexudus, 0% here
        self.assertEqual((events.match_state, events.manual), ("manual", True))
        self._refresh()
        self.assertEqual(events.qbo_account_id, near_miss)
        self.assertEqual(events.match_state, "manual")
        self.assertEqual(zero.qbo_tax_code_id, zero_code)
        self.assertTrue(zero.rate_difference_accepted and zero.ready)
        events.action_reset_to_automatic()
        self.assertEqual((events.match_state, events.manual, events.qbo_account_id.id), ("unmatched", False, False))

    def test_mappings_are_unique_per_company_and_location(self):
        self._refresh()
        membership = self._account_map("MEM-001")
        with self.assertRaises(Exception), self.cr.savepoint():  # noqa: B017 - the unique index's IntegrityError
            membership.copy()
        self.assertEqual(
            len(self.env["nexudus.qbo.account.map"].search([("nexudus_code", "=", "MEM-001")])),
            len(self.company.nexudus_location_ids),
        )

    def test_users_read_the_mappings_and_managers_change_them(self):
        self._refresh()
        user = self.env["res.users"].create(
            {
                "name": "Finance clerk",
                "login": "nqc_finance_clerk",
                "group_ids": [Command.set([self.env.ref("nexudus_qbo_connector.group_nexudus_qbo_user").id])],
            }
        )
        as_user = self.env(user=user)
        menus = as_user["ir.ui.menu"]._visible_menu_ids()
        for xml_id in ("menu_nexudus_qbo_account_map", "menu_nexudus_qbo_tax_map", "menu_nexudus_qbo_customer_link"):
            self.assertIn(self.env.ref(f"nexudus_qbo_connector.{xml_id}").id, menus, xml_id)
        membership = as_user["nexudus.qbo.account.map"].search([("nexudus_code", "=", "MEM-001")], limit=1)
        self.assertEqual(membership.qbo_account_id.name, "Membership Revenue")
        self.assertTrue(as_user["nexudus.qbo.tax.map"].search_count([]))
        self.assertFalse(as_user["nexudus.qbo.customer.link"].search([]))  # readable, none yet
        with self.assertRaises(AccessError):
            membership.qbo_account_id = False
        with self.assertRaises(AccessError):
            self._tax_map("20.0% S").with_user(user).qbo_tax_code_id = False
        with self.assertRaises(AccessError):
            membership.action_create_items()
        with self.assertRaises(AccessError):
            as_user["nexudus.qbo.account.map"].action_refresh_lists()
        # The list opens read-only for them, without the buttons that change mappings.
        arch = as_user["nexudus.qbo.account.map"].get_views([(False, "list")])["views"]["list"]["arch"]
        self.assertIn('edit="False"', arch)
        self.assertNotIn("action_map_for_all_locations", arch)

    def _offered(self, mapping):
        """The QuickBooks accounts the mapping's account field offers (its domain, evaluated as the client does)."""
        domain = mapping.fields_get(["qbo_account_id"])["qbo_account_id"]["domain"]
        values = {"company_id": mapping.company_id.id, "nexudus_type": mapping.nexudus_type}
        return self.env["nexudus.qbo.account"].search(safe_eval(domain, values))

    def test_sales_accounts_offer_income_accounts_and_payments_deposit_accounts(self):
        self._refresh()
        all_accounts = self.env["nexudus.qbo.account"].search([("company_id", "=", self.company.id)])
        self.assertTrue(
            {"Income", "Bank", "Other Current Asset", "Accounts Receivable"} <= set(all_accounts.mapped("account_type"))
        )
        sales = self._offered(self._account_map("MEM-001"))
        self.assertIn("Membership Revenue", sales.mapped("name"))
        self.assertEqual(set(sales.mapped("account_type")), {"Income"})
        payments = self._offered(self._account_map("PAY-001"))
        self.assertEqual(set(payments.mapped("account_type")), {"Bank", "Other Current Asset"})
        self.assertIn("Undeposited Funds", payments.mapped("name"))
        self.assertEqual(self._offered(self._account_map("DEP-001")), all_accounts, "deposits: any account")
        # The list and the form carry the field the domain reads.
        for view_type in ("list", "form"):
            arch = self.env["nexudus.qbo.account.map"].get_views([(False, view_type)])["views"][view_type]["arch"]
            self.assertIn('name="nexudus_type"', arch)

    def test_an_account_of_the_wrong_kind_is_refused(self):
        self._refresh()
        bank = self.env["nexudus.qbo.account"].search([("account_type", "=", "Bank")], limit=1)
        income = self.env["nexudus.qbo.account"].search([("name", "=", "Services")], limit=1)
        with (
            self.assertRaisesRegex(ValidationError, "sales need an Income or Other Income account"),
            self.cr.savepoint(),
        ):
            self._account_map("MEM-001").qbo_account_id = bank
        with (
            self.assertRaisesRegex(ValidationError, "payments need a Bank or Other Current Asset account"),
            self.cr.savepoint(),
        ):
            self._account_map("PAY-001").qbo_account_id = income
        events = self._account_map("EVT-001")
        events.qbo_account_id = income
        self.assertEqual(events.match_state, "manual")


@tagged("standard", "post_install", "-at_install")
class TestMapForAllLocations(FreshServicesCase):
    """“Map for all locations”: one Nexudus account mapped in every served location whose chart has it."""

    def setUp(self):
        super().setUp()
        sign_in_nexudus(self)
        connect_qbo(self)
        self.company = self.env.company
        locations = self.env["nexudus.qbo.location"]
        self.london, self.manchester, self.dublin = (
            locations.search([("name", "=", name)]) for name in ("London Bridge", "Manchester Works", "Dublin Docks")
        )
        # Dublin's PRD-001 is another account that happens to have the same code.
        dublin_products = next(
            a
            for a in self.nexudus.data.financialaccounts.values()
            if a["Code"] == "PRD-001" and a["BusinessId"] == self.dublin.nexudus_id
        )
        dublin_products["Name"] = "Retail Sales"
        with self.enter_registry_test_mode():
            self.env["nexudus.qbo.account.map"].action_refresh_lists()
        self.maps = self.env["nexudus.qbo.account.map"].search(
            [("company_id", "=", self.company.id), ("nexudus_code", "=", "PRD-001")]
        )
        self.services = self.env["nexudus.qbo.account"].search([("name", "=", "Services")], limit=1)

    def _map_all(self, row, account):
        action = row.action_map_for_all_locations()
        self.assertEqual((action["res_model"], action["target"]), ("nexudus.qbo.map.all.locations", "new"))
        with Form(self.env[action["res_model"]].with_context(action["context"])) as wizard:
            wizard.qbo_account_id = account
            proposed = wizard.qbo_item_id
        return wizard.record.action_map(), proposed, wizard.record.location_ids

    def _row(self, location):
        return self.maps.filtered(lambda m: m.location_id == location)

    def test_one_action_maps_every_served_location_that_has_the_account(self):
        self.assertFalse(any(self.maps.mapped("qbo_account_id")))
        notification, proposed, locations = self._map_all(self._row(self.london), self.services)
        self.assertEqual(locations, self.london | self.manchester)
        self.assertEqual(proposed.income_account_id, self.services, "the item using the account is proposed")
        mapped = self._row(self.london) | self._row(self.manchester)
        self.assertEqual(mapped.qbo_account_id, self.services)
        self.assertEqual(mapped.qbo_item_id, proposed)
        self.assertEqual(set(mapped.mapped("match_state")), {"manual"})
        self.assertTrue(all(mapped.mapped("ready")))
        dublin = self._row(self.dublin)
        self.assertEqual((dublin.nexudus_name, dublin.qbo_account_id.id), ("Retail Sales", False))
        params = notification["params"]
        self.assertEqual(params["type"], "success")
        self.assertIn("is mapped to", params["message"])
        self.assertIn("in 2 locations: London Bridge, Manchester Works", params["message"])

    def test_locations_no_longer_served_are_left_alone(self):
        self.company.nexudus_location_ids -= self.manchester
        _notification, _proposed, locations = self._map_all(self._row(self.london), self.services)
        self.assertEqual(locations, self.london)
        self.assertEqual(self._row(self.london).qbo_account_id, self.services)
        self.assertFalse(self._row(self.manchester).qbo_account_id)

    def test_the_account_type_checks_hold(self):
        bank = self.env["nexudus.qbo.account"].search([("account_type", "=", "Bank")], limit=1)
        action = self._row(self.london).action_map_for_all_locations()
        wizard = self.env[action["res_model"]].with_context(action["context"]).create({"qbo_account_id": bank.id})
        with self.assertRaisesRegex(ValidationError, "sales need an Income or Other Income account"):
            wizard.action_map()
