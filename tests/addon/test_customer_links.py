from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from simulators.world import qbo_display_name

from .common import ConnectorCase, FreshServicesCase, connect_qbo, sign_in_nexudus
from .transfer_common import import_invoices, prepare_transfers, qbo_rows, send


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
            location = coworker["InvoicingBusinessName"]
            expected = f"{qbo_display_name(customer)} ({location}, {customer.id})"
            self.assertEqual(link.qbo_display_name, expected)
            self.assertEqual(self._qbo_customers()[link.qbo_customer_id], expected)
            self.assertEqual(link.link_kind, "created")
            self.assertEqual(link.disambiguation, f"a vendor or employee holds the name “{qbo_display_name(customer)}”")

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


def person(coworker_id, full_name, location="London Bridge", **fields):
    """A Nexudus individual (``CoworkerType`` 1, no billing name unless given)."""
    return {
        "Id": coworker_id,
        "CoworkerType": 1,
        "FullName": full_name,
        "BillingName": None,
        "CompanyName": None,
        "InvoicingBusinessName": location,
        **fields,
    }


@tagged("standard", "post_install", "-at_install")
class TestOneCustomerPerPerson(FreshServicesCase):
    """Distinct people get distinct QuickBooks customers; members billed to one company share its customer;
    a link once made never moves."""

    def setUp(self):
        super().setUp()
        connect_qbo(self)
        self.company = self.env.company
        self.links = self.env["nexudus.qbo.customer.link"]

    def _resolve(self, coworker, currency=None):
        with self.enter_registry_test_mode():
            return self.links._resolve(self.company, self.company._qbo_client(), coworker, currency)

    def _qbo_customers(self):
        return {row["Id"]: row["DisplayName"] for row in self.qbo.company.table("Customer").rows.values()}

    def _qbo_create_customer(self, name, **fields):
        with self.enter_registry_test_mode():
            return self.company._qbo_client().call("POST", "customer", json={"DisplayName": name, **fields})["Customer"]

    def test_two_individuals_of_one_name_get_two_customers_and_the_list_says_why(self):
        first = self._resolve(person(990101, "James Smith"))
        second = self._resolve(person(990102, "James Smith", "Manchester Works"))
        self.assertEqual(
            (first.qbo_display_name, first.link_kind, first.disambiguation), ("James Smith", "created", False)
        )
        self.assertNotEqual(second.qbo_customer_id, first.qbo_customer_id)
        self.assertEqual(second.qbo_display_name, "James Smith (Manchester Works, 990102)")
        self.assertEqual(second.link_kind, "created")
        self.assertEqual(
            second.disambiguation, "“James Smith” is already the QuickBooks customer of Nexudus customer 990101"
        )
        customers = self._qbo_customers()
        self.assertEqual(customers[first.qbo_customer_id], "James Smith")
        self.assertEqual(customers[second.qbo_customer_id], "James Smith (Manchester Works, 990102)")
        # The reason is a column of the customer links list.
        arch = self.links.get_views([(False, "list")])["views"]["list"]["arch"]
        self.assertIn('name="disambiguation"', arch)
        self.assertEqual(self.links.fields_get(["disambiguation"])["disambiguation"]["string"], "Why this name")

    def test_an_existing_customer_is_adopted_by_the_first_person_of_that_name_only(self):
        existing = self._qbo_create_customer("Maria Garcia")
        first = self._resolve(person(990201, "Maria Garcia"))
        self.assertEqual((first.qbo_customer_id, first.link_kind), (existing["Id"], "adopted"))
        second = self._resolve(person(990202, "Maria Garcia", BillingName="Maria Garcia"))
        self.assertNotEqual(second.qbo_customer_id, existing["Id"])
        self.assertEqual(second.qbo_display_name, "Maria Garcia (London Bridge, 990202)")
        self.assertIn("Nexudus customer 990201", second.disambiguation)

    def test_members_billed_to_one_company_share_its_customer(self):
        company = {"BillingName": "Blue Fern Ltd", "CompanyName": "Blue Fern Ltd"}
        owner = self._resolve(person(990301, "Ada Byrne", CoworkerType=2, **company))
        before = self._qbo_customers()
        member = self._resolve(person(990302, "Noor Hale", "Manchester Works", **company))  # an individual billed to it
        self.assertEqual(member.qbo_customer_id, owner.qbo_customer_id)
        self.assertEqual((member.link_kind, member.disambiguation, member.company_billing), ("shared", False, True))
        self.assertEqual(self._qbo_customers(), before, "nothing is created in QuickBooks")
        # Someone billed under that name who is not billed to that company is a person of their own.
        namesake = self._resolve(person(990303, "Blue Fern Ltd"))
        self.assertNotEqual(namesake.qbo_customer_id, owner.qbo_customer_id)
        self.assertEqual(namesake.qbo_display_name, "Blue Fern Ltd (London Bridge, 990303)")
        self.assertIn("Nexudus customer 990301", namesake.disambiguation)
        # And a company never takes a person's customer.
        self._resolve(person(990304, "Kiran Shah"))
        firm = self._resolve(person(990305, "Kiran Shah", CoworkerType=2, BillingName="Kiran Shah"))
        self.assertEqual(firm.qbo_display_name, "Kiran Shah (London Bridge, 990305)")

    def test_a_link_never_moves(self):
        first = self._resolve(person(990401, "Tom Reid"))
        second = self._resolve(person(990402, "Tom Reid"))
        customers = self._qbo_customers()
        writes = len(self.qbo.writes)
        # A second run, even after the Nexudus customers changed, returns the same links and writes nothing.
        self.assertEqual(self._resolve(person(990401, "Tom Reid", BillingName="Reid Studio Ltd")), first)
        self.assertEqual(self._resolve(person(990402, "Tom Reid", CoworkerType=2, BillingName="Tom Reid")), second)
        self.assertEqual(
            (first.qbo_display_name, second.qbo_display_name), ("Tom Reid", "Tom Reid (London Bridge, 990402)")
        )
        self.assertEqual((len(self.qbo.writes), self._qbo_customers()), (writes, customers))
        # With the first link lost, nobody else takes the customer made for its person, who gets it back.
        qbo_id = first.qbo_customer_id
        first.unlink()
        third = self._resolve(person(990403, "Tom Reid"))
        self.assertNotEqual(third.qbo_customer_id, qbo_id)
        self.assertEqual(third.disambiguation, "“Tom Reid” was created in QuickBooks for Nexudus customer 990401")
        self.assertEqual(self._resolve(person(990401, "Tom Reid")).qbo_customer_id, qbo_id)
        self.assertEqual(self._resolve(person(990402, "Tom Reid")), second)

    def test_a_customer_in_another_currency_holds_the_name(self):
        self._qbo_create_customer("Ola Nowak", CurrencyRef={"value": "EUR"})
        link = self._resolve(person(990501, "Ola Nowak"), currency="GBP")
        self.assertEqual(link.qbo_display_name, "Ola Nowak (GBP)")
        self.assertEqual(link.disambiguation, "a customer in another currency (EUR) holds the name “Ola Nowak”")
        # Another person of that name in that currency: both reasons.
        other = self._resolve(person(990502, "Ola Nowak"), currency="GBP")
        self.assertEqual(other.qbo_display_name, "Ola Nowak (GBP) (London Bridge, 990502)")
        self.assertEqual(
            other.disambiguation,
            "a customer in another currency (EUR) holds the name “Ola Nowak”; "
            "“Ola Nowak (GBP)” is already the QuickBooks customer of Nexudus customer 990501",
        )

    def test_a_customer_made_under_the_earlier_disambiguated_name_is_found_again(self):
        customer = next(c for c in self.world.customers if c.qbo_name_clash == "vendor")
        coworker = dict(self.nexudus.data.coworkers[customer.id])
        legacy = f"{qbo_display_name(customer)} (Nexudus {customer.id})"
        made = self._qbo_create_customer(legacy)
        before = self._qbo_customers()
        link = self._resolve(coworker)
        self.assertEqual(self._qbo_customers(), before, "nothing is created in QuickBooks")
        self.assertEqual((link.qbo_customer_id, link.qbo_display_name), (made["Id"], legacy))


