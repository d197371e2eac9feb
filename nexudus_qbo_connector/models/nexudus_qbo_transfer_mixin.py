from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools.errors import ApiError, ThrottledError, TransientError

CRON = "nexudus_qbo_connector.ir_cron_nexudus_qbo_sync"


class NexudusQboTransferMixin(models.AbstractModel):
    """What invoices and payments share as rows that are at once a queue and a log: running a person's
    click in a transaction of its own, committing step by step, and telling the person what came of it."""

    _name = "nexudus.qbo.transfer.mixin"
    _description = "Nexudus–QuickBooks transfer row"
    _state_field = "state"

    def _commit(self):
        """Commit now (in a scheduled run, with its progress): what was written must survive a crash."""
        self.env["ir.cron"]._commit_progress()

    def _move_each(self, move):
        """Call ``move(row)`` for each row. One bad row never stops the others: a refusal fails that row
        (``_record_failure``), a service that is down leaves it as it is for the next run, and a service
        asking to wait ends the loop (raised for the caller to reschedule)."""
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
        """Have the scheduled action come back when a throttled service says."""
        cron = self.env.ref(CRON, raise_if_not_found=False)
        if cron:
            cron._trigger(at=fields.Datetime.now() + timedelta(seconds=float(exc.retry_after or 60)))

    def _state_counts(self):
        counts = {}
        for row in self:
            state = row[self._state_field]
            counts[state] = counts.get(state, 0) + 1
        return counts

    def _run_in_own_transaction(self, method, ids):
        """Run ``method`` on ``ids`` in a transaction of its own, which commits each step as it goes: a
        transfer's state must be committed before and after each call, whatever happens to the
        transaction of the click that started it. Returns the rows' states afterwards."""
        self.browse(ids).check_access("write")
        with self.env.registry.cursor() as cr:
            rows = self.with_env(self.env(cr=cr, su=True)).browse(ids)
            getattr(rows, method)()
            counts = rows._state_counts()
        self.invalidate_recordset()
        return counts

    @api.model
    def _notify_result(self, counts, title):
        labels = dict(self._fields[self._state_field]._description_selection(self.env))
        parts = [f"{count} {labels[state].lower()}" for state, count in sorted(counts.items())]
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": ", ".join(parts) or self.env._("Nothing to do."),
                "type": "warning" if counts.get("failed") else "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
