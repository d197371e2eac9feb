import logging

from odoo.tests import TransactionCase, tagged

from .common import ADDON
from .fault_driver import SIZES, Driver, check, prepare_company, saved_settings, start_simulators, wipe

_logger = logging.getLogger(__name__)


@tagged("standard", "post_install", "-at_install")
class TestFaultSuite(TransactionCase):
    """Three seeds of bin/faults: the scheduled action, driven until quiet while both simulators inject the seed's
    faults (and workers die or run two at once), ends with every invoice and payment in place exactly once.

    Like test_concurrent_runs, the runs commit in transactions of their own: each seed's rows, mappings and
    tokens are wiped afterwards and the company's settings put back."""

    test_module = ADDON
    sizes = {**SIZES, "invoices": 30}

    def _run_seed(self, seed):
        saved = saved_settings(self.registry)
        self.addCleanup(wipe, self.registry, saved)
        nexudus, qbo = start_simulators(seed, self.sizes)
        self.addCleanup(nexudus.stop)
        self.addCleanup(qbo.stop)
        company_id = prepare_company(self.registry, nexudus, qbo)
        driver = Driver(self.registry, company_id, nexudus, qbo, say=_logger.info)
        outcome = driver.run()
        problems, counts = check(self.registry, company_id, nexudus, qbo, driver.person_payments)
        _logger.info("seed %s: %s after %s runs; faults %s; %s", seed, outcome, driver.runs, qbo.fault_plan.summary(),
                     dict(counts))  # fmt: skip
        self.assertEqual(outcome, "quiet")
        self.assertEqual(problems, [])
        injected = qbo.fault_plan.injected
        self.assertTrue(injected["lost_after_commit"] + injected["timeout_after_commit"], "answers were lost")
        self.assertTrue(injected["crash"], "a worker died")
        self.assertTrue(driver.person_payments, "payments were received in QuickBooks")

    def test_seed_1(self):
        self._run_seed(1)

    def test_seed_5(self):
        self._run_seed(5)

    def test_seed_11(self):
        self._run_seed(11)
