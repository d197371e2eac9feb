"""Batch: ``POST /v3/company/{realmId}/batch`` (research §3.3, §3.6, §4.8, §5.7).

The body is ``{"BatchItemRequest": [{"bId": "1", "operation": "create", "Invoice": {...}},
{"bId": "2", "operation": "update", "optionsData": "void", "Payment": {"Id": ..., "SyncToken": ...}},
{"bId": "3", "Query": "select * from Invoice where DocNumber = '1001'"}]}``; the answer (HTTP 200) is
``{"BatchItemResponse": [{"bId": "1", "Invoice": {...}}, {"bId": "2", "Fault": {"Error": [...], "type":
"ValidationFault"}}, {"bId": "3", "QueryResponse": {...}}], "time": ...}``, one entry per item.

* Each item runs through the same code as the single request (:meth:`WritesMixin.execute`, the entity's rules,
  :meth:`QboSimulator.run_query`), so it is refused with the same ``Fault`` a single write would get. Items
  are independent: one item's fault does not undo or stop the others.
* ``create`` and ``update`` are the single write's save (a full or, with ``"sparse": true``, sparse update),
  ``delete`` its delete, ``update`` with ``"optionsData": "void"`` its void; entities and operations the
  single endpoints do not take are fault 500 "Unsupported Operation".
* Items run one after another in the order sent, but a row created by one item is invisible to the later
  items of the same batch (not found, not in their queries), as Intuit describes (research §3.3; Intuit blog
  2017-07-27). QBO does not promise any order, so a client must not rely on this one.
* At most ``limits.batch_items`` (30) items; more is a 400 fault 6000 for the whole batch. The batch rate
  (40 a minute per realm) is a throttle: :mod:`simulators.qbo.limits`.
* ``?requestid=`` (research §3.6) at most 36 characters (else 2050), and then every ``bId`` at most 10
  (else 2050 naming ``bId``); a repeated id gets the first answer back, from the store single writes use
  (request ids are unique per company). ``fail_next_write`` and ``drop_response_after_commit`` treat a batch
  as one write request.

Simulator choices where the research is silent (all a 400 fault for the whole batch): a body without a
non-empty ``BatchItemRequest`` list is 2020, an item without a ``bId`` 2020, a ``bId`` used twice 2310.
Per item: neither ``Query`` nor one entity payload is 2310, a missing ``operation`` 2020, an unknown one 2170,
``create`` with an ``Id`` 2310, ``update`` without one 2020. QBO's cap of 1,000 objects returned per batch is
not enforced (each query already returns at most 1,000 rows).
"""

import copy

from simulators.qbo import faults
from simulators.qbo.data import ENTITIES
from simulators.qbo.query import QueryError
from simulators.qbo.writes import WRITE_RULES, blank_id, parse_body

MAX_BATCH_REQUEST_ID = 36
MAX_BATCH_ID_WITH_REQUEST_ID = 10
OPERATIONS = ("create", "update", "delete")


class BatchMixin:
    """The batch route; the simulator provides ``write_request``, ``execute``, ``run_query``, ``limits``..."""

    def batch_routes(self, company_path):
        self.route("POST", company_path + r"/batch", self.api(self.batch))

    def batch(self, request):
        """The handler for ``POST batch``; it runs under the lock ``api`` takes."""
        return self.write_request(request, self.batch_answer, max_request_id=MAX_BATCH_REQUEST_ID)

    def batch_answer(self, request):
        try:
            items = self.batch_items(request)
        except faults.WriteRejected as exc:
            return self.rejected(exc)
        try:
            results = [self.batch_item(item) for item in items]
        finally:
            for store in self.company.stores.values():
                store.hidden.clear()
        return self.ok({"BatchItemResponse": results})

    def batch_items(self, request):
        """The request's items, checked as a whole (raises ``WriteRejected``)."""
        items = parse_body(request.body).get("BatchItemRequest")
        if not isinstance(items, list) or not items:
            raise faults.required("BatchItemRequest")
        limit = self.limits.batch_items
        if limit is not None and len(items) > limit:
            raise faults.too_many_batch_items(len(items), limit)
        with_request_id = bool(request.params.get("requestid"))
        seen = set()
        for item in items:
            if not isinstance(item, dict):
                raise faults.invalid_body("Every BatchItemRequest entry must be a JSON object.")
            bid = item.get("bId")
            if not isinstance(bid, str) or not bid.strip():
                raise faults.required("bId")
            if with_request_id and len(bid) > MAX_BATCH_ID_WITH_REQUEST_ID:
                raise faults.too_long("bId", MAX_BATCH_ID_WITH_REQUEST_ID, len(bid))
            if bid in seen:
                raise faults.invalid_body(f"bId {bid!r} is used by more than one BatchItemRequest entry.")
            seen.add(bid)
        return items

    def batch_item(self, item):
        """One item's ``BatchItemResponse`` entry: the entity, a ``QueryResponse`` or a ``Fault``."""
        try:
            result = self.batch_result(item)
        except faults.WriteRejected as exc:
            result = {"Fault": self.rejected(exc).body["Fault"]}
        except QueryError as exc:
            result = {"Fault": self.fault(exc.code, exc.message, exc.detail).body["Fault"]}
        return {"bId": item["bId"], **result}

    def batch_result(self, item):
        if "Query" in item:
            if not isinstance(item["Query"], str):
                raise faults.invalid_body("Query must be the query's text.")
            return {"QueryResponse": self.run_query(item["Query"])}
        entities = [key for key in item if key in ENTITIES]
        if len(entities) != 1:
            raise faults.invalid_body("A BatchItemRequest entry needs a Query or exactly one entity payload.")
        entity = entities[0]
        operation, kind = batch_operation(item)
        rules = WRITE_RULES.get(entity)
        if rules is None or (kind != "save" and kind not in rules.operations):
            raise faults.unsupported_operation(kind if kind == "void" else operation, entity)
        body = item[entity]
        if not isinstance(body, dict) or not body:
            raise faults.invalid_body(f"{entity} must be a JSON object holding the entity's fields.")
        if operation == "create" and not blank_id(body.get("Id")):
            raise faults.invalid_body(f"Operation create takes no Id; {entity} {body['Id']} is changed by update.")
        if operation == "update" and blank_id(body.get("Id")):
            raise faults.required("Id")
        row = self.execute(rules, kind, copy.deepcopy(body))
        if operation == "create":
            self.company.table(entity).hidden.add(row["Id"])  # later items of this batch do not see it
        return {entity: copy.deepcopy(row)}


def batch_operation(item):
    """(operation as sent, what the single write does: "save", "void" or "delete") of an entity item."""
    operation = item.get("operation")
    if blank_id(operation):
        raise faults.required("operation")
    if operation not in OPERATIONS:
        raise faults.invalid_enum("operation", operation, OPERATIONS)
    options = item.get("optionsData")
    if options == "void":
        if operation != "update":
            raise faults.invalid_body('optionsData "void" goes with operation "update".')
        return operation, "void"
    if not blank_id(options):
        raise faults.invalid_enum("optionsData", options, ("void",))
    return operation, "delete" if operation == "delete" else "save"
