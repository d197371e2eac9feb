import json
import os
import time
from datetime import timedelta

from odoo import api, fields, models

from odoo.addons.base.models.ir_cron import MIN_TIME_PER_JOB


class NexudusQboRun(models.Model):
    """One run of the scheduled action: Odoo 19 calls the action again and again within a run while it
    reports work remaining (``ir.cron._run_job``: a progress record of its own for each call, at least
    ``MIN_RUNS_PER_JOB`` calls and ``MIN_TIME_PER_JOB`` seconds). Imports and pulls happen once per run, on
    its first call; a row is tried once per run, so a service that is down causes no busy loop."""

    _name = "nexudus.qbo.run"
    _description = "Nexudus–QuickBooks scheduled run"
    _order = "started_at desc, id desc"
    _rec_name = "started_at"

    key = fields.Char(required=True, readonly=True, index=True, help="Tells the calls of one run from another's.")
    started_at = fields.Datetime(required=True, readonly=True)
    calls = fields.Integer(readonly=True, default=1)
    cache_json = fields.Text(readonly=True, help="What is read once per run: QuickBooks' preferences, checks passed.")

    _key_uniq = models.UniqueIndex("(key)", "One record per run.")

    @api.model
    def _current(self):
        """The current run. Outside a scheduled run (a test, a shell) each call is a run of its own and no
        record is kept (an empty recordset)."""
        end = self.env.context.get("cron_end_time")
        if end is None:
            return self.browse()
        key = f"{os.getpid()}:{end!r}"  # the same for every call of one run in this worker process
        run = self.sudo().search([("key", "=", key)], limit=1)
        if run:
            run.calls += 1
            return run
        started = fields.Datetime.now() - timedelta(seconds=max(time.monotonic() - (end - MIN_TIME_PER_JOB), 0))
        run = self.sudo().create({"key": key, "started_at": started.replace(microsecond=0)})
        # Committed at once: rows of this run point to it (``tried_run_id``), and a step that rolls back (a
        # service down at the run's first request) must not take it away from under them.
        self.env["ir.cron"]._commit_progress()
        return run

    @api.model
    def _in_run(self):
        """The scheduled run the current call belongs to (empty outside one)."""
        return self.sudo().browse(self.env.context.get("nexudus_qbo_run_id")).exists()

    def _cached(self, company, key, read):
        """``read()`` once per run and company (every call when there is no run)."""
        if not self:
            return read()
        cache = json.loads(self.cache_json or "{}")
        slot = f"{company.id}:{key}"
        if slot not in cache:
            cache[slot] = read()
            self.cache_json = json.dumps(cache)
        return cache[slot]

    def _first_time(self, company, key):
        """Whether ``key`` is done for ``company`` the first time in this run (always, outside a run)."""
        if not self:
            return True
        cache = json.loads(self.cache_json or "{}")
        slot = f"{company.id}:{key}:done"
        if slot in cache:
            return False
        cache[slot] = True
        self.cache_json = json.dumps(cache)
        return True

    @api.autovacuum
    def _gc_old_runs(self):
        self.sudo().search([("started_at", "<", fields.Datetime.now() - timedelta(days=90))]).unlink()
