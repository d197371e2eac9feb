"""Runs and clicks that meet the services' documented limits: they pause, keep what was done, resume.

The simulators enforce the documented limits; a test lowers one only to make the throttle happen at a
chosen point, and says so.
"""

from collections import Counter
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from odoo.addons.nexudus_qbo_connector.models import nexudus_qbo_invoice
from odoo.addons.nexudus_qbo_connector.tools import batching
from odoo.addons.nexudus_qbo_connector.tools.moments import READ_OVERLAP

from simulators.nexudus.limits import NexudusLimits
from simulators.qbo.limits import QboLimits

from .common import FreshServicesCase
from .test_invoice_cron import CronMixin
from .transfer_common import complete_mappings, prepare_transfers, qbo_rows

MARKER = "[nexudus-invoice {}]"


@tagged("standard", "post_install", "-at_install")
class TestThrottles(CronMixin, FreshServicesCase):
    def setUp(self):
        super().setUp()
        prepare_transfers(self)
        complete_mappings(self)
        self.company = self.env.company
        self.invoices = self.env["nexudus.qbo.invoice"]

    # -- helpers --------------------------------------------------------------------------------------
    def pass_time(self, seconds=61):
        """As if ``seconds`` had passed: both simulators' windows move on, and so does the shared budget."""
        self.nexudus.clock_offset += seconds
        self.qbo.clock_offset += seconds
        self.env["nexudus.qbo.rate.budget"].search([]).write({"blocked_until": False, "state_json": False})

    def run_once(self):
        with self.enter_registry_test_mode():
            self.env.ref("nexudus_qbo_connector.ir_cron_nexudus_qbo_sync").method_direct_trigger()
        self.env.invalidate_all()

    def nexudus_api_calls(self, since=0):
        return [entry for entry in self.nexudus.request_log[since:] if entry[1].startswith("/api/")]

    def in_qbo(self):
        documents = qbo_rows(self, "Invoice") + qbo_rows(self, "CreditMemo")
        return Counter(
            int(note.split("[nexudus-invoice ")[1].split("]")[0])
            for note in (d.get("PrivateNote") or "" for d in documents)
            if "[nexudus-invoice " in note
        )

    def assert_budget_blocked(self, service):
        budget = self.env["nexudus.qbo.rate.budget"].search([("service", "=", service)])
        self.assertTrue(budget.blocked_until, f"{service} is left alone until its wait is over")

    # -- the scheduled action ---------------------------------------------------------------------------
    def test_a_throttled_import_resumes_and_what_was_read_is_sent_in_the_same_run(self):
        self.company.nexudus_qbo_auto_send_invoices = True
        self.nexudus.reset_limits()
        # Lowered so that the throttle falls in the middle of the import: customers, the first location's
        # invoices and the lines are read, the second location's invoices are refused with 409.
        self.nexudus.limits = NexudusLimits(per_minute=3)
        self.run_once()

        rows = self.invoices.search([("company_id", "=", self.company.id)])
        first = rows.location_id
        self.assertEqual(len(first), 1, "one location was read before the throttle")
        self.assertEqual(len(rows), sum(1 for r in self.nexudus.data.coworkerinvoices.values()
                                        if r["BusinessId"] == first.nexudus_id))  # fmt: skip
        self.assertFalse(rows.filtered(lambda r: r.transfer_state in ("to_send", "sending")), "sent in the same run")
        self.assertTrue(rows.filtered(lambda r: r.transfer_state == "sent"))
        self.assertEqual(
            set(self.in_qbo()), set(rows.filtered(lambda r: r.transfer_state == "sent").mapped("nexudus_id"))
        )
        self.assertEqual(self.nexudus.throttled_count, 1, "no request after the 409 until the wait is over")
        self.assert_budget_blocked("nexudus")
        self.assertTrue(self.triggers(), "the run comes back when Nexudus said")

        cursor = first.invoice_cursor
        mark = len(self.nexudus.request_log)
        self.nexudus.limits = NexudusLimits()
        self.pass_time()
        invoices = self.run_cron()

        self.assertEqual(len(invoices), len(self.nexudus.data.coworkerinvoices), "nothing missing")
        self.assertEqual(max(self.in_qbo().values()), 1, "nothing doubled")
        self.assertFalse(invoices.filtered(lambda r: r.transfer_state in ("to_send", "sending")))
        again = [
            params
            for _method, path, params in self.nexudus_api_calls(mark)
            if path.endswith("/coworkerinvoices")
            and str(params.get("CoworkerInvoice_Business")) == str(first.nexudus_id)
        ]
        self.assertTrue(again)
        self.assertTrue(
            all(
                params["from_CoworkerInvoice_UpdatedOn"] >= f"{cursor - READ_OVERLAP:%Y-%m-%dT%H:%M}"
                for params in again
            ),
            "the location already read is read again only from its cursor, less the overlap",
        )

    def test_a_throttled_import_in_the_429_reading_reschedules_by_the_wait_it_names(self):
        # Research uncertainty 7: throttled Nexudus requests were also seen answered 429 "Wait N seconds".
        self.nexudus.throttle_status = 429
        self.nexudus.reset_limits()
        self.nexudus.limits = NexudusLimits(per_minute=2)  # lowered: the throttle falls in the first import
        self.run_once()
        self.assertEqual(self.nexudus.throttled_count, 1)
        self.assert_budget_blocked("nexudus")
        trigger = max(self.triggers().mapped("call_at"))
        self.assertGreater(trigger, fields.Datetime.now() + timedelta(seconds=20), "the wait the body names")
        self.nexudus.limits = NexudusLimits()
        self.pass_time()
        invoices = self.run_cron()
        self.assertEqual(len(invoices), len(self.nexudus.data.coworkerinvoices))

    def test_quickbooks_rate_limit_with_and_without_retry_after(self):
        self.company.nexudus_qbo_auto_send_invoices = True
        for retry_after in (False, True):  # Intuit documents no Retry-After: both readings
            with self.subTest(retry_after=retry_after):
                self.qbo.retry_after_header = retry_after
                self.pass_time()  # an empty window
                self.qbo.limits = QboLimits(per_minute=12)  # lowered: the limit falls in the middle of sending
                self.run_once()
                self.assertGreaterEqual(self.qbo.throttled_count, 1)
                self.assert_budget_blocked("qbo")
                rows = self.invoices.search([("company_id", "=", self.company.id)])
                self.assertFalse(rows.filtered(lambda r: r.transfer_state in ("sending", "failed", "to_delete")))
                self.assertEqual(set(self.in_qbo()), set(rows.filtered(lambda r: r.transfer_state == "sent").mapped(
                    "nexudus_id")))  # fmt: skip
        self.qbo.limits = QboLimits()
        self.pass_time()
        rows = self.run_cron()
        self.assertFalse(rows.filtered(lambda r: r.transfer_state in ("to_send", "sending")))
        self.assertEqual(max(self.in_qbo().values()), 1, "nothing doubled")

    def test_a_throttled_quickbooks_pauses_the_sending_and_every_state_stays_true(self):
        self.company.nexudus_qbo_auto_send_invoices = True
        # QuickBooks' own throttle answer, mid-run: batches of five, the third over a lowered batch limit.
        self.qbo.limits = QboLimits(batch_per_minute=2)
        with patch.object(batching, "BATCH_SIZE", 5):
            self.run_once()

        rows = self.invoices.search([("company_id", "=", self.company.id)])
        sent = rows.filtered(lambda r: r.transfer_state == "sent")
        self.assertTrue(sent)
        self.assertFalse(
            rows.filtered(lambda r: r.transfer_state in ("sending", "failed")), rows.mapped("transfer_reason")
        )
        self.assertTrue(rows.filtered(lambda r: r.transfer_state == "to_send"), "the rest waits")
        self.assertEqual(set(self.in_qbo()), set(sent.mapped("nexudus_id")), "what QuickBooks holds, Odoo says sent")
        self.assert_budget_blocked("qbo")
        self.assertTrue(self.triggers())

        self.qbo.limits = QboLimits()
        self.pass_time()
        rows = self.run_cron()
        self.assertFalse(rows.filtered(lambda r: r.transfer_state in ("to_send", "sending")))
        self.assertEqual(max(self.in_qbo().values()), 1, "nothing doubled")

    def test_a_throttled_payments_pull_ends_the_job_without_error_and_comes_back(self):
        self.company.write({"nexudus_qbo_reconcile_payments": True, "nexudus_qbo_auto_pull_payments": True})
        self.pass_time()  # an empty window, then a limit QuickBooks' change data capture call meets at once
        self.qbo.limits = QboLimits(per_minute=0)  # lowered: the only QuickBooks call of this run is refused
        self.run_once()
        self.assertGreaterEqual(self.qbo.throttled_count, 1)
        self.assert_budget_blocked("qbo")
        self.assertTrue(self.triggers())
        self.assertFalse(self.company.qbo_payment_cursor, "the cursor did not move past what was not read")

    def test_imports_and_pulls_happen_once_per_run_however_many_calls_it_takes(self):
        self.company.nexudus_qbo_auto_send_invoices = True
        with patch.object(nexudus_qbo_invoice, "SEND_CHUNK", 3):  # several calls in one run
            mark = len(self.nexudus.request_log)
            self.run_once()
        reads = [p for _m, path, p in self.nexudus_api_calls(mark) if path.endswith("/coworkerinvoices")]
        self.assertEqual(len(reads), len(self.company.nexudus_location_ids))
        self.assertGreater(self.env["nexudus.qbo.run"].search([], limit=1).calls, 1)

    # -- a person's click -------------------------------------------------------------------------------
    def test_send_during_a_throttle_tells_the_person_and_the_scheduled_action_finishes_it(self):
        with self.enter_registry_test_mode():
            self.invoices.action_import_from_nexudus()
            self.env["nexudus.qbo.rate.budget"]._throttled("qbo", self.company.sudo().qbo_realm_id, 120)
        rows = self.invoices.search([("company_id", "=", self.company.id)])
        ready = rows.filtered(lambda r: r.transfer_state == "to_send")[:5]
        calls = sum(self.qbo.requests_per_realm.values())
        with self.enter_registry_test_mode():
            action = ready.action_send_to_qbo()
        params = action["params"]
        self.assertEqual(params["type"], "warning")
        self.assertIn("QuickBooks asks to wait", params["message"])
        self.assertIn("continues by itself at", params["message"])
        self.assertNotIn("Traceback", params["message"])
        self.assertNotIn("credentials", params["message"])
        self.assertEqual(sum(self.qbo.requests_per_realm.values()), calls, "no request while the wait lasts")
        self.assertEqual(set(ready.mapped("transfer_state")), {"to_send"})
        self.assertTrue(all(ready.mapped("send_requested")))
        self.assertTrue(self.triggers())

        self.pass_time(121)
        self.run_cron()  # automatic sending is off: the scheduled action finishes what the click asked
        self.assertEqual(set(ready.mapped("transfer_state")), {"sent"})
        self.assertEqual(len(self.in_qbo()), 5)

    def test_import_during_a_throttle_tells_the_person(self):
        self.nexudus.fail_next(1, status=409, retry_after=30)
        with self.enter_registry_test_mode():
            action = self.invoices.action_import_from_nexudus()
        params = action["params"]
        self.assertEqual(params["type"], "warning")
        self.assertIn("Nexudus asks to wait", params["message"])
        self.assertIn("continues by itself at", params["message"])
        self.assertTrue(self.triggers())
