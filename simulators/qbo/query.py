"""The QuickBooks Online query language, as far as QBO documents it, and its evaluation over stored rows.

    SELECT * | COUNT(*) FROM Entity [WHERE a op v [AND ...]] [ORDERBY f [ASC|DESC][, ...]]
        [STARTPOSITION n] [MAXRESULTS n]

Keywords and entity names are case-insensitive; there is no OR, projection, JOIN or GROUP BY. Operators are
``= < > <= >= IN (...) LIKE`` (``%`` is the only wildcard); strings are single-quoted with ``\\'`` escapes;
string comparisons ignore case, as QBO's do. ``ORDER BY`` (two words, as python-quickbooks' ``all()`` sends
it) is accepted too. Parse failures raise :class:`QueryError` code 4000, semantic ones code 4001.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

DEFAULT_MAX_RESULTS = 100
MAX_RESULTS_LIMIT = 1000
# QBO stamps its own times in Pacific time; a timestamp literal without an offset is read in that zone.
PACIFIC = timezone(timedelta(hours=-8))

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:\\.|[^'\\])*')
      | (?P<number>-?\d+(?:\.\d+)?)(?![\w.])
      | (?P<op><=|>=|=|<|>)
      | (?P<punct>[(),*])
      | (?P<word>[A-Za-z_][\w.]*)
    )""",
    re.VERBOSE,
)
_COMPARISONS = {"=", "<", ">", "<=", ">="}
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}(T.*)?")


class QueryError(Exception):
    def __init__(self, code, message, detail):
        super().__init__(detail)
        self.code, self.message, self.detail = code, message, detail


def _parse_error(detail):
    return QueryError("4000", "Error parsing query", f"QueryParserError: {detail}")


def _invalid(detail):
    return QueryError("4001", "Invalid query", f"QueryValidationError: {detail}")


@dataclass
class Condition:
    field: str
    op: str  # one of _COMPARISONS, "IN" or "LIKE"
    value: object  # str, Decimal or bool; a list of them for IN


@dataclass
class Query:
    entity: str
    count: bool
    conditions: list = field(default_factory=list)
    order_by: list = field(default_factory=list)  # (field, descending)
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS


def _tokenize(text):
    tokens, position, text = [], 0, text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise _parse_error(f'Encountered "{text[position:].strip()[:20]}" at column {position + 1}.')
        kind = match.lastgroup
        tokens.append((kind, match.group(kind), match.start(kind) + 1))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text):
        self.tokens = _tokenize(text)
        self.index = 0

    def peek(self, offset=0):
        index = self.index + offset
        return self.tokens[index] if index < len(self.tokens) else (None, None, None)

    def next(self, expected="a token"):
        token = self.peek()
        if token[0] is None:
            raise _parse_error(f"Unexpected end of query. Was expecting {expected}.")
        self.index += 1
        return token

    def at_keyword(self, *words, offset=0):
        kind, value, _ = self.peek(offset)
        return kind == "word" and value.upper() in words

    def keyword(self, *words):
        kind, value, column = self.next(" or ".join(words))
        if kind != "word" or value.upper() not in words:
            raise _parse_error(f'Encountered "{value}" at column {column}. Was expecting {" or ".join(words)}.')
        return value.upper()

    def punct(self, char):
        kind, value, column = self.next(f'"{char}"')
        if value != char or kind != "punct":
            raise _parse_error(f'Encountered "{value}" at column {column}. Was expecting "{char}".')

    def integer(self, clause):
        kind, value, column = self.next("a number")
        if kind != "number" or "." in value or value.startswith("-"):
            raise _parse_error(f'Encountered "{value}" at column {column}. Was expecting a number after {clause}.')
        return int(value)

    def identifier(self):
        kind, value, column = self.next("a property name")
        if kind != "word":
            raise _parse_error(f'Encountered "{value}" at column {column}. Was expecting a property name.')
        return value

    def literal(self):
        kind, value, column = self.next("a value")
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", value[1:-1])
        if kind == "number":
            return Decimal(value)
        if kind == "word" and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _parse_error(f'Encountered "{value}" at column {column}. Was expecting a value.')


def parse(text, entities):
    """Parse ``text`` into a :class:`Query`; ``entities`` maps lower-cased names to canonical entity names."""
    parser = _Parser(text)
    parser.keyword("SELECT")
    count = parser.at_keyword("COUNT")
    if count:
        parser.next()
        parser.punct("(")
        parser.punct("*")
        parser.punct(")")
    else:
        kind, value, column = parser.next('"*"')
        if value != "*":
            raise _parse_error(f'Encountered "{value}" at column {column}. Projections are not supported: use "*".')
    parser.keyword("FROM")
    name = parser.identifier()
    if name.lower() not in entities:
        raise _invalid(f"Entity {name} is not supported by query.")
    query = Query(entity=entities[name.lower()], count=count)
    if parser.at_keyword("WHERE"):
        parser.next()
        query.conditions.append(_condition(parser))
        while parser.at_keyword("AND"):
            parser.next()
            query.conditions.append(_condition(parser))
    if parser.at_keyword("ORDERBY") or (parser.at_keyword("ORDER") and parser.at_keyword("BY", offset=1)):
        parser.index += 1 if parser.at_keyword("ORDERBY") else 2
        query.order_by.append(_order_term(parser))
        while parser.peek()[1] == ",":
            parser.next()
            query.order_by.append(_order_term(parser))
    while parser.at_keyword("STARTPOSITION", "MAXRESULTS"):
        clause = parser.keyword("STARTPOSITION", "MAXRESULTS")
        number = parser.integer(clause)
        if clause == "STARTPOSITION":
            query.start_position = number
        else:
            query.max_results = number
    kind, value, column = parser.peek()
    if kind is not None:
        raise _parse_error(f'Encountered "{value}" at column {column}.')
    if query.start_position < 1:
        raise _invalid(f"value {query.start_position} is too small. Min allowed value for STARTPOSITION is: 1")
    if query.max_results > MAX_RESULTS_LIMIT:
        raise _invalid(f"value {query.max_results} is too large. Max allowed value is: {MAX_RESULTS_LIMIT}")
    if query.max_results < 1:
        raise _invalid(f"value {query.max_results} is too small. Min allowed value for MAXRESULTS is: 1")
    return query


