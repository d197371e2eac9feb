"""QuickBooks documents as python-quickbooks objects, and the one serializer that turns them into bodies.

python-quickbooks' own ``to_json`` sends every constructor default that is not ``None`` (research QBO §4.4:
``ExchangeRate=1``, ``GlobalTaxCalculation="TaxExcluded"``, ``AllowIPNPayment``, empty ``TxnDate``/``DueDate``/
``ServiceDate``, ``Qty=0``, ``UnitPrice=0``, ``Taxable=True``, ``sparse``, ``domain``, ``SyncToken=0`` …) and
writes Decimals as strings (§4.5). The classes here are its classes, made to remember which fields were
assigned after construction: ``to_body`` emits those and only those, in the order they were first assigned,
with Decimals left as Decimals for ``wire_json`` to write as JSON numbers. A field assigned a value equal to
its default is still emitted; a default nobody assigned never is.

Reading goes the other way through python-quickbooks' ``from_json``: every key of a QuickBooks answer
(parsed with Decimal numbers, as its ``use_decimal``) becomes an attribute, nested documents become these
classes, and ``to_body`` gives the same dict back.
"""

from functools import cache

from quickbooks.objects import (
    account,
    base,
    batchrequest,
    company_info,
    creditmemo,
    customer,
    detailline,
    invoice,
    item,
    payment,
    paymentmethod,
    preferences,
    tax,
    taxrate,
)

_TRACKED = {}


class _Assigned:
    """Records the names assigned on an instance once its constructor has set the defaults."""

    def __init__(self, **fields):
        object.__setattr__(self, "_assigned", None)
        super().__init__()
        object.__setattr__(self, "_assigned", {})
        for name, value in fields.items():
            setattr(self, name, value)

    def __setattr__(self, name, value):
        assigned = self.__dict__.get("_assigned")
        if assigned is not None and not name.startswith("_"):
            assigned[name] = None
        object.__setattr__(self, name, value)


def tracked(cls):
    """``cls`` (a python-quickbooks class) remembering its assigned fields, and reading nested documents
    (its ``class_dict``, ``list_dict`` and ``detail_dict``) as tracked classes too."""
    if cls in _TRACKED:
        return _TRACKED[cls]
    made = type(cls.__name__, (_Assigned, cls), {"__module__": __name__, "__doc__": cls.__doc__})
    _TRACKED[cls] = made
    for table in ("class_dict", "list_dict", "detail_dict"):
        if isinstance(getattr(cls, table, None), dict):
            setattr(made, table, {key: tracked(value) for key, value in getattr(cls, table).items()})
    return made


Ref = tracked(base.Ref)
EmailAddress = tracked(base.EmailAddress)
LinkedTxn = tracked(base.LinkedTxn)
TxnTaxDetail = tracked(tax.TxnTaxDetail)
TaxLine = tracked(tax.TaxLine)
TaxLineDetail = tracked(tax.TaxLineDetail)
SalesItemLine = tracked(detailline.SalesItemLine)
SalesItemLineDetail = tracked(detailline.SalesItemLineDetail)
Invoice = tracked(invoice.Invoice)
CreditMemo = tracked(creditmemo.CreditMemo)
PaymentLine = tracked(payment.PaymentLine)
Payment = tracked(payment.Payment)
Customer = tracked(customer.Customer)
Item = tracked(item.Item)
BatchItemRequest = tracked(batchrequest.BatchItemRequest)
IntuitBatchRequest = tracked(batchrequest.IntuitBatchRequest)
Fault = tracked(batchrequest.Fault)
Account = tracked(account.Account)
TaxRate = tracked(taxrate.TaxRate)
PaymentMethod = tracked(paymentmethod.PaymentMethod)
Preferences = tracked(preferences.Preferences)
CompanyInfo = tracked(company_info.CompanyInfo)

DOCUMENTS = {
    cls.qbo_object_name: cls
    for cls in (Invoice, CreditMemo, Payment, Customer, Item, Account, TaxRate, PaymentMethod, Preferences, CompanyInfo)
}


