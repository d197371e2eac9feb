import re
import threading
import time
from collections import Counter
from decimal import Decimal

from odoo.tests import TransactionCase, tagged

from simulators.nexudus.server import NexudusSimulator
from simulators.qbo.data import DEFAULT_REALM_ID
from simulators.qbo.server import QboSimulator
from simulators.world import build_world

from .common import ADDON
from .fault_driver import CONNECTOR_TABLES, Driver, _env, prepare_company, saved_settings, wipe

SYNC = f"{ADDON}.ir_cron_nexudus_qbo_sync"
SECOND_REALM = "9341455000002"
SIZES = {"seed": 3, "profile": "uk", "locations": 3, "customers": 12, "invoices": 60, "credit_notes": 4, "payments": 8}
DEADLINE = 50.0  # seconds both workers may take in all
SOON = 30.0  # a trigger this close is waited for; a later one: the worker triggers its job now, as a webhook would
MARKER = re.compile(r"\[nexudus-invoice (\d+)\]")
CENT = Decimal("0.01")


@tagged("standard", "post_install", "-at_install")
class TestParallelRealms(TransactionCase):
    """Two companies, each connected to its own realm of one QuickBooks simulator and serving its own locations
    of one Nexudus world, synced for real (nothing stubbed) by two of Odoo's cron workers at once: the scheduled
    action and its lane, each job run as ``ir.cron`` runs it (``_acquire_one_job``, ``_process_job``).

    The runs commit in transactions of their own: the second company and both companies' rows are removed
    afterwards and the first company's settings put back (as the fault suite does)."""

    test_module = ADDON

    def setUp(self):
        super().setUp()
        self.addCleanup(wipe, self.registry, saved_settings(self.registry))
        world = build_world(**SIZES)
        self.nexudus, self.qbo = NexudusSimulator(world).start(), QboSimulator(world).start()
        self.addCleanup(self.nexudus.stop)
        self.addCleanup(self.qbo.stop)
        self.qbo.add_company(SECOND_REALM, name="Second Coworking Ltd")
        for realm in (DEFAULT_REALM_ID, SECOND_REALM):
            with self.qbo.serving(realm):
                self.qbo.set_preferences("SalesFormsPrefs", AutoApplyCredit=False, AutoApplyPayments=False)
        with self.registry.cursor() as cr:
            env = _env(cr)
            first = env.company.id
            second = env["res.company"].create({"name": "Second coworking (parallel realms test)"}).id
        self.addCleanup(self._remove_company, second)
        locations = sorted(self.nexudus.data.businesses)
        half = len(locations) // 2
        first = prepare_company(self.registry, self.nexudus, self.qbo, first, DEFAULT_REALM_ID, locations[:half])
        second = prepare_company(self.registry, self.nexudus, self.qbo, second, SECOND_REALM, locations[half:])
        self.realms = {first: DEFAULT_REALM_ID, second: SECOND_REALM}
        self.served = {first: set(locations[:half]), second: set(locations[half:])}

    def _remove_company(self, company_id):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM mail_message WHERE model LIKE 'nexudus.qbo.%%'")
            cr.execute("DELETE FROM nexudus_qbo_run")
            for table in CONNECTOR_TABLES:
                cr.execute(f"DELETE FROM {table} WHERE company_id = %s", (company_id,))  # noqa: S608
        with self.registry.cursor() as cr:
            env = _env(cr)
            env["res.company"].browse(company_id).unlink()
            env["nexudus.qbo.scheduler"]._plan()

    def _work(self, cron_ids):
        """Each cron run by a worker of its own, all at once, until both companies are quiet; returns the
        workers' errors."""
        barrier = threading.Barrier(len(cron_ids))
        deadline = time.monotonic() + DEADLINE
        drivers = [Driver(self.registry, company_id, self.nexudus, self.qbo) for company_id in self.realms]
        errors = []

        def worker(cron_id):
            IrCron = self.registry["ir.cron"]
            try:
                barrier.wait(timeout=30)
                while time.monotonic() < deadline:
                    with self.registry.cursor() as cron_cr:
                        job = IrCron._acquire_one_job(cron_cr, cron_id)
                        if job:
                            IrCron._process_job(cron_cr, job)
                            continue
                    if all(driver._quiet() for driver in drivers):
                        return
                    self._wait_for_trigger(cron_id)
                errors.append(f"cron {cron_id}: not quiet after {DEADLINE} s")
            except Exception as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(i,), name=f"cron-worker-{i}") for i in cron_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=DEADLINE + 30)
        return errors

    def _wait_for_trigger(self, cron_id):
        with self.registry.cursor() as cr:
            cr.execute("SELECT min(call_at) - now() at time zone 'UTC' FROM ir_cron_trigger WHERE cron_id = %s",
                       (cron_id,))  # fmt: skip
            wait = cr.fetchone()[0]
            if wait is None or wait.total_seconds() > SOON:
                _env(cr)["ir.cron"].browse(cron_id)._trigger()
                return
        time.sleep(max(wait.total_seconds(), 0) + 0.2)

    def test_two_workers_send_two_companies_to_their_own_realms_at_once(self):
        with self.registry.cursor() as cr:
            env = _env(cr)
            crons = env.ref(SYNC) | env["nexudus.qbo.scheduler"]._lanes()
            self.assertEqual(len(crons), 2, "the scheduled action and one lane")
            for cron in crons:
                cron._trigger()
            cron_ids = crons.ids
        started = time.monotonic()
        self.assertEqual(self._work(cron_ids), [])
        self.assertLess(time.monotonic() - started, DEADLINE)

        invoices = self.nexudus.data.coworkerinvoices
        with self.registry.cursor() as cr:
            env = _env(cr)
            for company_id, realm in self.realms.items():
                rows = env["nexudus.qbo.invoice"].search([("company_id", "=", company_id)])
                sent = rows.filtered(lambda r: r.transfer_state == "sent")
                self.assertTrue(sent, f"company {company_id} sent invoices")
                self.assertEqual({invoices[row.nexudus_id]["BusinessId"] for row in rows}, self.served[company_id])
                documents = Counter()
                company = self.qbo.companies[realm]
                for entity in ("Invoice", "CreditMemo"):
                    for document in company.table(entity).rows.values():
                        nexudus_id = int(MARKER.search(document["PrivateNote"]).group(1))
                        documents[nexudus_id] += 1
                        expected = abs(Decimal(str(invoices[nexudus_id]["TotalAmount"]))).quantize(CENT)
                        self.assertEqual(Decimal(str(document["TotalAmt"])).quantize(CENT), expected)
                self.assertEqual(documents, Counter(sent.mapped("nexudus_id")), f"realm {realm}: its own, once each")
            budgets = env["nexudus.qbo.rate.budget"].search([("service", "=", "qbo")])
            self.assertEqual(sorted(budgets.mapped("account")), sorted(self.realms.values()), "a budget per realm")

        spans = {}
        for realm in self.realms.values():
            times = [(at, batch) for r, at, batch in self.qbo.admissions if r == realm]
            spans[realm] = (times[0][0], max(at for at, batch in times if batch))
        self.assertLess(max(start for start, _end in spans.values()), min(end for _start, end in spans.values()),
                        f"each realm's requests began before the other's last batch: {spans}")  # fmt: skip
        self.assertEqual((self.qbo.throttled, self.nexudus.throttled_count), ([], 0), "no 429 met")
