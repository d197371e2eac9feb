"""What QBO checks, computes and changes when an Invoice, CreditMemo or Payment is written (research §2.4–§2.6).

Money is ``Decimal`` rounded half-up to the cent; a request may send numbers as JSON numbers or numeric
strings (python-quickbooks sends ``Decimal`` as ``"42.42"``). Invoice and CreditMemo share one line model:

* lines are ``SalesItemLineDetail`` (``Amount`` required), ``DescriptionOnly`` or ``SubTotalLineDetail`` (dropped;
  the server appends one with the subtotal). A line without ``ItemRef`` is documentation: stored, not counted.
* tax, non-US: every counted line names an active TaxCode; tax is computed per TaxRate of those codes on the
  net line amounts, rounded half-up per rate. US: lines say TAX or NON and the transaction's tax group
  (``TxnTaxDetail.TxnTaxCodeRef``, by default ``TaxPrefs.TaxGroupCodeRef``) gives the rate.
* ``TotalAmt`` is counted amounts plus tax; ``Balance`` (and a credit memo's ``RemainingCredit``) is ``TotalAmt``
  less what non-voided payments apply to the row, whose ``LinkedTxn`` lists those payments.

Tax-inclusive documents, two readings (``sim.inclusive_reading``, ``QboSimulator(..., inclusive_reading=...)``).
The research (§2.4) has only the schema: non-US ``GlobalTaxCalculation`` is ``TaxExcluded|TaxInclusive|
NotApplicable`` and a sales line has ``TaxInclusiveAmt`` (GB/AU/CA/IN); what QBO does with ``Amount`` on a
``TaxInclusive`` document is not documented, and §6 item 9 leaves it to be confirmed on a UK/CA/AU company. So
the simulator offers both plausible readings, and the connector is tested under each; ``TaxExcluded``,
``NotApplicable`` and US documents are the same under both, as is a company with ``UsingSalesTax`` off.

* ``"net"`` (the default): ``TaxInclusive`` changes nothing but what is stored. Each line's ``Amount`` is its net;
  tax per TaxRate is ``round_half_up(Σ net × rate / 100)``; ``TotalAmt = Σ Amount + tax``; ``TaxInclusiveAmt``
  is kept as sent and plays no part.
* ``"gross"``: QBO works from the gross. A counted line's gross is its ``TaxInclusiveAmt``, or its ``Amount`` when
  that is absent or 0 (python-quickbooks sends 0 by default). Lines are grouped by the TaxRates of their code, so
  for single-rate codes there is one group per rate: ``gross_r = Σ gross``, ``tax_r = round_half_up(gross_r ×
  rate / (100 + rate))``, ``net_r = gross_r − tax_r``. A code with several rates (combined) is a group of its
  own: each rate's tax is taken out of the group's one gross as ``round_half_up(gross × rate / (100 + Σ rates))``
  (a gross holds net × (100 + Σ rates) / 100: each rate is charged on the same net, none on another's tax) and
  the group's net is its gross less all of it; a rate in several groups gets one ``TaxLine`` adding them up.
  Each group's net is spread over its lines in proportion to their gross, half-up to the cent with the last
  line taking the rest, and becomes their stored ``Amount``; ``TaxInclusiveAmt`` is stored as the gross used
  (so a sparse update recomputes the same figures). ``TotalAmt = Σ gross``, ``TaxLine.NetAmountTaxable`` is the
  rate's net. ``Qty × UnitPrice`` may equal ``Amount`` or ``TaxInclusiveAmt`` (a tax-inclusive unit price).
  Note that a full update sending back a read line whose ``Amount`` changed but whose ``TaxInclusiveAmt`` did
  not keeps the old gross.

Under both readings an honoured ``TxnTaxDetail`` ``TaxLine`` amount replaces the computed tax of its rate. Under
``"gross"`` the total stays ``Σ gross`` and the rate's net becomes ``gross_r − tax_r`` (for a rate found in several
groups the difference lands on the first group, in line order, carrying it). The stored document always adds up:
line ``Amount`` sum to the ``SubTotalLineDetail``, ``TotalTax = Σ TaxLine.Amount``, ``TotalAmt = subtotal +
TotalTax``, ``Balance = TotalAmt`` less payments; CreditMemo follows the same rules as Invoice.

Simulator choices where the research is uncertain or silent:

* a request's ``TxnTaxDetail`` overrides the computed tax (non-US: ``TaxLine`` amounts per ``TaxRateRef`` among
  the computed rates; US: ``TotalTax``, while the ``TaxLine`` split stays computed) unless
  ``sim.honour_tax_override`` is False; a sparse update never carries the stored ``TxnTaxDetail`` over as an
  override, a US transaction keeps its stored tax group;
* ``GlobalTaxCalculation`` ``NotApplicable`` (or ``TaxPrefs.UsingSalesTax`` off) means no tax and no tax codes
  needed; ``TaxInclusive`` is read as described above;
* ``Amount`` must equal ``Qty × UnitPrice`` only when both are given and non-zero (python-quickbooks sends 0 for
  both by default and its integration test saves such a line);
* an empty date string counts as absent (python-quickbooks sends ``""``); ``TxnDate`` defaults to the
  company's today, ``DueDate`` stays absent;
* ``ExchangeRate``: 1 for the home currency, else the one given (a non-positive one counts as absent, as
  python-quickbooks sends 0 for credit memos), else :data:`EXCHANGE_RATES`, else 1; ``Deposit`` is always 0;
* a payment line links exactly one transaction; the rows a payment changes get a new ``SyncToken``; a voided
  payment keeps its lines at 0 but no longer counts in any balance or ``LinkedTxn``; ``Customer.Balance`` is
  not kept up to date.
"""

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from simulators.qbo import faults
from simulators.qbo.data import qbo_timestamp
from simulators.qbo.rules import Rules, active_row, blank, check_lengths, ref_id, resolve_refs

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
LINE_TYPES = ("SalesItemLineDetail", "DescriptionOnly", "SubTotalLineDetail")
TAX_MODES = ("TaxExcluded", "TaxInclusive", "NotApplicable")
US_LINE_CODES = ("TAX", "NON")
LINKABLE = ("Invoice", "CreditMemo")
BALANCE_FIELDS = {"Invoice": ("Balance",), "CreditMemo": ("Balance", "RemainingCredit")}
DEPOSIT_ACCOUNT_TYPES = ("Bank", "Other Current Asset")
# Home-currency units per foreign unit when a request gives no ExchangeRate (the simulator's own table).
EXCHANGE_RATES = {
    ("EUR", "GBP"): Decimal("0.85"),
    ("USD", "GBP"): Decimal("0.79"),
    ("CAD", "GBP"): Decimal("0.58"),
    ("GBP", "USD"): Decimal("1.27"),
    ("EUR", "USD"): Decimal("1.08"),
    ("CAD", "USD"): Decimal("0.73"),
}
NO_VAT_RATE = "Make sure all your transactions have a VAT rate before you save"
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_NUMBER = Decimal(10) ** 15  # QBO amounts have at most 15 digits
INCLUSIVE_READINGS = ("net", "gross")  # how a TaxInclusive document's line amounts are read (module docstring)


