from odoo.exceptions import UserError
from odoo.tests import tagged

from simulators.world import qbo_display_name

from .common import ConnectorCase, connect_qbo


@tagged("standard", "post_install", "-at_install")
class TestCustomerLinks(ConnectorCase):
    """Nexudus customers become QuickBooks customers once: adopted by name, or created with a name of their own."""

    def setUp(self):
        super().setUp()
        connect_qbo(self)
        self.company = self.env.company
        self.links = self.env["nexudus.qbo.customer.link"]

    def _coworker(self, clash):
        customer = next(c for c in self.world.customers if c.qbo_name_clash == clash)
        return customer, dict(self.nexudus.data.coworkers[customer.id])

    def _resolve(self, coworker):
        with self.enter_registry_test_mode():
            return self.links._resolve(self.company, self.company._qbo_client(), coworker)

    def _qbo_customers(self):
        return {row["Id"]: row["DisplayName"] for row in self.qbo.company.table("Customer").rows.values()}

    def test_existing_customer_of_the_same_name_is_adopted(self):
        customer, coworker = self._coworker("customer")
        before = self._qbo_customers()
        link = self._resolve(coworker)
        self.assertEqual(self._qbo_customers(), before, "nothing is created in QuickBooks")
        self.assertEqual(before[link.qbo_customer_id], qbo_display_name(customer))
        self.assertEqual(link.link_kind, "adopted")

    def test_name_held_by_a_vendor_or_employee_gets_a_distinct_deterministic_name(self):
        for clash in ("vendor", "employee"):
            customer, coworker = self._coworker(clash)
            link = self._resolve(coworker)
            expected = f"{qbo_display_name(customer)} (Nexudus {customer.id})"
            self.assertEqual(link.qbo_display_name, expected)
            self.assertEqual(self._qbo_customers()[link.qbo_customer_id], expected)
            self.assertEqual(link.link_kind, "created")

    def test_running_twice_creates_nothing_new(self):
        _customer, coworker = self._coworker("vendor")
        first = self._resolve(coworker)
        after_first = self._qbo_customers()
        self.assertEqual(self._resolve(coworker), first)
        qbo_id = first.qbo_customer_id
        first.unlink()  # even with the link lost, the customer made earlier is found again
        second = self._resolve(coworker)
        self.assertEqual(second.qbo_customer_id, qbo_id)
        self.assertEqual(self._qbo_customers(), after_first)

    def test_blank_billing_name_falls_back_to_full_name_and_refused_characters_go(self):
        coworker = {"Id": 990001, "FullName": "Ana: Lopez\tGarcia", "BillingName": None, "Email": "ana@example.com"}
        link = self._resolve(coworker)
        self.assertEqual(link.qbo_display_name, "Ana - Lopez - Garcia")
        self.assertEqual(self._qbo_customers()[link.qbo_customer_id], "Ana - Lopez - Garcia")

    def test_a_nameless_customer_is_refused_with_the_fix(self):
        with self.assertRaisesRegex(UserError, "Nexudus customer 990002 has neither a billing name nor a full name"):
            self._resolve({"Id": 990002, "FullName": " ", "BillingName": ""})

    def test_links_are_unique_per_company(self):
        _customer, coworker = self._coworker("customer")
        link = self._resolve(coworker)
        with self.assertRaises(Exception), self.cr.savepoint():  # noqa: B017 - the unique index's IntegrityError
            link.copy()


@tagged("standard", "post_install", "-at_install")
class TestCreateItems(ConnectorCase):
    """“Create QuickBooks items”: one Service item per mapped account, named after it."""

    def setUp(self):
        super().setUp()
        with self.enter_registry_test_mode():
            self.env["res.config.settings"].create({}).action_nexudus_test_connection()
        connect_qbo(self)
        with self.enter_registry_test_mode():
            self.env["nexudus.qbo.account.map"].action_refresh_lists()

    def test_create_item_for_a_matched_account_then_adopt_it(self):
        maps = self.env["nexudus.qbo.account.map"].search(
            [("nexudus_code", "=", "DESK-01"), ("company_id", "=", self.env.company.id)]
        )
        self.assertTrue(maps and all(maps.mapped("qbo_account_id")))
        self.assertFalse(any(maps.mapped("qbo_item_id")), "no seeded item uses Hot Desk Revenue")
        self.assertFalse(any(maps.mapped("ready")))
        first, others = maps[0], maps[1:]
        with self.enter_registry_test_mode():
            first.action_create_items()
        item = first.qbo_item_id
        self.assertEqual((item.name, item.item_type, item.income_account_id), ("Hot Desk Revenue", "Service",
                                                                              first.qbo_account_id))  # fmt: skip
        self.assertTrue(first.ready)
        qbo_items = [r for r in self.qbo.company.table("Item").rows.values() if r["Name"] == "Hot Desk Revenue"]
        self.assertEqual(len(qbo_items), 1)
        self.assertEqual(qbo_items[0]["IncomeAccountRef"]["value"], first.qbo_account_id.qbo_id)
        # The other locations' rows map the same account: the item is adopted, not created again.
        with self.enter_registry_test_mode():
            others.action_create_items()
        self.assertEqual(others.mapped("qbo_item_id"), item)
        self.assertEqual(len([r for r in self.qbo.company.table("Item").rows.values()
                              if r["Name"] == "Hot Desk Revenue"]), 1)  # fmt: skip

    def test_rows_without_account_are_refused(self):
        unmatched = self.env["nexudus.qbo.account.map"].search([("nexudus_code", "=", "PRD-001")])
        with self.assertRaisesRegex(UserError, "Select mappings that have a QuickBooks account"):
            unmatched.action_create_items()
