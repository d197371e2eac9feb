"""Typed errors raised by the API clients, so callers decide what to do by kind, not by parsing text."""


class ApiError(Exception):
    """An API call failed. ``service`` is "Nexudus" or "QuickBooks"; ``status`` the HTTP status if any."""

    retryable = False

    def __init__(self, message, *, service, status=None, code=None, detail=None):
        super().__init__(message)
        self.message = message
        self.service = service
        self.status = status
        self.code = code
        self.detail = detail

    def __str__(self):
        return self.describe(self.message)

    def describe(self, message):
        """The error as a person reads it, around ``message`` (the message itself, or its translation)."""
        text = f"{self.service}: {message}"
        if self.code:
            text += f" (code {self.code})"
        if self.detail and self.detail not in self.message:
            text += f" – {self.detail}"
        return text


class AuthError(ApiError):
    """Credentials or tokens were refused: someone has to sign in again or fix the credentials."""


class InvalidGrantError(AuthError):
    """The OAuth refresh token or authorisation code is no longer valid: the connection must be redone."""


class ThrottledError(ApiError):
    """The service asks to wait ``retry_after`` seconds before calling again; ``local`` when no request
    was sent because the shared budget said so."""

    retryable = True

    def __init__(self, message, *, retry_after=None, local=False, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after
        self.local = local
        self.limiter = None  # the budget of the service account that answered, when it did


class TransientError(ApiError):
    """A network failure, timeout or 5xx: the same call may succeed later."""

    retryable = True


class NotFoundError(ApiError):
    """The record asked for does not exist (or is no longer active)."""


class RejectedError(ApiError):
    """The service refused the data; ``code`` and ``detail`` say why."""


# The error policy of a transfer, the same for every row, single or in a batch.
THROTTLED = "throttled"  # the service asks to wait: stop, keep what is done, come back when it says
RETRYABLE = "retryable"  # not the row's fault (down, no answer): leave it as it is for the next run
REFUSED = "refused"  # the row's data or settings: it fails, saying why and what to do


def policy(exc):
    """``THROTTLED``, ``RETRYABLE`` or ``REFUSED``: what a transfer does about ``exc``."""
    if isinstance(exc, ThrottledError):
        return THROTTLED
    if isinstance(exc, TransientError):
        return RETRYABLE
    return REFUSED
