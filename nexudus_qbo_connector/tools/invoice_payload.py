"""A Nexudus invoice or credit note as the QuickBooks Invoice or CreditMemo that stands for it, exactly.

Plain data in, Decimal throughout. ``build`` returns the QuickBooks document, its body and the total
QuickBooks must end with, or raises ``PayloadError`` with every reason it cannot, in words an accountant
can act on. The document is built from python-quickbooks objects (``qbo_objects``) and the body is what
``qbo_objects.to_body`` makes of it: the fields set here, never the classes' defaults (research QBO §4.4).

Amounts. Each Nexudus line becomes one QuickBooks line whose ``Amount`` is the line's net amount after
discount; QuickBooks adds the tax. Nexudus does not say whether a location's prices include tax (no
documented field), so each line says it by its own numbers (``line_pricing``): tax-exclusive when
``UnitPrice × Quantity = SubTotal`` (net before discount, so net is ``SubTotal − DiscountAmount``),
tax-inclusive when ``UnitPrice × Quantity − DiscountAmount = SubTotal + TaxAmount`` (``SubTotal`` is then
the net after discount). A line without tax or discount fits both and follows the invoice's other lines
(or the location's setting); a line that fits neither is refused with both figures. Nexudus rounds tax
per line, QuickBooks per rate over the whole invoice, so the two can differ by a cent: the body carries
the Nexudus tax per QuickBooks tax rate in ``TxnTaxDetail`` (an override QuickBooks may or may not
honour; the caller checks QuickBooks' total afterwards and refuses any difference). Credit notes are
negative in Nexudus and positive in QuickBooks.
"""

import base64
import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .matching import percent, rate
from .qbo_objects import (
    CreditMemo,
    Invoice,
    SalesItemLine,
    SalesItemLineDetail,
    TaxLine,
    TaxLineDetail,
    TxnTaxDetail,
    ref,
    to_body,
)
from .texts import _lt
from .transferability import ACCOUNT_MAPPINGS, ADMINISTRATORS, MANAGERS, SETTINGS, TAX_MAPPINGS, invoice_label

CENT = Decimal("0.01")
UNIT_PRICE_PLACES = Decimal("0.00001")
DOC_NUMBER_LIMIT = 21
DESCRIPTION_LIMIT = 4000
NOTE_LIMIT = 4000


class PayloadError(Exception):
    """The invoice cannot be expressed in QuickBooks; ``problems`` lists why, one sentence each."""

    def __init__(self, problems):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class TaxTarget:
    """Where lines of one Nexudus tax rate go: the QuickBooks tax code (US: the tax group applied to the
    invoice when ``us_taxable``) and, non-US, the QuickBooks sales tax rates that code applies."""

    code_id: str
    rate_ids: list = field(default_factory=list)  # the QuickBooks TaxRate ids the code applies on sales
    us_taxable: bool = False
    percent: Decimal | None = None  # the code's sales rate, when it applies exactly one


@dataclass
class Target:
    """What the QuickBooks side looks like for one invoice (the addon fills it from its records)."""

    customer_id: str
    us: bool = False
    custom_txn_numbers: bool = True
    use_invoice_period: bool = False
    multicurrency: bool = False
    prices_include_tax: bool = False
    time_zone: str = "UTC"
    items: dict = field(default_factory=dict)  # Nexudus account code -> QuickBooks item id
    taxes: dict = field(default_factory=dict)  # (tax name, rate as Decimal) -> TaxTarget
    default_tax: TaxTarget | None = None  # for lines without a Nexudus tax rate


@dataclass
class Payload:
    entity: str  # "Invoice" or "CreditMemo"
    document: object  # the qbo_objects Invoice or CreditMemo
    body: dict  # to_body(document)
    total: Decimal  # what QuickBooks' TotalAmt must be
    doc_number: str  # the number sent (shortened when needed), or "" when QuickBooks numbers it
    marker: str  # a text in PrivateNote that finds this document again in QuickBooks


def money(value):
    """A money value from the Nexudus JSON (number or string) as an exact Decimal in cents."""
    return Decimal(str(value if value is not None else 0)).quantize(CENT, ROUND_HALF_UP)


def marker(invoice):
    return f"[nexudus-invoice {invoice['Id']}]"


def short_doc_number(number):
    """``number`` within QuickBooks' 21 characters: as is when it fits, else a deterministic
    12-character head, "~" and 8 characters of its hash (the full number stays in the memo)."""
    if len(number) <= DOC_NUMBER_LIMIT:
        return number
    digest = base64.b32encode(hashlib.sha1(number.encode("utf-8")).digest()).decode("ascii")[:8]
    return f"{number[:12]}~{digest}"


