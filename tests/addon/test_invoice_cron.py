from odoo.tests import tagged

from .common import FreshServicesCase
from .transfer_common import complete_mappings, money, prepare_transfers, qbo_rows

CRON = "nexudus_qbo_connector.ir_cron_nexudus_qbo_sync"


class CronMixin:
    def run_cron(self, until_done=True):
        """Run the scheduled action as a cron worker would, again while it rescheduled itself at once."""
        cron = self.env.ref(CRON)
        invoices = self.env["nexudus.qbo.invoice"]
        for _run in range(10):
            with self.enter_registry_test_mode():
                cron.method_direct_trigger()
            self.env.invalidate_all()
            pending = invoices.search_count([("transfer_state", "in", ("to_send", "sending", "to_void"))])
            if not (until_done and pending and self.env.company.nexudus_qbo_auto_send_invoices):
                break
        return invoices.search([("company_id", "=", self.env.company.id)])

    def triggers(self):
        return self.env["ir.cron.trigger"].search([("cron_id", "=", self.env.ref(CRON).id)])


@tagged("standard", "post_install", "-at_install")
class TestInvoiceCron(CronMixin, FreshServicesCase):
    """The scheduled action: import every run, send when the option is on, come back when asked to wait."""

    def setUp(self):
        super().setUp()
        prepare_transfers(self)
        complete_mappings(self)

    def test_cron_is_six_hourly_and_follows_the_setting(self):
        cron = self.env.ref(CRON)
        self.assertEqual(cron.interval_number * {"hours": 60, "minutes": 1}[cron.interval_type], 360)
        self.env.company.nexudus_qbo_interval_minutes = 5
        self.assertEqual((cron.interval_number, cron.interval_type), (5, "minutes"))

    def test_import_only_while_automatic_sending_is_off(self):
        invoices = self.run_cron()
        self.assertEqual(len(invoices), len(self.nexudus.data.coworkerinvoices))
        self.assertNotIn("sent", invoices.mapped("transfer_state"))
        self.assertFalse(qbo_rows(self, "Invoice"))

    def test_automatic_sending_sends_everything_transferable_once(self):
        self.env.company.nexudus_qbo_auto_send_invoices = True
        invoices = self.run_cron()
        sent = invoices.filtered(lambda r: r.transfer_state == "sent")
        self.assertTrue(sent)
        self.assertFalse(
            invoices.filtered(lambda r: r.transfer_state in ("to_send", "sending", "failed")),
            invoices.mapped("transfer_reason"),
        )
        self.assertEqual(len(qbo_rows(self, "Invoice")) + len(qbo_rows(self, "CreditMemo")), len(sent))
        writes = len(self.qbo.writes)
        self.run_cron()
        self.assertEqual(len(self.qbo.writes), writes, "a second run creates nothing")

    def test_invoice_waiting_for_a_mapping_is_sent_once_it_is_mapped(self):
        self.env.company.nexudus_qbo_auto_send_invoices = True
        invoices = self.run_cron()
        waiting = invoices.filtered(lambda r: "PRD-001" in (r.transfer_reason or ""))
        self.assertTrue(waiting)
        self.assertEqual(set(waiting.mapped("transfer_state")), {"skipped"})
        products = self.env["nexudus.qbo.account.map"].search([("nexudus_code", "=", "PRD-001")])
        services = self.env["nexudus.qbo.account"].search([("name", "=", "Services")], limit=1)
        products.qbo_account_id = services
        with self.enter_registry_test_mode():
            products.action_create_items()
        self.run_cron()
        still = waiting.filtered(lambda r: r.transfer_state != "sent")
        self.assertFalse(
            still.filtered(lambda r: "PRD-001" in (r.transfer_reason or "")), still.mapped("transfer_reason")
        )

    def test_sync_now_does_what_the_scheduled_action_does(self):
        invoices = self.run_cron()
        waiting = invoices.filtered(lambda r: "PRD-001" in (r.transfer_reason or ""))
        self.assertTrue(waiting)
        products = self.env["nexudus.qbo.account.map"].search([("nexudus_code", "=", "PRD-001")])
        products.qbo_account_id = self.env["nexudus.qbo.account"].search([("name", "=", "Services")], limit=1)
        with self.enter_registry_test_mode():
            products.action_create_items()
        fixed = waiting.filtered(lambda r: "PRD-001" not in (r.transfer_reason or ""))
        self.assertTrue(fixed, "the mapping saved, its invoices are decided again at once")
        self.assertTrue(fixed.filtered(lambda r: r.transfer_state == "to_send"))
        with self.enter_registry_test_mode():  # Sync now › Invoices from Nexudus, automatic sending off
            action = self.env["nexudus.qbo.invoice"].action_import_from_nexudus()
        self.assertIn("to send (automatic sending is off", action["params"]["message"])
        self.assertEqual(action["params"]["type"], "warning", "nothing was done")
        self.assertFalse(qbo_rows(self, "Invoice"))

        self.env.company.nexudus_qbo_auto_send_invoices = True
        to_send = invoices.filtered(lambda r: r.transfer_state == "to_send")
        with self.enter_registry_test_mode():  # the same click, automatic sending on: sent as a run would
            action = self.env["nexudus.qbo.invoice"].action_import_from_nexudus()
        self.assertEqual(set(to_send.mapped("transfer_state")), {"sent"}, to_send.mapped("transfer_reason"))
        created = len(qbo_rows(self, "Invoice")) + len(qbo_rows(self, "CreditMemo"))
        self.assertEqual(created, len(to_send))
        self.assertIn(f"{created} created in QuickBooks", action["params"]["message"])
        self.assertEqual(action["params"]["type"], "success")

    def test_a_throttled_nexudus_reschedules_the_run(self):
        before = self.triggers()
        self.nexudus.fail_next(count=3, status=409, retry_after=120)
        invoices = self.run_cron(until_done=False)
        self.assertFalse(invoices, "nothing read while Nexudus asks to wait")
        self.assertGreater(len(self.triggers() - before), 0, "the run comes back when Nexudus says")

    def test_quickbooks_asking_to_wait_reschedules_the_run_and_loses_nothing(self):
        before = self.triggers()
        self.run_cron()  # automatic sending off: import only
        self.env.company.nexudus_qbo_auto_send_invoices = True
        self.qbo.fail_next_write(count=3, status=429)  # the first try and both retries are throttled
        writes = len(self.qbo.writes)
        invoices = self.run_cron(until_done=False)
        self.assertGreater(len(self.triggers() - before), 0, "the run comes back later")
        self.assertEqual(len(self.qbo.writes), writes, "nothing was written while QuickBooks said wait")
        self.assertFalse(invoices.filtered(lambda r: r.transfer_state == "failed"))
        invoices = self.run_cron()
        documents = len(qbo_rows(self, "Invoice")) + len(qbo_rows(self, "CreditMemo"))
        self.assertEqual(documents, len(invoices.filtered(lambda r: r.transfer_state == "sent")))

    def test_pre_flight_problem_stops_sending_not_importing(self):
        self.env.company.nexudus_qbo_auto_send_invoices = True
        self.qbo.company.preferences["SalesFormsPrefs"]["AutoApplyPayments"] = True
        invoices = self.run_cron()
        self.assertTrue(invoices)
        self.assertFalse(qbo_rows(self, "Invoice"))