@tagged("standard", "post_install", "-at_install")
class TestNamesakesInvoices(FreshServicesCase):
    """Sending the invoices of two Nexudus individuals of one name: two QuickBooks customers."""

    def test_invoices_of_two_namesakes_go_to_two_customers(self):
        prepare_transfers(self)
        invoices = import_invoices(self).filtered(lambda r: r.transfer_state == "to_send")
        by_coworker = {}
        for invoice in invoices:
            by_coworker.setdefault(invoice.nexudus_coworker_id, invoice)
        self.assertGreaterEqual(len(by_coworker), 2, "the seed has sendable invoices of several customers")
        (first_id, first), (second_id, second) = sorted(by_coworker.items())[:2]
        coworkers = self.nexudus.data.coworkers
        for coworker_id in (first_id, second_id):
            coworkers[coworker_id].update(FullName="Sam Lee", BillingName=None, CompanyName=None, CoworkerType=1)
        # Read again from Nexudus (not from the copy taken with the invoices).
        self.env["nexudus.qbo.coworker"].search([("nexudus_id", "in", [first_id, second_id])]).unlink()
        send(self, first | second)
        self.assertEqual(
            (first | second).mapped("transfer_state"), ["sent", "sent"], (first | second).mapped("transfer_reason")
        )
        customers = {row["Id"]: row["DisplayName"] for row in qbo_rows(self, "Customer")}
        names = {}
        for invoice in first | second:
            entity = "CreditMemo" if invoice.is_credit_note else "Invoice"
            document = next(row for row in qbo_rows(self, entity) if row["Id"] == invoice.qbo_id)
            names[invoice.nexudus_coworker_id] = customers[document["CustomerRef"]["value"]]
        # Whichever was sent first keeps the name; the other is named after its location and Nexudus ID.
        self.assertEqual(len(set(names.values())), 2, names)
        self.assertIn("Sam Lee", names.values())
        later = next(i for i, name in names.items() if name != "Sam Lee")
        self.assertEqual(names[later], f"Sam Lee ({coworkers[later]['InvoicingBusinessName']}, {later})")
        link = self.env["nexudus.qbo.customer.link"].search([("nexudus_coworker_id", "=", later)])
        self.assertIn("is already the QuickBooks customer of Nexudus customer", link.disambiguation)


