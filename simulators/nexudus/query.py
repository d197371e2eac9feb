"""Lists the way the Nexudus API serves them: filters, sorting and the paged ``Records`` envelope.

Query parameters (names are matched case-insensitively; unknown names are ignored, so are
``PageNumber``/``PageSize``, as on the live API, research §1.3):

- ``{Entity}_{Prop}=value``: equality (research §1.4). ``Prop`` names a field, or a field without its ``Id``
  (``CoworkerInvoice_Business`` → ``BusinessId``), or a related path without the underscore
  (``CoworkerInvoice_Coworker_FullName`` → ``CoworkerFullName``). Booleans are ``true``/``false`` in any
  case; numbers compare as decimals; dates as instants; strings case-insensitively.
- ``from_{Entity}_{Prop}`` / ``to_{Entity}_{Prop}``: inclusive bounds, documented "for all date, integer and
  decimal properties". On a text or boolean field the name is not a documented parameter and is ignored.
  Dates: the documented ``YYYY-MM-DDTHH:mm``; full ISO (seconds, fractions, ``Z`` or an offset) is accepted
  too, as LINT sends it (naive = UTC). A bare date or any other shape is not a date.
- A value that does not parse for the field's type (``CoworkerInvoice_Paid=yes``,
  ``from_CoworkerInvoice_UpdatedOn=yesterday``, ``CoworkerInvoice_Business=[1,2]``) matches **nothing**: the
  answer is an empty ``Records``. An empty value is as if the parameter were not sent. A null field never
  matches (no null filter is documented).
- The list form ``[a,b]`` (any of the values) is documented only for invoice ids, as the old batch form
  ``CoworkerInvoice_Id=[id1,id2]`` (OLDDOC): callers pass ``list_fields={"Id"}`` for that entity. Everywhere
  else ``[a,b]`` is an unrecognised value and matches nothing (text fields compare it literally).
- ``page`` (default 1), ``size`` (default 25, at most 1000), ``orderBy`` (any field, default ``Id``;
  an unknown field falls back to ``Id``), ``dir``. Ties are broken on ``Id`` so pages never overlap.

``dir`` — research uncertainty 6, the sources disagree (DEV: 1 asc / -1 desc; learn: 0 asc / 1 desc;
OLDDOC: ``Ascending``/``Descending``). The simulator follows DEV where they clash:
``1``, ``0``, ``Ascending`` (or nothing, or any other value) sort ascending; ``-1`` and ``Descending``
(any case) sort descending. learn's ``dir=1`` for descending is therefore *not* honoured: clients should send
``-1`` or ``Descending``. ``CurrentSortDirection`` echoes 1 (ascending) or -1 (descending).
"""

import re
from decimal import Decimal, InvalidOperation

from .values import looks_like_datetime, parse_datetime

DEFAULT_SIZE, MAX_SIZE = 25, 1000
DESCENDING = {"-1", "descending"}
RANGE_KINDS = {"number", "date"}
_FILTER_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?([Zz]|[+-]\d{2}:?\d{2})?")


def kind_of(value):
    """The filter type of a record value: "bool", "number", "date", "text", or None for null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | Decimal):
        return "number"
    if looks_like_datetime(value):
        return "date"
    return "text"


def parse_operand(raw, kind):
    """``raw`` read as a ``kind`` value (as :func:`comparable` gives record values), or None if it does not parse."""
    text = raw.strip()
    if kind == "bool":
        return {"true": True, "false": False}.get(text.casefold())
    if kind == "number":
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    if kind == "date":
        return parse_datetime(text) if _FILTER_DATETIME.fullmatch(text) else None
    return text.casefold()


def comparable(value, kind):
    if kind == "date":
        return parse_datetime(value)
    return value.casefold() if kind == "text" else value


def parse_list(raw):
    """The members of a ``[a,b]`` value, or None when ``raw`` is not one."""
    text = raw.strip()
    if not (text.startswith("[") and text.endswith("]")):
        return None
    return [part.strip() for part in text[1:-1].split(",")]


class Condition:
    def __init__(self, field, op, raw, allow_list=False):
        self.field, self.op = field, op  # op: "eq", "from" or "to"
        members = parse_list(raw) if allow_list and op == "eq" else None
        self.raws = members if members is not None else [raw.strip()]

    def matcher(self, kind):
        """A predicate on record values, or None when the condition is to be ignored."""
        if self.op != "eq" and kind is not None and kind not in RANGE_KINDS:
            return None  # a range on a text or boolean field: not a documented parameter
        if kind is None:  # no record has a value in this field: nothing can match
            return lambda value: False
        operands = [parse_operand(raw, kind) for raw in self.raws]
        if any(operand is None for operand in operands):
            return lambda value: False  # an unrecognised value matches nothing
        if self.op == "from":
            return lambda value: value is not None and comparable(value, kind) >= operands[0]
        if self.op == "to":
            return lambda value: value is not None and comparable(value, kind) <= operands[0]
        return lambda value: value is not None and comparable(value, kind) in operands


def conditions(entity, params, fields, list_fields=()):
    """The filters in ``params`` that name a field of ``entity`` (empty values left out)."""
    by_lower = {name.lower(): name for name in fields}
    prefix = f"{entity.lower()}_"
    found = []
    for key, raw in params.items():
        name, op = key.lower(), "eq"
        for bound in ("from", "to"):
            if name.startswith(f"{bound}_"):
                name, op = name[len(bound) + 1 :], bound
        if not name.startswith(prefix) or not raw.strip():
            continue
        prop = name[len(prefix) :]
        field = next((by_lower[c] for c in (prop, f"{prop}id", prop.replace("_", "")) if c in by_lower), None)
        if field:
            found.append(Condition(field, op, raw, allow_list=field in list_fields))
    return found


def _sort_key(value):
    if value is None:
        return (0, 0)
    return (1, value.casefold() if isinstance(value, str) else value)


def _positive_int(raw, default):
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default


def listing(records, entity, params, list_fields=()):
    """The envelope for ``GET {url}``: ``records`` filtered, sorted and cut to the requested page.

    ``list_fields``: the fields whose equality filter takes the ``[a,b]`` list form for this entity.
    """
    fields = records[0].keys() if records else ()
    named = {key.lower(): value for key, value in params.items()}
    for condition in conditions(entity, params, fields, list_fields):
        kind = next((kind_of(r[condition.field]) for r in records if r[condition.field] is not None), None)
        matches = condition.matcher(kind)
        if matches is not None:
            records = [record for record in records if matches(record[condition.field])]
    order_field = {name.lower(): name for name in fields}.get(str(named.get("orderby", "")).lower(), "Id")
    descending = str(named.get("dir", "")).strip().lower() in DESCENDING
    records = sorted(records, key=lambda r: (_sort_key(r[order_field]), r["Id"]), reverse=descending)
    page = _positive_int(named.get("page"), 1)
    size = min(_positive_int(named.get("size"), DEFAULT_SIZE), MAX_SIZE)
    start = (page - 1) * size
    chunk = records[start : start + size]
    total_pages = -(-len(records) // size)
    return {
        "Records": chunk,
        "CurrentPage": page,
        "CurrentPageSize": size,
        "CurrentOrderField": order_field,
        "CurrentSortDirection": -1 if descending else 1,
        "FirstItem": start + 1 if chunk else 0,
        "LastItem": start + len(chunk) if chunk else 0,
        "TotalItems": len(records),
        "TotalPages": total_pages,
        "HasNextPage": page < total_pages,
        "HasPreviousPage": page > 1,
    }
