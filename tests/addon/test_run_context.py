from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged

from odoo.addons.nexudus_qbo_connector.models import nexudus_qbo_invoice
from odoo.addons.nexudus_qbo_connector.tools.batching import BATCH_SIZE

from .common import ADDON
from .fault_driver import SIZES, prepare_company, saved_settings, start_simulators, wipe

CRON = f"{ADDON}.ir_cron_nexudus_qbo_sync"
SEED = 3


@tagged("standard", "post_install", "-at_install")
class TestRunContext(TransactionCase):
    """One scheduled run, driven by Odoo's own job loop (``_acquire_one_job``, ``_process_job``), makes several
    calls of the action; what is read once per run (QuickBooks' preferences) is read once in all of them.

    The run commits in transactions of its own, as in test_fault_suite: what it left is wiped afterwards and the
    company's settings put back."""

    test_module = ADDON
    sizes = {**SIZES, "invoices": 200, "payments": 10}  # about a hundred to send: a call sends a batch (below)

    def test_preferences_are_read_once_in_a_run_of_several_calls(self):
        saved = saved_settings(self.registry)
        self.addCleanup(wipe, self.registry, saved)
        nexudus, qbo = start_simulators(SEED, self.sizes)
        self.addCleanup(nexudus.stop)
        self.addCleanup(qbo.stop)
        company_id = prepare_company(self.registry, nexudus, qbo)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["nexudus.qbo.run"].search([]).unlink()
            cron = env.ref(CRON)
            cron._trigger()
            cron_id = cron.id

        mark = len(qbo.request_log)
        IrCron = self.registry["ir.cron"]
        with patch.object(nexudus_qbo_invoice, "SEND_CHUNK", BATCH_SIZE), self.registry.cursor() as cron_cr:
            job = IrCron._acquire_one_job(cron_cr, cron_id)
            self.assertTrue(job, "the scheduled action is ready to run")
            IrCron._process_job(cron_cr, job)

        requests = qbo.request_log[mark:]
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            run = env["nexudus.qbo.run"].search([("trigger", "=", "scheduled")])
            self.assertEqual(len(run), 1, "one run")
            self.assertGreaterEqual(run.calls, 3, "the run made several calls")
            sent = env["nexudus.qbo.invoice"].search_count(
                [("company_id", "=", company_id), ("transfer_state", "=", "sent")]
            )
        self.assertGreater(sent, 90, "the calls sent the invoices")
        preferences = [path for _method, path, _params in requests if path.endswith("/preferences")]
        self.assertEqual(len(preferences), 1, "QuickBooks' preferences are read once in the run")
        checks = [p for _m, _path, p in requests if "from taxcode where id =" in p.get("query", "").lower()]
        self.assertEqual(len(checks), 1, "the pre-flight checks (the default tax code's look-up) run once in the run")
