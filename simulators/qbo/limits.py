"""Intuit's throttles on the Accounting API, per realm, enforced by default (research §3.8, §3.3).

* 500 requests per minute per realm, batch requests included: every call under ``/v3/company/{realmId}/``
  counts once, whatever its answer (a 401 or a 404 too); Intuit's OAuth endpoints (token, revoke, discovery),
  the overview page and its ``/sim/...`` buttons are other services and are not counted.
* At most 10 requests of a realm in flight at once (B-THR16 says per app and realm; the simulator serves one
  app, so per realm). A request is in flight from its admission until its handler returns.
* ``POST /v3/company/{realmId}/batch``: at most 40 per minute per realm, besides the 500. Its 30 items per batch
  are checked by the batch endpoint (:mod:`simulators.qbo.batch`), a 400 fault, not a throttle.

Windows slide: a request is refused when the limit's count of requests admitted in the 60 seconds before
``now()`` (the simulator's clock, which honours ``clock_offset``) is already reached; admission times are
kept exactly. Moving ``clock_offset`` forward ages them; moving it back forgets those later than the new now.
A refused request is neither run nor counted and gets HTTP 429 with the gateway's lower-case envelope and
the message of research §3.8 (``message=ThrottleExceeded; errorCode=003001; statusCode=429``).
The detail, ``The request limit was reached.  Try again later``, is the one QBO sent in a public report
(python-quickbooks issue #83); QBO's wording for the concurrency and batch limits is not known, so the
simulator sends the same body for all three.

``Retry-After`` is not documented by Intuit (research §6.11): ``sim.retry_after_header`` (False by default)
adds it, in whole seconds until the window would admit the request (1 for the concurrency limit).

Limits are a :class:`QboLimits`; ``None`` lifts one. ``QboLimits.unlimited()`` lifts them all, for tests
that are about something else and must send more than Intuit allows (say why where it is used).

For tests and benchmarks: ``throttled_count`` and ``throttled`` (realm and limit of every 429),
``requests_per_realm`` and ``batches_per_realm`` (admitted requests), ``admissions`` (realm, time and
whether a batch, of each), ``batch_count``; ``hold_requests()`` keeps
admitted requests in flight until ``release_requests()`` and ``wait_in_flight(n)`` waits until n are, so a
concurrency test needs no timing; ``QboSimulator(clock=...)`` takes a frozen clock for exact windows.
"""

import math
import re
import threading
from collections import Counter, defaultdict, deque
from dataclasses import dataclass

WINDOW = 60.0  # seconds
API_PATH = re.compile(r"/v3/company/(?P<realm>[^/]+)(?P<rest>/.*)?")
BATCH_REST = re.compile(r"/batch/?")
HOLD_TIMEOUT = 30.0  # a held request gives up waiting after this long, so a failing test cannot hang the server
THROTTLE_MESSAGE = "message=ThrottleExceeded; errorCode=003001; statusCode=429"
THROTTLE_DETAIL = "The request limit was reached.  Try again later"


@dataclass(frozen=True)
class QboLimits:
    """Intuit's documented limits per realm; ``None`` lifts one."""

    per_minute: int | None = 500  # requests per minute, batch requests included (B-THR16)
    concurrent: int | None = 10  # requests in flight at once (B-THR16)
    batch_per_minute: int | None = 40  # batch requests per minute (BATCH)
    batch_items: int | None = 30  # items in one batch request (BATCH)

    @classmethod
    def unlimited(cls):
        return cls(per_minute=None, concurrent=None, batch_per_minute=None, batch_items=None)


def retry_after(times, limit, now):
    """Whole seconds until a window holding ``times`` (oldest first) admits one more under ``limit``."""
    if limit <= 0 or not times:  # a limit of nothing (a test's): a whole window
        return math.ceil(WINDOW)
    frees_at = times[len(times) - limit] + WINDOW
    return max(1, math.ceil(frees_at - now))


