"""The QBO ``Fault`` errors a write can end in, as exceptions the write handler renders with ``QboSimulator.fault``.

Codes, messages and the 610/5010/6140/6240 details are QBO's (research §3.9, §5.7); the other details are the
simulator's own wording, naming the field at fault. A malformed date is a 2020 fault ("Invalid date") and a
value that is not a number a 2310 one: QBO's codes for those are not in the research.
"""

OBJECT_NOT_FOUND = (
    "Object Not Found : Something you're trying to use has been made inactive. "
    "Check the fields with accounts, customers, items, vendors or employees."
)
STALE_OBJECT = (
    "Stale Object Error : You and root were working on this at the same time. "
    "root finished before you did, so your work was not saved."
)
NAME_TAKEN = "The name supplied already exists. : Another {} is already using this name. Please use a different name."
CUSTOMER_NAME_TAKEN = NAME_TAKEN.format("customer, vendor or employee")
ITEM_NAME_TAKEN = NAME_TAKEN.format("product or service")


class WriteRejected(Exception):
    """A write QBO refuses with a 400 ``ValidationFault``."""

    def __init__(self, code, message, detail):
        super().__init__(detail)
        self.code, self.message, self.detail = code, message, detail


def required(field):
    return WriteRejected(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {field} is missing in the request",
    )


def too_long(field, limit, length):
    return WriteRejected(
        "2050",
        "String length is either shorter or longer than supported by specification",
        f"String length specified does not match the supported length for {field}. "
        f"Min:1 Max:{limit} supplied length:{length}",
    )


def invalid_enum(field, value, allowed):
    return WriteRejected(
        "2170", "Invalid Enumeration", f"Invalid Enumeration : {field} {value!r} is not one of {', '.join(allowed)}"
    )


def invalid_body(detail):
    return WriteRejected("2310", "Invalid request body", detail)


def business_rule(detail):
    return WriteRejected("6000", "A business validation error has occurred while processing your request", detail)


def duplicate_name(detail):
    return WriteRejected("6240", "Duplicate Name Exists Error", detail)


def not_found():
    return WriteRejected("610", "Object Not Found", OBJECT_NOT_FOUND)


def stale_object():
    return WriteRejected("5010", "Stale Object Error", STALE_OBJECT)


def duplicate_doc_number(doc_number, entity, txn_id):
    return WriteRejected(
        "6140",
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. This number has already been used. "
        f"DocNumber={doc_number} is assigned to TxnType={entity} with TxnId={txn_id}",
    )


def cannot_link(detail):
    return WriteRejected("620", "TxnID cannot be linked", detail)


def invalid_date(field, value):
    return WriteRejected("2020", "Invalid date", f"Invalid date : {field} {value!r} is not a date in YYYY-MM-DD form")


def invalid_number(field, value):
    return invalid_body(f"{field} {value!r} is not a number.")


def unsupported_operation(operation, entity):
    return WriteRejected("500", "Unsupported Operation", f"Operation {operation} is not supported for {entity}.")


def too_many_batch_items(count, limit):
    return business_rule(f"A batch request holds at most {limit} BatchItemRequest entries; this one holds {count}.")