@tagged("standard", "post_install", "-at_install")
class TestUsCompany(CronMixin, FreshServicesCase):
    """A US QuickBooks company: lines taxable or not, the invoice's tax group carries the rate."""

    world_sizes = {"seed": 5, "profile": "us", "locations": 3, "customers": 12, "invoices": 40}

    def setUp(self):
        super().setUp()
        prepare_transfers(self)

    def test_us_invoices_arrive_with_nexudus_totals(self):
        self.env.company.nexudus_qbo_auto_send_invoices = True
        invoices = self.run_cron()
        sent = invoices.filtered(lambda r: r.transfer_state == "sent")
        self.assertTrue(sent, invoices.mapped("transfer_reason"))
        documents = {(entity, row["Id"]): row for entity in ("Invoice", "CreditMemo") for row in qbo_rows(self, entity)}
        for row in sent:
            document = documents["CreditMemo" if row.is_credit_note else "Invoice", row.qbo_id]
            self.assertEqual(money(document["TotalAmt"]), abs(money(row.amount_total)), row.number)
        taxed = [d for d in documents.values() if d.get("TxnTaxDetail", {}).get("TotalTax")]
        self.assertTrue(taxed)
        for document in taxed:
            codes = {
                line["SalesItemLineDetail"]["TaxCodeRef"]["value"]
                for line in document["Line"]
                if line.get("DetailType") == "SalesItemLineDetail"
            }
            self.assertLessEqual(codes, {"TAX", "NON"})
            self.assertIn("TxnTaxCodeRef", document["TxnTaxDetail"])