class ThrottleMixin:
    """Admission control in front of the router; the simulator provides ``now`` and ``gateway_fault``."""

    def init_throttle(self, limits):
        self.limits = limits or QboLimits()
        self.retry_after_header = False  # Retry-After on a 429 is not documented by Intuit (research §6.11)
        self.throttled_count = 0  # requests answered 429
        self.throttled = []  # (realm, "per_minute" | "concurrent" | "batch_per_minute") of every 429, in order
        self.requests_per_realm = Counter()  # admitted accounting API requests, batch ones included
        self.batches_per_realm = Counter()  # admitted batch requests
        self.admissions = []  # (realm, now(), batch) of every admitted request, in order
        self._admitted = defaultdict(deque)  # realm -> admission times within the window, oldest first
        self._admitted_batches = defaultdict(deque)
        self._in_flight = Counter()
        self._throttle = threading.Condition()  # guards the above; never held while a request runs
        self._gate = None

    @property
    def batch_count(self):
        """Batch requests admitted, all realms."""
        return sum(self.batches_per_realm.values())

    # -- test hooks ------------------------------------------------------------------------------------------
    def hold_requests(self):
        """Make admitted accounting API requests wait, in flight, until :meth:`release_requests` (for tests)."""
        with self._throttle:
            self._gate = threading.Event()

    def release_requests(self):
        with self._throttle:
            gate, self._gate = self._gate, None
        if gate is not None:
            gate.set()

    def in_flight(self, realm=None):
        """Requests of ``realm`` (every realm when None) admitted and not yet answered."""
        with self._throttle:
            return self._in_flight[realm] if realm is not None else sum(self._in_flight.values())

    def wait_in_flight(self, count, realm=None, timeout=5.0):
        """Wait until at least ``count`` requests are in flight; returns whether they are."""
        with self._throttle:
            return self._throttle.wait_for(lambda: self._count_in_flight(realm) >= count, timeout)

    def _count_in_flight(self, realm):
        return self._in_flight[realm] if realm is not None else sum(self._in_flight.values())

    # -- admission -------------------------------------------------------------------------------------------
    def dispatch(self, request):
        match = API_PATH.fullmatch(request.path)
        if match is None:
            return super().dispatch(request)
        realm = match["realm"]
        batch = request.method == "POST" and BATCH_REST.fullmatch(match["rest"] or "") is not None
        refusal = self._admit(realm, batch)
        if refusal is not None:
            return refusal
        try:
            gate = self._gate
            if gate is not None:
                gate.wait(HOLD_TIMEOUT)
            return super().dispatch(request)
        finally:
            with self._throttle:
                self._in_flight[realm] -= 1
                self._throttle.notify_all()

    def _admit(self, realm, batch):
        """Count the request in, or return the 429 answer refusing it (nothing counted)."""
        limits = self.limits
        with self._throttle:
            now = self.now()
            recent = self._prune(self._admitted[realm], now)
            recent_batches = self._prune(self._admitted_batches[realm], now)
            refusal = None
            if limits.concurrent is not None and self._in_flight[realm] >= limits.concurrent:
                refusal = ("concurrent", 1)
            elif limits.per_minute is not None and len(recent) >= limits.per_minute:
                refusal = ("per_minute", retry_after(recent, limits.per_minute, now))
            elif batch and limits.batch_per_minute is not None and len(recent_batches) >= limits.batch_per_minute:
                refusal = ("batch_per_minute", retry_after(recent_batches, limits.batch_per_minute, now))
            if refusal is not None:
                self.throttled_count += 1
                self.throttled.append((realm, refusal[0]))
                return self._throttle_fault(refusal[1])
            recent.append(now)
            self.requests_per_realm[realm] += 1
            self.admissions.append((realm, now, batch))
            if batch:
                recent_batches.append(now)
                self.batches_per_realm[realm] += 1
            self._in_flight[realm] += 1
            self._throttle.notify_all()
        return None

    @staticmethod
    def _prune(times, now):
        """``times`` cut to the window ending at ``now``; admissions "after" a clock moved back are forgotten."""
        while times and times[-1] > now:
            times.pop()
        while times and times[0] <= now - WINDOW:
            times.popleft()
        return times

    def _throttle_fault(self, seconds):
        response = self.gateway_fault(429, THROTTLE_MESSAGE, "3001", THROTTLE_DETAIL, "SERVICE")
        if self.retry_after_header:
            response.headers["Retry-After"] = str(seconds)
        return response
