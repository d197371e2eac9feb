"""The one HTTP funnel both API clients go through: timeouts, bounded retries, typed errors, redacted logs.

Retry policy: a throttled (409/429) or transient (5xx, network) answer is retried at most ``retries``
times, and only while the wait the service asks for stays under ``max_wait`` seconds. A longer wait is
not slept away in a worker: :class:`ThrottledError` carries ``retry_after`` so the caller can reschedule
its scheduled action instead.
"""

import json
import re
import time
from decimal import Decimal

import requests

from .errors import AuthError, NotFoundError, RejectedError, ThrottledError, TransientError
from .redaction import get_logger, redact

_logger = get_logger(__name__)

_WAIT_IN_TEXT = re.compile(r"(?i)wait\s+(\d+)\s+seconds?")


class ApiClient:
    """Base of the Nexudus and QuickBooks clients. Subclasses set ``service`` and parse their errors."""

    service = "API"
    timeout = 30
    retries = 2
    max_wait = 5.0
    throttle_statuses = (429,)

    def __init__(self, base_url, *, session=None, sleep=time.sleep):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self._sleep = sleep

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
    def request(self, method, path, *, params=None, data=None, json=None, headers=None, auth=None, url=None):
        """Send one request and return the ``requests.Response`` of a 2xx answer, or raise an ApiError."""
        target = url or f"{self.base_url}{path}"
        all_headers = {"Accept": "application/json", **self._auth_headers(), **(headers or {})}
        attempt = 0
        while True:
            attempt += 1
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
                error = TransientError(f"no answer from {self.service} ({type(exc).__name__})", service=self.service)
                wait = 1.0
            else:
                _logger.debug("%s %s %s -> %s", self.service, method, redact(response.url), response.status_code)
                if response.ok:
                    return response
                error = self._error_from_response(response)
                wait = _retry_after(response) if isinstance(error, ThrottledError) else 1.0
                if isinstance(error, ThrottledError):
                    error.retry_after = wait
            if not error.retryable or attempt > self.retries or wait > self.max_wait:
                _logger.info("%s %s %s failed: %s", self.service, method, redact(target), redact(str(error)))
                raise error
            self._sleep(wait)


def _retry_after(response):
    """Seconds to wait: the ``Retry-After`` header, else "Wait N seconds" in the body, else 1."""
    header = response.headers.get("Retry-After")
    if header and header.strip().isdigit():
        return float(header.strip())
    match = _WAIT_IN_TEXT.search(response.text or "")
    return float(match.group(1)) if match else 1.0


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
