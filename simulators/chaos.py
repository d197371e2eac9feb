"""Seeded fault injection over both simulators: a :class:`FaultPlan` decides, from its seed alone, which requests
fail and how, and :meth:`FaultPlan.serve` applies the decision (the one hook, in :mod:`simulators.httpbase`)::

    plan = FaultPlan(seed=3)
    nexudus.fault_plan = qbo.fault_plan = plan
    plan.active = True          # after the set-up: only the runs under test meet faults

Every fault is something the research documents or any HTTP service does:

* ``burst_5xx``: this request and the next few of the same service answer 500, 502 or 503 before anything is
  done (QuickBooks' ``SystemFault`` body for 500/503, a gateway's text for 502; Nexudus's
  ``{"Message": "An error has occurred."}``). Token endpoints meet these too.
* ``lost_after_commit`` (writes): the write is done (QuickBooks keeps its request-id answer), then the connection
  is closed without an answer, or a gateway answers 502.
* ``timeout_after_commit`` (writes): the write is done, then the answer waits past the client's timeout
  (``client_timeout``) and the connection is closed.
* ``token_expired`` (calls with a bearer token issued at least ``min_token_age`` seconds ago): the access token
  expires now, so the simulator itself answers its 401 (QuickBooks' gateway ``AuthenticationFailed`` 3200,
  Nexudus's "Authorization has been denied"); the client then refreshes, and QuickBooks rotates the refresh
  token, Nexudus invalidates the previous one.
* ``throttle``: QuickBooks' gateway 429 ``ThrottleExceeded`` (as its limits answer), Nexudus's documented 409 with
  ``Retry-After`` (or its 429 "Wait N seconds" when the simulator is in that mode); waits of 1–8 seconds, so some
  are retried by the client and others pause the run.

The Odoo side asks the plan too, for the faults that are not the services': :meth:`crash` (the worker dies after
a call was answered and before its result is committed) and :meth:`second_worker` (a second run at the same time).

A decision is a hash of (seed, service, the request as sent without its credentials, how many times that request
was seen), not of arrival order, so that threads interleaving differently change little; a burst then takes the
next requests of that service, whichever they are. ``injected`` counts what was injected, by kind.
"""

import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http import HTTPStatus

from simulators.httpbase import Response
from simulators.qbo.oauth import ACCESS_TTL

KINDS = ("burst_5xx", "lost_after_commit", "timeout_after_commit", "token_expired", "throttle")
QBO_TOKEN_PATH = "/oauth2/v1/tokens/bearer"
NEXUDUS_TOKEN_PATH = "/api/token"
NEXUDUS_ERROR = "An error has occurred."
NEXUDUS_THROTTLED = "You must wait before accessing this url again."
BAD_GATEWAY = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
SYSTEM_FAILURE = (
    "System Failure Error: An unexpected error occurred while accessing or saving your data. "
    "Please wait a few minutes and try again. If the problem persists, contact customer support."
)


@dataclass(frozen=True)
class FaultRates:
    """Probability per request of each fault (writes only for the two ``*_after_commit``), and per decision
    point for the Odoo-side ``crash`` and ``second_worker``."""

    burst_5xx: float = 0.02
    lost_after_commit: float = 0.06
    timeout_after_commit: float = 0.02
    token_expired: float = 0.02
    throttle: float = 0.03
    crash: float = 0.05
    second_worker: float = 0.5

    @classmethod
    def none(cls):
        return cls(**dict.fromkeys(cls.__dataclass_fields__, 0.0))


