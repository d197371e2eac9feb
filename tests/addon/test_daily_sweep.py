from collections import Counter
from datetime import UTC, datetime, timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.nexudus_qbo_connector.tools.constants import COMPANY_LOCK

from .common import FreshServicesCase
from .transfer_common import complete_mappings, import_invoices, money, prepare_transfers, send

SYNC = "nexudus_qbo_connector.ir_cron_nexudus_qbo_sync"
SWEEP = "nexudus_qbo_connector.ir_cron_nexudus_qbo_sweep"


@tagged("standard", "post_install", "-at_install")
class TestDailySweep(FreshServicesCase):
    """The daily sweep reads again what the cursors passed by, and doubles nothing."""

    world_sizes = {"seed": 7, "profile": "uk", "locations": 3, "customers": 12, "invoices": 30, "payments": 0}

    def setUp(self):
        super().setUp()
        self.company = prepare_transfers(self)
        complete_mappings(self)
        self.company.write({"nexudus_qbo_reconcile_payments": True, "nexudus_qbo_auto_pull_payments": True})
        self.invoices = import_invoices(self)
        self.env["nexudus.qbo.run"].search([]).unlink()

    def run_cron(self, xmlid):
        with self.enter_registry_test_mode():
            self.env.ref(xmlid).method_direct_trigger()
        self.env.invalidate_all()

    def sweep(self):
        self.company.nexudus_qbo_swept_at = False  # as on the next day
        self.run_cron(SWEEP)

    def rows(self):
        return self.env["nexudus.qbo.invoice"].search([("company_id", "=", self.company.id)])

    def test_an_invoice_the_cursor_passed_by_is_caught_once(self):
        missed, renamed = self.invoices.filtered(lambda r: not r.is_credit_note)[:2]
        missed_id = missed.nexudus_id
        a_day_ago = datetime.now(UTC) - timedelta(days=1)
        # Nexudus recorded both a day ago, but the cursors are already past them: one never read, one changed.
        self.env.cr.execute("DELETE FROM nexudus_qbo_invoice WHERE id = %s", (missed.id,))
        self.env.invalidate_all()
        self.nexudus.data.touch_invoice(missed_id, updated_on=a_day_ago)
        self.nexudus.data.touch_invoice(renamed.nexudus_id, updated_on=a_day_ago, BillToName="Renamed Ltd")
        self.env["nexudus.qbo.location"].search(
            [("company_id", "=", self.company.id)]
        ).invoice_cursor = fields.Datetime.now()
        self.run_cron(SYNC)
        self.assertNotIn(missed_id, self.rows().mapped("nexudus_id"), "the cursor passed it by")
        self.assertNotEqual(renamed.customer_name, "Renamed Ltd")

        self.sweep()
        rows = self.rows()
        self.assertIn(missed_id, rows.mapped("nexudus_id"))
        self.assertEqual(renamed.customer_name, "Renamed Ltd")
        self.assertEqual(len(rows), len(self.invoices))
        run = self.env["nexudus.qbo.run"].search([("title", "=", "Daily sweep")])
        self.assertEqual(len(run), 1, "the sweep is a run of its own")
        self.assertEqual(run.read_count, 2)
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.env.ref(SYNC).id)])
        self.assertTrue(triggers, "what the sweep found is handed to the scheduled action")

        written = {row.id: row.write_date for row in rows}
        self.env["nexudus.qbo.run"].search([]).unlink()
        self.sweep()
        self.assertEqual(self.env["nexudus.qbo.run"].search([("title", "=", "Daily sweep")]).read_count, 0)
        rows = self.rows()
        self.assertEqual(Counter(rows.mapped("nexudus_id")).most_common(1)[0][1], 1, "no invoice twice")
        self.assertEqual({row.id: row.write_date for row in rows}, written, "a second sweep changes nothing")

    def test_a_payment_change_data_capture_passed_by_is_caught_once(self):
        invoice = self.invoices.filtered(lambda r: r.transfer_state == "to_send" and not r.is_credit_note)[:1]
        send(self, invoice)
        self.assertEqual(invoice.transfer_state, "sent")
        total = money(self.nexudus.data.coworkerinvoices[invoice.nexudus_id]["TotalAmount"])
        payment = self.qbo.record_payment(invoice.qbo_id, str(total))
        cursor = fields.Datetime.now() + timedelta(hours=1)  # as if a pull had read past it
        self.company.qbo_payment_cursor = cursor
        payments = self.env["nexudus.qbo.payment"]
        calls = len(self.qbo.cdc_calls)

        self.sweep()
        self.assertEqual(len(self.qbo.cdc_calls) - calls, 1, "one change data capture request")
        row = payments.search([("qbo_payment_id", "=", payment["Id"])])
        self.assertEqual((len(row), row.direction, row.invoice_id), (1, "qbo_to_nexudus", invoice))
        self.assertEqual(self.company.qbo_payment_cursor, cursor, "the sweep leaves the cursor alone")

        self.sweep()
        self.assertEqual(payments.search_count([("qbo_payment_id", "=", payment["Id"])]), 1, "not twice")

    def test_a_company_swept_today_is_not_swept_again(self):
        self.sweep()
        calls = len(self.qbo.cdc_calls)
        self.env["nexudus.qbo.run"].search([]).unlink()
        self.run_cron(SWEEP)
        self.assertEqual(len(self.qbo.cdc_calls), calls)
        run = self.env["nexudus.qbo.run"].search([("title", "=", "Daily sweep")])
        self.assertEqual(run.requests_count, 0)

    def test_a_company_another_worker_holds_is_swept_later(self):
        with self.registry.cursor() as other:  # another worker's connection, syncing the company
            other.execute("SELECT pg_advisory_lock(%s, %s)", (COMPANY_LOCK, self.company.id))
            calls = len(self.qbo.cdc_calls)
            self.sweep()
            other.execute("SELECT pg_advisory_unlock(%s, %s)", (COMPANY_LOCK, self.company.id))
        self.assertEqual(len(self.qbo.cdc_calls), calls)
        self.assertFalse(self.company.nexudus_qbo_swept_at)
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.env.ref(SWEEP).id)])
        self.assertTrue(triggers.filtered(lambda t: t.call_at > fields.Datetime.now() + timedelta(minutes=4)))
