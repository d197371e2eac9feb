from collections import namedtuple
from contextlib import contextmanager
from datetime import timedelta

from odoo import api, models

from ..tools.advisory_locks import advisory_locks
from ..tools.constants import COMPANY_LOCK

ADDON = "nexudus_qbo_connector"
SYNC_CRON = f"{ADDON}.ir_cron_nexudus_qbo_sync"
LANE_PREFIX = "ir_cron_nexudus_qbo_sync_lane_"
DEFAULT_INTERVAL_MINUTES = 360
Wave = namedtuple("Wave", "at scheduled")  # the moment a run answers; whether it is the schedule's


class NexudusQboScheduler(models.AbstractModel):
    """Which cron worker syncs which company, and when.

    Odoo runs one ``ir.cron`` record in one worker at a time, so the scheduled action has *lanes*: copies
    of it (one per served company beyond the first, kept by ``_plan``) that Odoo's other cron workers
    run at the same moments. Every lane runs the same code; each company is claimed by one worker at a
    time (``_claim``), so companies are synced in parallel and none twice at once. A run started by a
    trigger (a webhook, a throttled service's wait, a click's background work) triggers the lanes for the
    same moment (``_fan_out``). A company is read from the services once per such moment, by whichever
    worker claims it first, and on the schedule only as often as its own interval says (``_first_read``).
    """

    _name = "nexudus.qbo.scheduler"
    _description = "Nexudus–QuickBooks scheduling"

    # -- the scheduled action and its lanes ---------------------------------------------------------
    @api.model
    def _sync_cron(self):
        return self.env.ref(SYNC_CRON, raise_if_not_found=False)

    @api.model
    def _lanes(self):
        data = (
            self.env["ir.model.data"]
            .sudo()
            .search([("module", "=", ADDON), ("model", "=", "ir.cron"), ("name", "=like", f"{LANE_PREFIX}%")])
        )
        return self.env["ir.cron"].sudo().browse(data.mapped("res_id")).exists().sorted("id")

    @api.model
    def _plan(self):
        """Fit the scheduled action to the companies served: it runs as often as the most demanding one
        asks, and has one lane per served company beyond the first, in step with it. A lane running now
        is left as it is until the next plan (the daily sweep plans again)."""
        main = self._sync_cron()
        if not main:
            return
        main = main.sudo()
        served = self.env["res.company"].sudo().search([("nexudus_location_ids", "!=", False)])
        minutes = min(served.mapped("nexudus_qbo_interval_minutes") or [DEFAULT_INTERVAL_MINUTES])
        if (main.interval_number, main.interval_type) != (minutes, "minutes"):
            main.write({"interval_number": minutes, "interval_type": "minutes"})
        lanes = self._lanes()
        wanted = max(len(served) - 1, 0)
        lanes[wanted:].try_lock_for_update().unlink()
        for _missing in range(len(lanes), wanted):
            self._add_lane(main)
        step = {"interval_number": minutes, "interval_type": "minutes", "active": main.active}
        astray = self._lanes()[:wanted].filtered(lambda lane: any(lane[f] != v for f, v in step.items()))
        astray.try_lock_for_update(allow_referencing=True).write({**step, "nextcall": main.nextcall})

    @api.model
    def _add_lane(self, main):
        taken = set(self._lanes().get_external_id().values())
        number = next(n for n in range(1, len(taken) + 2) if f"{ADDON}.{LANE_PREFIX}{n}" not in taken)
        lane = (
            self.env["ir.cron"]
            .sudo()
            .create(
                {
                    "name": self.env._("%(name)s (worker %(number)s)", name=main.name, number=number + 1),
                    "model_id": main.model_id.id,
                    "state": "code",
                    "code": main.code,
                    "user_id": main.user_id.id,
                    "interval_number": main.interval_number,
                    "interval_type": main.interval_type,
                    "nextcall": main.nextcall,
                    "active": main.active,
                }
            )
        )
        self.env["ir.model.data"].sudo().create(
            {"module": ADDON, "name": f"{LANE_PREFIX}{number}", "model": "ir.cron", "res_id": lane.id, "noupdate": True}
        )

    # -- within a run --------------------------------------------------------------------------------
    @api.model
    def _wave(self):
        """The moment the current run of the scheduled action (or of a lane) answers, when due: its
        newest trigger's, else its schedule's (``scheduled``); None outside a cron run."""
        cron_id = self.env.context.get("cron_id")
        if not cron_id or self.env.context.get("cron_end_time") is None:
            return None
        self.env.cr.execute(
            """SELECT (SELECT nextcall FROM ir_cron WHERE id = %(cron)s AND nextcall <= %(now)s),
                      (SELECT max(call_at) FROM ir_cron_trigger WHERE cron_id = %(cron)s AND call_at <= %(now)s)""",
            {"cron": cron_id, "now": self.env.cr.now()},
        )
        scheduled, triggered = self.env.cr.fetchone()
        if triggered and (not scheduled or triggered >= scheduled):
            return Wave(triggered, scheduled=False)
        return Wave(scheduled, scheduled=True) if scheduled else None

    @api.model
    def _fan_out(self, wave):
        """From the scheduled action itself: have every lane that is neither due nor ran since ``wave`` run
        for it too."""
        main = self._sync_cron()
        if not wave or not main or self.env.context.get("cron_id") != main.id:
            return
        now = self.env.cr.now()
        lanes = self._lanes().filtered(
            lambda c: c.active and c.nextcall > now and not (c.lastcall and c.lastcall >= wave.at)
        )
        pending = self.env["ir.cron.trigger"].sudo().search([("cron_id", "in", lanes.ids), ("call_at", ">=", wave.at)])
        for lane in lanes - pending.cron_id:
            lane._trigger(at=wave.at)

    @api.model
    def _first_read(self, company, wave):
        """Whether this worker reads ``company`` from the services for ``wave``: true for the first worker
        to ask since that moment; on the schedule, only once the company's own interval has passed (the
        action runs as often as the most demanding company asks). Triggers are kept to the second: a
        trigger in the second of a read already made is answered by the next moment, or the daily sweep."""
        since = wave.at
        if wave.scheduled:
            main = self._sync_cron()
            step = main.interval_number if main and main.interval_type == "minutes" else 0
            since -= timedelta(minutes=max(company.nexudus_qbo_interval_minutes - step, 0))
        self.env.cr.execute(
            """UPDATE res_company SET nexudus_qbo_read_at = clock_timestamp() AT TIME ZONE 'UTC'
                WHERE id = %s AND (nexudus_qbo_read_at IS NULL OR nexudus_qbo_read_at < %s)
            RETURNING id""",
            (company.id, since),
        )
        company.invalidate_recordset(["nexudus_qbo_read_at"])
        return bool(self.env.cr.fetchone())

    @api.model
    @contextmanager
    def _claim(self, company):
        """Yield whether this worker holds ``company`` (then no other worker syncs or sweeps it until the
        block ends). A session lock, released at the end of the block; what the block left uncommitted
        when it failed is rolled back first, so the release always runs."""
        with advisory_locks(self.env.cr, COMPANY_LOCK, company.id) as taken:
            yield bool(taken)
