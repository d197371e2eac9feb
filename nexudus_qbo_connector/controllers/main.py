from odoo import http
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import consteq
from odoo.tools.misc import verify_hash_signed

from ..models.res_company import CALLBACK_PATH, OAUTH_SCOPE
from ..tools.redaction import get_logger
from ..tools.texts import translated

_logger = get_logger(__name__)
# The web server logs every requested URL: the callback's carries the one-time authorisation code.
get_logger("werkzeug")
SETTINGS_URL = "/odoo/action-nexudus_qbo_connector.action_nexudus_qbo_settings"
CONNECTED_URL = "/odoo/action-nexudus_qbo_connector.action_qbo_connected"  # a notification, then Settings


class NexudusQboOAuthController(http.Controller):
    @http.route(CALLBACK_PATH, type="http", auth="user", methods=["GET"])
    def qbo_oauth_callback(self, state=None, code=None, realmId=None, error=None, **kwargs):  # noqa: N803
        """Where Intuit sends the browser back after "Connect with QuickBooks".

        The signed ``state`` names the company and the user who clicked; it expires, and its nonce is
        forgotten on first use, so a forged, expired or replayed callback connects nothing.
        """
        payload = _verified_state(state)
        if not payload or payload.get("user_id") != request.env.uid:
            return _error_page(
                request.env._("This QuickBooks connection link is invalid or has expired. Start again from Settings.")
            )
        company = request.env["res.company"].browse(payload.get("company_id")).exists()
        if not company or not request.env.user.has_group("base.group_system"):
            return _error_page(request.env._("Only a Settings administrator of this company can connect QuickBooks."))
        nonce = company.sudo().qbo_oauth_nonce or ""
        if not nonce or not consteq(nonce, str(payload.get("nonce", ""))):
            return _error_page(
                request.env._("This QuickBooks connection link was already used. Start again from Settings.")
            )
        company.sudo().qbo_oauth_nonce = False
        if error or not code or not realmId:
            _logger.info("QuickBooks authorisation for company %s ended with %s", company.id, error)
            return _error_page(
                request.env._("QuickBooks did not authorise the connection (%(error)s).", error=error or "no code")
            )
        try:
            company._qbo_finish_connect(code, realmId)
        except UserError as exc:
            return _error_page(translated(request.env, exc))
        return request.redirect(CONNECTED_URL)


def _verified_state(state):
    if not state:
        return None
    try:
        payload = verify_hash_signed(request.env(su=True), OAUTH_SCOPE, state)
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def _error_page(message):
    return request.render(
        "nexudus_qbo_connector.qbo_oauth_error",
        {"error": message, "redirect_url": SETTINGS_URL},
        status=400,
    )
