"""Clients of Intuit's OAuth 2.0 service and of the QuickBooks Online Accounting API v3.

Facts relied on (project research notes): access tokens last an hour and refresh tokens rotate, so
every token response is handed to ``on_tokens`` to be stored at once; ``invalid_grant`` means only a
new authorisation helps; queries return at most 1,000 rows a page (100 when MAXRESULTS is not given);
``minorversion=75`` is sent on every call; errors come in a ``Fault`` envelope, or a lower-case
``fault`` one from the gateway. Answers are parsed with Decimal numbers (python-quickbooks' ``use_decimal``),
so money read back is exact; the ``…_document(s)`` methods and ``changes`` give python-quickbooks objects
read by its ``from_json`` (``qbo_objects``).
"""

import time
from decimal import Decimal

import requests
from oauthlib.oauth2.rfc6749 import errors as oauth2_errors
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from .errors import (
    AuthError,
    InvalidGrantError,
    NotFoundError,
    RejectedError,
    ThrottledError,
    TransientError,
)
from .http_client import ApiClient, wire_json
from .qbo_objects import batch_body, read, read_batch, read_cdc, to_body
from .redaction import get_logger
from .texts import _lt

# requests-oauthlib logs token request headers and bodies at debug level: mask them.
get_logger("requests_oauthlib.oauth2_session")

AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
REVOKE_URL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
API_URLS = {"sandbox": "https://sandbox-quickbooks.api.intuit.com", "production": "https://quickbooks.api.intuit.com"}
SCOPE = "com.intuit.quickbooks.accounting"
MINOR_VERSION = "75"
QUERY_PAGE_SIZE = 1000
# Headers of token calls (passing any replaces requests-oauthlib's defaults, so all are here); the last
# asks Intuit to include the 5-year hard expiry of the refresh token in its answer.
TOKEN_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/x-www-form-urlencoded",
    "x-include-refresh-token-hard-expires-in": "true",
}

# QBO fault codes a caller reacts to (Intuit's error list).
NOT_FOUND_CODES = {"610"}
AUTH_CODES = {"100", "120", "3100", "3200"}