@tagged("standard", "post_install", "-at_install")
class TestCreateItems(FreshServicesCase):
    """“Create QuickBooks items”: one Service item per mapped account, named after it."""

    def setUp(self):
        super().setUp()
        sign_in_nexudus(self)
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
            notification = first.action_create_items()
        item = first.qbo_item_id
        self.assertEqual((item.name, item.item_type, item.income_account_id), ("Hot Desk Revenue", "Service",
                                                                              first.qbo_account_id))  # fmt: skip
        self.assertTrue(first.ready)
        self.assertEqual(notification["params"]["type"], "success")
        self.assertEqual(
            notification["params"]["message"],
            "Created in QuickBooks: Hot Desk Revenue. Mappings given their item: 1.",
        )
        qbo_items = [r for r in self.qbo.company.table("Item").rows.values() if r["Name"] == "Hot Desk Revenue"]
        self.assertEqual(len(qbo_items), 1)
        self.assertEqual(qbo_items[0]["IncomeAccountRef"]["value"], first.qbo_account_id.qbo_id)
        # The other locations' rows map the same account: the item is adopted, not created again.
        writes = len(self.qbo.writes)
        with self.enter_registry_test_mode():
            notification = others.action_create_items()
        self.assertEqual(others.mapped("qbo_item_id"), item)
        self.assertEqual(len(self.qbo.writes), writes, "nothing is written to QuickBooks")
        self.assertEqual(
            notification["params"]["message"],
            f"Adopted (QuickBooks already has them, with the same name and account): Hot Desk Revenue. "
            f"Mappings given their item: {len(others)}.",
        )

    def test_an_item_made_in_quickbooks_since_the_last_refresh_is_adopted(self):
        maps = self.env["nexudus.qbo.account.map"].search([("company_id", "=", self.env.company.id)])
        desk = maps.filtered(lambda m: m.nexudus_code == "DESK-01")[:1]
        events = maps.filtered(lambda m: m.nexudus_code == "EVT-001")[:1]
        events.qbo_account_id = self.env["nexudus.qbo.account"].search([("acct_num", "=", "evt-001")])
        name = events.qbo_account_id.name
        self.assertFalse(self.env["nexudus.qbo.item"].search([("name", "=", name)]))
        with self.enter_registry_test_mode():  # someone creates the item in QuickBooks, not through Odoo
            self.env.company._qbo_client().call(
                "POST",
                "item",
                json={"Name": name, "Type": "Service", "IncomeAccountRef": {"value": events.qbo_account_id.qbo_id}},
            )
        with self.enter_registry_test_mode():
            notification = (desk | events).action_create_items()
        self.assertEqual(events.qbo_item_id.name, name)
        self.assertEqual(
            notification["params"]["message"],
            "Created in QuickBooks: Hot Desk Revenue. Adopted (QuickBooks already has them, with the same name and "
            f"account): {name}. Mappings given their item: 2.",
        )

    def test_nothing_to_create_warns_why(self):
        maps = self.env["nexudus.qbo.account.map"].search([("company_id", "=", self.env.company.id)])
        unmatched = maps.filtered(lambda m: m.nexudus_code == "PRD-001")
        payments = maps.filtered(lambda m: m.nexudus_code == "PAY-001")
        writes = len(self.qbo.writes)
        notification = (unmatched | payments).action_create_items()
        self.assertEqual(len(self.qbo.writes), writes)
        self.assertEqual(notification["params"]["type"], "warning")
        self.assertEqual(
            notification["params"]["message"],
            f"Of the selected mappings, {len(unmatched)} have no QuickBooks account yet: pick the account first; "
            f"{len(payments)} are Payments accounts, which need no item.",
        )


