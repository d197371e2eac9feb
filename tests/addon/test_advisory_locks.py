import threading
import time

import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.nexudus_qbo_connector.tools.constants import COMPANY_LOCK

from .common import ADDON

SLOW_ROLLBACK = 0.5  # seconds the failed worker's rollback takes: time for the other one to act if it could
UNTOUCHED = "untouched"
THIS_LOCK = """locktype = 'advisory' AND classid = %s AND objid = %s
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"""


@tagged("standard", "post_install", "-at_install")
class TestAdvisoryLocks(TransactionCase):
    """A worker's failure inside an advisory lock (here the company claim) is rolled back before the lock is
    released, seen from another worker's own database session."""

    test_module = ADDON

    def test_a_failure_is_rolled_back_before_another_worker_gets_the_lock(self):
        with self.registry.cursor() as cr:
            company_id = api.Environment(cr, SUPERUSER_ID, {}).company.id
        seen = {}
        with self.registry.cursor() as cr1:
            cr1.execute("SELECT pg_backend_pid()")
            pid = cr1.fetchone()[0]
            rollback = cr1.rollback

            def slow_rollback():
                seen["holder during rollback"] = self._lock_holders(cr1, company_id)
                time.sleep(SLOW_ROLLBACK)
                rollback()

            cr1.rollback = slow_rollback
            mine = api.Environment(cr1, SUPERUSER_ID, {})["nexudus.qbo.scheduler"]
            failed = self.assertRaises(RuntimeError)
            with failed, mine._claim(mine.env["res.company"].browse(company_id)) as held:
                self.assertTrue(held)
                cr1.execute("UPDATE res_company SET name = name || ' (uncommitted)' WHERE id = %s", (company_id,))
                other = threading.Thread(target=self._take_when_free, args=(company_id, seen))
                other.start()
                self._wait_until_waiting(cr1, company_id)
                raise RuntimeError("the work failed")
            del cr1.rollback
            other.join(timeout=30)
        self.assertEqual(seen["row when the lock was free"], UNTOUCHED, "the failed write was gone by then")
        self.assertNotIn("(uncommitted)", seen.get("name", ""))
        self.assertEqual(seen["holder during rollback"], [pid], "the lock is still held while rolling back")

    def _take_when_free(self, company_id, seen):
        """Another worker: wait for the company's lock, then, in a new transaction, take the company's row."""
        with self.registry.cursor() as cr2:
            cr2.execute("SELECT pg_advisory_lock(%s, %s)", (COMPANY_LOCK, company_id))
            cr2.rollback()  # the session lock stays; a fresh snapshot
            try:
                with mute_logger("odoo.sql_db"):
                    cr2.execute("SELECT name FROM res_company WHERE id = %s FOR UPDATE NOWAIT", (company_id,))
                seen["name"] = cr2.fetchone()[0]
                seen["row when the lock was free"] = UNTOUCHED
            except psycopg2.errors.LockNotAvailable:
                seen["row when the lock was free"] = "written by a transaction still open"
                cr2.rollback()
            cr2.execute("SELECT pg_advisory_unlock(%s, %s)", (COMPANY_LOCK, company_id))

    def _lock_holders(self, cr, company_id):
        cr.execute(
            f"SELECT pid FROM pg_locks WHERE {THIS_LOCK} AND granted",
            (COMPANY_LOCK, company_id),
        )
        return [pid for (pid,) in cr.fetchall()]

    def _wait_until_waiting(self, cr, company_id):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cr.execute(
                f"SELECT 1 FROM pg_locks WHERE {THIS_LOCK} AND NOT granted",
                (COMPANY_LOCK, company_id),
            )
            if cr.fetchone():
                return
            time.sleep(0.05)
        self.fail("the other worker never waited for the lock")
