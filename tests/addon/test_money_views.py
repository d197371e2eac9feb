from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.nexudus_qbo_connector.tools.qbo_links import document_url

from .common import FreshServicesCase
from .transfer_common import complete_mappings, import_invoices, link_customers, money, prepare_transfers, send

TRANSFER = "odoo.addons.nexudus_qbo_connector.models.nexudus_qbo_invoice"


@tagged("standard", "post_install", "-at_install")
class TestMoney(FreshServicesCase):
    """Every amount in its own currency, totals never across currencies, links to QuickBooks, to-dos."""

    world_sizes = {"seed": 7, "profile": "uk", "locations": 3, "customers": 12, "invoices": 40, "credit_notes": 6}

    def setUp(self):
        super().setUp()
        prepare_transfers(self)
        complete_mappings(self)
        self.invoices = import_invoices(self)
        self.model = self.env["nexudus.qbo.invoice"]

    def test_every_invoice_has_its_currency_and_it_is_active(self):
        self.assertFalse(self.invoices.filtered(lambda r: not r.currency_id))
        self.assertEqual(set(self.invoices.mapped("currency_id.name")), {"GBP", "EUR"})
        for invoice in self.invoices:
            self.assertEqual(invoice.currency_id.name, invoice.currency_code)
        self.assertTrue(all(self.invoices.currency_id.mapped("active")))

    def test_grouped_totals_are_per_currency_never_across(self):
        domain = [("id", "in", self.invoices.ids)]
        by_currency = {}
        for invoice in self.invoices:
            by_currency.setdefault(invoice.currency_id.id, []).append(money(invoice.amount_total))
        self.assertEqual(len(by_currency), 2)
        # As the web client asks for a grouped list (sum, and sum converted by rates)
        aggregates = ["amount_total:sum", "currency_id:array_agg_distinct", "amount_total:sum_currency"]
        for group in self.model.formatted_read_group(domain, ["currency_id"], aggregates):
            self.assertEqual(money(group["amount_total:sum"]), sum(by_currency[group["currency_id"][0]]))
        mixed = self.model.formatted_read_group(domain, ["company_id"], aggregates)
        self.assertEqual(len(mixed), 1)
        self.assertIs(mixed[0]["amount_total:sum"], False, "pounds and euros are not added")
        self.assertIs(mixed[0]["amount_total:sum_currency"], False)
        # Asked without the currency, as a report might: still never across
        bare = self.model.formatted_read_group(domain, ["transfer_state"], ["amount_total:sum"])
        for group in bare:
            rows = self.invoices.filtered(lambda r, g=group: r.transfer_state == g["transfer_state"])
            if len(rows.currency_id) > 1:
                self.assertIs(group["amount_total:sum"], False)
            else:
                self.assertEqual(money(group["amount_total:sum"]), sum(money(r.amount_total) for r in rows))
            self.assertNotIn("currency_id:array_agg_distinct", group)
        # The pivot's grouping sets
        sets = self.model.formatted_read_grouping_sets(domain, [[], ["location_id"]], ["amount_total:sum"])
        self.assertIs(sets[0][0]["amount_total:sum"], False)
        for group in sets[1]:
            rows = self.invoices.filtered(lambda r, g=group: r.location_id.id == g["location_id"][0])
            self.assertEqual(money(group["amount_total:sum"]), sum(money(r.amount_total) for r in rows))

    def test_the_list_sums_nothing_across_currencies(self):
        arch = self.model.get_views([(False, "list")])["views"]["list"]["arch"]
        self.assertNotIn('sum="', arch)
        self.assertIn('name="currency_id"', arch)

    def test_a_credit_note_has_the_same_sign_on_both_sides(self):
        notes = self.invoices.filtered(lambda r: r.is_credit_note and r.transfer_state == "to_send")
        note = notes[0]
        send(self, note.original_invoice_id | note)
        self.assertEqual(note.transfer_state, "sent")
        self.assertLess(note.amount_total, 0)
        self.assertEqual(money(note.qbo_total), money(note.amount_total))
        memo = self.qbo.company.table("CreditMemo").get(note.qbo_id)
        self.assertEqual(money(memo["TotalAmt"]), -money(note.qbo_total), "QuickBooks shows it positive")

    def test_open_in_quickbooks_per_environment_and_document(self):
        ready = self.invoices.filtered(lambda r: r.transfer_state == "to_send")
        note = ready.filtered("is_credit_note")[0]
        invoice = note.original_invoice_id
        self.assertFalse(invoice.qbo_url, "not in QuickBooks yet")
        send(self, invoice | note)
        self.assertEqual(invoice.qbo_url, f"https://app.sandbox.qbo.intuit.com/app/invoice?txnId={invoice.qbo_id}")
        self.assertEqual(note.qbo_url, f"https://app.sandbox.qbo.intuit.com/app/creditmemo?txnId={note.qbo_id}")
        self.env.company.qbo_environment = "production"
        self.assertEqual(invoice.qbo_url, f"https://app.qbo.intuit.com/app/invoice?txnId={invoice.qbo_id}")
        action = invoice.action_open_in_qbo()
        self.assertEqual((action["type"], action["url"]), ("ir.actions.act_url", invoice.qbo_url))
        self.assertEqual(
            document_url("production", "Payment", "42"), "https://app.qbo.intuit.com/app/recvpayment?txnId=42"
        )
        self.assertEqual(
            document_url("sandbox", "Payment", "42"), "https://app.sandbox.qbo.intuit.com/app/recvpayment?txnId=42"
        )
        self.assertIsNone(document_url("sandbox", "Invoice", False))

    def test_open_in_nexudus_by_the_company_invoice_address(self):
        invoice = self.invoices[0]
        self.assertEqual(invoice.nexudus_url, "https://dashboard.nexudus.com", "no address given: the admin panel")
        self.env.company.nexudus_invoice_url_template = "https://dashboard.nexudus.com/billing/invoice/{id}"
        self.assertEqual(invoice.nexudus_url, f"https://dashboard.nexudus.com/billing/invoice/{invoice.nexudus_id}")
        action = invoice.action_open_in_nexudus()
        self.assertEqual(
            (action["type"], action["url"], action["target"]), ("ir.actions.act_url", invoice.nexudus_url, "new")
        )
        for wrong in ("http://dashboard.nexudus.com/{id}", "https://dashboard.nexudus.com/invoice", "{id}"):
            with self.subTest(wrong=wrong), self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.env.company.nexudus_invoice_url_template = wrong

    def test_a_failed_invoice_gives_the_manager_one_to_do(self):
        row = self.invoices.filtered(lambda r: r.transfer_state == "to_send" and not r.is_credit_note)[0]
        link_customers(self, row)
        manager = self.env.ref("base.user_admin")
        for _attempt in range(2):  # failing again adds no second to-do
            self.qbo.fail_next_write(count=1, status=400)
            with patch(f"{TRANSFER}._logger"):
                send(self, row)
            self.assertEqual(row.transfer_state, "failed")
        self.assertEqual(len(row.activity_ids), 1)
        self.assertEqual(row.activity_ids.user_id, manager)
        self.assertIn(row.number, row.activity_ids.note)
        self.assertEqual(row.activity_ids.activity_type_id, self.env.ref("mail.mail_activity_data_todo"))