# -- values ----------------------------------------------------------------------------------------------------
def round_cents(value):
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def number(value, field):
    """A JSON number, ``Decimal`` or numeric string of at most 15 digits as a ``Decimal`` (else a 2310 fault)."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise faults.invalid_number(field, value)
    try:
        result = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise faults.invalid_number(field, value) from None
    if not result.is_finite() or abs(result) >= MAX_NUMBER:
        raise faults.invalid_number(field, value)
    return result


def money(value, field):
    return round_cents(number(value, field))


def optional_number(mapping, field):
    return None if blank(mapping.get(field)) else number(mapping[field], field)


def today(sim):
    zone = ZoneInfo(sim.company.company_info["DefaultTimeZone"])
    return datetime.fromtimestamp(sim.now(), zone).date().isoformat()


def check_date(fields, field, default=None):
    """Keep a valid ``YYYY-MM-DD`` ``field``; an absent or empty one becomes ``default`` (or stays absent)."""
    value = fields.pop(field, None)
    if blank(value):
        value = default
    elif not (isinstance(value, str) and DATE.fullmatch(value) and is_date(value)):
        raise faults.invalid_date(field, value)
    if value is not None:
        fields[field] = value


def is_date(value):
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def voided_note(row):
    return f"Voided - {row['PrivateNote']}" if row.get("PrivateNote") else "Voided"


# -- shared header rules ---------------------------------------------------------------------------------------
def customer_of(fields, sim):
    """The active customer ``CustomerRef`` names (2020, 610); the ref gets its ``name``."""
    if ref_id(fields.get("CustomerRef")) is None:
        raise faults.required("CustomerRef")
    customer = active_row(sim.company, "Customer", fields["CustomerRef"])
    fields["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
    return customer


def set_currency(fields, customer, sim):
    """Give the transaction its customer's currency; returns its ``ExchangeRate`` (None without multicurrency)."""
    company = sim.company
    home = company.home_currency
    given = ref_id(fields.get("CurrencyRef"))
    if not company.preferences["CurrencyPrefs"].get("MultiCurrencyEnabled"):
        if given not in (None, home):
            raise faults.business_rule(
                f"CurrencyRef {given} cannot be used: multicurrency is off, amounts are in {home}."
            )
        fields["CurrencyRef"] = company.currency_ref()
        fields.pop("ExchangeRate", None)
        return None
    own = (customer.get("CurrencyRef") or company.currency_ref())["value"]
    if given not in (None, own):
        raise faults.business_rule(
            f"CurrencyRef {given} does not match the customer's currency {own}: "
            "a transaction is in its customer's currency."
        )
    rate = optional_number(fields, "ExchangeRate")
    if own == home:
        rate = Decimal("1")
    elif rate is None or rate <= 0:
        rate = EXCHANGE_RATES.get((own, home), Decimal("1"))
    fields |= {"CurrencyRef": company.currency_ref(own), "ExchangeRate": rate}
    return rate


