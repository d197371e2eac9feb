"""Nexudus webhooks (research Nexudus §4): the ``WebHook`` entity, the ``eWebhookAction`` enum, and deliveries.

Routes (bearer or basic auth like every /api/ call):

* ``GET /api/sys/webhooks`` (the paged ``Records`` envelope, filters as :mod:`.query`), ``GET
  /api/sys/webhooks/{id}``, ``POST /api/sys/webhooks`` with ``BusinessId``, ``Name``, ``Action``, ``Description``,
  ``URL``, ``Active`` (the write envelope, ``Value: {"Id"}``), ``PUT /api/sys/webhooks/{id}`` (the fields sent
  replace the stored ones) and ``DELETE /api/sys/webhooks/{id}``. A record also carries ``LastTrigger``,
  ``LastError`` and ``ErrorCount``; each is scoped to one location and holds one ``Action``.
* ``GET /api/utils/enums?name=eWebhookAction``: ``[{"Id", "Name"}]`` of the accounting actions the research lists.

Deliveries: when an action fires in a location, every active webhook of that location and action gets an HTTP
POST of a JSON array holding one record (the invoice as a list serves it: the DTO's fields are not documented,
only that receivers read ``[0]`` as the invoice). A non-2xx answer (or none) sets ``LastError`` and adds one to
``ErrorCount``; once ``ErrorCount`` reaches ``disable_after`` the webhook is made inactive ("automatically disabled
after repeated failures"; the count is not documented).

Signing, research uncertainty 11: ``signing="signed"`` (default) sends ``X-Nexudus-Hook-Signature``, the
UPPERCASE hex HMAC-SHA256 of the body keyed with ``shared_secret`` (webhooks of a registered app);
``signing="unsigned"`` sends no signature (whether admin-created webhooks are signed is not known).

What fires (plain-Python helpers and API writes alike): ``sim.issue_invoice`` CoworkerInvoiceCreate;
``sim.touch_invoice`` CoworkerInvoiceUpdate; ``sim.credit_invoice`` CoworkerInvoiceCreditNote (with the credit
note); a payment entry CoworkerInvoiceReceivedPayment, and CoworkerInvoicePaid once nothing is left to pay; a
refund CoworkerInvoiceRefund.
"""

import hashlib
import hmac

from ..httpbase import Response, json_dumps
from ..webhook_delivery import Deliverer
from . import query
from .ledger import PAYM, REFUND
from .payments import Rejected, envelope, json_body
from .values import iso

WEBHOOKS = r"/api/sys/webhooks"
# eWebhookAction values for accounting (research Nexudus §4).
WEBHOOK_ACTIONS = {
    2: "CoworkerUpdate",
    3: "CoworkerCreate",
    15: "CoworkerInvoiceCreateFirst",
    16: "CoworkerInvoiceCreate",
    17: "CoworkerInvoiceDelete",
    18: "CoworkerInvoiceUpdate",
    19: "CoworkerInvoiceRefund",
    20: "CoworkerInvoiceCreditNote",
    21: "CoworkerInvoicePaid",
    22: "CoworkerInvoiceFailedPayment",
    23: "CoworkerInvoiceReceivedPayment",
    24: "CoworkerInvoiceAwaitingPayment",
}
ACTION_IDS = {name: action_id for action_id, name in WEBHOOK_ACTIONS.items()}
SIGNATURE_HEADER = "X-Nexudus-Hook-Signature"
SIGNINGS = ("signed", "unsigned")
WRITABLE = ("BusinessId", "Name", "Action", "Description", "URL", "Active")