def ref(value):
    """A reference (``{"value": …}``) to a QuickBooks record by its id, or a reference read from QuickBooks
    (a dict, or a ``Ref`` read by ``read``) as it was."""
    if isinstance(value, Ref):
        return value
    return Ref.from_json(value) if isinstance(value, dict) else Ref(value=value)


def field(document, *path, default=None):
    """The value at ``path`` (``"CustomerRef", "value"``) of a document read from QuickBooks, or ``default``
    when the answer did not carry it: a class default (python-quickbooks' ``Balance = 0``, ``Active = True``,
    ``Ref.value = ""`` …) never stands in for a field QuickBooks left out. Nested parts python-quickbooks keeps
    as dicts are read the same way."""
    value = document
    for name in path:
        if isinstance(value, dict):
            value = value.get(name)
        elif isinstance(value, _Assigned) and name in value._assigned:
            value = getattr(value, name)
        else:
            value = None
        if value is None:
            return default
    return value


def marked(documents, marker):
    """The first of ``documents`` whose memo (``PrivateNote``) holds ``marker``, or None."""
    return next((document for document in documents if marker in field(document, "PrivateNote", default="")), None)


def to_body(value):
    """The JSON-ready body of a tracked object (or a list or dict holding some): assigned fields only."""
    if isinstance(value, list):
        return [to_body(entry) for entry in value]
    if isinstance(value, dict):
        return {key: to_body(entry) for key, entry in value.items()}
    if isinstance(value, _Assigned):
        return {name: to_body(getattr(value, name)) for name in value._assigned}
    if hasattr(value, "__dict__"):
        raise TypeError(f"{type(value).__name__} was not built from qbo_objects: its assigned fields are unknown")
    return value


def read(entity, data):
    """A QuickBooks document answered as ``entity`` (``"Invoice"`` …), read by python-quickbooks'
    ``from_json``; an entity without a class here is read as a plain tracked object of its keys."""
    cls = DOCUMENTS.get(entity) or _plain(entity)
    return cls.from_json(data)


@cache
def _plain(entity):
    return type(entity, (_Assigned, base.QuickbooksBaseObject), {"qbo_object_name": entity, "__module__": __name__})


def read_cdc(answer, entities):
    """A change data capture answer as ``{entity: [documents]}`` for each of ``entities`` (research QBO §3.2,
    §4.9): grouped by type, deleted records as documents with ``status == "Deleted"``."""
    found = {entity: [] for entity in entities}
    for response in answer.get("CDCResponse") or []:
        for group in response.get("QueryResponse") or []:
            for entity in entities:
                found[entity].extend(read(entity, row) for row in group.get(entity) or [])
    return found


def batch_body(items):
    """The body of one batch request. ``items`` are ``(bId, operation, document[, options])``: operation
    ``"create"``, ``"update"`` or ``"delete"`` with a tracked document (``options`` e.g. ``"void"`` is sent as
    ``optionsData``), or ``"query"`` with a query statement."""
    requests = []
    for bid, operation, document, *options in items:
        if operation == "query":
            request = BatchItemRequest(bId=bid, Query=document)
        else:
            request = BatchItemRequest(bId=bid, operation=operation)
            setattr(request, document.qbo_object_name, document)  # not set_object: it changes a class-wide dict
            if options and options[0]:
                request.optionsData = options[0]
        requests.append(request)
    return to_body(IntuitBatchRequest(BatchItemRequest=requests))


def read_batch(answer):
    """``{bId: (document or None, fault or None)}`` of a batch answer's ``BatchItemResponse`` (research QBO
    §3.3, §5.7); a query's answer is its ``QueryResponse`` as ``{entity: [documents]}``."""
    results = {}
    for response in answer.get("BatchItemResponse") or []:
        fault = Fault.from_json(response["Fault"]) if response.get("Fault") else None
        document = None
        for key, value in response.items():
            if key == "QueryResponse":
                document = {
                    name: [read(name, row) for row in rows] for name, rows in value.items() if isinstance(rows, list)
                }
            elif key not in ("bId", "Fault") and isinstance(value, dict):
                document = read(key, value)
        results[response.get("bId")] = (document, fault)
    return results