def set_totals(fields, total, rate, balances):
    """``TotalAmt``, ``HomeTotalAmt`` when there is an exchange rate, and the open amounts ``balances``."""
    fields["TotalAmt"] = total
    if rate is not None:
        fields["HomeTotalAmt"] = round_cents(total * rate)
    fields |= balances


# -- lines -----------------------------------------------------------------------------------------------------
def counted(line):
    """Whether a line counts in totals and tax: a sales line with an item."""
    return line["DetailType"] == "SalesItemLineDetail" and "ItemRef" in line["SalesItemLineDetail"]


def sales_lines(lines, sim, gross=False):
    """The request's lines checked and numbered, ``SubTotalLineDetail`` ones dropped; ``gross``: amounts are gross."""
    if not isinstance(lines, list) or not lines:
        raise faults.required("Line")
    kept = []
    for position, line in enumerate(lines, 1):
        if not isinstance(line, dict):
            raise faults.invalid_body(f"Line {position} is not an object.")
        kind = line.get("DetailType")
        if blank(kind):
            raise faults.required("Line.DetailType")
        if kind not in LINE_TYPES:
            raise faults.invalid_enum("DetailType", kind, LINE_TYPES)
        if kind == "SubTotalLineDetail":
            continue
        check_lengths(line, {"Description": 4000})
        if kind == "SalesItemLineDetail":
            line = item_line(line, position, sim, gross)
        elif "Amount" in line:
            line = line | {"Amount": money(line["Amount"], "Line.Amount")}
        kept.append(line | {"Id": str(len(kept) + 1), "LineNum": len(kept) + 1})
    if not kept:
        raise faults.required("Line")
    return kept


def item_line(line, position, sim, gross=False):
    """A checked sales line; ``Qty × UnitPrice`` must equal ``Amount`` (or, when ``gross``, ``TaxInclusiveAmt``)."""
    if blank(line.get("Amount")):
        raise faults.required("Line.Amount")
    amount = money(line["Amount"], "Line.Amount")
    detail = line.get("SalesItemLineDetail") or {}
    if not isinstance(detail, dict):
        raise faults.invalid_body(f"Line {position}: SalesItemLineDetail is not an object.")
    detail = dict(detail)
    if ref_id(detail.get("ItemRef")) is None:
        detail.pop("ItemRef", None)
    else:
        item = active_row(sim.company, "Item", detail["ItemRef"])
        detail["ItemRef"] = {"value": item["Id"], "name": item["Name"]}
    qty, price = optional_number(detail, "Qty"), optional_number(detail, "UnitPrice")
    if not blank(detail.get("TaxInclusiveAmt")):
        detail["TaxInclusiveAmt"] = money(detail["TaxInclusiveAmt"], "TaxInclusiveAmt")
    allowed = {amount, detail.get("TaxInclusiveAmt") or amount} if gross else {amount}
    if qty and price and round_cents(qty * price) not in allowed:
        raise faults.business_rule(
            f"Line {position}: Amount is not equal to UnitPrice * Qty. Supplied value: {amount}, "
            f"UnitPrice * Qty: {round_cents(qty * price)}"
        )
    for field, value in (("Qty", qty), ("UnitPrice", price)):
        if value is not None:
            detail[field] = value
    return line | {"Amount": amount, "SalesItemLineDetail": detail}


