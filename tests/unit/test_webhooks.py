"""The webhook checks as plain code: both signatures, Intuit's two formats, staleness and replay keys."""

import base64
import hashlib
import hmac
from datetime import datetime, timedelta, timezone

from nqc_tools import webhooks
from nqc_tools.redaction import MASK, redact

BODY = b'[{"Id": 1}]'
# Research QBO §5.9, verbatim.
LEGACY = {
    "eventNotifications": [
        {
            "realmId": "310687",
            "dataChangeEvent": {
                "entities": [
                    {"id": "1234", "operation": "Create", "name": "Account", "lastUpdated": "2025-09-08T20:52:31.657Z"}
                ]
            },
        }
    ]
}
CLOUD_EVENTS = [
    {
        "specversion": "1.0",
        "id": "88cd52aa-33b6-4351-9aa4-47572edbd068",
        "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
        "type": "qbo.account.created.v1",
        "datacontenttype": "application/json",
        "time": "2025-09-10T21:31:25.179851517Z",
        "intuitentityid": "1234",
        "intuitaccountid": "310687",
        "data": {},
    }
]


def test_nexudus_signature_is_uppercase_hex():
    signature = hmac.new(b"secret", BODY, hashlib.sha256).hexdigest().upper()
    assert webhooks.nexudus_signed("secret", BODY, signature)
    assert not webhooks.nexudus_signed("secret", BODY, signature.lower())
    assert not webhooks.nexudus_signed("secret", BODY, None)
    assert not webhooks.nexudus_signed("other", BODY, signature)


def test_intuit_signature_is_base64():
    signature = base64.b64encode(hmac.new(b"token", BODY, hashlib.sha256).digest()).decode()
    assert webhooks.intuit_signed("token", BODY, signature)
    assert not webhooks.intuit_signed("token", BODY + b" ", signature)
    assert not webhooks.intuit_signed("token", BODY, None)


def test_both_intuit_formats_are_read():
    (cloud,) = webhooks.intuit_events(CLOUD_EVENTS)
    assert cloud[0] == "310687" and cloud[2] == "88cd52aa-33b6-4351-9aa4-47572edbd068"
    assert cloud[1] == datetime(2025, 9, 10, 21, 31, 25, 179851, tzinfo=timezone.utc)
    assert cloud[3] == "qbo.account.created.v1"
    (legacy,) = webhooks.intuit_events(LEGACY)
    assert legacy == ("310687", datetime(2025, 9, 8, 20, 52, 31, 657000, tzinfo=timezone.utc), None, "Account Create")
    for other in (None, {}, [], [{}], {"eventNotifications": [{}]}, "text"):
        assert webhooks.intuit_events(other) == []


def test_stale_is_older_than_two_hours_or_undated():
    events = webhooks.intuit_events(CLOUD_EVENTS)
    sent = events[0][1]
    assert not webhooks.stale(events, sent + timedelta(minutes=100))  # Intuit's last retry
    assert webhooks.stale(events, sent + timedelta(hours=2, seconds=1))
    assert webhooks.stale([("1", None, "x", "")], sent)


def test_replay_key_is_the_event_ids_else_the_body():
    events = webhooks.intuit_events(CLOUD_EVENTS)
    assert webhooks.replay_key(events, b"one") == webhooks.replay_key(events, b"another")
    legacy = webhooks.intuit_events(LEGACY)
    assert webhooks.replay_key(legacy, b"one") != webhooks.replay_key(legacy, b"another")


def test_moment_reads_iso_texts():
    assert webhooks.moment("2026-01-02T03:04:05") == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert webhooks.moment("2026-01-02T03:04:05.5+01:00").utcoffset() == timedelta(hours=1)
    assert webhooks.moment("yesterday") is None and webhooks.moment(12) is None


def test_the_webhook_token_never_reaches_the_web_server_log():
    line = '127.0.0.1 - - "POST /nexudus_qbo/webhook/nexudus/1/ha7Viv9nniBz_FRg90-xD6cl HTTP/1.1" 200 -'
    assert redact(line) == f'127.0.0.1 - - "POST /nexudus_qbo/webhook/nexudus/1/{MASK} HTTP/1.1" 200 -'
