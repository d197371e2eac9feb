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

    _key_uniq = models.UniqueIndex("(key)", "One record per run.")

    @api.model
    def _current(self):
        """(start of the current run, whether this is its first call). Outside a scheduled run (a test, a
        shell) each call is a run of its own."""
        end = self.env.context.get("cron_end_time")
        now = fields.Datetime.now()
        if end is None:
            return now, True
        key = f"{os.getpid()}:{end!r}"  # the same for every call of one run in this worker process
        run = self.sudo().search([("key", "=", key)], limit=1)
        if run:
            run.calls += 1
            return run.started_at, False
        started = now - timedelta(seconds=max(time.monotonic() - (end - MIN_TIME_PER_JOB), 0))
        self.sudo().create({"key": key, "started_at": started})
        return started, True

    @api.autovacuum
    def _gc_old_runs(self):
        self.sudo().search([("started_at", "<", fields.Datetime.now() - timedelta(days=90))]).unlink()
