"""Writes: ``POST /v3/company/{realmId}/{entity}`` creates (no ``Id``) or updates (``Id`` + ``SyncToken``).

The machinery is entity-neutral; what each entity checks and fills in lives in :mod:`simulators.qbo.rules`.

* Update (research §3.5): ``SyncToken`` must be the stored one (else 5010); ``"sparse": true`` changes only
  the fields sent, a full update replaces every writable field; either bumps ``SyncToken`` and
  ``MetaData.LastUpdatedTime``. A ``null`` value removes the field.
* ``?requestid=`` (§3.6): the first response (fault or not) is kept per realm and every later request with
  that id gets it back untouched, whatever its body (QBO leaves that case undocumented). Ids are kept for
  the simulator's life. An id over 50 characters is a 2050 fault.
* ``?operation=void`` and ``?operation=delete`` (``?operation=update&include=void`` voids too, as for a
  Payment, research §2.6) take ``{"Id", "SyncToken"}`` for the entities whose rules list them, else fault
  500 "Unsupported Operation". A void keeps the row (amounts zeroed by the rules) and bumps ``SyncToken``;
  the row is then in ``voided`` and any later update or void of it is a 6000 fault (the simulator's choice).
  A delete removes the row from reads and queries, notes it in ``deleted`` and answers QBO's
  ``{"status": "Deleted", "domain": "QBO", "Id": ...}`` (the shape is from QBO's API reference, not the research).
* Fault injection: :meth:`WritesMixin.fail_next_write` answers the next writes with a ``SystemFault`` before
  doing anything (nothing is kept for their request id, so a retry runs the write);
  :meth:`WritesMixin.drop_response_after_commit` commits the next successful writes, keeps their request-id
  response, then closes the connection without an answer. A batch request (:mod:`simulators.qbo.batch`) is one
  write request for both.
* :meth:`WritesMixin.record_payment`, :meth:`WritesMixin.void_payment` and :meth:`WritesMixin.delete_payment` do
  what a person does in QuickBooks' own screens, through the same rules and ``writes`` (tests, overview buttons).
"""

import copy
import json
from datetime import datetime
from decimal import Decimal

from simulators.httpbase import Response
from simulators.qbo import faults
from simulators.qbo.data import qbo_timestamp
from simulators.qbo.query import PACIFIC
from simulators.qbo.rules import CustomerRules, ItemRules, PaymentMethodRules
from simulators.qbo.sales import CreditMemoRules, InvoiceRules, PaymentRules

MAX_REQUEST_ID = 50
WRITE_RULES = {rules.entity: rules for rules in (CustomerRules(), ItemRules(), InvoiceRules(), CreditMemoRules(),
                                                 PaymentRules(), PaymentMethodRules())}  # fmt: skip
SYSTEM_FIELDS = frozenset({"Id", "SyncToken", "MetaData", "domain", "sparse"})
SYSTEM_FAILURE = (
    "System Failure Error: An unexpected error occurred while accessing or saving your data. "
    "Please wait a few minutes and try again. If the problem persists, contact customer support."
)


def parse_body(raw):
    """The request's entity fields; numbers with a fraction become ``Decimal`` like the seeded rows'."""
    try:
        body = json.loads(raw.decode("utf-8"), parse_float=Decimal) if raw else None
    except ValueError:
        raise faults.invalid_body("The request body is not valid JSON.") from None
    if not isinstance(body, dict) or not body:
        raise faults.invalid_body("The request body must be a JSON object holding the entity's fields.")
    return body