def subtotal_line(amount):
    return {"Amount": amount, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}


# -- tax -------------------------------------------------------------------------------------------------------
def sales_rates(code, company):
    """The TaxRate rows a TaxCode charges on sales."""
    details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
    rates = (company.table("TaxRate").get(ref_id(detail.get("TaxRateRef"))) for detail in details)
    return [rate for rate in rates if rate is not None]


def percent(rate):
    return Decimal(rate["RateValue"])


def tax_line(rate, net, amount=None):
    """One ``TaxLine``: ``amount`` of tax (by default ``net`` times the rate) on ``net``."""
    return {
        "Amount": round_cents(net * percent(rate) / 100) if amount is None else amount,
        "DetailType": "TaxLineDetail",
        "TaxLineDetail": {
            "TaxRateRef": {"value": rate["Id"]},
            "PercentBased": True,
            "TaxPercent": rate["RateValue"],
            "NetAmountTaxable": net,
        },
    }


def reading_of(sim):
    reading = sim.inclusive_reading
    if reading not in INCLUSIVE_READINGS:
        raise ValueError(f"inclusive_reading must be one of {INCLUSIVE_READINGS}, not {reading!r}")
    return reading


def gross_prices(fields, sim):
    """Whether the request's line amounts are read as gross: a non-US ``TaxInclusive`` one, ``"gross"`` reading."""
    return (
        reading_of(sim) == "gross"
        and not sim.company.is_us
        and fields.get("GlobalTaxCalculation") == "TaxInclusive"
        and bool(sim.company.preferences["TaxPrefs"].get("UsingSalesTax"))
    )


def tax_detail(fields, lines, requested, stored, sim):
    """The ``TxnTaxDetail`` of ``lines`` under the company's tax model; ``requested`` is the request's own.

    Under the ``"gross"`` reading of a ``TaxInclusive`` document the counted lines' ``Amount`` become their net.
    """
    requested = requested if isinstance(requested, dict) else {}
    override = requested if sim.honour_tax_override else {}
    if sim.company.is_us:
        fields.pop("GlobalTaxCalculation", None)
        kept = (stored or {}).get("TxnTaxDetail", {}).get("TxnTaxCodeRef")
        return us_tax(lines, ref_id(requested.get("TxnTaxCodeRef")) or ref_id(kept), override, sim)
    mode = fields.setdefault("GlobalTaxCalculation", "TaxExcluded")
    if mode not in TAX_MODES:
        raise faults.invalid_enum("GlobalTaxCalculation", mode, TAX_MODES)
    if mode == "NotApplicable" or not sim.company.preferences["TaxPrefs"].get("UsingSalesTax"):
        return {"TotalTax": ZERO}
    if gross_prices(fields, sim):
        return vat_from_gross(lines, override, sim)
    return vat(lines, override, sim)


def line_rates(line, sim):
    """The sales rates of a counted non-US line's TaxCode (6000 without one); the ref loses its other keys."""
    detail = line["SalesItemLineDetail"]
    if ref_id(detail.get("TaxCodeRef")) is None:
        raise faults.business_rule(NO_VAT_RATE)
    code = active_row(sim.company, "TaxCode", detail["TaxCodeRef"])
    detail["TaxCodeRef"] = {"value": code["Id"]}
    return sales_rates(code, sim.company)


def vat(lines, override, sim):
    """Non-US tax on net amounts: per TaxRate of the lines' codes, on the net amounts of the lines carrying it."""
    nets, rates = {}, {}
    for line in filter(counted, lines):
        for rate in line_rates(line, sim):
            rates[rate["Id"]] = rate
            nets[rate["Id"]] = nets.get(rate["Id"], ZERO) + line["Amount"]
    tax_lines = {rate_id: tax_line(rates[rate_id], net) for rate_id, net in nets.items()}
    for rate_id, amount in requested_taxes(override, tax_lines).items():
        tax_lines[rate_id]["Amount"] = amount
    return totalled(tax_lines.values())