def _condition(parser):
    name = parser.identifier()
    kind, value, column = parser.next("an operator")
    if kind == "op":
        op = value
        operand = parser.literal()
    elif kind == "word" and value.upper() in ("IN", "LIKE"):
        op = value.upper()
        if op == "LIKE":
            operand = parser.literal()
            if not isinstance(operand, str):
                raise _parse_error(f"LIKE at column {column} needs a quoted string.")
        else:
            parser.punct("(")
            operand = [parser.literal()]
            while parser.peek()[1] == ",":
                parser.next()
                operand.append(parser.literal())
            parser.punct(")")
    else:
        raise _parse_error(f'Encountered "{value}" at column {column}. Was expecting an operator.')
    if name.lower() == "id" and op not in ("=", "IN"):
        raise _invalid(f"Operator {op} is not supported for property Id: use = or IN.")
    return Condition(name, op, operand)


def _order_term(parser):
    name = parser.identifier()
    descending = False
    if parser.at_keyword("ASC", "DESC"):
        descending = parser.keyword("ASC", "DESC") == "DESC"
    return name, descending


# -- evaluation ------------------------------------------------------------------------------------------


def resolve(row, path):
    """The value at a dotted ``path`` (keys matched case-insensitively); a reference gives its ``value``."""
    value = row
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        if part not in value:
            part = next((key for key in value if key.lower() == part.lower()), part)
        value = value.get(part)
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


def _as_datetime(text):
    if not _DATE_LIKE.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=PACIFIC)


def _as_bool(value):
    return value if isinstance(value, bool) else {"true": True, "false": False}.get(str(value).lower())


def _compare(stored, literal):
    """-1, 0 or 1 comparing a stored value with a query literal; None when they cannot be compared."""
    if stored is None:
        return None
    if isinstance(stored, bool) or isinstance(literal, bool):
        left, right = _as_bool(stored), _as_bool(literal)
    elif isinstance(stored, (int, float, Decimal)) or isinstance(literal, Decimal):
        try:
            left, right = Decimal(str(stored)), Decimal(str(literal))
        except InvalidOperation:
            return None
    elif isinstance(stored, str):
        left, right = _as_datetime(stored), _as_datetime(literal)
        if left is None or right is None:
            left, right = stored.casefold(), literal.casefold()
    else:
        return None
    if left is None or right is None:
        return None
    return (left > right) - (left < right)


def _matches(row, condition):
    stored = resolve(row, condition.field)
    if condition.op == "IN":
        return any(_compare(stored, value) == 0 for value in condition.value)
    if condition.op == "LIKE":
        pattern = ".*".join(re.escape(part) for part in condition.value.split("%"))
        return isinstance(stored, str) and re.fullmatch(pattern, stored, re.IGNORECASE | re.DOTALL) is not None
    outcome = _compare(stored, condition.value)
    if outcome is None:
        return False
    return {"=": outcome == 0, "<": outcome < 0, ">": outcome > 0, "<=": outcome <= 0, ">=": outcome >= 0}[condition.op]


def _sort_key(value, path):
    if value is None:
        return (0, 0)
    if isinstance(value, (bool, int, float, Decimal)):
        return (1, Decimal(str(value)) if not isinstance(value, bool) else int(value))
    if path.lower() == "id" and str(value).isdigit():
        return (1, int(value))
    moment = _as_datetime(str(value))
    if moment is not None:
        return (2, moment.timestamp())
    return (3, str(value).casefold())


def run(query, rows, name_list):
    """Evaluate ``query`` over ``rows`` (in creation order) and return the ``QueryResponse`` body.

    ``name_list`` entities (accounts, customers, items...) hide inactive rows unless the WHERE clause
    mentions ``Active``, as QBO does.
    """
    selected = [row for row in rows if all(_matches(row, condition) for condition in query.conditions)]
    if name_list and not any(condition.field.lower() == "active" for condition in query.conditions):
        selected = [row for row in selected if row.get("Active", True) is not False]
    if query.count:
        return {"totalCount": len(selected)}
    for path, descending in reversed(query.order_by):
        selected.sort(key=lambda row, path=path: _sort_key(resolve(row, path), path), reverse=descending)
    start = query.start_position - 1
    page = selected[start : start + query.max_results]
    if not page:
        return {}
    return {query.entity: page, "startPosition": query.start_position, "maxResults": len(page)}
