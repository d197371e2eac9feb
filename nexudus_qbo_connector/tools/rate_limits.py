"""The request budgets the two services document, and the arithmetic that keeps a client under them.

Nexudus (research, Nexudus API §1.5): every method 1 request per 100 ms, 120 a minute, 5,000 an hour,
200,000 a day; POST, PUT and DELETE also 60 a minute and 5,000 a day. QuickBooks Online (QBO research
§3.8, §3.3): 500 requests a minute per company, batch requests included, of which at most 40 batch
requests; 10 at once (a connector worker sends one at a time).

Each limit "n requests in any window of w seconds" is kept with the generic cell rate algorithm: one
"theoretical arrival time" (TAT) per limit, an emission interval ``T = w / (n - burst)`` and a
tolerance of ``burst`` intervals. Requests that conform to it never put more than ``n`` requests in any
window of ``w`` seconds, whatever the service's window looks like, while a short burst goes at once.
The state is a small dict of TATs, kept in the database so that every worker and click of one service
account shares it.
"""

from dataclasses import dataclass

MARGIN = 1.05  # intervals 5% longer than the arithmetic needs: clocks and network delays differ
JITTER = 0.05  # and 50 ms more for sub-second limits, where a request delayed on its way counts most


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    seconds: float
    kinds: frozenset  # request kinds counted: "read", "write", "batch"

    @property
    def burst(self):
        return self.count // 10

    @property
    def interval(self):
        return MARGIN * self.seconds / (self.count - self.burst) + (JITTER if self.seconds < 1 else 0)

    @property
    def tolerance(self):
        return self.burst * self.interval


ALL = frozenset({"read", "write", "batch"})
WRITES = frozenset({"write", "batch"})

NEXUDUS = (
    Limit("100ms", 1, 0.1, ALL),
    Limit("minute", 120, 60, ALL),
    Limit("hour", 5000, 3600, ALL),
    Limit("day", 200000, 86400, ALL),
    Limit("writes/minute", 60, 60, WRITES),
    Limit("writes/day", 5000, 86400, WRITES),
)
QBO = (
    Limit("minute", 500, 60, ALL),
    Limit("batch/minute", 40, 60, frozenset({"batch"})),
)


def request_kind(method, path=""):
    """ "batch" for a QuickBooks batch request, "write" for any other POST/PUT/DELETE, else "read"."""
    if path.rstrip("/").endswith("/batch"):
        return "batch"
    if method.upper() in ("POST", "PUT", "DELETE", "PATCH"):
        return "write"
    return "read"


def plan(limits, state, now, kind):
    """When the next ``kind`` request may leave, and the budget state once it has.

    ``state`` maps a limit's name to its TAT (POSIX seconds). Returns ``(wait, new_state)``: ``wait``
    seconds from ``now`` (0 when it may leave at once); ``new_state`` reserves the request at
    ``now + wait``.
    """
    applicable = [limit for limit in limits if kind in limit.kinds]
    wait = 0.0
    for limit in applicable:
        tat = state.get(limit.name, now)
        wait = max(wait, tat - limit.tolerance - now)
    leaves = now + wait
    new_state = dict(state)
    for limit in applicable:
        new_state[limit.name] = max(state.get(limit.name, leaves), leaves) + limit.interval
    return wait, new_state


PACE_MAX = 2.0  # a worker waits this long at most for its next request; a longer wait ends its run


def take(limits, state, blocked_until, now, kind):
    """The decision before one request: ``(wait, new_state)``.

    ``new_state`` is None when no request may leave now: the service asked to wait (``blocked_until``)
    or the budget needs longer than ``PACE_MAX``; ``wait`` is then how long until one may. Otherwise the
    request leaves after ``wait`` seconds (a short pacing pause) with ``new_state`` stored.
    """
    if blocked_until and blocked_until > now:
        return blocked_until - now, None
    wait, new_state = plan(limits, state, now, kind)
    if wait > PACE_MAX:
        return wait, None
    return wait, new_state


class MemoryBudget:
    """A budget kept in memory, for one process on its own (the tools' tests, the benchmark's probes);
    the addon keeps the shared one in the database (``nexudus.qbo.rate.budget``)."""

    def __init__(self, limits, clock=None, sleep=None):
        import time  # noqa: PLC0415 - only this class needs a clock

        self.limits, self.state, self.blocked_until = limits, {}, None
        self.clock, self.sleep = clock or time.time, sleep or time.sleep

    def acquire(self, kind):
        from .errors import ThrottledError  # noqa: PLC0415 - errors stays free of this module

        wait, new_state = take(self.limits, self.state, self.blocked_until, self.clock(), kind)
        if new_state is None:
            raise ThrottledError("the request budget is spent", service="budget", retry_after=wait, local=True)
        self.state = new_state
        if wait > 0:
            self.sleep(wait)

    def throttled(self, seconds, again=False):
        self.blocked_until = max(self.blocked_until or 0, self.clock() + seconds)