def vat_from_gross(lines, override, sim):
    """Non-US tax taken out of gross amounts (the ``"gross"`` reading of ``TaxInclusive``).

    Lines are grouped by the rates of their code (one group per rate for single-rate codes). A group's gross is the
    sum of its lines' gross (``TaxInclusiveAmt``, else ``Amount``); each of its rates takes
    ``round_half_up(gross × rate / (100 + sum of the group's rates))``; an honoured override of a rate replaces its
    tax (the difference going to the first group carrying the rate); the group's net is its gross less its tax,
    spread over its lines in proportion to their gross, the last line taking the remaining cents.
    """
    groups, rates = {}, {}
    for line in filter(counted, lines):
        own = line_rates(line, sim)
        rates |= {rate["Id"]: rate for rate in own}
        gross = line_gross(line)
        line["SalesItemLineDetail"]["TaxInclusiveAmt"] = gross
        groups.setdefault(tuple(rate["Id"] for rate in own), []).append((line, gross))
    taxes = {key: group_taxes(key, members, rates) for key, members in groups.items()}
    computed = {}
    for shares in taxes.values():
        for rate_id, amount in shares.items():
            computed[rate_id] = computed.get(rate_id, ZERO) + amount
    for rate_id, amount in requested_taxes(override, computed).items():
        first = next(shares for shares in taxes.values() if rate_id in shares)
        first[rate_id] += amount - computed[rate_id]
    amounts, nets = dict.fromkeys(rates, ZERO), dict.fromkeys(rates, ZERO)
    for key, members in groups.items():
        net = sum((gross for _, gross in members), ZERO) - sum(taxes[key].values(), ZERO)
        spread(members, net)
        for rate_id in key:
            amounts[rate_id] += taxes[key][rate_id]
            nets[rate_id] += net
    return totalled(tax_line(rates[rate_id], nets[rate_id], amounts[rate_id]) for rate_id in rates)


def line_gross(line):
    """A line's gross: its ``TaxInclusiveAmt`` unless absent or 0 (python-quickbooks' default), else its ``Amount``."""
    given = line["SalesItemLineDetail"].get("TaxInclusiveAmt")
    return given if given else line["Amount"]


def group_taxes(key, members, rates):
    """The tax of each rate in ``key`` taken out of the members' summed gross."""
    gross = sum((gross for _, gross in members), ZERO)
    combined = 100 + sum((percent(rates[rate_id]) for rate_id in key), ZERO)
    return {rate_id: round_cents(gross * percent(rates[rate_id]) / combined) for rate_id in key}


def spread(members, net):
    """Set the members' ``Amount`` to shares of ``net`` in proportion to their gross; the last takes the rest."""
    total = sum((gross for _, gross in members), ZERO)
    ratio = net / total if total else Decimal(1)
    rest = net
    for line, gross in members[:-1]:
        line["Amount"] = round_cents(gross * ratio)
        rest -= line["Amount"]
    members[-1][0]["Amount"] = rest


def requested_taxes(override, computed):
    """The tax amounts a request's ``TaxLine`` entries set, by TaxRate Id among the ``computed`` ones (else 6000)."""
    requested = {}
    for entry in override.get("TaxLine") or []:
        detail = entry.get("TaxLineDetail") if isinstance(entry, dict) else None
        rate_id = ref_id((detail or {}).get("TaxRateRef"))
        if rate_id is None or blank(entry.get("Amount")):
            continue
        if rate_id not in computed:
            raise faults.business_rule(f"TxnTaxDetail TaxRateRef {rate_id} is not a rate of the lines' tax codes.")
        requested[rate_id] = money(entry["Amount"], "TxnTaxDetail.TaxLine.Amount")
    return requested


def totalled(tax_lines):
    tax_lines = list(tax_lines)
    return {"TotalTax": sum((line["Amount"] for line in tax_lines), ZERO), "TaxLine": tax_lines}


