"""Client of the Nexudus admin REST API (https://spaces.nexudus.com/api/...).

Facts it relies on (see the project's research notes): bearer tokens from ``POST /api/token`` with a
form-encoded password or refresh grant (``totp`` for 2FA users, a ``client_id`` header on refresh);
lists paged with ``page``/``size`` in a ``Records`` envelope; 409 (or 429 "Wait N seconds") when
throttled; write answers carrying ``WasSuccessful``.
"""

import time

from .errors import AuthError, InvalidGrantError, NotFoundError, RejectedError, ThrottledError, TransientError
from .http_client import ApiClient, wire_json
from .texts import _lt

DEFAULT_URL = "https://spaces.nexudus.com"

# Entity name -> path under /api. Coworkers live under /api/spaces (the auth page's /api/sys is a typo).
ENTITIES = {
    "businesses": "sys/businesses",
    "taxrates": "sys/taxrates",
    "coworkers": "spaces/coworkers",
    "coworkerinvoices": "billing/coworkerinvoices",
    "coworkerinvoicelines": "billing/coworkerinvoicelines",
    "coworkerledgerentries": "billing/coworkerledgerentries",
    "financialaccounts": "billing/financialaccounts",
    "webhooks": "sys/webhooks",
}
MAX_PAGE_SIZE = 1000
JSON = {"Content-Type": "application/json"}
TOKEN_MARGIN = 300  # refresh an access token this many seconds before it expires


