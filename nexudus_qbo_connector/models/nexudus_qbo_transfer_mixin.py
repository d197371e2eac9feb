import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools.errors import ApiError, ThrottledError, TransientError

_logger = logging.getLogger(__name__)

CRON = "nexudus_qbo_connector.ir_cron_nexudus_qbo_sync"


class NexudusQboTransferMixin(models.AbstractModel):
    """What invoices and payments share as rows that are at once a queue and a log: running a person's
    click in a transaction of its own, committing step by step, pausing for a service that asks to wait,
    and telling the person what came of it.

    Throttle policy (both services, every call): a 409/429, or a spent request budget, raises
    ThrottledError before or instead of the call; the step that met it stops, everything committed so far
    stays, no further request goes to that service until its wait is over (the shared budget refuses them
    without a call), and the scheduled action is triggered for when the wait ends.
    """

    _name = "nexudus.qbo.transfer.mixin"
    _description = "Nexudus–QuickBooks transfer row"
    _state_field = "state"

    tried_run_id = fields.Many2one(
        "nexudus.qbo.run", "Last tried in run", readonly=True, copy=False, index="btree_not_null", ondelete="set null"
    )

    def _mark_tried(self):
        """The row is being tried now, in the current scheduled run if any: it waits for the next run."""
        self.write(
            {"last_transfer_at": fields.Datetime.now(), "tried_run_id": self.env.context.get("nexudus_qbo_run_id")}
        )

    @api.model
    def _not_tried_in_this_run(self, or_also=None):
        """A domain: the rows not tried yet in the current scheduled run (all rows outside one), or
        matching ``or_also`` (a domain) though tried."""
        run_id = self.env.context.get("nexudus_qbo_run_id")
        if not run_id:
            return []
        if or_also:
            return ["|", ("tried_run_id", "!=", run_id), *or_also]
        return [("tried_run_id", "!=", run_id)]

    def _commit(self):
        """Commit now (in a scheduled run, with its progress): what was written must survive a crash."""
        return self.env["ir.cron"]._commit_progress()

    def _move_each(self, move):
        """Call ``move(row)`` for each row. One bad row never stops the others: a refusal fails that row
        (``_record_failure``), a service that is down leaves it as it is for the next run, and a service
        asking to wait ends the loop (raised for the caller to pause)."""
        for row in self:
            try:
                move(row)
            except ThrottledError:
                raise
            except TransientError as exc:  # not the row's fault
                self.env.cr.rollback()
                row.message_post(body=self.env._("Not sent this time: %(error)s", error=exc))
                self._commit()
            except (ApiError, UserError) as exc:
                self.env.cr.rollback()
                row._record_failure(exc)
                self._commit()

    def _record_failure(self, exc):
        raise NotImplementedError

    @api.model
    def _retry_later(self, exc):
        """Have the scheduled action come back when a throttled service says; returns when."""
        at = fields.Datetime.now() + timedelta(seconds=float(exc.retry_after or 60))
        cron = self.env.ref(CRON, raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger(at=at)
        return at

    @api.model
    def _phase(self, company, what, work):
        """One step of a company's scheduled run; returns what ``work`` returns, or 0 when it stopped: a
        service asking to wait pauses the step until then, a service that is down leaves it for the next
        run, a configuration problem stops it (its fix is logged, and shown by the pre-flight checks)."""
        try:
            return work()
        except ThrottledError as exc:
            self._rollback_keeping(exc)
            at = self._retry_later(exc)
            _logger.info("Nexudus–QuickBooks, %s, %s: paused until %s UTC (%s)", company.name, what, at, exc)
        except TransientError as exc:
            self.env.cr.rollback()
            _logger.warning("Nexudus–QuickBooks, %s, %s: left for the next run (%s)", company.name, what, exc)
        except UserError as exc:
            self.env.cr.rollback()
            _logger.warning("Nexudus–QuickBooks, %s, %s: stopped: %s", company.name, what, exc)
        self._commit()
        return 0

    def _rollback_keeping(self, exc):
        """Roll back what the step left uncommitted, keeping the service's wait on its budget. The budget
        is written in a transaction of its own, so this only matters where every transaction is one (the
        test suite's registry test mode); elsewhere it writes what is already there."""
        self.env.cr.rollback()
        if isinstance(exc, ThrottledError) and exc.limiter and not exc.local:
            exc.limiter.throttled(exc.retry_after, again=True)

    def _state_counts(self):
        counts = {}
        for row in self:
            state = row[self._state_field]
            counts[state] = counts.get(state, 0) + 1
        return counts

    def _run_in_own_transaction(self, method, ids, title):
        """Run ``method`` on ``ids`` in a transaction of its own, which commits each step as it goes: a
        transfer's state must be committed before and after each call, whatever happens to the
        transaction of the click that started it. Returns the notification for the person."""
        self.browse(ids).check_access("write")
        company = self.browse(ids).company_id[:1] or self.env.company
        with (
            self.env.registry.cursor() as cr,
            self.env(cr=cr, su=True)["nexudus.qbo.run"]._manual(title, company) as run,
        ):
            env = run.env(su=True, context=dict(self.env.context, nexudus_qbo_manual_run_id=run.id))
            rows = self.with_env(env).browse(ids)
            pause = rows._paused(lambda: getattr(rows, method)())
            result = rows._notify_result(rows._state_counts(), title, pause)
        self.invalidate_recordset()
        return result

    def _paused(self, work):
        """Run ``work``; when a service asks to wait or does not answer, keep what was done, have the
        scheduled action continue, and return (the error, when it continues)."""
        try:
            work()
        except (ThrottledError, TransientError) as exc:
            self._rollback_keeping(exc)
            at = self._retry_later(exc) if isinstance(exc, ThrottledError) else None
            self._commit()
            self.invalidate_recordset()
            return exc, at
        return None

    @api.model
    def _notify_result(self, counts, title, pause=None):
        labels = dict(self._fields[self._state_field]._description_selection(self.env))
        parts = [f"{count} {labels[state].lower()}" for state, count in sorted(counts.items())]
        message = ", ".join(parts) or self.env._("Nothing to do.")
        kind = "warning" if counts.get("failed") else "success"
        if pause:
            message = f"{self._pause_text(*pause)} {message}"
            kind = "warning"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": kind,
                "sticky": bool(pause),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _pause_text(self, exc, at):
        if at:
            when = fields.Datetime.context_timestamp(self, at).strftime("%H:%M:%S")
            return self.env._(
                "%(service)s asks to wait (its request limit): what was done is kept, and the rest continues by "
                "itself at %(when)s. So far:",
                service=exc.service,
                when=when,
            )
        return self.env._(
            "%(service)s did not answer (%(error)s): what was done is kept, and the rest is tried again by the next "
            "scheduled run. So far:",
            service=exc.service,
            error=exc.message,
        )