def us_tax(lines, group_id, override, sim):
    """US tax: the TAX lines' amounts times the tax group's rates; ``TotalTax`` may be overridden."""
    taxable = ZERO
    for line in filter(counted, lines):
        detail = line["SalesItemLineDetail"]
        code = ref_id(detail.get("TaxCodeRef")) or "NON"
        if code not in US_LINE_CODES:
            raise faults.business_rule(
                f"Line {line['LineNum']}: TaxCodeRef {code} is not TAX or NON; "
                "the tax rate comes from TxnTaxDetail.TxnTaxCodeRef."
            )
        detail["TaxCodeRef"] = {"value": code}
        taxable += line["Amount"] if code == "TAX" else ZERO
    if group_id is None and taxable:
        group_id = ref_id(sim.company.preferences["TaxPrefs"].get("TaxGroupCodeRef"))
    if group_id is None:
        return {"TotalTax": ZERO}
    group = active_row(sim.company, "TaxCode", {"value": group_id})
    if not group.get("TaxGroup"):
        raise faults.business_rule(f"TxnTaxCodeRef {group_id} is not a tax group.")
    rates = sales_rates(group, sim.company)
    total = round_cents(taxable * sum((percent(rate) for rate in rates), ZERO) / 100)
    if not blank(override.get("TotalTax")):
        total = money(override["TotalTax"], "TxnTaxDetail.TotalTax")
    return {
        "TxnTaxCodeRef": {"value": group["Id"]},
        "TotalTax": total,
        "TaxLine": [tax_line(rate, taxable) for rate in rates],
    }


# -- payments applied to a transaction -------------------------------------------------------------------------
def link_of(line):
    link = line["LinkedTxn"][0]
    return link["TxnType"], link["TxnId"]


def applications(sim, entity, txn_id, skip=None):
    """What non-voided payments (but ``skip``) apply to a transaction: (amount, [payment Id, ...])."""
    amount, payments = ZERO, []
    for payment in sim.company.table("Payment").rows.values():
        if payment["Id"] == skip or ("Payment", payment["Id"]) in sim.voided:
            continue
        amounts = [line["Amount"] for line in payment["Line"] if link_of(line) == (entity, txn_id)]
        if amounts:
            amount += sum(amounts)
            payments.append(payment["Id"])
    return amount, payments


def open_fields(entity, amount):
    return dict.fromkeys(BALANCE_FIELDS[entity], amount)


def refresh(sim, entity, txn_id):
    """Bring a transaction's balance and ``LinkedTxn`` in line with the payments applied to it."""
    row = sim.company.table(entity).get(txn_id)
    if row is None:
        return
    applied, payments = applications(sim, entity, txn_id)
    changes = open_fields(entity, row["TotalAmt"] - applied)
    changes["LinkedTxn"] = [{"TxnId": payment_id, "TxnType": "Payment"} for payment_id in payments]
    if any(row.get(key) != value for key, value in changes.items()):
        row |= changes | {"SyncToken": str(int(row["SyncToken"]) + 1)}
        row["MetaData"] = {**row["MetaData"], "LastUpdatedTime": qbo_timestamp(sim.moment())}


