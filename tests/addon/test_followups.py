"""What follows the main write (a credit to apply, a document to delete) is retried by every run until done
or refused; a service busy or down during the pre-flight checks pauses the run instead of stopping it."""

from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.nexudus_qbo_connector.models import nexudus_qbo_transfer_mixin as mixin

from simulators.qbo.limits import QboLimits

from .common import FreshServicesCase
from .test_invoice_cron import CronMixin
from .transfer_common import complete_mappings, import_invoices, prepare_transfers, qbo_rows, send


@tagged("standard", "post_install", "-at_install")
class TestFollowups(CronMixin, FreshServicesCase):
    world_sizes = {"seed": 7, "profile": "uk", "locations": 3, "customers": 12, "invoices": 60, "credit_notes": 8}

    def setUp(self):
        super().setUp()
        prepare_transfers(self)
        complete_mappings(self)
        self.company = self.env.company
        self.invoices = import_invoices(self)
        ready = self.invoices.filtered(lambda r: r.transfer_state == "to_send")
        self.note = ready.filtered(lambda r: r.is_credit_note and r.original_invoice_id.transfer_state == "to_send")[0]
        send(self, self.note.original_invoice_id)

    def pass_time(self, seconds=61):
        self.nexudus.clock_offset += seconds
        self.qbo.clock_offset += seconds
        self.env["nexudus.qbo.rate.budget"].search([]).write({"blocked_until": False, "state_json": False})

    def run_once(self):
        with self.enter_registry_test_mode():
            self.env.ref("nexudus_qbo_connector.ir_cron_nexudus_qbo_sync").method_direct_trigger()
        self.env.invalidate_all()

    def pending(self):
        return self.env["nexudus.qbo.invoice"].search([("followup_pending", "!=", False)])

    # -- follow-ups ---------------------------------------------------------------------------------
    def test_a_credit_application_that_meets_a_429_is_applied_by_the_next_run(self):
        self.qbo.fail_next_write(count=1, status=429, skip=1)  # the credit memo goes through, its application not
        send(self, self.note)
        self.assertEqual(self.note.transfer_state, "sent")
        self.assertFalse(self.note.qbo_credit_applied)
        self.assertEqual(self.note.followup_pending, "credit", "recorded as pending, not left half-done silently")
        self.assertIn(self.note, self.pending(), "the “Follow-up pending” filter shows it")
        self.assertTrue(self.triggers(), "the scheduled action comes back for it")

        self.pass_time()
        self.run_once()
        self.assertTrue(self.note.qbo_credit_applied)
        self.assertFalse(self.note.followup_pending)
        self.assertEqual(len(qbo_rows(self, "CreditMemo")), 1, "the memo was not sent again")
        self.assertEqual(len(qbo_rows(self, "Payment")), 1, "applied once")

    def test_a_refused_credit_application_says_why_and_is_not_retried(self):
        self.qbo.fail_next_write(count=1, status=400, skip=1)
        send(self, self.note)
        self.assertEqual(self.note.transfer_state, "sent", "the memo itself is in QuickBooks")
        self.assertFalse(self.note.qbo_credit_applied)
        self.assertFalse(self.note.followup_pending)
        self.assertIn("was not applied", self.note.followup_refused)
        self.assertIn("was not applied", " ".join(self.note.message_ids.mapped("body")))
        writes = len(self.qbo.writes)
        self.pass_time()
        self.run_once()
        self.assertEqual(len(self.qbo.writes), writes, "not retried")

    # -- busy is not broken ---------------------------------------------------------------------------
    def test_a_pre_flight_that_meets_a_429_pauses_the_run(self):
        self.company.nexudus_qbo_auto_send_invoices = True
        self.pass_time()
        self.qbo.limits = QboLimits(per_minute=0)  # every QuickBooks call of this run is refused
        with patch.object(mixin._logger, "info") as info, patch.object(mixin._logger, "warning") as warning:
            self.run_once()
        self.assertGreaterEqual(self.qbo.throttled_count, 1)
        self.assertIn("paused until", " ".join(call.args[0] for call in info.call_args_list))
        self.assertNotIn("stopped", " ".join(call.args[0] for call in warning.call_args_list))
        self.assertTrue(self.triggers(), "re-triggered for when the wait is over")

    def test_a_person_opening_the_checks_while_quickbooks_is_busy_is_told_so(self):
        self.pass_time()
        self.qbo.limits = QboLimits(per_minute=0)
        with self.enter_registry_test_mode():
            preflight = self.env["nexudus.qbo.preflight"]._run(self.company)
        line = preflight.line_ids.filtered(lambda r: r.status != "ok" and "QuickBooks" in r.message)
        self.assertEqual(line.mapped("status"), ["warning"])
        self.assertIn("QuickBooks is busy now", line.message)
        self.assertIn("nothing is wrong with the setup", line.message)
        self.assertTrue(preflight.ready)

    def test_a_token_endpoint_503_pauses_the_run_and_the_next_run_refreshes_once(self):
        self.company.nexudus_qbo_auto_send_invoices = True
        token = self.env["nexudus.qbo.token"]._get(self.company, "qbo")
        token.access_expires_at = False  # due for a refresh
        refresh_token = token.refresh_token
        self.qbo.token_failures = [503]
        with patch.object(mixin._logger, "warning") as warning:
            self.run_once()
        self.assertNotIn("stopped", " ".join(call.args[0] for call in warning.call_args_list))
        self.assertEqual(token.refresh_token, refresh_token, "the same refresh token is good for the next try")
        self.assertEqual(token.state, "connected")

        grants = len(self.qbo.token_grants)
        self.run_once()
        self.assertEqual(self.qbo.token_grants[grants:], ["refresh_token"], "exactly one refresh")
        self.assertNotEqual(token.refresh_token, refresh_token, "rotated")
        self.assertIn(token.refresh_token, self.qbo.refresh_tokens, "the chain is intact: Intuit knows the new one")