class FaultPlan:
    """Which requests fail and how, decided from ``seed``; inactive until ``active`` is set."""

    def __init__(self, seed, rates=None, *, client_timeout=2.0, burst=(2, 4), retry_after=(1, 8), min_token_age=10.0):
        self.seed = seed
        self.min_token_age = min_token_age
        self.rates = rates or FaultRates()
        self.client_timeout = client_timeout
        self.burst = burst
        self.retry_after = retry_after
        self.active = False
        self.injected = Counter()  # kind (crash and second_worker included): how many times
        self.log = []  # (service, kind, method, path) of every fault injected, in order
        self._seen = Counter()
        self._bursts = Counter()  # service: requests still to fail in the current burst
        self._lock = threading.Lock()

    # -- deciding ---------------------------------------------------------------------------------------
    def _draws(self, *key):
        """Two numbers in [0, 1) for the next occurrence of ``key``."""
        with self._lock:
            self._seen[key] += 1
            occurrence = self._seen[key]
        digest = hashlib.sha256(repr((self.seed, occurrence, *key)).encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64, int.from_bytes(digest[8:16], "big") / 2**64

    def decide(self, service, request):
        """(kind, parameter draw) for this request, or (None, None)."""
        write = request.method in ("POST", "PUT", "DELETE") and not _is_token_path(request.path)
        with self._lock:
            if self._bursts[service]:
                self._bursts[service] -= 1
                return "burst_5xx", 0.5
        draw, parameter = self._draws(service, request.method, request.path, tuple(sorted(request.params.items())),
                                      request.body)  # fmt: skip
        bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
        eligible = {
            "burst_5xx": True,
            "lost_after_commit": write,
            "timeout_after_commit": write,
            "token_expired": bearer,
            "throttle": not _is_token_path(request.path) or service == "nexudus",
        }
        for kind in KINDS:
            rate = getattr(self.rates, kind) if eligible[kind] else 0.0
            if draw < rate:
                if kind == "burst_5xx":
                    low, high = self.burst
                    with self._lock:
                        self._bursts[service] = low - 1 + int(parameter * (high - low + 1))
                return kind, parameter
            draw -= rate
        return None, None

    def crash(self, *point):
        """Whether the Odoo worker dies at ``point`` (e.g. ``("invoice", 12)``), after its call was answered."""
        return self._odoo_side("crash", point)

    def second_worker(self, run):
        """Whether a second worker runs alongside scheduled run number ``run``."""
        return self._odoo_side("second_worker", ("run", run))

    def _odoo_side(self, kind, point):
        if not self.active:
            return False
        if self._draws(kind, *point)[0] < getattr(self.rates, kind):
            self._note("odoo", kind, "", repr(point))
            return True
        return False

    def _note(self, service, kind, method, path):
        with self._lock:
            self.injected[kind] += 1
            self.log.append((service, kind, method, path))

    # -- applying (the simulators' hook) ----------------------------------------------------------------
    def serve(self, server, request, dispatch):
        """Answer ``request`` through ``dispatch`` with the fault the plan decides; None drops the connection."""
        service = _service(server, request)
        if not self.active or service is None:
            return dispatch(request)
        kind, parameter = self.decide(service, request)
        if kind is None or (kind == "token_expired" and not _expire_bearer(server, request, self.min_token_age)):
            return dispatch(request)
        self._note(service, kind, request.method, request.path)
        if kind == "burst_5xx":
            return _server_error(service, server, request, (500, 502, 503)[int(parameter * 3)])
        if kind == "throttle":
            low, high = self.retry_after
            return _throttled(service, server, low + int(parameter * (high - low + 1)))
        if kind == "token_expired":
            return dispatch(request)
        response = dispatch(request)
        if response is None or not 200 <= response.status < 300:
            return response  # nothing was committed: the fault is moot, the answer goes out
        if kind == "timeout_after_commit":
            time.sleep(self.client_timeout + 0.5)
            return None
        return None if parameter < 0.5 else Response(502, BAD_GATEWAY)

    def summary(self):
        return ", ".join(f"{kind} {count}" for kind, count in sorted(self.injected.items())) or "none"


def _is_token_path(path):
    return path.rstrip("/") in (QBO_TOKEN_PATH, NEXUDUS_TOKEN_PATH)


def _service(server, request):
    """ "qbo" or "nexudus" for the services' API and token calls; None for the rest (pages, consent, /sim/)."""
    if hasattr(server, "company") and (request.path.startswith("/v3/") or _is_token_path(request.path)):
        return "qbo"
    if hasattr(server, "data") and request.path.startswith("/api/"):
        return "nexudus"
    return None


def _server_error(service, server, request, status):
    if status == 502:
        return Response(502, BAD_GATEWAY)
    if _is_token_path(request.path):  # an OAuth endpoint that is down answers a page, not JSON
        phrase = HTTPStatus(status).phrase
        return Response(status, f"<html><body><h1>{status} {phrase}</h1></body></html>")
    if service == "qbo":
        return server.fault("10000", "An application error has occurred while processing your request",
                            SYSTEM_FAILURE, status=status, type="SystemFault")  # fmt: skip
    return Response(status, {"Message": NEXUDUS_ERROR})


def _throttled(service, server, seconds):
    if service == "qbo":
        return server._throttle_fault(seconds)
    if server.throttle_status == 429:
        headers = {"Retry-After": str(seconds)} if server.retry_after_on_429 else {}
        return Response(429, {"Message": f"Too many requests. Wait {seconds} seconds."}, headers)
    return Response(409, {"Message": NEXUDUS_THROTTLED}, {"Retry-After": str(seconds)})


def _expire_bearer(server, request, min_age):
    """Make the request's access token expire now, in the simulator's own token table, unless it was issued less
    than ``min_age`` seconds ago (a token an hour or a week long does not expire as it is issued); returns whether
    it expired."""
    value = request.headers.get("authorization", "")[7:].strip()
    now = server.now()
    with server.lock:
        token = server.access_tokens.get(value)
        if isinstance(token, tuple):  # Nexudus: (user id, expires at)
            if token[1] - server.access_token_ttl > now - min_age:
                return False
            server.access_tokens[value] = (token[0], now - 1)
        elif token is not None:  # QuickBooks: an AccessToken
            if token.expires_at - ACCESS_TTL > now - min_age:
                return False
            token.expires_at = now - 1
        return token is not None