class WebhooksMixin:
    """The simulator provides ``data``, ``lock``, ``clock``, ``route``, ``authenticate`` and ``api_user``."""

    def init_webhooks(self, signing="signed", shared_secret="sim-shared-secret", disable_after=10):
        if signing not in SIGNINGS:
            raise ValueError(f"signing must be one of {SIGNINGS}, not {signing!r}")
        self.signing = signing
        self.shared_secret = shared_secret
        self.disable_after = disable_after
        self.webhooks = {}  # Id -> WebHook record
        self.deliverer = Deliverer()

    def webhook_routes(self):
        self.route("GET", WEBHOOKS, self._authed(self.list_webhooks))
        self.route("POST", WEBHOOKS, self._authed(self.create_webhook))
        self.route("GET", WEBHOOKS + r"/(?P<record_id>\d+)", self._authed(self.get_webhook))
        self.route("PUT", WEBHOOKS + r"/(?P<record_id>\d+)", self._authed(self.update_webhook))
        self.route("DELETE", WEBHOOKS + r"/(?P<record_id>\d+)", self._authed(self.delete_webhook))
        self.route("GET", r"/api/utils/enums", self._authed(self.enums))

    def _authed(self, handler):
        def authed(request):
            denied = self.authenticate(request)
            if denied:
                return denied
            with self.lock:
                return handler(request, self.api_user(request)["Email"])

        return authed

    # -- the WebHook entity ------------------------------------------------------------------------
    def list_webhooks(self, request, user):
        return Response(200, query.listing(list(self.webhooks.values()), "WebHook", request.params))

    def get_webhook(self, request, user):
        hook = self.webhooks.get(int(request.path_args["record_id"]))
        return Response(200, dict(hook)) if hook else Response(404, {"Message": "Not found"})

    def create_webhook(self, request, user):
        fields, problem = self._webhook_fields(request)
        if problem:
            return problem
        hook_id = max(self.webhooks, default=0) + 1
        self.webhooks[hook_id] = {
            "Id": hook_id,
            "Description": None,
            "Active": True,
            "LastTrigger": None,
            "LastError": None,
            "ErrorCount": 0,
        } | fields
        self.writes.append(("WebHook", "create", hook_id))
        return Response(
            200, envelope(True, "WebHook was successfully created.", {"Id": hook_id}, iso(self.clock()), user)
        )

    def update_webhook(self, request, user):
        hook = self.webhooks.get(int(request.path_args["record_id"]))
        if hook is None:
            return Response(404, {"Message": "Not found"})
        fields, problem = self._webhook_fields(request, hook)
        if problem:
            return problem
        hook.update(fields)
        self.writes.append(("WebHook", "update", hook["Id"]))
        return Response(
            200, envelope(True, "WebHook was successfully updated.", {"Id": hook["Id"]}, iso(self.clock()), user)
        )

    def delete_webhook(self, request, user):
        hook = self.webhooks.pop(int(request.path_args["record_id"]), None)
        if hook is None:
            return Response(404, {"Message": "Not found"})
        self.writes.append(("WebHook", "delete", hook["Id"]))
        return Response(200, envelope(True, "WebHook was successfully deleted.", None, iso(self.clock()), user))

    def _webhook_fields(self, request, current=None):
        """The writable fields of the body over ``current``, or the 400 refusal naming what is wrong."""
        try:
            body = json_body(request)
        except Rejected as exc:
            return None, Response(400, exc.body())
        fields = {**(current or {}), **{key: body[key] for key in WRITABLE if key in body}}
        if fields.get("BusinessId") not in self.data.businesses:
            return None, _refused("BusinessId", "Business is required.")
        if fields.get("Action") not in WEBHOOK_ACTIONS:
            return None, _refused("Action", "Action is not a valid eWebhookAction.")
        if not str(fields.get("URL") or "").startswith(("http://", "https://")):
            return None, _refused("URL", "URL is required.")
        if not fields.get("Name"):
            return None, _refused("Name", "Name is required.")
        return {key: fields[key] for key in WRITABLE if key in fields}, None

    def enums(self, request, user):
        if (request.params.get("name") or "").lower() != "ewebhookaction":
            return Response(200, [])
        return Response(200, [{"Id": action_id, "Name": name} for action_id, name in WEBHOOK_ACTIONS.items()])

    # -- deliveries --------------------------------------------------------------------------------
    def fire(self, action, invoice):
        """Post ``[invoice]`` to every active webhook of ``action`` (a name) in the invoice's location."""
        body = json_dumps([_list_record(invoice)]).encode()
        headers = {"Content-Type": "application/json"}
        if self.signing == "signed":
            headers[SIGNATURE_HEADER] = hmac.new(self.shared_secret.encode(), body, hashlib.sha256).hexdigest().upper()
        for hook in self.webhooks.values():
            if hook["Active"] and hook["Action"] == ACTION_IDS[action] and hook["BusinessId"] == invoice["BusinessId"]:
                hook["LastTrigger"] = iso(self.clock())
                self.deliverer.post(hook["URL"], body, headers, self._answered(hook["Id"]))

    def _answered(self, hook_id):
        def note(status, error):
            with self.lock:
                hook = self.webhooks.get(hook_id)
                if hook is None or (status is not None and 200 <= status < 300):
                    return
                hook["LastError"] = f"{status or 'No answer'}: {error}"[:300]
                hook["ErrorCount"] += 1
                if self.disable_after and hook["ErrorCount"] >= self.disable_after:
                    hook["Active"] = False

        return note

    def wait_for_deliveries(self, timeout=30):
        """Block until every webhook fired so far was posted (tests); False on timeout."""
        return self.deliverer.wait(timeout)

    # -- what fires --------------------------------------------------------------------------------
    def issue_invoice(self, coworker_id=None, avoid=()):
        """Issue a new invoice now, as a billing run would (plain Python): the customer's (the first active one by
        default), with two lines (no account code or tax rate name in ``avoid``) and its ledger charge. Fires
        CoworkerInvoiceCreate; returns the invoice."""
        with self.lock:
            if coworker_id is None:
                coworker_id = next(iter(self.data.coworkers))
            invoice = self.data.issue_invoice(coworker_id, self.clock(), avoid)
            self.fire("CoworkerInvoiceCreate", invoice)
            return dict(invoice)

    def credit_invoice(self, invoice_id, full=True):
        """Credit an issued invoice now (plain Python): a credit note for all its lines (or its first), allocated
        to it. Fires CoworkerInvoiceCreditNote with the credit note; returns it."""
        with self.lock:
            note = self.data.credit_invoice(invoice_id, self.clock(), full)
            self.fire("CoworkerInvoiceCreditNote", note)
            return dict(note)

    def add_entry(self, invoice, fields, gateway, user, when=None, coworker=None, business=None):
        entry = super().add_entry(invoice, fields, gateway, user, when, coworker, business)
        if invoice is not None and fields["Code"] == PAYM:
            self.fire("CoworkerInvoiceReceivedPayment", invoice)
            if invoice["Paid"]:
                self.fire("CoworkerInvoicePaid", invoice)
        elif invoice is not None and fields["Code"] == REFUND:
            self.fire("CoworkerInvoiceRefund", invoice)
        return entry


def _list_record(invoice):
    return {key: value for key, value in invoice.items() if key != "InvoiceLines"}


def _refused(name, message):
    errors = [{"AttemptedValue": None, "Message": message, "PropertyName": name}]
    return Response(400, {"Message": message, "Value": None, "Errors": errors, "WasSuccessful": False})
