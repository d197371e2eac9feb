"""Webhook receivers: verify, record the delivery, trigger the scheduled sync; never call the services.

Forged deliveries (unknown company or token, missing or wrong signature) get 401; stale or replayed ones,
and bodies that are not the documented shape, get 400. Either way nothing runs.
"""

import base64
import hashlib
import hmac
import json
from datetime import datetime, timezone

from odoo import http
from odoo.http import request

from ..models.nexudus_qbo_webhook_delivery import REPLAY_WINDOW
from ..models.res_company_webhooks import NEXUDUS_WEBHOOK_PATH, QBO_WEBHOOK_PATH
from ..tools.redaction import get_logger

_logger = get_logger(__name__)
NEXUDUS_SIGNATURE = "X-Nexudus-Hook-Signature"
INTUIT_SIGNATURE = "intuit-signature"


class NexudusQboWebhookController(http.Controller):
    @http.route(
        f"{NEXUDUS_WEBHOOK_PATH}/<int:company_id>/<string:token>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def nexudus_webhook(self, company_id, token, **kwargs):
        """Nexudus posts ``[dto]`` (research Nexudus §4); the URL's token proves it is the one registered,
        and the company's shared secret, when set, must have signed the body (UPPERCASE hex HMAC-SHA256)."""
        body = request.httprequest.get_data()
        company = request.env["res.company"].sudo().browse(company_id).exists()
        expected = company.nexudus_webhook_token if company else None
        if not expected or not hmac.compare_digest(expected.encode(), token.encode()):
            return _refuse(401, "Nexudus", company_id, "unknown company or token")
        secret = company.nexudus_webhook_secret
        if secret:
            signature = request.httprequest.headers.get(NEXUDUS_SIGNATURE, "")
            wanted = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().upper()
            if not hmac.compare_digest(wanted.encode(), signature.encode()):
                return _refuse(401, "Nexudus", company_id, "bad or missing signature")
        records = _json(body)
        if not isinstance(records, list) or not records or not isinstance(records[0], dict):
            return _refuse(400, "Nexudus", company_id, "not an array holding one record")
        summary = f"record {records[0].get('Id')}"
        if not _claim(company, "nexudus", hashlib.sha256(body).hexdigest(), summary):
            return _refuse(400, "Nexudus", company_id, "replayed")
        company._nexudus_qbo_trigger_sync()
        return request.make_response("", status=200)

    @http.route(QBO_WEBHOOK_PATH, type="http", auth="public", methods=["POST"], csrf=False, save_session=False)
    def qbo_webhook(self, **kwargs):
        """Intuit posts CloudEvents (an array) or the older ``eventNotifications`` (research QBO §3.4, §5.9),
        signed with the verifier token of the company whose realm it names (base64 HMAC-SHA256)."""
        body = request.httprequest.get_data()
        events = _intuit_events(_json(body))
        if events is None:
            return _refuse(400, "QuickBooks", None, "neither CloudEvents nor eventNotifications")
        realms = {realm for realm, _moment, _key, _what in events}
        companies = request.env["res.company"].sudo().search([("qbo_realm_id", "in", list(realms))])
        signature = request.httprequest.headers.get(INTUIT_SIGNATURE, "")
        if len(companies) != len(realms) or not all(_intuit_signed(c, body, signature) for c in companies):
            return _refuse(401, "QuickBooks", sorted(realms), "unknown realm or bad signature")
        moments = [moment for _realm, moment, _key, _what in events]
        if None in moments or min(moments) < datetime.now(timezone.utc) - REPLAY_WINDOW:
            return _refuse(400, "QuickBooks", sorted(realms), "stale or undated")
        keys = sorted(key for _realm, _moment, key, _what in events if key) or [hashlib.sha256(body).hexdigest()]
        key = hashlib.sha256("\n".join(keys).encode()).hexdigest()
        summary = ", ".join(sorted({what for _realm, _moment, _key, what in events}))
        claimed = [_claim(company, "qbo", key, summary) for company in companies]
        if not all(claimed):
            return _refuse(400, "QuickBooks", sorted(realms), "replayed")
        companies._nexudus_qbo_trigger_sync()
        return request.make_response("", status=200)


def _intuit_events(payload):
    """``[(realm, event time, event id or None, what)]`` of a delivery, or None if it is not Intuit's shape."""
    events = []
    try:
        if isinstance(payload, list):  # CloudEvents
            for event in payload:
                what = str(event.get("type") or "")
                events.append((str(event["intuitaccountid"]), _moment(event.get("time")), str(event["id"]), what))
        elif isinstance(payload, dict) and isinstance(payload.get("eventNotifications"), list):
            for notification in payload["eventNotifications"]:
                realm = str(notification["realmId"])
                for entity in notification["dataChangeEvent"]["entities"]:
                    what = f"{entity.get('name')} {entity.get('operation')}"
                    events.append((realm, _moment(entity.get("lastUpdated")), None, what))
        else:
            return None
    except (AttributeError, KeyError, TypeError):
        return None
    return events or None


def _intuit_signed(company, body, signature):
    token = company.qbo_verifier_token
    if not token:
        return False
    wanted = base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(wanted, signature.encode())


def _moment(value):
    """An aware datetime from an ISO 8601 text (nanoseconds cut to microseconds), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


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
