"""Lists the way the Nexudus API serves them: filters, sorting and the paged ``Records`` envelope.

Query parameters (names are matched case-insensitively; unknown names are ignored, so are
``PageNumber``/``PageSize``, as on the live API):

- ``{Entity}_{Prop}=value``: equality. ``Prop`` names a field, or a field without its ``Id``
  (``CoworkerInvoice_Business`` → ``BusinessId``), or a related path without the underscore
  (``CoworkerInvoice_Coworker_FullName`` → ``CoworkerFullName``). Booleans are ``true``/``false`` in
  any case; strings compare case-insensitively; ``[a,b]`` matches any of the values (the old
  ``CoworkerInvoice_Id=[1,2]`` batch form); ``null`` or an empty value matches a null field.
- ``from_{Entity}_{Prop}`` / ``to_{Entity}_{Prop}``: inclusive bounds on dates, integers and decimals.
  Dates may be ``YYYY-MM-DDTHH:mm``, full ISO with seconds, with ``Z`` or an offset (naive = UTC).
  A value that does not parse for the field's type is ignored, as unbound model fields are.
- ``page`` (default 1), ``size`` (default 25, at most 1000), ``orderBy`` (any field, default ``Id``;
  an unknown field falls back to ``Id``), ``dir``. Ties are broken on ``Id`` so pages never overlap.

``dir`` — research uncertainty 6, the sources disagree (DEV: 1 asc / -1 desc; learn: 0 asc / 1 desc;
OLDDOC: ``Ascending``/``Descending``). The simulator follows DEV where they clash:
``1``, ``0``, ``Ascending``, ``asc`` (or nothing) sort ascending; ``-1``, ``Descending``, ``desc``
sort descending. learn's ``dir=1`` for descending is therefore *not* honoured: clients should send
``-1`` or ``Descending``. ``CurrentSortDirection`` echoes 1 (ascending) or -1 (descending).
"""

from decimal import Decimal, InvalidOperation

from .values import looks_like_datetime, parse_datetime

DEFAULT_SIZE, MAX_SIZE = 25, 1000
DESCENDING = {"-1", "descending", "desc"}


class _Operand:
    """One filter value, read in every type a field can have."""

    def __init__(self, raw):
        self.text = raw.strip().casefold()
        self.boolean = {"true": True, "false": False}.get(self.text)
        try:
            self.number = Decimal(raw.strip())
        except InvalidOperation:
            self.number = None
        self.moment = parse_datetime(raw)

    def for_value(self, value):
        """This operand in the type of the record ``value`` (None: it cannot be compared)."""
        if isinstance(value, bool):
            return self.boolean
        if isinstance(value, int | Decimal):
            return self.number if self.number is not None and self.number.is_finite() else None
        if looks_like_datetime(value):
            return self.moment
        return self.text


class Condition:
    def __init__(self, field, op, raw):
        self.field, self.op = field, op  # op: "eq", "from" or "to"
        raw = raw.strip()
        values = raw[1:-1].split(",") if op == "eq" and raw.startswith("[") and raw.endswith("]") else [raw]
        self.operands = [_Operand(value) for value in values]

    def usable(self, sample):
        """False when the value does not parse for the field's type: the filter is then ignored."""
        return sample is None or any(operand.for_value(sample) is not None for operand in self.operands)

    def test(self, value):
        if value is None:
            return self.op == "eq" and any(operand.text in ("", "null") for operand in self.operands)
        if looks_like_datetime(value):
            comparable = parse_datetime(value)
        else:
            comparable = value.casefold() if isinstance(value, str) else value
        for operand in self.operands:
            bound = operand.for_value(value)
            if bound is None:
                continue
            if self.op == "eq" and comparable == bound:
                return True
            if (self.op == "from" and comparable >= bound) or (self.op == "to" and comparable <= bound):
                return True
        return False


def conditions(entity, params, fields):
    """The filters in ``params`` that name a field of ``entity``."""
    by_lower = {name.lower(): name for name in fields}
    prefix = f"{entity.lower()}_"
    found = []
    for key, raw in params.items():
        name, op = key.lower(), "eq"
        for bound in ("from", "to"):
            if name.startswith(f"{bound}_"):
                name, op = name[len(bound) + 1 :], bound
        if not name.startswith(prefix):
            continue
        prop = name[len(prefix) :]
        field = next((by_lower[c] for c in (prop, f"{prop}id", prop.replace("_", "")) if c in by_lower), None)
        if field:
            found.append(Condition(field, op, raw))
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


def listing(records, entity, params):
    """The envelope for ``GET {url}``: ``records`` filtered, sorted and cut to the requested page."""
    fields = records[0].keys() if records else ()
    named = {key.lower(): value for key, value in params.items()}
    for condition in conditions(entity, params, fields):
        sample = next((r[condition.field] for r in records if r[condition.field] is not None), None)
        if condition.usable(sample):
            records = [record for record in records if condition.test(record[condition.field])]
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