def local_date(invoice, field_name, time_zone):
    """The calendar date of a Nexudus datetime in the location's time zone: the ``…Local`` twin when
    Nexudus gives it, else the UTC value converted."""
    local = invoice.get(f"{field_name}Local")
    if local:
        return str(local)[:10]
    value = invoice.get(field_name)
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        zone = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.utc
    return moment.astimezone(zone).date().isoformat()


EXCLUSIVE, INCLUSIVE, EITHER = "exclusive", "inclusive", "either"


def line_pricing(line):
    """How one Nexudus line's numbers read: EXCLUSIVE, INCLUSIVE, EITHER (both readings give the same
    net) or None (neither reading fits)."""
    gross = money(Decimal(str(line.get("UnitPrice") or 0)) * Decimal(str(line.get("Quantity") or 0)))
    subtotal, tax, discount = (money(line.get(key)) for key in ("SubTotal", "TaxAmount", "DiscountAmount"))
    exclusive = gross == subtotal
    inclusive = gross - discount == subtotal + tax
    if exclusive and inclusive:
        return EITHER
    return EXCLUSIVE if exclusive else INCLUSIVE if inclusive else None


def invoice_pricing(lines, default_inclusive=False):
    """Whether an invoice's prices include tax, as the lines that can tell say (else ``default_inclusive``)."""
    readings = {line_pricing(line) for line in lines} - {EITHER, None}
    return readings.pop() == INCLUSIVE if len(readings) == 1 else default_inclusive


def build(invoice, lines, target):
    """The QuickBooks ``Payload`` for a Nexudus ``invoice`` dict and its ``lines``; raises PayloadError."""
    credit = bool(invoice.get("CreditNote"))
    sign = Decimal(-1) if credit else Decimal(1)
    label = invoice_label(invoice)
    problems = []
    qbo_lines, tax_by_code = [], {}
    net_total = tax_total = Decimal(0)
    ordered = sorted(lines, key=lambda line: (line.get("Position") or 0, line.get("Id") or 0))
    inclusive = invoice_pricing(ordered, target.prices_include_tax)
    target = replace(target, prices_include_tax=inclusive)
    kept = []  # [line, net, tax, where]
    for number, line in enumerate(ordered, start=1):
        where = _lt("Invoice %(label)s, line %(line)s", label=label, line=line.get("Position") or number)
        pricing = line_pricing(line)
        if pricing is None:
            problems.append(_pricing_problem(line, where))
            continue
        if pricing == INCLUSIVE and not inclusive or pricing == EXCLUSIVE and inclusive:
            problems.append(
                _lt(
                    "%(where)s: its prices include tax while the invoice's other lines do not; QuickBooks takes "
                    "one of the two per invoice. Fix: correct the line in Nexudus.",
                    where=where,
                )
                if pricing == INCLUSIVE
                else _lt(
                    "%(where)s: its prices are before tax while the invoice's other lines include tax; QuickBooks "
                    "takes one of the two per invoice. Fix: correct the line in Nexudus.",
                    where=where,
                )
            )
            continue
        net = money(line.get("SubTotal"))
        if pricing != INCLUSIVE:
            net -= money(line.get("DiscountAmount"))
        kept.append([line, sign * net, sign * money(line.get("TaxAmount")), where])
    rounding = _round_as_quickbooks(kept, target) if not target.us else []
    for line, net, tax, where in kept:
        built, tax_target = _line(line, net, tax, where, target, problems)
        if built is None:
            continue
        qbo_lines.append(built)
        net_total += net
        tax_total += tax
        key = tax_target.code_id
        tax_by_code.setdefault(key, [tax_target, Decimal(0)])[1] += tax
    for built, tax_target in rounding if not problems else []:
        qbo_lines.append(built)
        net_total += built.Amount
        tax_by_code.setdefault(tax_target.code_id, [tax_target, Decimal(0)])
    expected = sign * money(invoice.get("TotalAmount"))
    if not problems and net_total + tax_total != expected:
        problems.append(
            _lt(
                "Invoice %(label)s: its lines add up to %(sum)s (%(net)s net + %(tax)s tax) but its total in Nexudus "
                "is %(total)s, a difference of %(difference)s. Fix: correct the invoice in Nexudus, then Refresh "
                "from Nexudus.",
                label=label,
                sum=net_total + tax_total,
                net=net_total,
                tax=tax_total,
                total=expected,
                difference=expected - net_total - tax_total,
            )
        )
    if not qbo_lines and not problems:
        problems.append(_lt("Invoice %(label)s has no lines in Nexudus: there is nothing to transfer.", label=label))
    tax_detail = _tax_detail(label, target, tax_by_code, tax_total, problems)
    if problems:
        raise PayloadError(problems)
    document = _header(invoice, target, credit, label)
    document.Line = qbo_lines
    if tax_detail:
        document.TxnTaxDetail = tax_detail
    body = to_body(document)
    return Payload(
        entity=document.qbo_object_name,
        document=document,
        body=body,
        total=net_total + tax_total,
        doc_number=body.get("DocNumber", ""),
        marker=marker(invoice),
    )