@tagged("standard", "post_install", "-at_install")
class TestQuickBooksCustomerList(FreshServicesCase):
    """The QuickBooks customers are read into Odoo like the accounts; a link picks its customer from them."""

    def test_refresh_reads_the_active_customers_and_a_picked_customer_is_used_by_the_next_transfer(self):
        company = prepare_transfers(self)  # includes Refresh lists
        listed = self.env["nexudus.qbo.customer"].search([("company_id", "=", company.id)])
        active = {row["Id"]: row["DisplayName"] for row in qbo_rows(self, "Customer") if row.get("Active", True)}
        self.assertEqual({c.qbo_id: c.name for c in listed}, active)
        self.assertNotIn("Harbour Tenants (deleted)", listed.mapped("name"), "inactive customers are not offered")
        cool_cars = listed.filtered(lambda c: c.name == "Cool Cars")
        self.assertTrue(cool_cars)

        invoices = import_invoices(self).filtered(
            lambda r: r.transfer_state == "to_send" and r.currency_code == company.qbo_home_currency
        )
        picked, other = (
            invoices[0],
            invoices.filtered(lambda r: r.nexudus_coworker_id != invoices[0].nexudus_coworker_id)[0],
        )
        with Form(self.env["nexudus.qbo.customer.link"]) as form:
            form.nexudus_coworker_id = picked.nexudus_coworker_id
            form.customer_id = cool_cars
        link = form.record
        self.assertEqual(
            (link.qbo_customer_id, link.qbo_display_name, link.link_kind), (cool_cars.qbo_id, "Cool Cars", "manual")
        )
        customers_before = len(qbo_rows(self, "Customer"))
        send(self, picked)
        self.assertEqual(picked.transfer_state, "sent", picked.transfer_reason)
        entity = "CreditMemo" if picked.is_credit_note else "Invoice"
        document = next(row for row in qbo_rows(self, entity) if row["Id"] == picked.qbo_id)
        self.assertEqual(document["CustomerRef"]["value"], cool_cars.qbo_id)
        self.assertEqual(len(qbo_rows(self, "Customer")), customers_before, "no customer is created for it")

        # A customer the connector creates in QuickBooks is in the list at once.
        send(self, other)
        self.assertEqual(other.transfer_state, "sent", other.transfer_reason)
        made = self.env["nexudus.qbo.customer.link"].search([("nexudus_coworker_id", "=", other.nexudus_coworker_id)])
        self.assertIn(made.customer_id, self.env["nexudus.qbo.customer"].search([("company_id", "=", company.id)]))
        self.assertEqual(
            {row["Id"]: row["DisplayName"] for row in qbo_rows(self, "Customer")}[made.qbo_customer_id],
            made.customer_id.name,
        )
        # The list and the form offer the QuickBooks customer, without creating one from Odoo.
        for view_type in ("list", "form"):
            arch = link.get_views([(False, view_type)])["views"][view_type]["arch"]
            self.assertIn('name="customer_id"', arch)
            self.assertIn("no_create", arch)
