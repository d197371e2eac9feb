from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from .common import FreshServicesCase
from .test_invoice_cron import CronMixin
from .transfer_common import complete_mappings, import_invoices, link_customers, prepare_transfers, send

TRANSFER = "odoo.addons.nexudus_qbo_connector.models.nexudus_qbo_invoice"


@tagged("standard", "post_install", "-at_install")
class TestRunHistory(CronMixin, FreshServicesCase):
    """Each scheduled run and each click that moves rows leaves a record of what it did."""

    def setUp(self):
        super().setUp()
        prepare_transfers(self)
        complete_mappings(self)
        self.runs = self.env["nexudus.qbo.run"]

    def test_scheduled_runs_record_what_they_read_sent_and_skipped_per_location(self):
        self.env.company.nexudus_qbo_auto_send_invoices = True
        invoices = self.run_cron()
        runs = self.runs.search([("trigger", "=", "scheduled")])
        self.assertTrue(runs)
        self.assertFalse(runs.user_id, "nobody clicked")
        lines = runs.line_ids
        sent = invoices.filtered(lambda r: r.transfer_state == "sent")
        skipped = invoices.filtered(lambda r: r.transfer_state == "skipped")
        self.assertTrue(sent and skipped)
        for location in invoices.location_id:
            mine = lines.filtered(lambda line, loc=location: line.location_id == loc)
            self.assertEqual(
                sum(mine.mapped("read_count")), len(invoices.filtered(lambda r, loc=location: r.location_id == loc))
            )
            self.assertEqual(
                sum(mine.mapped("sent_count")), len(sent.filtered(lambda r, loc=location: r.location_id == loc))
            )
            self.assertEqual(
                sum(mine.mapped("skipped_count")), len(skipped.filtered(lambda r, loc=location: r.location_id == loc))
            )
        self.assertEqual(sum(runs.mapped("sent_count")), len(sent))
        self.assertEqual(sum(runs.mapped("failed_count")), 0)
        company_lines = lines.filtered(lambda line: not line.location_id)
        self.assertGreater(sum(company_lines.mapped("nexudus_requests")), 0)
        self.assertGreater(sum(company_lines.mapped("qbo_requests")), len(sent) - 1)
        first = runs.sorted("started_at")[0]
        # Nothing failed; a documented limit met on a loaded machine makes the run "throttled", and says so.
        self.assertEqual(first.outcome, "throttled" if first.throttles_count else "ok")
        self.assertTrue(first.ended_at >= first.started_at)
        self.assertTrue(all(runs.mapped("finished")), "each run ended with nothing left to do")
        self.assertFalse(any(runs.mapped("in_progress")))

    def test_a_throttled_run_counts_the_throttle(self):
        self.nexudus.fail_next(count=3, status=409, retry_after=120)
        self.run_cron(until_done=False)
        run = self.runs.search([("trigger", "=", "scheduled")], limit=1)
        self.assertGreaterEqual(run.throttles_count, 1)
        self.assertEqual(run.outcome, "throttled")
        self.assertTrue(run.finished, "the rest waits for the service, not for this run")

    def test_a_click_is_a_manual_run_with_its_user_and_failed_rows(self):
        invoices = import_invoices(self)
        ready = invoices.filtered(lambda r: r.transfer_state == "to_send" and not r.is_credit_note)
        first, second = ready.sorted(lambda r: (r.issue_date, r.id))[:2]
        link_customers(self, first | second)
        self.qbo.fail_next_write(count=2, status=400)  # their batch refused as a whole, then the first alone
        with patch(f"{TRANSFER}._logger"):
            send(self, first | second)
        self.assertEqual((first.transfer_state, second.transfer_state), ("failed", "sent"))
        run = self.runs.search([("trigger", "=", "manual"), ("title", "=", "Send to QuickBooks")])
        self.assertEqual(len(run), 1)
        self.assertEqual(run.user_id, self.env.user)
        self.assertEqual((run.sent_count, run.failed_count), (1, 1))
        self.assertEqual(run.outcome, "failures")
        self.assertTrue(run.finished)
        self.assertFalse(run.in_progress)
        line = run.line_ids.filtered(lambda line: line.location_id == first.location_id)
        self.assertEqual(line.failed_invoice_ids, first)
        action = line.action_open_failed_invoices()
        self.assertEqual(self.env[action["res_model"]].search(action["domain"]), first)
        imports = self.runs.search([("trigger", "=", "manual"), ("title", "=", "Invoices from Nexudus")])
        self.assertEqual(len(imports), 1)
        self.assertEqual(imports.read_count, len(invoices))

    def test_old_runs_are_forgotten_after_the_days_set(self):
        self.env["res.config.settings"].create({"nexudus_qbo_run_retention_days": 10}).execute()
        now = fields.Datetime.now()
        old, recent = (
            self.runs.create({"key": key, "started_at": now - timedelta(days=days)})
            for key, days in (("old", 11), ("recent", 9))
        )
        self.runs._gc_old_runs()
        self.assertFalse(old.exists())
        self.assertTrue(recent.exists())

    def test_a_run_is_in_progress_until_it_finishes_or_goes_quiet(self):
        now = fields.Datetime.now()
        run = self.runs.create({"key": "test", "started_at": now, "ended_at": now})
        self.assertTrue(run.in_progress)
        run.ended_at = now - timedelta(minutes=5)
        self.assertFalse(run.in_progress, "no call has ended for minutes: the run has stopped")
        run.ended_at = now
        run._finish()
        self.assertFalse(run.in_progress)
