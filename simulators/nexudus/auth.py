"""Sign-in for the simulated Nexudus API: ``POST /api/token`` and the ``Authorization`` check.

- The token endpoint reads form-encoded bodies only; anything else (a JSON body) gets
  400 ``{"error":"unsupported_grant_type"}``, as does an unknown ``grant_type``.
- ``grant_type=password``: ``username``, ``password`` and, for a 2FA user, ``totp``. A missing code
  gives 400 ``two_factor_auth_check``; a wrong password or code gives 400 ``invalid_grant``
  (OAuth's usual answer, with an ``error_description``). The research does not say whether an unknown
  email reads differently from a wrong password; ``sign_in_errors`` picks the reading: "same" (the
  default) answers both with one description, "distinct" gives an unknown email its own description
  (still ``invalid_grant``). Both descriptions are the simulator's own wording.
- ``grant_type=refresh_token``: ``refresh_token`` plus an optional ``client_id`` header (research
  uncertainty 8: FAUX refreshes without it). Absent, it defaults to the email, as on sign-in; a
  different ``client_id`` than the token was issued to is refused with ``invalid_grant``.
- Every issue of tokens to a ``client_id`` invalidates its earlier refresh tokens (the one just used
  included); access tokens already issued stay valid until they expire.
- A user without API access still gets tokens (the research only documents that such calls fail),
  and every API call then answers 401 with a message naming API access.
- ``Authorization: Basic base64(email:password)`` is checked like the password grant, without a
  2FA code.

Lifetimes come from ``access_token_ttl`` / ``refresh_token_ttl`` (seconds) and expiry is judged on
the simulator clock, :meth:`NexudusAuth.now`: ``wall_clock()`` (``time.time`` unless a test freezes it)
plus ``clock_offset``, so a test can move time forward. The request limits and every stamp use it too.
"""

import base64
import secrets
import time

from ..httpbase import Response

DENIED = "Authorization has been denied for this request."
BAD_CREDENTIALS = "The user name or password is incorrect."
UNKNOWN_USER = "There is no user with this email address."
SIGN_IN_ERRORS = ("same", "distinct")


def _oauth_error(error, description=None):
    return Response(400, {"error": error, **({"error_description": description} if description else {})})


def _denied(message=DENIED):
    return Response(401, {"Message": message}, {"WWW-Authenticate": "Bearer"})


class NexudusAuth:
    """Mixin for the simulator: token issue, refresh and request authentication."""

    access_token_ttl = 604799  # the documented expires_in, about 7 days
    refresh_token_ttl = 15 * 24 * 3600  # "Refresh Tokens are valid for 15 days"

    def init_auth(self, sign_in_errors="same"):
        if sign_in_errors not in SIGN_IN_ERRORS:
            raise ValueError(f"sign_in_errors must be 'same' or 'distinct', not {sign_in_errors!r}")
        self.sign_in_errors = sign_in_errors
        self.clock_offset = 0.0  # seconds added to the wall clock
        self.wall_clock = time.time  # a test may freeze it (a constant) so time passes through clock_offset alone
        self.access_tokens = {}  # token: (user id, expires at)
        self.refresh_tokens = {}  # token: (user id, client_id, expires at)

    def now(self):
        return self.wall_clock() + self.clock_offset

    def handle_token(self, request):
        content_type = request.headers.get("content-type", "").lower()
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return _oauth_error("unsupported_grant_type")
        form = request.form()
        if form.get("grant_type") == "password":
            return self._password_grant(form, request.headers.get("client_id"))
        if form.get("grant_type") == "refresh_token":
            return self._refresh_grant(form, request.headers.get("client_id"))
        return _oauth_error("unsupported_grant_type")

    def _password_grant(self, form, client_id):
        user = self.data.user_by_email(form.get("username"))
        if user is None and self.sign_in_errors == "distinct":
            return _oauth_error("invalid_grant", UNKNOWN_USER)
        if user is None or form.get("password") != user["Password"]:
            return _oauth_error("invalid_grant", BAD_CREDENTIALS)
        if user["TotpCode"]:
            if not form.get("totp"):
                return _oauth_error("two_factor_auth_check", "This user needs a two-factor authentication code.")
            if form["totp"].strip() != user["TotpCode"]:
                return _oauth_error("invalid_grant", "The two-factor authentication code is incorrect.")
        return self._issue(user, client_id or user["Email"])

    def _refresh_grant(self, form, client_id):
        with self.lock:
            entry = self.refresh_tokens.get(form.get("refresh_token"))
        if entry is None or entry[2] <= self.now():
            return _oauth_error("invalid_grant", "The refresh token is invalid or has expired.")
        user_id, issued_to, _expires = entry
        if client_id and client_id.casefold() != issued_to.casefold():
            return _oauth_error("invalid_grant", "The refresh token was issued to another client_id.")
        return self._issue(self.data.api_users[user_id], issued_to)

    def _issue(self, user, client_id):
        access, refresh, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.now()
        with self.lock:
            for token, entry in list(self.refresh_tokens.items()):
                if entry[1].casefold() == client_id.casefold():
                    del self.refresh_tokens[token]
            self.access_tokens[access] = (user["Id"], now + self.access_token_ttl)
            self.refresh_tokens[refresh] = (user["Id"], client_id, now + self.refresh_token_ttl)
        return Response(
            200,
            {
                "access_token": access,
                "token_type": "bearer",
                "expires_in": self.access_token_ttl,
                "refresh_token": refresh,
            },
        )

    def authenticate(self, request):
        """None when the request may proceed, else the 401 response."""
        user = self.api_user(request)
        if user is None:
            return _denied()
        if not user["APIAccess"]:
            return _denied(f"{DENIED} API access is not enabled for {user['Email']} (Settings > Users).")
        return None

    def api_user(self, request):
        """The user the request's ``Authorization`` header signs in (bearer or basic), or None."""
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        user = None
        if scheme.lower() == "bearer":
            with self.lock:
                entry = self.access_tokens.get(credentials.strip())
            if entry and entry[1] > self.now():
                user = self.data.api_users.get(entry[0])
        elif scheme.lower() == "basic":
            try:
                email, _, password = base64.b64decode(credentials.strip()).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                email = password = None
            candidate = self.data.user_by_email(email)
            if candidate and candidate["Password"] == password:
                user = candidate
        return user
