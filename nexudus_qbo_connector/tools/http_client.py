"""The one HTTP funnel both API clients go through: timeouts, bounded retries, typed errors, redacted logs.

Throttle policy, the same for every call of either service: before each request the client takes a
slot from its ``limiter`` (the service account's shared budget, kept in the database by the addon),
which paces requests under the documented limits or, when the budget or the service says to wait,
refuses with :class:`ThrottledError` before anything is sent. A throttled answer (409/429) is reported
to the limiter, so that no worker calls that service until the wait is over. A throttled or transient
(5xx, network) answer is retried at most ``retries`` times, and only while the wait stays under
``max_wait`` seconds; a longer wait is not slept away in a worker: :class:`ThrottledError` carries
``retry_after`` so the caller can reschedule its scheduled action instead.
"""

import json
import re
import time
from decimal import Decimal

import requests

from . import rate_limits
from .errors import AuthError, NotFoundError, RejectedError, ThrottledError, TransientError
from .redaction import get_logger, redact
from .texts import _lt

_logger = get_logger(__name__)

THROTTLE_MARGIN = 0.05
_WAIT_IN_TEXT = re.compile(r"(?i)wait\s+(\d+)\s+seconds?")


class Limiter:
    """No budget at all; the addon gives each client its service account's shared budget instead."""

    def acquire(self, kind):
        """Wait (briefly) for a slot for one ``kind`` request, or raise ThrottledError without calling."""

    def throttled(self, seconds, again=False):
        """The service asked to wait ``seconds``: no request to it until then (``again``: the same answer
        recorded a second time, not counted twice)."""


class ApiClient:
    """Base of the Nexudus and QuickBooks clients. Subclasses set ``service`` and parse their errors."""

    service = "API"
    timeout = 30
    retries = 2
    max_wait = 5.0
    throttle_statuses = (429,)
    default_throttle_wait = 60.0  # when a throttled answer does not say how long: a whole rate window

    def __init__(self, base_url, *, session=None, sleep=time.sleep, limiter=None):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self._sleep = sleep
        self.limiter = limiter or Limiter()

    # -- hooks -----------------------------------------------------------------------------------
    def _auth_headers(self):
        return {}

    def _error_from_response(self, response):
        """Return the typed error for a failed response (subclasses read their service's error body)."""
        status = response.status_code
        message = _short_text(response)
        if status in (401, 403):
            return AuthError(message, service=self.service, status=status)
        if status == 404:
            return NotFoundError(message, service=self.service, status=status)
        if status >= 500:
            return TransientError(message, service=self.service, status=status)
        return RejectedError(message, service=self.service, status=status)

    # -- the funnel ------------------------------------------------------------------------------
    def request(
        self, method, path, *, params=None, data=None, json=None, headers=None, auth=None, url=None, idempotent=True
    ):
        """Send one request and return the ``requests.Response`` of a 2xx answer, or raise an ApiError.

        A request that is not ``idempotent`` (a write the service cannot recognise when it comes again) is
        not retried after a transient failure: it may have been done without its answer reaching us, and
        only the caller can look that up. A throttled answer is retried: the request was refused unprocessed."""
        target = url or f"{self.base_url}{path}"
        all_headers = {"Accept": "application/json", **self._auth_headers(), **(headers or {})}
        kind = rate_limits.request_kind(method, target)
        attempt = 0
        while True:
            attempt += 1
            self.limiter.acquire(kind)
            try:
                response = self.session.request(
                    method,
                    target,
                    params=params,
                    data=data,
                    json=json,
                    headers=all_headers,
                    auth=auth,
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                error = TransientError(
                    _lt("no answer from %(service)s (%(error)s)", service=self.service, error=type(exc).__name__),
                    service=self.service,
                )
                wait = 1.0
            else:
                _logger.debug("%s %s %s -> %s", self.service, method, redact(response.url), response.status_code)
                if response.ok:
                    return response
                error = self._error_from_response(response)
                wait = 1.0
                if isinstance(error, ThrottledError):
                    wait = error.retry_after = _retry_after(response) or self.default_throttle_wait
                    error.limiter = self.limiter
                    self.limiter.throttled(wait)
            unanswered = not idempotent and isinstance(error, TransientError)
            if not error.retryable or unanswered or attempt > self.retries or wait > self.max_wait:
                _logger.info("%s %s %s failed: %s", self.service, method, redact(target), redact(str(error)))
                raise error
            # After a throttle, just past the wait recorded on the budget, which the next slot checks.
            self._sleep(wait + THROTTLE_MARGIN if isinstance(error, ThrottledError) else wait)


def _retry_after(response):
    """Seconds to wait: the ``Retry-After`` header, else "Wait N seconds" in the body, else None."""
    header = response.headers.get("Retry-After")
    if header and header.strip().isdigit():
        return max(float(header.strip()), 1.0)
    match = _WAIT_IN_TEXT.search(response.text or "")
    return max(float(match.group(1)), 1.0) if match else None


def _short_text(response):
    text = (response.text or "").strip()
    return text[:300] or f"HTTP {response.status_code}"


def wire_json(body):
    """``body`` as JSON with its Decimals written as plain numbers, digit for digit.

    Amounts here have at most 15 significant digits, which a float's shortest repr gives back exactly;
    anything that would not survive that is refused rather than rounded.
    """

    def number(value):
        if not isinstance(value, Decimal):
            raise TypeError(f"{type(value).__name__} is not JSON serializable")
        as_float = float(value)
        if Decimal(repr(as_float)) != value:
            raise ValueError(f"{value} cannot be sent exactly as a JSON number")
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else as_float

    return json.dumps(body, default=number, ensure_ascii=False)
