"""Webhook receivers: verify, record the delivery, trigger the scheduled sync; never call the services.

Forged deliveries (unknown company, token or realm, missing or wrong signature) get 401; stale or replayed
ones, and bodies that are not the documented shape, get 400. Either way nothing runs.
"""

import hashlib
import hmac
import json
from datetime import datetime, timezone

from odoo import http
from odoo.http import request

from ..tools import webhooks
from ..tools.redaction import get_logger

_logger = get_logger(__name__)


class NexudusQboWebhookController(http.Controller):
    @http.route(
        f"{webhooks.NEXUDUS_WEBHOOK_PATH}/<int:company_id>/<string:token>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def nexudus_webhook(self, company_id, token, **kwargs):
        """Nexudus posts ``[record]``; the URL's token proves it is the URL registered, and the company's
        shared secret, when set, must have signed the body (research uncertainty 11: not every webhook is)."""
        body = request.httprequest.get_data()
        company = request.env["res.company"].sudo().browse(company_id).exists()
        expected = company._nexudus_webhook_token() if company else None
        if not expected or not hmac.compare_digest(expected.encode(), token.encode()):
            return _refuse(401, "Nexudus", company_id, "unknown company or token")
        secret = company.nexudus_webhook_secret
        signature = request.httprequest.headers.get(webhooks.NEXUDUS_SIGNATURE)
        if secret and not webhooks.nexudus_signed(secret, body, signature):
            return _refuse(401, "Nexudus", company_id, "bad or missing signature")
        records = _json(body)
        if not isinstance(records, list) or not records or not isinstance(records[0], dict):
            return _refuse(400, "Nexudus", company_id, "not an array holding one record")
        summary = f"record {records[0].get('Id')}"
        if not _claim(company, "nexudus", hashlib.sha256(body).hexdigest(), summary):
            return _refuse(400, "Nexudus", company_id, "replayed")
        company._nexudus_qbo_trigger_sync()
        return request.make_response("", status=200)

    @http.route(webhooks.QBO_WEBHOOK_PATH, type="http", auth="public", methods=["POST"], csrf=False, save_session=False)
    def qbo_webhook(self, **kwargs):
        """Intuit posts CloudEvents or the older eventNotifications, signed with the verifier token of the
        company whose realm it names."""
        body = request.httprequest.get_data()
        events = webhooks.intuit_events(_json(body))
        if not events:
            return _refuse(400, "QuickBooks", None, "neither CloudEvents nor eventNotifications")
        realms = sorted({realm for realm, _when, _key, _what in events})
        companies = request.env["res.company"].sudo().search([("qbo_realm_id", "in", realms)])
        signature = request.httprequest.headers.get(webhooks.INTUIT_SIGNATURE)
        signed = all(c.qbo_verifier_token and webhooks.intuit_signed(c.qbo_verifier_token, body, signature)
                     for c in companies)  # fmt: skip
        if len(companies) != len(realms) or not signed:
            return _refuse(401, "QuickBooks", realms, "unknown realm or bad signature")
        if webhooks.stale(events, datetime.now(timezone.utc)):
            return _refuse(400, "QuickBooks", realms, "stale or undated")
        key = webhooks.replay_key(events, body)
        summary = ", ".join(sorted({what for _realm, _when, _key, what in events}))
        claimed = [_claim(company, "qbo", key, summary) for company in companies]  # each company, not just the first
        if not all(claimed):
            return _refuse(400, "QuickBooks", realms, "replayed")
        companies._nexudus_qbo_trigger_sync()
        return request.make_response("", status=200)


def _json(body):
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None


def _claim(company, source, key, summary):
    return request.env["nexudus.qbo.webhook.delivery"].sudo()._claim(company, source, key, summary)


def _refuse(status, service, who, reason):
    _logger.warning("%s webhook for %s refused: %s", service, who, reason)
    return request.make_response(reason, status=status)
