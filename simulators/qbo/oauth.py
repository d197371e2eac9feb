"""Intuit OAuth 2.0 as the QBO simulator serves it: consent page, token endpoint, revocation, bearer checks.

A *grant* is one app's connection to one company, the one the person chose on the consent page (research
§1.3: the redirect's ``realmId``); every refresh and access token issued under it shares its fate, so revoking
any of them (or replaying its authorization code) disconnects the app.
"""

import base64
import hmac
import html
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

from simulators.httpbase import Response

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
KNOWN_SCOPES = {ACCOUNTING_SCOPE, "com.intuit.quickbooks.payment", "openid", "profile", "email", "phone", "address"}
DEFAULT_CLIENT_ID = "sim-client-id"
DEFAULT_CLIENT_SECRET = "sim-client-secret"

CODE_TTL = 300
ACCESS_TTL = 3600
REFRESH_TTL = 8726400  # rolling: extended each time the token is used
HARD_TTL = 5 * 365 * 86400  # the 5-year maximum Intuit announced in 2025
ROTATION_PERIOD = 86400  # "daily" policy: the same refresh token comes back within this window

AUTHORIZE_PATH = "/connect/oauth2"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
REVOKE_PATH = "/v2/oauth2/tokens/revoke"
INVALID_REFRESH = {"error": "invalid_grant", "error_description": "Incorrect or invalid refresh token"}


@dataclass
class App:
    client_id: str
    client_secret: str
    redirect_uris: list = field(default_factory=list)  # every redirect URI seen, in order


@dataclass
class Grant:
    client_id: str
    realm_id: str
    scopes: frozenset
    hard_expires_at: float
    current: object = None  # the latest RefreshToken
    revoked: bool = False


@dataclass
class RefreshToken:
    value: str
    grant: Grant
    issued_at: float
    expires_at: float
    superseded_at: float | None = None


@dataclass
class AccessToken:
    value: str
    grant: Grant
    expires_at: float


class AuthorizeRefused(Exception):
    """The authorization request cannot even be redirected back (unknown client, no redirect URI)."""


def _with_params(url, params):
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit(parts._replace(query=query))


