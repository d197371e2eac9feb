import json
import threading
import time
from datetime import datetime, timezone

import psycopg2

from odoo import api, fields, models

from ..tools import rate_limits
from ..tools.errors import ThrottledError
from ..tools.http_client import Limiter

SERVICES = [("nexudus", "Nexudus"), ("qbo", "QuickBooks")]
LIMITS = {"nexudus": rate_limits.NEXUDUS, "qbo": rate_limits.QBO}
LABELS = dict(SERVICES)
MAX_LOCK_ATTEMPTS = 10
_tally = threading.local()  # what this thread asked of each service: a run counts its part of it


def request_tally():
    """The requests this thread has made to each service, and the throttles it met, so far."""
    return {
        "nexudus_requests": getattr(_tally, "nexudus", 0),
        "qbo_requests": getattr(_tally, "qbo", 0),
        "throttles": getattr(_tally, "throttles", 0),
    }


class NexudusQboRateBudget(models.Model):
    """The request budget of one service account (a Nexudus sign-in, a QuickBooks company), shared by
    every worker and click of this database, so that together they stay under the documented limits.

    Each request takes its slot in a transaction of its own that locks the row and commits at once; a
    throttled answer sets ``blocked_until``, before which no request to that account leaves at all.
    """

    _name = "nexudus.qbo.rate.budget"
    _description = "Nexudus–QuickBooks request budget"
    _order = "service, account"
    _rec_name = "account"

    service = fields.Selection(SERVICES, required=True, readonly=True)
    account = fields.Char(required=True, readonly=True, help="The Nexudus sign-in email, or the QuickBooks realm ID.")
    state_json = fields.Text(readonly=True, help="When each documented limit allows the next request.")
    blocked_until = fields.Datetime("Throttled until", readonly=True)
    requests = fields.Integer("Requests made", readonly=True)
    throttles = fields.Integer("Throttles met", readonly=True)
    last_request_at = fields.Datetime("Last request", readonly=True)
    last_throttle_at = fields.Datetime("Last throttled", readonly=True)

    _service_account_uniq = models.UniqueIndex("(service, account)", "One budget per service account.")

    @api.model
    def _limiter(self, service, account):
        return _DatabaseLimiter(self, service, account)

    @api.model
    def _blocked_until(self, service, account):
        """Until when the service asked to wait (None when it did not, or the wait is over)."""
        row = self.sudo().search([("service", "=", service), ("account", "=", account)], limit=1)
        return row.blocked_until if row.blocked_until and row.blocked_until > fields.Datetime.now() else None

    # -- in a transaction of its own ----------------------------------------------------------------
    def _acquire(self, service, account, kind, sleep=time.sleep):
        def decide(cr, row):
            now = time.time()
            state = json.loads(row["state_json"] or "{}")
            blocked = row["blocked_until"] and _epoch(row["blocked_until"])
            wait, new_state = rate_limits.take(LIMITS[service], state, blocked, now, kind)
            if new_state is None:
                return wait
            cr.execute(
                """UPDATE nexudus_qbo_rate_budget
                      SET state_json = %s, requests = requests + 1, last_request_at = %s, blocked_until = NULL
                    WHERE id = %s""",
                (json.dumps(new_state), _naive(now + wait), row["id"]),
            )
            return -wait  # a pause before the request leaves

        wait = self._in_locked_row(service, account, decide)
        if wait > 0:
            raise ThrottledError(
                self.env._(
                    "%(service)s: the connector waits %(seconds)s seconds before its next request (the service's "
                    "request limit).",
                    service=LABELS[service],
                    seconds=int(wait + 0.999),
                ),
                service=LABELS[service],
                retry_after=wait,
                local=True,
            )
        if wait < 0:
            sleep(-wait)

    def _throttled(self, service, account, seconds, again=False):
        def block(cr, row):
            cr.execute(
                """UPDATE nexudus_qbo_rate_budget
                      SET blocked_until = GREATEST(COALESCE(blocked_until, %s), %s), throttles = throttles + %s,
                          last_throttle_at = %s
                    WHERE id = %s""",
                (_naive(0), _naive(time.time() + seconds), 0 if again else 1, _naive(time.time()), row["id"]),
            )

        self._in_locked_row(service, account, block)

    def _in_locked_row(self, service, account, work):
        """``work(cr, row)`` on the account's row, locked, in a transaction committed when it returns. A
        worker that queued behind another one's update meets a serialization failure and starts again."""
        for attempt in range(1, MAX_LOCK_ATTEMPTS + 1):
            try:
                return self._in_locked_row_once(service, account, work)
            except psycopg2.errors.SerializationFailure:
                if attempt == MAX_LOCK_ATTEMPTS:
                    raise
        return None

    def _in_locked_row_once(self, service, account, work):
        with self.env.registry.cursor() as cr:
            cr.execute(
                """INSERT INTO nexudus_qbo_rate_budget
                          (service, account, requests, throttles, create_uid, write_uid, create_date, write_date)
                   VALUES (%s, %s, 0, 0, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC')
                   ON CONFLICT (service, account) DO NOTHING""",
                (service, account, self.env.uid, self.env.uid),
            )
            cr.execute(
                """SELECT id, state_json, blocked_until FROM nexudus_qbo_rate_budget
                    WHERE service = %s AND account = %s FOR UPDATE""",
                (service, account),
            )
            return work(cr, cr.dictfetchone())


class _DatabaseLimiter(Limiter):
    def __init__(self, budgets, service, account):
        self.budgets, self.service, self.account = budgets, service, account

    def acquire(self, kind):
        self.budgets._acquire(self.service, self.account, kind)
        setattr(_tally, self.service, getattr(_tally, self.service, 0) + 1)

    def throttled(self, seconds, again=False):
        self.budgets._throttled(self.service, self.account, seconds, again)
        if not again:
            _tally.throttles = getattr(_tally, "throttles", 0) + 1


def _epoch(naive):
    return naive.replace(tzinfo=timezone.utc).timestamp()


def _naive(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).replace(tzinfo=None)