class QboOAuth:
    """Authorisation URL, code exchange, refresh and revocation for one Intuit app (client id and secret).

    Token calls go through requests-oauthlib. Like oauthlib it refuses plain-HTTP endpoints unless the
    environment sets ``OAUTHLIB_INSECURE_TRANSPORT=1``, which only the tests and the demo do, to reach
    the simulator on loopback.
    """

    service = "QuickBooks"
    timeout = 30

    def __init__(
        self,
        client_id,
        client_secret,
        redirect_uri,
        *,
        authorize_url=AUTHORIZE_URL,
        token_url=TOKEN_URL,
        revoke_url=REVOKE_URL,
        clock=time.time,
    ):
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.authorize_url = authorize_url
        self.token_url = token_url
        self.revoke_url = revoke_url
        self._clock = clock

    def _session(self):
        session = OAuth2Session(self.client_id, redirect_uri=self.redirect_uri, scope=[SCOPE])
        for hook in ("access_token_response", "refresh_token_response"):
            session.register_compliance_hook(hook, _token_service_down)
        return session

    def _basic(self):
        return HTTPBasicAuth(self.client_id, self.client_secret)

    def authorization_url(self, state):
        url, _state = self._session().authorization_url(self.authorize_url, state=state)
        return url

    def exchange_code(self, code):
        """Trade the one-time authorisation code of the callback for tokens."""
        return self._token_call(
            lambda session: session.fetch_token(
                self.token_url,
                code=code,
                auth=self._basic(),
                include_client_id=False,
                timeout=self.timeout,
                headers=TOKEN_HEADERS,
            )
        )

    def refresh(self, refresh_token):
        """Return a new token set; its ``refresh_token`` may differ from the one given (rotation)."""
        tokens = self._token_call(
            lambda session: session.refresh_token(
                self.token_url,
                refresh_token=refresh_token,
                auth=self._basic(),
                timeout=self.timeout,
                headers=TOKEN_HEADERS,
            )
        )
        tokens.setdefault("refresh_token", refresh_token)
        return tokens

    def revoke(self, token):
        """Revoke a refresh (or access) token: the app is disconnected from the QuickBooks company."""
        try:
            response = requests.post(
                self.revoke_url,
                json={"token": token},
                auth=self._basic(),
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(
                _lt("no answer from Intuit (%(error)s)", error=type(exc).__name__), service=self.service
            ) from exc
        if not response.ok:
            raise TransientError(
                _lt("Intuit did not revoke the token (HTTP %(status)s).", status=response.status_code),
                service=self.service,
                status=response.status_code,
            )

    def _token_call(self, call):
        try:
            payload = dict(call(self._session()))
        except oauth2_errors.InvalidGrantError as exc:
            raise InvalidGrantError(
                _lt(
                    "QuickBooks no longer accepts this connection (the authorisation expired or was revoked). "
                    "Reconnect with QuickBooks in Settings."
                ),
                service=self.service,
                code="invalid_grant",
            ) from exc
        except (oauth2_errors.InvalidClientError, oauth2_errors.UnauthorizedClientError) as exc:
            raise AuthError(
                _lt("QuickBooks refused the app's client id or secret: check them in Settings."),
                service=self.service,
                code=exc.error,
            ) from exc
        except oauth2_errors.OAuth2Error as exc:
            raise RejectedError(
                _lt("Intuit refused the token request: %(said)s", said=exc.description or exc.error),
                service=self.service,
                code=exc.error,
            ) from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(
                _lt("no answer from Intuit (%(error)s)", error=type(exc).__name__), service=self.service
            ) from exc
        except ValueError as exc:  # not JSON: an outage page
            raise TransientError(
                _lt("Intuit's sign-in service answered with an error page."), service=self.service
            ) from exc
        now = self._clock()
        tokens = {"access_token": payload["access_token"], "expires_at": now + int(payload.get("expires_in") or 3600)}
        if payload.get("refresh_token"):
            tokens["refresh_token"] = payload["refresh_token"]
        if payload.get("x_refresh_token_expires_in"):
            tokens["refresh_expires_at"] = now + int(payload["x_refresh_token_expires_in"])
        if payload.get("x_refresh_token_hard_expires_in"):
            tokens["refresh_hard_expires_at"] = now + int(payload["x_refresh_token_hard_expires_in"])
        return tokens


def _token_service_down(response):
    """Intuit's token endpoint answering 5xx is down, not refusing: its page has no OAuth error to read (oauthlib
    would call it a missing token), and nothing was done, so the same refresh token is good for the next try."""
    if response.status_code >= 500:
        raise TransientError(
            f"Intuit's sign-in service is unavailable (HTTP {response.status_code}).",
            service=QboOAuth.service,
            status=response.status_code,
        )
    return response


class QboClient(ApiClient):
    """Reads (and, in later layers, writes) one QuickBooks company (``realm_id``).

    ``access_token`` is sent as a bearer token. If QuickBooks answers 401, ``on_unauthorized()`` is
    called once to get a fresh access token (the caller refreshes under its own lock) and the call is
    repeated.
    """

    service = "QuickBooks"

    def __init__(self, base_url, realm_id, *, access_token, on_unauthorized=None, **kw):
        super().__init__(base_url, **kw)
        self.realm_id = realm_id
        self.access_token = access_token
        self.on_unauthorized = on_unauthorized
        self.known_customers = {}  # customers read or made through this client, by name as QuickBooks compares it

    def _auth_headers(self):
        return {"Authorization": f"Bearer {self.access_token}"}

    def _company_path(self, path):
        return f"/v3/company/{self.realm_id}/{path}"

    def call(self, method, path, *, params=None, **kw):
        params = {**(params or {}), "minorversion": MINOR_VERSION}
        try:
            response = self.request(method, self._company_path(path), params=params, **kw)
        except AuthError:
            if not self.on_unauthorized:
                raise
            self.access_token = self.on_unauthorized()
            response = self.request(method, self._company_path(path), params=params, **kw)
        return response.json(parse_float=Decimal)

    # -- reading ---------------------------------------------------------------------------------
    def company_info(self):
        return self.call("GET", f"companyinfo/{self.realm_id}")["CompanyInfo"]

    def preferences(self):
        return self.call("GET", "preferences")["Preferences"]

    def get(self, entity, record_id):
        return self.call("GET", f"{entity.lower()}/{record_id}")[entity]

    def query(self, statement):
        """Run one query statement and return its ``QueryResponse``."""
        return self.call("GET", "query", params={"query": statement}).get("QueryResponse") or {}

    def query_all(self, entity, where="", *, order_by="Id"):
        """Every row of ``entity`` matching ``where``, page by page: never stop silently at 100 rows."""
        rows = []
        start = 1
        clause = f" WHERE {where}" if where else ""
        while True:
            statement = (
                f"SELECT * FROM {entity}{clause} ORDERBY {order_by} STARTPOSITION {start} MAXRESULTS {QUERY_PAGE_SIZE}"
            )
            page = self.query(statement).get(entity) or []
            rows.extend(page)
            if len(page) < QUERY_PAGE_SIZE:
                return rows
            start += QUERY_PAGE_SIZE

    def preferences_document(self):
        return read("Preferences", self.preferences())

    def get_document(self, entity, record_id):
        return read(entity, self.get(entity, record_id))

    def query_documents(self, entity, where="", *, order_by="Id"):
        return [read(entity, row) for row in self.query_all(entity, where, order_by=order_by)]

    def changes(self, entities, since):
        """Change data capture: ``{entity: [documents]}`` changed since ``since`` (an ISO 8601 time with its
        offset; at most 30 days back, 1,000 objects an answer, research QBO §3.2)."""
        answer = self.call("GET", "cdc", params={"entities": ",".join(entities), "changedSince": since})
        return read_cdc(answer, entities)

    # -- writing ---------------------------------------------------------------------------------
    def save(self, entity, body, *, request_id, operation=None):
        """Create or update (``operation``: "void", "delete") one ``entity`` and return QuickBooks' row.

        ``request_id`` makes the call idempotent: QuickBooks answers a repeated id with the first answer.
        """
        params = {"requestid": request_id}
        if operation:
            params["operation"] = operation
        answer = self.call(
            "POST",
            entity.lower(),
            params=params,
            data=wire_json(body).encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )
        return answer.get(entity) or {}

    def save_document(self, document, *, request_id, operation=None):
        """``save`` for a ``qbo_objects`` document: its body sent, QuickBooks' answer read as a document."""
        entity = document.qbo_object_name
        return read(entity, self.save(entity, to_body(document), request_id=request_id, operation=operation))

    def batch(self, items, *, request_id):
        """Send ``items`` (``(bId, operation, document[, options])``, at most 30, built into the request by
        :func:`qbo_objects.batch_body`) in one batch request and return each item's ``BatchItemResponse`` entry
        by ``bId``: the entity, a ``QueryResponse`` or a ``Fault`` (see :meth:`item_error`). ``request_id``
        (at most 36 characters) makes the batch idempotent."""
        answer = self.call(
            "POST",
            "batch",
            params={"requestid": request_id},
            data=wire_json(batch_body(items)).encode("utf-8"),
            headers={"Content-Type": "application/json"},
        )
        return {entry.get("bId"): entry for entry in answer.get("BatchItemResponse") or []}

    def batch_documents(self, items, *, request_id):
        """``batch`` with each item's answer read as :func:`qbo_objects.read_batch` does: ``{bId: (document or
        None, fault or None)}``."""
        return read_batch({"BatchItemResponse": list(self.batch(items, request_id=request_id).values())})

    def item_error(self, entry):
        """The typed error of a batch item answered with a ``Fault`` (its ``BatchItemResponse`` entry, or the
        ``Fault`` read by ``read_batch``), as the same fault of a single request."""
        message, detail, code = _fault(entry if isinstance(entry, dict) else {"Fault": to_body(entry)})
        kw = {"service": self.service, "code": code, "detail": detail}
        message = message or _lt("QuickBooks refused it without saying why.")
        if code in AUTH_CODES:
            return AuthError(message, **kw)
        if code in NOT_FOUND_CODES:
            return NotFoundError(message, **kw)
        return RejectedError(message, **kw)

    # -- errors ----------------------------------------------------------------------------------
    def _error_from_response(self, response):
        status = response.status_code
        message, detail, code = _fault(_json_or_none(response))
        message = message or (response.text or "").strip()[:300] or f"HTTP {status}"
        kw = {"service": self.service, "status": status, "code": code, "detail": detail}
        if status == 429 or "ThrottleExceeded" in message:
            return ThrottledError(_lt("QuickBooks asks to slow down (too many requests)."), **kw)
        if status in (401, 403) or code in AUTH_CODES:
            return AuthError(message, **kw)
        if code in NOT_FOUND_CODES or status == 404:
            return NotFoundError(message, **kw)
        if status >= 500:
            return TransientError(message, **kw)
        return RejectedError(message, **kw)


def quote(value):
    """A string literal for the QuickBooks query language (single quotes, ``\\'`` inside)."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fault(body):
    """(message, detail, code) of the first error of a ``Fault`` or gateway ``fault`` envelope."""
    if not isinstance(body, dict):
        return None, None, None
    fault = body.get("Fault") or body.get("fault") or {}
    errors = fault.get("Error") or fault.get("error") or []
    if not errors:
        return None, None, None
    first = errors[0]
    code = first.get("code")
    return (
        first.get("Message") or first.get("message"),
        first.get("Detail") or first.get("detail"),
        (str(code) if code not in (None, "") else None),
    )


def _json_or_none(response):
    try:
        return response.json()
    except ValueError:
        return None


__all__ = ["API_URLS", "QboClient", "QboOAuth", "quote"]