class WritesMixin:
    """Write routes, ``requestid`` replay and fault injection; the simulator provides ``company``, ``api``..."""

    def init_writes(self):
        self.writes = []  # (entity, "create" | "update" | "void" | "delete", Id) of every committed write, in order
        self.honour_tax_override = True  # whether a request's TxnTaxDetail amounts replace computed tax (§2.4)
        self.replays = []  # request id of every answer replayed from the request-id store
        self.request_ids = {}  # (realm, requestid) -> (status, body) of the first answer
        self.inactive_names_collide = True  # an inactive row still holds its name (research §6.5)
        self._failures = []  # HTTP statuses for the next writes
        self._failure_skip = 0  # writes answered normally before the failures start
        self._drops = 0

    def fail_next_write(self, count=1, status=500, skip=0):
        """Answer ``count`` write requests, after the next ``skip`` ones, with ``status``: 429 with the gateway's
        throttle answer (as the rate limit gives it), any other status with a QBO ``SystemFault`` (code 10000)."""
        with self.lock:
            self._failures += [status] * count
            self._failure_skip = skip

    def drop_response_after_commit(self, count=1):
        """Commit the next ``count`` successful writes but close the connection instead of answering."""
        with self.lock:
            self._drops += count

    def write_routes(self, company_path):
        for rules in WRITE_RULES.values():
            self.route("POST", f"{company_path}/{rules.entity.lower()}", self.api(self.writer(rules)))

    def writer(self, rules):
        """The handler for ``POST {entity}``; it runs under the lock ``api`` takes."""

        def answer(request):
            try:
                row = self.perform(rules, request)
            except faults.WriteRejected as exc:
                return self.rejected(exc)
            return self.ok({rules.entity: copy.deepcopy(row)})

        return lambda request: self.write_request(request, answer)

    def write_request(self, request, answer, max_request_id=MAX_REQUEST_ID):
        """Injected faults, ``requestid`` replay and dropped answers around ``answer(request) -> Response``."""
        if self._failures and self._failure_skip:
            self._failure_skip -= 1
        elif self._failures:
            status = self._failures.pop(0)
            if status == 429:
                return self._throttle_fault(60)
            return self.fault("10000", "An application error has occurred while processing your request",
                              SYSTEM_FAILURE, status=status, type="SystemFault")  # fmt: skip
        request_id = request.params.get("requestid", "")
        if len(request_id) > max_request_id:
            return self.rejected(faults.too_long("requestid", max_request_id, len(request_id)))
        key = (request.path_args["realm"], request_id)
        if request_id and key in self.request_ids:
            self.replays.append(request_id)
            status, body = self.request_ids[key]
            return Response(status, copy.deepcopy(body))
        response = answer(request)
        if request_id:
            self.request_ids[key] = (response.status, copy.deepcopy(response.body))
        if response.status == 200 and self._drops:
            self._drops -= 1
            return None  # the server closes the connection: the client never hears of the commit
        return response

    def rejected(self, exc):
        return self.fault(exc.code, exc.message, exc.detail)

    def moment(self):
        return datetime.fromtimestamp(self.now(), PACIFIC)

    def perform(self, rules, request):
        """Run the write ``request`` asks for; returns the row to answer or raises ``WriteRejected``."""
        operation = requested_operation(request.params)
        if operation != "save" and operation not in rules.operations:
            raise faults.unsupported_operation(operation, rules.entity)
        return self.execute(rules, operation, parse_body(request.body))

    def execute(self, rules, operation, body):
        """Run one write ("save", "void" or "delete") of ``body`` and note it in ``writes``; returns the row."""
        if operation == "void":
            row = self.void(rules, body)
        elif operation == "delete":
            row = self.delete(rules, body)
        else:
            row, operation = self.save(rules, body)
        self.writes.append((rules.entity, operation, row["Id"]))
        self.notify(rules.entity, operation, row["Id"])  # a webhook, when subscribed (:mod:`.webhooks`)
        return row

    # -- what a person does in QuickBooks (plain Python, not HTTP) ------------------------------------
    def record_payment(self, invoice_id, amount, payment_method_name=None, txn_date=None):
        """Receive ``amount`` (a ``Decimal`` or numeric string) against an invoice as a person would in QuickBooks.

        The Payment goes through the API's rules: the invoice's customer, one line linked to the invoice, the
        invoice's balance reduced; ``payment_method_name`` names a PaymentMethod ("Cash", "Check"...),
        ``txn_date`` (``YYYY-MM-DD``) defaults to the company's today. Returns the Payment; a refusal raises the
        ``WriteRejected`` the API would have answered.
        """
        with self.lock:
            invoice = self.company.table("Invoice").get(invoice_id)
            if invoice is None:
                raise faults.not_found()
            link = {"TxnId": invoice["Id"], "TxnType": "Invoice"}
            body = {"CustomerRef": {"value": invoice["CustomerRef"]["value"]}, "TotalAmt": amount,
                    "Line": [{"Amount": amount, "LinkedTxn": [link]}]}  # fmt: skip
            if payment_method_name is not None:
                method = self.company.table("PaymentMethod").find(Name=payment_method_name)
                body["PaymentMethodRef"] = {"value": method["Id"] if method else payment_method_name}
            if txn_date is not None:
                body["TxnDate"] = str(txn_date)
            return copy.deepcopy(self.execute(PaymentRules(), "save", body))

    def void_payment(self, payment_id):
        """Void a Payment as a person would in QuickBooks; returns it (amounts zeroed, "Voided" note)."""
        return self.change_payment(payment_id, "void")

    def delete_payment(self, payment_id):
        """Delete a Payment as a person would in QuickBooks; CDC then lists it as deleted."""
        return self.change_payment(payment_id, "delete")

    def change_payment(self, payment_id, operation):
        with self.lock:
            row = self.company.table("Payment").get(payment_id)
            if row is None:
                raise faults.not_found()
            return copy.deepcopy(
                self.execute(PaymentRules(), operation, {"Id": row["Id"], "SyncToken": row["SyncToken"]})
            )

    def save(self, rules, body):
        """Create or update one row from ``body``; returns (row, operation) or raises ``WriteRejected``."""
        store = self.company.table(rules.entity)
        given = {key: value for key, value in body.items() if key not in SYSTEM_FIELDS | rules.owned}
        if blank_id(body.get("Id")):
            fields = rules.complete(without_nulls(given), None, self)
            row = store.add(copy.deepcopy(rules.initial) | fields, self.moment())
            rules.committed(self, None, row)
            return row, "create"
        stored = self.current(rules, body)
        if body.get("sparse") in (True, "true"):
            carried = SYSTEM_FIELDS | rules.owned | rules.transient
            kept = {key: value for key, value in stored.items() if key not in carried}
            given = copy.deepcopy(kept) | given
        fields = rules.complete(without_nulls(given), stored, self)
        owned = {key: copy.deepcopy(value) for key, value in stored.items() if key in rules.owned}
        row = self.replace(rules, stored, owned | fields)
        rules.committed(self, stored, row)
        return row, "update"

    def void(self, rules, body):
        """Void the row ``body`` names; the rules zero its amounts."""
        stored = self.current(rules, body)
        row = self.replace(rules, stored, rules.void(copy.deepcopy(stored), self))
        self.voided.add((rules.entity, row["Id"]))
        rules.committed(self, stored, row)
        return row

    def delete(self, rules, body):
        """Delete the row ``body`` names; returns QBO's answer for a deleted row."""
        stored = self.current(rules, body, changing=False)
        rules.check_delete(stored, self)
        key = (rules.entity, stored["Id"])
        del self.company.table(rules.entity).rows[stored["Id"]]
        self.voided.discard(key)
        self.deleted.append((*key, self.moment()))
        rules.committed(self, stored, None)
        return {"status": "Deleted", "domain": "QBO", "Id": stored["Id"]}

    def current(self, rules, body, changing=True):
        """The stored row ``body`` names by ``Id``, checked against its ``SyncToken`` (2020, 610, 5010, 6000)."""
        if blank_id(body.get("Id")):
            raise faults.required("Id")
        stored = self.company.table(rules.entity).get(body["Id"])
        if stored is None:
            raise faults.not_found()
        if blank_id(body.get("SyncToken")):
            raise faults.required("SyncToken")
        if str(body["SyncToken"]) != stored["SyncToken"]:
            raise faults.stale_object()
        if changing and (rules.entity, stored["Id"]) in self.voided:
            raise faults.business_rule(
                f"{rules.entity} {stored['Id']} is voided: a voided transaction cannot be changed."
            )
        return stored

    def replace(self, rules, stored, fields):
        """Store ``fields`` as the next version of ``stored`` (``SyncToken`` and ``LastUpdatedTime`` move on)."""
        row = {
            "Id": stored["Id"],
            "SyncToken": str(int(stored["SyncToken"]) + 1),
            "domain": stored.get("domain", "QBO"),
            "sparse": False,
            "MetaData": {**stored["MetaData"], "LastUpdatedTime": qbo_timestamp(self.moment())},
        }
        row |= {key: value for key, value in fields.items() if key not in SYSTEM_FIELDS}
        self.company.table(rules.entity).rows[stored["Id"]] = row
        return row


def requested_operation(params):
    """The write ``?operation=`` (and ``?include=``) ask for: "save" (create or update), "void", "delete"..."""
    operation = params.get("operation") or "update"
    if operation == "update" and params.get("include") == "void":
        return "void"
    return "save" if operation in ("create", "update") else operation


def blank_id(value):
    return value is None or str(value).strip() == ""


def without_nulls(fields):
    return {key: value for key, value in fields.items() if value is not None}