# -- rule sets -------------------------------------------------------------------------------------------------
class SalesRules(Rules):
    """Invoice and CreditMemo: header, lines, tax, currency and totals."""

    owned = frozenset({"TotalAmt", "HomeTotalAmt", "Balance", "LinkedTxn"})
    transient = frozenset({"TxnTaxDetail"})
    initial = {"LinkedTxn": []}
    operations = frozenset({"void", "delete"})
    defaults = {}

    def complete(self, fields, stored, sim):
        check_lengths(fields, {"PrivateNote": 4000})
        memo = fields.get("CustomerMemo")
        if isinstance(memo, dict) and isinstance(memo.get("value"), str) and len(memo["value"]) > 1000:
            raise faults.too_long("CustomerMemo", 1000, len(memo["value"]))
        customer = customer_of(fields, sim)
        self.set_doc_number(fields, stored, sim)
        check_date(fields, "TxnDate", today(sim))
        check_date(fields, "DueDate")
        lines = sales_lines(fields.get("Line"), sim, gross_prices(fields, sim))
        detail = tax_detail(fields, lines, fields.pop("TxnTaxDetail", None), stored, sim)
        subtotal = sum((line["Amount"] for line in lines if counted(line)), ZERO)
        fields |= {"Line": [*lines, subtotal_line(subtotal)], "TxnTaxDetail": detail}
        rate = set_currency(fields, customer, sim)
        total = subtotal + detail["TotalTax"]
        applied = self.applied(stored, customer, sim)
        if total < applied:
            raise faults.business_rule(
                f"TotalAmt {total} would be less than the {applied} payments apply to {self.entity} {stored['Id']}."
            )
        set_totals(fields, total, rate, open_fields(self.entity, total - applied))
        return self.defaults | fields

    def applied(self, stored, customer, sim):
        """What payments apply to the stored row; its customer may not change while they do."""
        if stored is None:
            return ZERO
        applied, payments = applications(sim, self.entity, stored["Id"])
        if payments and ref_id(stored["CustomerRef"]) != customer["Id"]:
            raise faults.business_rule(f"CustomerRef cannot change: payments {', '.join(payments)} are linked.")
        return applied

    def set_doc_number(self, fields, stored, sim):
        """Keep a custom ``DocNumber`` (unique within the entity, 6140) or assign the next system number."""
        store = sim.company.table(self.entity)
        if not sim.company.preferences["SalesFormsPrefs"].get("CustomTxnNumbers"):
            numbers = [int(row["DocNumber"]) for row in store.rows.values() if str(row.get("DocNumber")).isdigit()]
            value = stored.get("DocNumber") if stored else str(max(numbers, default=1000) + 1)
        else:
            value = None if blank(fields.get("DocNumber")) else str(fields["DocNumber"])
        fields.pop("DocNumber", None)
        if value is None:
            return
        if len(value) > 21:
            raise faults.too_long("DocNumber", 21, len(value))
        own = stored["Id"] if stored else None
        holder = next((row for row in store.rows.values() if row.get("DocNumber") == value and row["Id"] != own), None)
        if holder is not None:
            raise faults.duplicate_doc_number(value, self.entity, holder["Id"])
        fields["DocNumber"] = value

    def check_delete(self, row, sim):
        _, payments = applications(sim, self.entity, row["Id"])
        if payments:
            raise faults.business_rule(
                f"{self.entity} {row['Id']} has linked transactions (Payment {', '.join(payments)}): "
                "delete or void the payment first."
            )

    def void(self, row, sim):
        """The row with every amount at 0 and "Voided" before its ``PrivateNote``."""
        self.check_delete(row, sim)
        for line in row["Line"]:
            if "Amount" in line:
                line["Amount"] = ZERO
            if "TaxInclusiveAmt" in line.get("SalesItemLineDetail", {}):
                line["SalesItemLineDetail"]["TaxInclusiveAmt"] = ZERO
        row["TxnTaxDetail"]["TotalTax"] = ZERO
        for line in row["TxnTaxDetail"].get("TaxLine", []):
            line["Amount"] = line["TaxLineDetail"]["NetAmountTaxable"] = ZERO
        set_totals(row, ZERO, ZERO if "HomeTotalAmt" in row else None, open_fields(self.entity, ZERO))
        row["PrivateNote"] = voided_note(row)
        return row


class InvoiceRules(SalesRules):
    entity = "Invoice"
    owned = SalesRules.owned | {"Deposit"}
    initial = {"LinkedTxn": [], "Deposit": ZERO}
    defaults = {"EmailStatus": "NotSet", "PrintStatus": "NotSet"}


class CreditMemoRules(SalesRules):
    entity = "CreditMemo"
    owned = SalesRules.owned | {"RemainingCredit"}

    def void(self, row, sim):
        raise faults.business_rule("Voiding a CreditMemo is not supported: delete it instead.")