def _round_as_quickbooks(kept, target):
    """Make QuickBooks' own tax arithmetic end on Nexudus's total, whether it honours the tax the body states
    or not. Nexudus rounds tax per line, QuickBooks per rate on the summed net amounts; where the two differ,
    the nets of that rate move by a cent a line (largest lines first) to the nearest sum ``N`` for which
    ``N + round(N × rate)`` is Nexudus's gross of that rate, and the tax stated becomes the rest — so the
    total is exact to the cent and the tax within a cent a line. Some grosses no such sum reaches (at 20%,
    ``N + round(N / 5)`` steps over one value in six): the nets then aim a cent or two short, and a rounding
    line of that amount at a 0% code (the default tax code, else any mapped one) makes up the total. Returns
    those rounding lines; codes with several rates are left to the check after the transfer."""
    groups = {}
    for entry in kept:
        tax_target = _tax_target(entry[0], target)
        if tax_target is not None and tax_target.percent is not None and len(tax_target.rate_ids) == 1:
            groups.setdefault(tax_target.code_id, (tax_target.percent, []))[1].append(entry)
    zero = next(
        (t for t in [target.default_tax, *target.taxes.values()] if t and t.percent == 0 and len(t.rate_ids) == 1),
        None,
    )
    rounding = []
    for rate_percent, entries in groups.values():
        net = sum((entry[1] for entry in entries), Decimal(0))
        gross = net + sum((entry[2] for entry in entries), Decimal(0))
        cents = [Decimal(n) / 100 for n in range(-len(entries), len(entries) + 1)]
        aims = [Decimal(0)] + ([CENT, -CENT, 2 * CENT, -2 * CENT] if zero and rate_percent else [])
        found = next(
            (
                (aim, shift)
                for aim in aims
                for shift in sorted(cents, key=lambda d: (abs(d), d))
                if net + shift + money((net + shift) * rate_percent / 100) == gross - aim
            ),
            None,
        )
        if found is None:
            continue  # the tax stated carries it, and the total is checked after the transfer
        aim, shift = found
        cent = CENT if shift > 0 else -CENT
        for entry in sorted(entries, key=lambda e: abs(e[1]), reverse=True)[: int(abs(shift) / CENT)]:
            entry[1] += cent
            entry[2] -= cent
        for entry in entries if aim else []:
            entry[2] -= aim  # the stated tax of the rate leaves the rounding to its line
            break
        if aim:
            item = target.items.get(entries[0][0].get("FinancialAccountCode") or "")
            line = SalesItemLine(
                DetailType="SalesItemLineDetail",
                Amount=aim,
                Description="Rounding: Nexudus rounds tax per line, QuickBooks per rate",
                SalesItemLineDetail=SalesItemLineDetail(ItemRef=ref(item), TaxCodeRef=ref(zero.code_id)),
            )
            if target.prices_include_tax:
                line.SalesItemLineDetail.TaxInclusiveAmt = aim
            rounding.append((line, zero))
    return rounding


def _pricing_problem(line, where):
    quantity, unit_price = line.get("Quantity"), line.get("UnitPrice")
    gross = money(Decimal(str(unit_price or 0)) * Decimal(str(quantity or 0)))
    subtotal, tax, discount = (money(line.get(key)) for key in ("SubTotal", "TaxAmount", "DiscountAmount"))
    return _lt(
        "%(where)s: its amounts fit neither a price before tax nor a price with tax included: %(quantity)s × "
        "%(unit_price)s = %(gross)s, less discount %(discount)s = %(net)s, while SubTotal is %(subtotal)s and tax "
        "%(tax)s (SubTotal + tax = %(with_tax)s). Fix: correct the line in Nexudus, then Refresh from Nexudus.",
        where=where,
        quantity=quantity,
        unit_price=unit_price,
        gross=gross,
        discount=discount,
        net=gross - discount,
        subtotal=subtotal,
        tax=tax,
        with_tax=subtotal + tax,
    )


