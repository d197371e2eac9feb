"""QuickBooks Online webhooks (research QBO §3.4, §5.9): a notification posted for every write in the company.

The endpoint and its verifier token are set in Intuit's developer portal, not through the API; here
``sim.subscribe_webhooks(url, verifier_token)`` does it (``None`` stops the deliveries, the default). Every write
(API, batch or a person's, :meth:`~simulators.qbo.writes.WritesMixin.execute`) then posts one notification:

* ``webhook_format="cloudevents"`` (default, Intuit's format since 2025): an array of one
  ``{specversion, id, source, type: "qbo.<entity>.<operation>.v1", datacontenttype, time, intuitentityid,
  intuitaccountid, data: {}}``;
* ``webhook_format="legacy"``: ``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"id",
  "operation", "name", "lastUpdated"}]}}]}`` (research uncertainty 3: whether it is still delivered).

Headers: ``intuit-signature`` (base64 HMAC-SHA256 of the body keyed with the verifier token),
``intuit-created-time`` and ``intuit-t-id``. Intuit's retries (about 20, 30 and 50 minutes after a failure)
and its 1-5 minute aggregation are not simulated: ``sim.webhook_answers`` keeps each answer's status.
"""

import base64
import hashlib
import hmac
import uuid
from datetime import datetime, timezone

from simulators.httpbase import json_dumps
from simulators.webhook_delivery import Deliverer

WEBHOOK_FORMATS = ("cloudevents", "legacy")
OPERATIONS = {"create": ("Create", "created"), "update": ("Update", "updated"), "void": ("Void", "voided"),
              "delete": ("Delete", "deleted")}  # fmt: skip


class WebhooksMixin:
    """The simulator provides ``company``, ``now`` and ``lock``."""

    def init_webhooks(self, webhook_format="cloudevents"):
        if webhook_format not in WEBHOOK_FORMATS:
            raise ValueError(f"webhook_format must be one of {WEBHOOK_FORMATS}, not {webhook_format!r}")
        self.webhook_format = webhook_format
        self.webhook_url = None
        self.verifier_token = "sim-verifier-token"
        self.webhook_answers = []  # status (None: no answer) of every delivery, in order
        self.deliverer = Deliverer()

    def subscribe_webhooks(self, url, verifier_token="sim-verifier-token"):
        """What a developer sets on the app's Webhooks page: the endpoint (None: no deliveries) and its token."""
        self.webhook_url, self.verifier_token = url, verifier_token

    def wait_for_deliveries(self, timeout=30):
        """Block until every notification so far was posted (tests); False on timeout."""
        return self.deliverer.wait(timeout)

    def notify(self, entity, operation, entity_id):
        """Post the notification of one write (``operation``: create, update, void or delete)."""
        if not self.webhook_url or operation not in OPERATIONS:
            return
        moment = datetime.fromtimestamp(self.now(), timezone.utc)
        body = json_dumps(self.notification(entity, operation, str(entity_id), moment)).encode()
        signature = base64.b64encode(hmac.new(self.verifier_token.encode(), body, hashlib.sha256).digest()).decode()
        headers = {
            "Content-Type": "application/json",
            "intuit-signature": signature,
            "intuit-created-time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "intuit-t-id": str(uuid.uuid4()),
        }
        self.deliverer.post(self.webhook_url, body, headers, lambda status, _error: self.webhook_answers.append(status))

    def notification(self, entity, operation, entity_id, moment):
        name, past = OPERATIONS[operation]
        realm = self.company.realm_id
        if self.webhook_format == "legacy":
            stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            change = {"id": entity_id, "operation": name, "name": entity, "lastUpdated": stamp}
            return {"eventNotifications": [{"realmId": realm, "dataChangeEvent": {"entities": [change]}}]}
        return [
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": f"intuit.{realm}",
                "type": f"qbo.{entity.lower()}.{past}.v1",
                "datacontenttype": "application/json",
                "time": moment.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                "intuitentityid": entity_id,
                "intuitaccountid": realm,
                "data": {},
            }
        ]
