import json
import os
import time
from contextlib import contextmanager
from datetime import timedelta

from odoo import api, fields, models

from odoo.addons.base.models.ir_cron import MIN_TIME_PER_JOB

from .nexudus_qbo_rate_budget import request_tally

OUTCOMES = [("ok", "Done"), ("throttled", "Paused by a service"), ("failures", "With failures")]
RETENTION_PARAM = "nexudus_qbo_connector.run_retention_days"
DEFAULT_RETENTION_DAYS = 90
LIVE_SECONDS = 3 * MIN_TIME_PER_JOB  # a run with no call ending for this long has stopped, finished or not


class NexudusQboRun(models.Model):
    """One run of the scheduled action, or one click that moved rows (a manual run), and what it did.

    Scheduled: Odoo 19 calls the action again and again within a run while it reports work remaining
    (``ir.cron._run_job``: a progress record of its own for each call, at least ``MIN_RUNS_PER_JOB`` calls
    and ``MIN_TIME_PER_JOB`` seconds). Imports and pulls happen once per run, on its first call; a row is
    tried once per run, so a service that is down causes no busy loop.

    What happened is counted where rows change state (``_count``), on one line per company and location
    (``nexudus.qbo.run.line``), in the transaction that changes them: a count is committed with its rows.
    """

    _name = "nexudus.qbo.run"
    _description = "Nexudus–QuickBooks run"
    _order = "started_at desc, id desc"
    _rec_name = "started_at"

    key = fields.Char(required=True, readonly=True, index=True, help="Tells the calls of one run from another's.")
    trigger = fields.Selection(
        [("scheduled", "Scheduled"), ("manual", "Manual")], required=True, default="scheduled", readonly=True
    )
    title = fields.Char("What", readonly=True, help="The button a person clicked, for a manual run.")
    user_id = fields.Many2one("res.users", "By", readonly=True, help="Who clicked, for a manual run.")
    started_at = fields.Datetime(required=True, readonly=True)
    ended_at = fields.Datetime(readonly=True, help="When its last call ended.")
    duration = fields.Float("Duration (s)", compute="_compute_duration")
    calls = fields.Integer(readonly=True, default=1)
    cache_json = fields.Text(readonly=True, help="What is read once per run: QuickBooks' preferences, checks passed.")
    line_ids = fields.One2many("nexudus.qbo.run.line", "run_id", "Per company and location", readonly=True)
    read_count = fields.Integer("Read", compute="_compute_totals", store=True)
    sent_count = fields.Integer("Sent", compute="_compute_totals", store=True)
    failed_count = fields.Integer("Failed", compute="_compute_totals", store=True)
    skipped_count = fields.Integer("Skipped", compute="_compute_totals", store=True)
    payments_count = fields.Integer("Payments moved", compute="_compute_totals", store=True)
    requests_count = fields.Integer("Requests", compute="_compute_totals", store=True)
    throttles_count = fields.Integer("Throttles met", compute="_compute_totals", store=True)
    outcome = fields.Selection(OUTCOMES, compute="_compute_totals", store=True)
    finished = fields.Boolean(readonly=True, help="Set when the run ended with nothing left for it to do now.")
    in_progress = fields.Boolean(
        compute="_compute_in_progress", help="Still at work: its form shows its counts as they are committed."
    )

    _key_uniq = models.UniqueIndex("(key)", "One record per run.")

    @api.depends(
        "line_ids.read_count", "line_ids.sent_count", "line_ids.failed_count", "line_ids.skipped_count",
        "line_ids.payments_to_qbo", "line_ids.payments_to_nexudus", "line_ids.payments_failed",
        "line_ids.nexudus_requests", "line_ids.qbo_requests", "line_ids.throttles",
    )  # fmt: skip
    def _compute_totals(self):
        for run in self:
            lines = run.line_ids
            run.read_count = sum(lines.mapped("read_count"))
            run.sent_count = sum(lines.mapped("sent_count"))
            run.failed_count = sum(lines.mapped("failed_count")) + sum(lines.mapped("payments_failed"))
            run.skipped_count = sum(lines.mapped("skipped_count"))
            run.payments_count = sum(lines.mapped("payments_to_qbo")) + sum(lines.mapped("payments_to_nexudus"))
            run.requests_count = sum(lines.mapped("nexudus_requests")) + sum(lines.mapped("qbo_requests"))
            run.throttles_count = sum(lines.mapped("throttles"))
            run.outcome = "failures" if run.failed_count else "throttled" if run.throttles_count else "ok"

    @api.depends("trigger", "title", "started_at")
    def _compute_display_name(self):
        labels = dict(self._fields["trigger"]._description_selection(self.env))
        for run in self:
            when = run.started_at and fields.Datetime.context_timestamp(run, run.started_at).strftime("%Y-%m-%d %H:%M")
            what = run.title or self.env._("%(trigger)s run", trigger=labels.get(run.trigger, ""))
            run.display_name = f"{what}, {when}" if when else what

    @api.depends("finished", "ended_at")
    def _compute_in_progress(self):
        recent = fields.Datetime.now() - timedelta(seconds=LIVE_SECONDS)
        for run in self:
            run.in_progress = not run.finished and bool(run.ended_at) and run.ended_at >= recent

    def _finish(self):
        self.write({"finished": True, "ended_at": fields.Datetime.now()})

    @api.depends("started_at", "ended_at")
    def _compute_duration(self):
        for run in self:
            ended = run.ended_at or run.started_at
            run.duration = (ended - run.started_at).total_seconds() if run.started_at else 0.0

    # -- which run counts --------------------------------------------------------------------------
    @api.model
    def _tallying(self):
        """The run the current work is counted in: the scheduled run, else a person's click (empty when
        neither, e.g. a shell)."""
        ctx = self.env.context
        return self.sudo().browse(ctx.get("nexudus_qbo_run_id") or ctx.get("nexudus_qbo_manual_run_id")).exists()

    @api.model
    @contextmanager
    def _manual(self, title, company):
        """A run for a person's click (``title``: the button) on ``company``'s rows, created in the click's
        own transaction; run the click's work with ``nexudus_qbo_manual_run_id`` set to its id, so that what
        it moves is counted in it."""
        now = fields.Datetime.now()
        run = self.sudo().create(
            {
                "key": f"manual:{os.getpid()}:{time.monotonic_ns()}",
                "trigger": "manual",
                "title": title,
                "user_id": self.env.uid,
                "started_at": now,
                "ended_at": now,
            }
        )
        self.env["ir.cron"]._commit_progress()  # a step rolled back (a throttle) must not take the run with it
        with run._measuring(company):
            yield run
        run._finish()

    def _count(self, company, location, key, n=1, rows=None):
        """Add ``n`` to counter ``key`` of this run's line for ``company`` and ``location`` (a location
        record, or empty for what belongs to the company as a whole); ``rows`` (failed invoices or
        payments) are linked to the line. Does nothing outside a run."""
        if not self or not (n or rows):
            return
        line = self.line_ids.filtered(lambda line: line.company_id == company and line.location_id == location)[:1]
        if not line:
            line = (
                self.env["nexudus.qbo.run.line"]
                .sudo()
                .create({"run_id": self.id, "company_id": company.id, "location_id": location.id or False})
            )
        values = {key: line[key] + n} if n else {}
        if rows is not None:
            field = "failed_invoice_ids" if rows._name == "nexudus.qbo.invoice" else "failed_payment_ids"
            values[field] = [fields.Command.link(row.id) for row in rows]
        line.write(values)
        self.ended_at = fields.Datetime.now()

    @contextmanager
    def _measuring(self, company):
        """Count the requests this thread makes to each service, and the throttles it meets, inside the
        block, on the company's line of this run."""
        before = request_tally()
        try:
            yield
        finally:
            after = request_tally()
            for key in ("nexudus_requests", "qbo_requests", "throttles"):
                self._count(company, company.env["nexudus.qbo.location"], key, after[key] - before[key])

    # -- the scheduled run -------------------------------------------------------------------------
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
            run.write({"calls": run.calls + 1, "ended_at": fields.Datetime.now()})
            return run
        started = fields.Datetime.now() - timedelta(seconds=max(time.monotonic() - (end - MIN_TIME_PER_JOB), 0))
        started = started.replace(microsecond=0)
        run = self.sudo().create({"key": key, "trigger": "scheduled", "started_at": started, "ended_at": started})
        self.env["ir.cron"]._commit_progress()  # a call's step rolled back must not take the run with it
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
            value = read()
            cache = json.loads(self.cache_json or "{}")  # with what ``read`` cached itself (the checks: preferences)
            cache[slot] = value
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

    @api.model
    def _days_setting(self, param, default):
        """A number of days set in system parameter ``param`` (at least 1; ``default`` when unset or not a
        number)."""
        value = self.env["ir.config_parameter"].sudo().get_param(param)
        try:
            return max(int(value), 1) if value else default
        except ValueError:
            return default

    @api.autovacuum
    def _gc_old_runs(self):
        """Forget runs older than the retention set in Settings (90 days unless set)."""
        limit = fields.Datetime.now() - timedelta(days=self._days_setting(RETENTION_PARAM, DEFAULT_RETENTION_DAYS))
        self.sudo().search([("started_at", "<", limit)]).unlink()