class NexudusClient(ApiClient):
    """Signs in, keeps its bearer token fresh and reads entities page by page.

    ``on_tokens(tokens)`` is called with every new token set (``access_token``, ``refresh_token``,
    ``expires_at`` as a POSIX time) so the caller can store it: Nexudus invalidates a refresh token as
    soon as it issues the next one.
    """

    service = "Nexudus"
    throttle_statuses = (409, 429)

    def __init__(
        self,
        base_url=DEFAULT_URL,
        *,
        email,
        password=None,
        access_token=None,
        refresh_token=None,
        expires_at=None,
        on_tokens=None,
        clock=time.time,
        **kw,
    ):
        super().__init__(base_url, **kw)
        self.email = email
        self.password = password
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.expires_at = expires_at
        self.on_tokens = on_tokens
        self._clock = clock
        self._token_issued_here = False  # a 401 on a token this client was just given is a permission problem

    # -- authentication --------------------------------------------------------------------------
    def sign_in(self, totp=None):
        """Exchange email and password (and a 2FA code when the account needs one) for tokens."""
        form = {"grant_type": "password", "username": self.email, "password": self.password or ""}
        if totp:
            form["totp"] = totp
        return self._token_call(form, headers={})

    def refresh(self):
        """Swap the refresh token for a new token set; the previous refresh token stops working."""
        if not self.refresh_token:
            raise AuthError(_lt("no refresh token: sign in to Nexudus again"), service=self.service)
        form = {"grant_type": "refresh_token", "refresh_token": self.refresh_token}
        return self._token_call(form, headers={"client_id": self.email})

    def ensure_token(self):
        """Make sure a usable access token is at hand, refreshing or signing in as needed."""
        if self.access_token and (self.expires_at is None or self.expires_at - TOKEN_MARGIN > self._clock()):
            return
        if self.refresh_token:
            try:
                self.refresh()
                return
            except InvalidGrantError:
                if not self.password:
                    raise
        self.sign_in()

    def _token_call(self, form, headers):
        try:
            response = self.request("POST", "/api/token", data=form, headers=headers)
        except RejectedError as exc:
            raise _token_error(exc) from exc
        payload = response.json()
        self.access_token = payload["access_token"]
        self.refresh_token = payload.get("refresh_token") or self.refresh_token
        self.expires_at = self._clock() + int(payload.get("expires_in") or 0)
        self._token_issued_here = True
        tokens = {"access_token": self.access_token, "refresh_token": self.refresh_token, "expires_at": self.expires_at}
        if self.on_tokens:
            self.on_tokens(tokens)
        return tokens

    def _auth_headers(self):
        return {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}

    # -- reading ---------------------------------------------------------------------------------
    def get(self, entity, record_id):
        """One full record (lists return partial records: collections are only on a single GET)."""
        return self._api("GET", f"/api/{ENTITIES[entity]}/{int(record_id)}").json()

    def list(self, entity, filters=None, *, order_by="Id", size=MAX_PAGE_SIZE):
        """Yield every record of ``entity`` matching ``filters`` (``{"CoworkerInvoice_Business": 12}``,
        ``{"from_CoworkerInvoice_UpdatedOn": "2026-01-01T00:00"}``), reading page after page.

        The loop stops on ``page >= TotalPages`` and also when a page comes back empty, whichever the
        service honours; ``HasNextPage`` alone once made a client re-read page 1 forever.
        """
        page = 1
        while True:
            params = {**(filters or {}), "page": page, "size": size, "orderBy": order_by}
            envelope = self._api("GET", f"/api/{ENTITIES[entity]}", params=params).json()
            records = envelope.get("Records") or []
            yield from records
            total_pages = int(envelope.get("TotalPages") or 0)
            if not records or page >= total_pages:
                return
            page += 1

    def page(self, entity, filters=None, *, order_by="Id", size=MAX_PAGE_SIZE, page=1):
        """One page of ``entity`` records, for callers that page by a moving key (see ``list``)."""
        params = {**(filters or {}), "page": page, "size": size, "orderBy": order_by}
        return self._api("GET", f"/api/{ENTITIES[entity]}", params=params).json().get("Records") or []

    def enum(self, name):
        """The values of a Nexudus enumeration (``eWebhookAction`` …) as ``{Name: Id}``."""
        values = self._api("GET", "/api/utils/enums", params={"name": name}).json() or []
        return {value["Name"]: value["Id"] for value in values}

    # -- writing ---------------------------------------------------------------------------------
    def add(self, entity, record):
        """Create one record; returns its new Id. Nexudus wraps write answers: ``WasSuccessful`` false
        means refused, whatever the HTTP status said."""
        body = self._api(
            "POST", f"/api/{ENTITIES[entity]}", data=wire_json(record), headers=JSON, idempotent=False
        ).json()
        self._check_written(body)
        return (body.get("Value") or {}).get("Id")

    def update(self, entity, record):
        """Replace a record (PUT): send the full record read with :meth:`get`, changed (list records are partial)."""
        path = f"/api/{ENTITIES[entity]}/{int(record['Id'])}"
        body = self._api("PUT", path, data=wire_json(record), headers=JSON, idempotent=False).json()
        self._check_written(body)

    def run_command(self, entity, key, ids, parameters=()):
        """Run a Nexudus command (``PAY_COWORKER_INVOICE_MANUAL`` …) on ``ids``; HTTP 200 can still be a refusal."""
        payload = {"Key": key, "Ids": list(ids), "Parameters": list(parameters)}
        body = self._api(
            "POST", f"/api/{ENTITIES[entity]}/runcommand", data=wire_json(payload), headers=JSON, idempotent=False
        ).json()
        self._check_written(body)
        return body

    def _check_written(self, body):
        if isinstance(body, dict) and body.get("WasSuccessful") is False:
            errors = body.get("Errors") or []
            detail = "; ".join(f"{e.get('PropertyName')}: {e.get('Message')}" for e in errors) or None
            raise RejectedError(
                body.get("Message") or _lt("Nexudus refused the change."),
                service=self.service,
                status=200,
                detail=detail,
            )

    def _api(self, method, path, **kw):
        self.ensure_token()
        try:
            return self.request(method, path, **kw)
        except AuthError:
            if self._token_issued_here:  # not a stale token: another sign-in would be refused the same way
                raise
            # A stored access token revoked or expired early: one fresh sign-in, then give up loudly.
            self.access_token = None
            self.ensure_token()
            return self.request(method, path, **kw)

    # -- errors ----------------------------------------------------------------------------------
    def _error_from_response(self, response):
        status = response.status_code
        body = _json_or_none(response)
        message = _nexudus_message(body) or (response.text or "").strip()[:300] or f"HTTP {status}"
        kw = {"service": self.service, "status": status}
        if status in self.throttle_statuses:
            return ThrottledError(_lt("Nexudus asks to wait before calling again: %(message)s", message=message), **kw)
        if status == 401:
            return AuthError(
                _lt(
                    "Nexudus refused the credentials or the user lacks permission. Check the email and password, "
                    "and that the user has 'API access' ticked in Nexudus (Settings › Users)."
                ),
                **kw,
            )
        if status == 404:
            return NotFoundError(message, **kw)
        if status >= 500:
            return TransientError(message, **kw)
        errors = (body or {}).get("Errors") if isinstance(body, dict) else None
        detail = "; ".join(f"{e.get('PropertyName')}: {e.get('Message')}" for e in errors or [])
        code = body.get("error") if isinstance(body, dict) else None
        return RejectedError(message, code=code, detail=detail or None, **kw)


def _json_or_none(response):
    try:
        return response.json()
    except ValueError:
        return None


def _nexudus_message(body):
    if not isinstance(body, dict):
        return None
    return body.get("error_description") or body.get("Message") or body.get("error")


def _token_error(exc):
    """Turn a refused token request into the error a person can act on; ``detail`` keeps Nexudus's own words."""
    code = exc.code or ""
    kw = {"service": exc.service, "status": exc.status, "code": code, "detail": exc.message}
    if code == "two_factor_auth_check":
        return AuthError(
            _lt(
                "This Nexudus account uses two-factor sign-in: sign in again with its current code (Test connection "
                "in the connector's settings)."
            ),
            **kw,
        )
    if code == "unsupported_grant_type":
        return RejectedError(_lt("Nexudus refused the token request format."), **kw)
    if code == "invalid_grant" or "refresh" in (exc.message or "").lower():
        return InvalidGrantError(_lt("Nexudus refused the sign-in: %(said)s", said=exc.message), **kw)
    return AuthError(_lt("Nexudus refused the sign-in: %(said)s", said=exc.message), **kw)
