"""What the webhook receivers check, as plain code: the two services' signatures and Intuit's two formats.

Nexudus (research Nexudus §4): ``X-Nexudus-Hook-Signature`` is the UPPERCASE hex HMAC-SHA256 of the body keyed
with the app's shared secret; the body is a JSON array holding one record. QuickBooks (research QBO §3.4,
§5.9): ``intuit-signature`` is the base64 HMAC-SHA256 of the body keyed with the app's verifier token; the body
is CloudEvents (an array) or the older ``{"eventNotifications": [...]}``.
"""

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone

NEXUDUS_WEBHOOK_PATH = "/nexudus_qbo/webhook/nexudus"
QBO_WEBHOOK_PATH = "/nexudus_qbo/webhook/qbo"
NEXUDUS_SIGNATURE = "X-Nexudus-Hook-Signature"
INTUIT_SIGNATURE = "intuit-signature"
# The eWebhookAction names after which an invoice or a payment may have to move.
NEXUDUS_WEBHOOK_ACTIONS = (
    "CoworkerInvoiceCreate",
    "CoworkerInvoiceUpdate",
    "CoworkerInvoiceCreditNote",
    "CoworkerInvoicePaid",
    "CoworkerInvoiceReceivedPayment",
    "CoworkerInvoiceRefund",
)
# Intuit retries a failed delivery about 20, 30 and 50 minutes later: two hours cover the retries and its
# 1-5 minute aggregation, so a genuine delivery is never stale; older ones are refused.
STALE_AFTER = timedelta(hours=2)


def nexudus_signed(secret, body, signature):
    """Whether ``signature`` (a header's text) is the shared secret's signature of ``body`` (bytes)."""
    wanted = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().upper()
    return hmac.compare_digest(wanted.encode(), (signature or "").encode())


def intuit_signed(token, body, signature):
    """Whether ``signature`` (a header's text) is the verifier token's signature of ``body`` (bytes)."""
    wanted = base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(wanted, (signature or "").encode())


def intuit_events(payload):
    """``[(realm, event time or None, event id or None, what)]`` of a parsed delivery; [] if not Intuit's shape."""
    events = []
    try:
        if isinstance(payload, list):  # CloudEvents
            for event in payload:
                what = str(event.get("type") or "")
                events.append((str(event["intuitaccountid"]), moment(event.get("time")), str(event["id"]), what))
        elif isinstance(payload, dict) and isinstance(payload.get("eventNotifications"), list):
            for notification in payload["eventNotifications"]:
                realm = str(notification["realmId"])
                for entity in notification["dataChangeEvent"]["entities"]:
                    what = f"{entity.get('name')} {entity.get('operation')}"
                    events.append((realm, moment(entity.get("lastUpdated")), None, what))
    except (AttributeError, KeyError, TypeError):
        return []
    return events


def stale(events, now):
    """Whether any event is undated or older than :data:`STALE_AFTER` at ``now`` (aware)."""
    return any(when is None or when < now - STALE_AFTER for _realm, when, _key, _what in events)


def replay_key(events, body):
    """What identifies a delivery: its CloudEvents ids, else (legacy) its body."""
    ids = sorted(key for _realm, _when, key, _what in events if key)
    return hashlib.sha256("\n".join(ids).encode() if ids else body).hexdigest()


def moment(value):
    """An aware datetime from an ISO 8601 text (nanoseconds cut to microseconds), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
