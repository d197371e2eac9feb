"""Nexudus's documented request limits (research §1.5), enforced per account with exact sliding windows.

The API-limitations page ("use as a general rule"):

=====================  =========================================================
Methods                Limit
=====================  =========================================================
POST, PUT, DELETE      60 per minute; 5000 per day
ALL                    1 request per 100 ms; 120 per minute; 5000 per hour; 200,000 per day
=====================  =========================================================

How the simulator applies it:

- Every request under ``/api/`` counts against the account it signs in as: the bearer token's or the
  basic-auth user, and for ``POST /api/token`` the ``username`` of the form (refresh grants: the user
  the refresh token belongs to). A request that signs in as nobody (no or a bad ``Authorization``) is
  not counted; it gets its 401. ``GET /`` (the simulator's own overview page) is not the API: never limited.
- Writes are the table's methods, read literally: every POST, PUT and DELETE (a ``runcommand`` POST and a
  token POST included) counts in the write windows *and* in the ALL windows.
- The windows slide: a window of ``W`` seconds holds the accepted requests of the last ``W`` seconds of the
  simulator clock (``sim.now()``: the wall clock plus ``sim.clock_offset``, so a test moves time instead of
  sleeping). A request that would exceed any window is refused and **not counted**.
- Refused: HTTP 409 ``{"Message": "You must wait before accessing this url again."}`` with ``Retry-After``:
  the whole seconds (rounded up, at least 1) until every exceeded window has room again.
- Research uncertainty 7 (documented 409, observed 429 "Wait N seconds"): ``throttle_status=429`` answers
  429 ``{"Message": "Too many requests. Wait N seconds."}`` instead, without a ``Retry-After`` header unless
  ``retry_after_on_429=True`` (the observed bodies carried the wait in their text).
- Uncertainty 7 also covers the daily write cap: 5000 (current page) or 2500 (older revision); the older
  revision also allowed GETs 10 per 100 ms. Pass other values in :class:`NexudusLimits` to try them.

``NexudusLimits.unlimited()`` switches every limit off (a test that does so must say why).
"""

import math
from collections import deque
from dataclasses import dataclass, fields

WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})


@dataclass(frozen=True)
class NexudusLimits:
    """Requests allowed per account and window; None switches that limit off."""

    per_100ms: int | None = 1
    per_minute: int | None = 120
    per_hour: int | None = 5000
    per_day: int | None = 200_000
    writes_per_minute: int | None = 60
    writes_per_day: int | None = 5000

    @classmethod
    def documented(cls):
        return cls()

    @classmethod
    def unlimited(cls):
        return cls(**{f.name: None for f in fields(cls)})

    def windows(self):
        """(name, seconds, limit, writes only) of every limit that is on."""
        table = [
            ("per_100ms", 0.1, self.per_100ms, False),
            ("per_minute", 60, self.per_minute, False),
            ("per_hour", 3600, self.per_hour, False),
            ("per_day", 86400, self.per_day, False),
            ("writes_per_minute", 60, self.writes_per_minute, True),
            ("writes_per_day", 86400, self.writes_per_day, True),
        ]
        return [row for row in table if row[2] is not None]


class RateLimiter:
    """Sliding windows per account; not thread-safe on its own (the simulator calls it under its lock)."""

    def __init__(self, limits=None):
        self.limits = limits or NexudusLimits()
        self._times = {}  # (account, window name) -> deque of accepted request times, oldest first

    def check(self, account, is_write, now):
        """Seconds to wait (a float > 0) if this request must be refused, else None after counting it."""
        windows = [w for w in self.limits.windows() if is_write or not w[3]]
        wait = 0.0
        for name, seconds, limit, _writes in windows:
            times = self._times.setdefault((account, name), deque())
            while times and times[0] <= now - seconds:
                times.popleft()
            if limit < 1:
                wait = max(wait, seconds)
            elif len(times) >= limit:
                # Room comes back when the request ``limit`` places before the newest leaves the window.
                wait = max(wait, times[len(times) - limit] + seconds - now)
        if wait > 0:
            return wait
        for name, _seconds, _limit, _writes in windows:
            self._times[(account, name)].append(now)
        return None

    def reset(self):
        self._times.clear()


def retry_after(wait):
    """``wait`` seconds as a ``Retry-After`` value: whole seconds, rounded up, at least 1."""
    return max(1, math.ceil(wait))
