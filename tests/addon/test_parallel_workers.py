import threading
import time
from collections import Counter
from datetime import timedelta
from unittest.mock import patch

import psycopg2

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.base.models.ir_cron import IrCron
from odoo.addons.nexudus_qbo_connector.tools.errors import ThrottledError

from .common import ADDON

SYNC = f"{ADDON}.ir_cron_nexudus_qbo_sync"
HOLD = 1.0  # seconds a worker spends on a company's first call: long enough for the other one to start
BUDGET_WINDOW = 4.0  # seconds workers take batch requests from one budget


@tagged("standard", "post_install", "-at_install")
class TestParallelWorkers(TransactionCase):
    """Two companies synced by two of Odoo's cron workers at once, each in its own transactions, as
    ``ir.cron._process_jobs_loop`` runs them: the scheduled action and its lane."""

    test_module = ADDON

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            first = env.company
            second = env["res.company"].create({"name": "Second coworking (parallel workers test)"})
            cls.company_ids = (first.id, second.id)
            cls.saved_interval = first.nexudus_qbo_interval_minutes
            for number, company in enumerate((first, second), start=1):
                location = env["nexudus.qbo.location"].create(
                    {"company_id": company.id, "nexudus_id": 990000 + number, "name": f"Parallel {number}"}
                )
                company.write({"nexudus_location_ids": [fields.Command.set(location.ids)]})
        cls.addClassCleanup(cls._undo)

    @classmethod
    def _undo(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            companies = env["res.company"].browse(cls.company_ids)
            env["nexudus.qbo.run"].search([]).unlink()
            env["nexudus.qbo.location"].search([("nexudus_id", ">", 990000)]).unlink()
            cr.execute(
                "UPDATE res_company SET nexudus_qbo_read_at = NULL, nexudus_qbo_interval_minutes = %s WHERE id = %s",
                (cls.saved_interval, cls.company_ids[0]),
            )
            env["nexudus.qbo.scheduler"]._plan()
            companies[1:].unlink()

    def setUp(self):
        super().setUp()
        self.calls = []  # (worker, company id, first call)
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM nexudus_qbo_run")
        connected = patch.object(type(self.env["res.company"]), "_compute_qbo_state", _all_connected)
        connected.start()
        self.addCleanup(connected.stop)
        for model, method in (("nexudus.qbo.invoice", "_sync_company"), ("nexudus.qbo.payment", "_sync_payments")):
            stub = patch.object(type(self.env[model]), method, self._recorder(method))
            stub.start()
            self.addCleanup(stub.stop)

    def _recorder(self, method):
        calls = self.calls

        def record(model, company, first_call=True):
            if method == "_sync_company":
                calls.append((threading.current_thread().name, company.id, first_call))
                if first_call:
                    time.sleep(HOLD)
            return 0

        return record

    def _crons(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            main = env.ref(SYNC)
            return main.id, env["nexudus.qbo.scheduler"]._lanes().ids

    def _due_now(self, cron_ids, *, by_trigger=False):
        """Make the crons ready, by their schedule or (``by_trigger``) by a trigger; returns the moment."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            moment = fields.Datetime.now() - timedelta(seconds=5)
            later = fields.Datetime.now() + timedelta(hours=1)
            crons = env["ir.cron"].browse(cron_ids)
            crons.write({"nextcall": later if by_trigger else moment})
            if by_trigger:
                crons[:1]._trigger(at=moment)
            cr.execute("UPDATE res_company SET nexudus_qbo_read_at = NULL WHERE id IN %s", (self.company_ids,))
            return moment

    def _work(self, cron_ids):
        """Run the crons as that many cron workers would, all at once; returns the workers' errors."""
        barrier = threading.Barrier(len(cron_ids))
        errors = []

        def worker(cron_id):
            try:
                barrier.wait(timeout=30)
                with self.registry.cursor() as cron_cr:
                    IrCron._process_jobs_loop(cron_cr, job_ids=[cron_id])
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(i,), name=f"worker-{i}") for i in cron_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return errors

    def test_a_lane_per_served_company_beyond_the_first_in_step(self):
        main_id, lane_ids = self._crons()
        self.assertEqual(len(lane_ids), 1)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env.company.nexudus_qbo_interval_minutes = 5
            main, lane = env["ir.cron"].browse([main_id, *lane_ids])
            self.assertEqual((main.interval_number, main.interval_type), (5, "minutes"))
            self.assertEqual((lane.interval_number, lane.interval_type), (5, "minutes"))
            self.assertEqual(lane.code, main.code)
            env.company.nexudus_qbo_interval_minutes = 360

    def test_a_lane_that_runs_is_left_until_the_next_plan(self):
        _main_id, lane_ids = self._crons()
        with self.registry.cursor() as busy, self.registry.cursor() as cr:
            # A cron worker holds the row of the job it runs.
            busy.execute("SELECT id FROM ir_cron WHERE id IN %s FOR NO KEY UPDATE", (tuple(lane_ids),))
            env = api.Environment(cr, SUPERUSER_ID, {})
            scheduler = env["nexudus.qbo.scheduler"]
            second = env["res.company"].browse(self.company_ids[1])
            locations = second.nexudus_location_ids
            second.nexudus_location_ids = False  # one company served: no lane wanted
            self.assertEqual(scheduler._lanes().ids, lane_ids, "left alone while it runs")
            busy.rollback()
            scheduler._plan()
            self.assertFalse(scheduler._lanes())
            second.nexudus_location_ids = locations
            self.assertEqual(len(scheduler._lanes()), 1)

    def test_two_workers_sync_two_companies_at_once_each_once(self):
        main_id, lane_ids = self._crons()
        self._due_now([main_id, *lane_ids])
        started = time.monotonic()
        self.assertEqual(self._work([main_id, *lane_ids]), [])
        elapsed = time.monotonic() - started
        reads = [(worker, company) for worker, company, first in self.calls if first]
        self.assertEqual(Counter(company for _worker, company in reads), Counter(self.company_ids))
        self.assertEqual(len({worker for worker, _company in reads}), 2, "one company for each worker")
        self.assertLess(elapsed, 2 * HOLD, "the two companies were read at the same time")
        with self.registry.cursor() as cr:
            runs = api.Environment(cr, SUPERUSER_ID, {})["nexudus.qbo.run"].search([("trigger", "=", "scheduled")])
            self.assertEqual(len(runs), 2, "each worker's run is recorded")

    def test_a_triggered_run_brings_in_the_lanes_and_reads_each_company_once(self):
        main_id, lane_ids = self._crons()
        moment = self._due_now([main_id, *lane_ids], by_trigger=True)
        self.assertEqual(self._work([main_id]), [])  # alone: it reads both companies itself
        with self.registry.cursor() as cr:
            triggers = api.Environment(cr, SUPERUSER_ID, {})["ir.cron.trigger"].search([("cron_id", "in", lane_ids)])
            self.assertEqual(triggers.mapped("call_at"), [moment], "the lane is called for the same moment")
        self.assertEqual(self._work(lane_ids), [])
        reads = Counter(company for _worker, company, first in self.calls if first)
        self.assertEqual(reads, Counter(self.company_ids), "the lane read nothing the run had read")

    def test_on_the_schedule_each_company_is_read_as_often_as_its_own_interval_says(self):
        main_id, lane_ids = self._crons()
        self._due_now([main_id, *lane_ids])
        with self.registry.cursor() as cr:
            companies = api.Environment(cr, SUPERUSER_ID, {})["res.company"].browse(self.company_ids)
            companies[0].nexudus_qbo_interval_minutes = 5  # the action now runs every 5 minutes
            companies[1].nexudus_qbo_interval_minutes = 60
            cr.execute(
                "UPDATE res_company SET nexudus_qbo_read_at = %s WHERE id IN %s",
                (fields.Datetime.now() - timedelta(minutes=10), self.company_ids),
            )
            cr.execute("UPDATE ir_cron SET nextcall = %s WHERE id = %s", (fields.Datetime.now(), main_id))
        try:
            self.assertEqual(self._work([main_id]), [])
        finally:
            with self.registry.cursor() as cr:
                companies = api.Environment(cr, SUPERUSER_ID, {})["res.company"].browse(self.company_ids)
                companies.nexudus_qbo_interval_minutes = self.saved_interval
        reads = {company: first for _worker, company, first in self.calls}
        self.assertEqual(reads, {self.company_ids[0]: True, self.company_ids[1]: False})

    def test_a_claim_is_released_when_the_work_fails(self):
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            mine = api.Environment(cr1, SUPERUSER_ID, {})["nexudus.qbo.scheduler"]
            theirs = api.Environment(cr2, SUPERUSER_ID, {})["nexudus.qbo.scheduler"]
            company = mine.env["res.company"].browse(self.company_ids[1])
            failed = self.assertRaises(psycopg2.errors.DivisionByZero)
            with failed, mute_logger("odoo.sql_db"), mine._claim(company) as held:
                self.assertTrue(held)
                with theirs._claim(company) as taken:
                    self.assertFalse(taken, "held by the first worker")
                cr1.execute("SELECT 1 / 0")  # the transaction is aborted: the release must still run
            with theirs._claim(company) as taken:
                self.assertTrue(taken, "released, though the work failed")

    def test_two_workers_on_one_realm_share_its_budget(self):
        def take(account, granted, barrier):
            with self.registry.cursor() as cr:
                budgets = api.Environment(cr, SUPERUSER_ID, {})["nexudus.qbo.rate.budget"]
                barrier.wait(timeout=30)
                deadline = time.monotonic() + BUDGET_WINDOW
                while time.monotonic() < deadline:
                    try:
                        budgets._acquire("qbo", account, "batch")  # pauses up to 2 s when the budget asks
                        granted.append(account)
                    except ThrottledError:
                        time.sleep(0.2)

        def run(accounts):
            granted, barrier = [], threading.Barrier(len(accounts))
            threads = [threading.Thread(target=take, args=(a, granted, barrier)) for a in accounts]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            return Counter(granted)

        try:
            alone = run(["realm-alone"])["realm-alone"]
            shared = run(["realm-shared", "realm-shared"])["realm-shared"]
            apart = run(["realm-a", "realm-b"])
        finally:
            with self.registry.cursor() as cr:
                cr.execute("DELETE FROM nexudus_qbo_rate_budget WHERE account LIKE 'realm-%%'")
        self.assertGreater(alone, 4)
        self.assertLess(alone, 40, "within the 40 batch requests a minute")
        self.assertLessEqual(abs(shared - alone), 1, "two workers on one realm take what one worker would")
        for realm in ("realm-a", "realm-b"):
            self.assertLessEqual(abs(apart[realm] - alone), 1, "each realm has its own budget")


def _all_connected(companies):
    for company in companies:
        company.qbo_state = "connected"