class OAuthMixin:
    """OAuth state and handlers; the simulator provides ``now()``, ``companies``, ``lock`` and ``route``."""

    def init_oauth(self):
        self.apps = {}
        self.codes = {}
        self.refresh_tokens = {}
        self.access_tokens = {}
        self.rotate_refresh_tokens = "always"  # or "daily": the same value is returned within 24 h
        self.stale_refresh_grace = 0  # seconds a superseded refresh token still works (0: none)
        self.code_replay_revokes = True  # replaying a code also revokes the tokens it gave (RFC 6749 4.1.2)
        self.token_calls = 0
        self.token_grants = []  # grant_type of every token call, in order
        self.token_failures = []  # statuses the next token calls answer with (an outage page), in order
        self.register_app(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)

    def register_app(self, client_id, client_secret):
        self.apps[client_id] = App(client_id, client_secret)
        return self.apps[client_id]

    def oauth_routes(self):
        self.route("GET", AUTHORIZE_PATH, self.authorize_page)
        self.route("POST", AUTHORIZE_PATH, self.authorize_submit)
        self.route("POST", TOKEN_PATH, self.token)
        self.route("POST", REVOKE_PATH, self.revoke)
        for name in ("openid_sandbox_configuration", "openid-sandbox-configuration", "openid_configuration"):
            self.route("GET", f"/.well-known/{name}", self.discovery)

    # -- authorization --------------------------------------------------------------------------------
    def authorize(
        self,
        client_id=DEFAULT_CLIENT_ID,
        redirect_uri="http://localhost/callback",
        state="",
        scope=ACCOUNTING_SCOPE,
        approve=True,
        realm_id=None,
    ):
        """Run the consent step without a browser and return the URL the user would be redirected to;
        ``realm_id`` is the company the person chooses (the first one by default)."""
        params = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "scope": scope,
            "response_type": "code",
            "realm_id": realm_id or "",
        }
        with self.lock:
            return self._consent(params, approve)

    def _check_request(self, params):
        """Validate an authorization request; returns an error code to redirect with, or None."""
        app = self.apps.get(params.get("client_id", ""))
        redirect_uri = params.get("redirect_uri", "")
        if app is None:
            raise AuthorizeRefused("invalid_client: unknown client_id")
        if not redirect_uri:
            raise AuthorizeRefused("invalid_request: redirect_uri is required")
        if redirect_uri not in app.redirect_uris:
            app.redirect_uris.append(redirect_uri)
        if params.get("response_type") != "code":
            return "unsupported_response_type"
        scopes = set(params.get("scope", "").split())
        if not scopes or not scopes <= KNOWN_SCOPES:
            return "invalid_scope"
        return None

    def _consent(self, params, approve):
        error = self._check_request(params)
        state = params.get("state", "")
        if error or not approve:
            return _with_params(params["redirect_uri"], {"error": error or "access_denied", "state": state})
        realm_id = params.get("realm_id") or next(iter(self.companies))
        if realm_id not in self.companies:
            raise AuthorizeRefused(f"invalid_request: no company {realm_id}")
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "realm_id": realm_id,
            "client_id": params["client_id"],
            "redirect_uri": params["redirect_uri"],
            "scopes": frozenset(params["scope"].split()),
            "expires_at": self.now() + CODE_TTL,
            "used": False,
            "grant": None,
        }
        return _with_params(params["redirect_uri"], {"code": code, "state": state, "realmId": realm_id})

    def authorize_page(self, request):
        params = request.params
        with self.lock:
            try:
                error = self._check_request(params)
            except AuthorizeRefused as exc:
                return Response(400, f"<html><body><h1>Error</h1><p>{html.escape(str(exc))}</p></body></html>")
            if error:
                return Response(302, headers={"Location": self._consent(params, approve=False)})
        hidden = "".join(
            f'<input type="hidden" name="{key}" value="{html.escape(params.get(key, ""), quote=True)}">'
            for key in ("client_id", "redirect_uri", "scope", "state", "response_type")
        )
        page = (
            "<!DOCTYPE html><html><head><title>Intuit - Connect to QuickBooks</title></head><body>"
            f"{self._company_choice()}"
            f'<form method="post" action="{AUTHORIZE_PATH}">{hidden}{self._company_select()}'
            '<button type="submit" name="action" value="authorize">Connect</button> '
            '<button type="submit" name="action" value="cancel">Cancel</button>'
            "</form></body></html>"
        )
        return Response(200, page)

    def _company_choice(self):
        """The page's heading: the one company, or a request to choose one."""
        if len(self.companies) > 1:
            return "<h1>Connect to QuickBooks</h1><p>Choose the QuickBooks company the app wants to access.</p>"
        company = next(iter(self.companies.values()))
        name = html.escape(company.company_info["CompanyName"])
        return (
            f"<h1>Connect to {name}</h1><p>The app wants to access the QuickBooks company <strong>{name}</strong>"
            f" (realm {html.escape(company.realm_id)}).</p>"
        )

    def _company_select(self):
        if len(self.companies) == 1:
            return ""
        options = "".join(
            f'<option value="{html.escape(realm, quote=True)}">'
            f"{html.escape(company.company_info['CompanyName'])} (realm {html.escape(realm)})</option>"
            for realm, company in self.companies.items()
        )
        return f'<select name="realm_id">{options}</select> '

    def authorize_submit(self, request):
        form = request.form()
        with self.lock:
            try:
                location = self._consent(form, approve=form.get("action") == "authorize")
            except AuthorizeRefused as exc:
                return Response(400, f"<html><body><h1>Error</h1><p>{html.escape(str(exc))}</p></body></html>")
        return Response(302, headers={"Location": location})

    # -- tokens ---------------------------------------------------------------------------------------
    def _client(self, request, form, allow_post=True):
        """The authenticated client id (HTTP Basic, or client_secret_post form fields), else None."""
        header = request.headers.get("authorization", "")
        if header[:6].lower() == "basic ":
            try:
                client_id, _, secret = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
            except ValueError:
                return None
        elif allow_post:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        else:
            return None
        app = self.apps.get(client_id)
        if app and hmac.compare_digest(app.client_secret.encode(), secret.encode()):
            return client_id
        return None

    def token(self, request):
        form = request.form()
        with self.lock:
            self.token_calls += 1
            self.token_grants.append(form.get("grant_type", ""))
            if self.token_failures:
                return Response(self.token_failures.pop(0), "<html>Service Unavailable</html>")
            client_id = self._client(request, form)
            if client_id is None:
                return Response(401, {"error": "invalid_client"})
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                result = self._exchange_code(client_id, form)
            elif grant_type == "refresh_token":
                result = self._refresh(client_id, form.get("refresh_token", ""))
            else:
                return Response(400, {"error": "unsupported_grant_type"})
            if isinstance(result, Response):
                return result
            refresh, access = result
            now = self.now()
            body = {
                "token_type": "bearer",
                "access_token": access.value,
                "refresh_token": refresh.value,
                "expires_in": ACCESS_TTL,
                "x_refresh_token_expires_in": round(refresh.expires_at - now),
            }
            if request.headers.get("x-include-refresh-token-hard-expires-in", "").lower() == "true":
                body["x_refresh_token_hard_expires_in"] = round(refresh.grant.hard_expires_at - now)
        return Response(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _exchange_code(self, client_id, form):
        entry = self.codes.get(form.get("code", ""))
        if entry is None or entry["client_id"] != client_id:
            return Response(400, {"error": "invalid_grant"})
        if entry["used"]:
            if self.code_replay_revokes and entry["grant"]:
                entry["grant"].revoked = True
            return Response(400, {"error": "invalid_grant"})
        if self.now() > entry["expires_at"] or form.get("redirect_uri") != entry["redirect_uri"]:
            return Response(400, {"error": "invalid_grant"})
        entry["used"] = True
        now = self.now()
        grant = Grant(client_id, entry["realm_id"], entry["scopes"], now + HARD_TTL)
        entry["grant"] = grant
        return self._issue_refresh(grant, now), self._issue_access(grant, now)

    def _refresh_usable(self, token, now):
        if token.grant.revoked or now > token.expires_at or now > token.grant.hard_expires_at:
            return False
        return token.superseded_at is None or now < token.superseded_at + self.stale_refresh_grace

    def _refresh(self, client_id, value):
        token = self.refresh_tokens.get(value)
        now = self.now()
        if token is None or token.grant.client_id != client_id or not self._refresh_usable(token, now):
            return Response(400, dict(INVALID_REFRESH))
        grant = token.grant
        if self.rotate_refresh_tokens not in ("always", "daily"):
            raise ValueError(f"rotate_refresh_tokens must be 'always' or 'daily', not {self.rotate_refresh_tokens!r}")
        keep = self.rotate_refresh_tokens == "daily" and now - grant.current.issued_at < ROTATION_PERIOD
        refresh = grant.current if keep else self._issue_refresh(grant, now)
        refresh.expires_at = min(now + REFRESH_TTL, grant.hard_expires_at)
        return refresh, self._issue_access(grant, now)

    def _issue_refresh(self, grant, now):
        if grant.current is not None and grant.current.superseded_at is None:
            grant.current.superseded_at = now
        token = RefreshToken(
            f"RT1-{secrets.token_urlsafe(32)}", grant, now, min(now + REFRESH_TTL, grant.hard_expires_at)
        )
        grant.current = token
        self.refresh_tokens[token.value] = token
        return token

    def _issue_access(self, grant, now):
        token = AccessToken(f"eyJ{secrets.token_urlsafe(48)}", grant, now + ACCESS_TTL)
        self.access_tokens[token.value] = token
        return token

    def revoke(self, request):
        with self.lock:
            client_id = self._client(request, {}, allow_post=False)
            if client_id is None:
                return Response(401, {"error": "invalid_client"})
            try:
                value = (request.json() or {}).get("token", "")
            except (ValueError, AttributeError):
                value = ""
            if not value:
                return Response(400, {"error": "invalid_request"})
            token = self.refresh_tokens.get(value) or self.access_tokens.get(value)
            if token is not None and token.grant.client_id == client_id:
                token.grant.revoked = True  # revoking either kind of token disconnects the app
        return Response(200, None)

    def bearer_grant(self, request):
        """The live grant behind the request's ``Authorization: Bearer`` header, or None."""
        header = request.headers.get("authorization", "")
        if header[:7].lower() != "bearer ":
            return None
        token = self.access_tokens.get(header[7:].strip())
        if token is None or token.grant.revoked or self.now() >= token.expires_at:
            return None
        return token.grant

    def discovery(self, request):
        """The OpenID discovery document intuit-oauth's ``AuthClient`` fetches on construction."""
        return Response(
            200,
            {
                "issuer": "https://oauth.platform.intuit.com/op/v1",
                "authorization_endpoint": self.url + AUTHORIZE_PATH,
                "token_endpoint": self.url + TOKEN_PATH,
                "userinfo_endpoint": self.url + "/v1/openid_connect/userinfo",
                "revocation_endpoint": self.url + REVOKE_PATH,
                "jwks_uri": self.url + "/op/v1/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": sorted(KNOWN_SCOPES),
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
            },
        )
