"""QuickBooks batch requests (research §3.3, §3.6): their limits, and the ids that make them exactly once.

A batch holds at most ``BATCH_SIZE`` operations; its ``requestid`` is at most 36 characters and then each
item's ``bId`` at most 10. The batch's request id is derived from what it carries (realm, kind, and each
row's key and revision), so the same rows sent again make the same request, which QuickBooks answers with
its first answer.
"""

import uuid

BATCH_SIZE = 30
SEND_CHUNK = 3 * BATCH_SIZE  # rows moved per call of the scheduled action, of each model: whole batches
MAX_REQUEST_ID = 36
MAX_ITEM_ID = 10
REQUEST_NAMESPACE = uuid.UUID("0b7c4c7e-4b0e-4a53-9d0b-6e6578756475")


def request_id(*parts):
    """A deterministic request id (a UUID5, 36 characters) for ``parts``."""
    return str(uuid.uuid5(REQUEST_NAMESPACE, ":".join(str(part) for part in parts)))


def chunks(records, size=None):
    """``records`` in slices of at most ``size`` (``BATCH_SIZE``)."""
    size = size or BATCH_SIZE
    return [records[start : start + size] for start in range(0, len(records), size)]


def item_id(position):
    """The ``bId`` of the item at ``position`` (1-based) of a batch."""
    text = str(position)
    if len(text) > MAX_ITEM_ID:
        raise ValueError(f"bId {text} is longer than {MAX_ITEM_ID} characters")
    return text