class PaymentRules(Rules):
    """A payment received from a customer, applied to its invoices and credit memos or left unapplied."""

    entity = "Payment"
    owned = frozenset({"UnappliedAmt", "HomeTotalAmt"})
    operations = frozenset({"void", "delete"})

    def complete(self, fields, stored, sim):
        customer = customer_of(fields, sim)
        if blank(fields.get("TotalAmt")):
            raise faults.required("TotalAmt")
        total = money(fields["TotalAmt"], "TotalAmt")
        if total < 0:
            raise faults.business_rule(f"TotalAmt {total} is negative.")
        check_lengths(fields, {"PrivateNote": 4000})
        check_date(fields, "TxnDate", today(sim))
        lines, applied = self.apply(fields.get("Line") or [], customer, stored, sim)
        if total < applied:
            raise faults.business_rule(
                f"TotalAmt {total} is less than the {applied} the lines apply (invoices less credit memos)."
            )
        set_deposit_account(fields, sim)
        resolve_refs(fields, {"PaymentMethodRef": "PaymentMethod"}, sim.company)
        rate = set_currency(fields, customer, sim)
        fields["Line"] = lines
        set_totals(fields, total, rate, {"UnappliedAmt": total - applied})
        return {"ProcessPayment": False} | fields

    def apply(self, lines, customer, stored, sim):
        """The checked lines and what they apply in all: invoice amounts less credit memo amounts."""
        if not isinstance(lines, list):
            raise faults.invalid_body("Line must be a list.")
        checked, amounts = [], {}
        for line in lines:
            line = payment_line(line, customer, sim)
            amounts[link_of(line)] = amounts.get(link_of(line), ZERO) + line["Amount"]
            checked.append(line)
        for (entity, txn_id), amount in amounts.items():
            check_open(sim, entity, txn_id, amount, stored)
        signed = (amount if entity == "Invoice" else -amount for (entity, _), amount in amounts.items())
        return checked, sum(signed, ZERO)

    def void(self, row, sim):
        for line in row["Line"]:
            line["Amount"] = ZERO
        set_totals(row, ZERO, ZERO if "HomeTotalAmt" in row else None, {"UnappliedAmt": ZERO})
        row["PrivateNote"] = voided_note(row)
        return row

    def committed(self, sim, before, after):
        for entity, txn_id in {link_of(line) for row in (before, after) if row for line in row["Line"]}:
            refresh(sim, entity, txn_id)


def payment_line(line, customer, sim):
    """One payment line, ``Amount`` and exactly one ``LinkedTxn`` to the customer's open transaction."""
    if not isinstance(line, dict) or blank(line.get("Amount")):
        raise faults.required("Line.Amount")
    amount = money(line["Amount"], "Line.Amount")
    if amount < 0:
        raise faults.business_rule(f"Line Amount {amount} is negative.")
    links = line.get("LinkedTxn")
    if not isinstance(links, list) or not links:
        raise faults.required("Line.LinkedTxn")
    if len(links) > 1:
        raise faults.business_rule("A payment line links exactly one transaction.")
    link = links[0] if isinstance(links[0], dict) else {}
    for field in ("TxnId", "TxnType"):
        if blank(link.get(field)):
            raise faults.required(f"LinkedTxn.{field}")
    entity = link["TxnType"]
    if entity not in LINKABLE:
        raise faults.invalid_enum("LinkedTxn.TxnType", entity, LINKABLE)
    row = sim.company.table(entity).get(link["TxnId"])
    if row is None or (entity, row["Id"]) in sim.voided:
        raise faults.not_found()
    if ref_id(row["CustomerRef"]) != customer["Id"]:
        raise faults.cannot_link(
            f"TxnID cannot be linked : {entity} {row['Id']} belongs to {row['CustomerRef'].get('name')}, "
            f"not to the payment's customer {customer['DisplayName']}."
        )
    return line | {"Amount": amount, "LinkedTxn": [{"TxnId": row["Id"], "TxnType": entity}]}


def check_open(sim, entity, txn_id, amount, stored):
    """An amount applied to a transaction may not exceed what is open on it (this payment's old share aside)."""
    row = sim.company.table(entity).get(txn_id)
    applied, _ = applications(sim, entity, txn_id, skip=stored["Id"] if stored else None)
    available = row["TotalAmt"] - applied
    if amount > available:
        what = "open balance" if entity == "Invoice" else "remaining credit"
        raise faults.business_rule(f"The amount {amount} applied to {entity} {txn_id} exceeds its {what} {available}.")


def set_deposit_account(fields, sim):
    """``DepositToAccountRef``: a Bank or Other Current Asset account, Undeposited Funds by default."""
    company = sim.company
    if ref_id(fields.get("DepositToAccountRef")) is None:
        fields.pop("DepositToAccountRef", None)
        account = company.table("Account").find(AccountSubType="UndepositedFunds", Active=True)
    else:
        account = active_row(company, "Account", fields["DepositToAccountRef"])
        if account["AccountType"] not in DEPOSIT_ACCOUNT_TYPES:
            raise faults.business_rule(
                f"DepositToAccountRef {account['Name']} is a {account['AccountType']} account: "
                f"a payment is deposited to a {' or '.join(DEPOSIT_ACCOUNT_TYPES)} account."
            )
    if account is not None:
        fields["DepositToAccountRef"] = {"value": account["Id"], "name": account["Name"]}