def _line(line, net, tax, where, target, problems):
    code = line.get("FinancialAccountCode") or ""
    item_id = target.items.get(code)
    if not item_id:
        problems.append(
            _lt(
                "%(where)s: Nexudus account %(code)s “%(name)s” has no QuickBooks item. Fix (%(managers)s): map it "
                "in %(mappings)s.",
                where=where,
                code=code or "(none)",
                name=line.get("FinancialAccountName") or "",
                managers=MANAGERS,
                mappings=ACCOUNT_MAPPINGS,
            )
        )
        return None, None
    tax_target = _tax_target(line, target)
    if tax_target is None:
        problems.append(
            _lt(
                "%(where)s: Nexudus tax rate “%(name)s” %(rate)s has no QuickBooks tax code. Fix (%(managers)s): "
                "map it in %(mappings)s (or %(administrators)s: choose the Default tax code in %(settings)s).",
                where=where,
                name=(line.get("TaxCategoryName") or "").strip() or _lt("no tax rate"),
                rate=percent(line.get("TaxRate")),
                managers=MANAGERS,
                mappings=TAX_MAPPINGS,
                administrators=ADMINISTRATORS,
                settings=SETTINGS,
            )
        )
        return None, None
    quantity = Decimal(str(line.get("Quantity") or 0))
    description = (line.get("DisplayAs") or line.get("Description") or "").strip()
    discount = money(line.get("DiscountAmount"))
    if discount:
        description = f"{description} (discount {line.get('DiscountCode') or ''} {discount} included)".strip()
    detail = SalesItemLineDetail(ItemRef=ref(item_id))
    unit_price = (net / quantity).quantize(UNIT_PRICE_PLACES, ROUND_HALF_UP) if quantity > 0 else None
    if unit_price is not None and (unit_price * quantity).quantize(CENT, ROUND_HALF_UP) == net:
        detail.Qty = quantity
        detail.UnitPrice = unit_price
    elif quantity > 0:
        description = f"{description} ({quantity} ×)".strip()
    if target.us:
        detail.TaxCodeRef = ref("TAX" if tax_target.us_taxable else "NON")
    else:
        detail.TaxCodeRef = ref(tax_target.code_id)
        if target.prices_include_tax:
            detail.TaxInclusiveAmt = net + tax
    built = SalesItemLine(DetailType="SalesItemLineDetail", Amount=net, SalesItemLineDetail=detail)
    if description:
        built.Description = description[:DESCRIPTION_LIMIT]
    return built, tax_target


def _tax_target(line, target):
    name = (line.get("TaxCategoryName") or "").strip()
    value = rate(line.get("TaxRate"))
    found = target.taxes.get((name, value))
    if found is None and not value and name.lower() in ("", "[no tax]"):
        return target.default_tax
    return found


def _tax_detail(label, target, tax_by_code, tax_total, problems):
    """The Nexudus tax as QuickBooks ``TxnTaxDetail``: per tax rate (non-US), or one total (US)."""
    if target.us:
        groups = {tax_target.code_id for tax_target, _amount in tax_by_code.values() if tax_target.us_taxable}
        if len(groups) > 1:
            problems.append(
                _lt(
                    "Invoice %(label)s has lines taxed under %(count)s different US tax groups; QuickBooks applies "
                    "one sales tax per invoice. Fix: split the invoice in Nexudus, or map its rates to one tax group.",
                    label=label,
                    count=len(groups),
                )
            )
        if not groups:
            return None
        return TxnTaxDetail(TxnTaxCodeRef=ref(groups.pop()), TotalTax=tax_total)
    by_rate = {}
    for tax_target, amount in tax_by_code.values():
        if not amount and not tax_target.rate_ids:
            continue  # an exempt code without rates: nothing to state
        if len(tax_target.rate_ids) != 1:
            return None  # a combined code: QuickBooks splits it itself; its total is checked afterwards
        rate_id = tax_target.rate_ids[0]
        by_rate[rate_id] = by_rate.get(rate_id, Decimal(0)) + amount
    tax_lines = [
        TaxLine(
            Amount=amount,
            DetailType="TaxLineDetail",
            TaxLineDetail=TaxLineDetail(TaxRateRef=ref(rate_id), PercentBased=True),
        )
        for rate_id, amount in by_rate.items()
    ]
    return TxnTaxDetail(TotalTax=tax_total, TaxLine=tax_lines)


def _header(invoice, target, credit, label):
    number = invoice.get("InvoiceNumber") or ""
    kind = "credit note" if credit else "invoice"
    document = (CreditMemo if credit else Invoice)(CustomerRef=ref(target.customer_id))
    if target.custom_txn_numbers and number:
        document.DocNumber = short_doc_number(number)
    date_field = "InvoiceFromDate" if target.use_invoice_period and invoice.get("InvoiceFromDate") else "CreatedOn"
    txn_date = local_date(invoice, date_field, target.time_zone)
    if txn_date:
        document.TxnDate = txn_date
    due = local_date(invoice, "DueDate", target.time_zone)
    if due and not credit:
        document.DueDate = due
    note = f"Nexudus {kind} {number or label} ({invoice.get('BusinessName') or ''}) {marker(invoice)}"
    document.PrivateNote = note[:NOTE_LIMIT]
    if not target.us:
        document.GlobalTaxCalculation = "TaxInclusive" if target.prices_include_tax else "TaxExcluded"
    if target.multicurrency and invoice.get("CurrencyCode"):
        document.CurrencyRef = ref(invoice["CurrencyCode"])
    return document