@tagged("standard", "post_install", "-at_install")
class TestPaymentMoney(FreshServicesCase):
    world_sizes = {"seed": 7, "profile": "uk", "locations": 3, "customers": 12, "invoices": 20}

    def test_every_payment_has_its_invoice_currency_and_location(self):
        company = prepare_transfers(self)
        complete_mappings(self)
        company.nexudus_qbo_send_payments = True
        invoices = import_invoices(self)
        send(self, invoices.filtered(lambda r: r.transfer_state == "to_send"))
        with self.enter_registry_test_mode():
            self.env["nexudus.qbo.payment"].action_import_from_nexudus()
        payments = self.env["nexudus.qbo.payment"].search([])
        self.assertTrue(payments)
        for payment in payments:
            self.assertEqual(payment.currency_id, payment.invoice_id.currency_id)
            self.assertEqual(payment.location_id, payment.invoice_id.location_id)
        sent = payments.filtered(lambda p: p.qbo_payment_id)
        self.assertTrue(sent)
        self.assertEqual(
            sent[0].qbo_url, f"https://app.sandbox.qbo.intuit.com/app/recvpayment?txnId={sent[0].qbo_payment_id}"
        )
        run = self.env["nexudus.qbo.run"].search([("title", "=", "Payments from Nexudus")])
        self.assertEqual(run.payments_count, len(payments.filtered(lambda p: p.state == "sent")))
