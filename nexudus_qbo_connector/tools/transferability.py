"""Can this Nexudus invoice go to QuickBooks? Every reason it cannot, in words an accountant can act on.

Plain data in: the Nexudus invoice and line dicts, and a ``Chart`` that answers mapping questions (the
addon builds it from its mapping records). Each problem names the invoice, the line, the code, where
to fix it and who can.
"""

from dataclasses import dataclass, field

from .matching import percent, rate
from .texts import _lt

NO_TAX_NAMES = {"", "[no tax]"}
# Where each fix is made (the menus), and who may make it: the connector's Users see the mappings
# read-only, its Managers change them, and only administrators open the Settings.
MANAGERS = _lt("Nexudus–QuickBooks managers")
ADMINISTRATORS = _lt("administrators")
ACCOUNT_MAPPINGS = _lt("Nexudus–QuickBooks › Mappings › Account mappings")
TAX_MAPPINGS = _lt("Nexudus–QuickBooks › Mappings › Tax mappings")
CUSTOMER_LINKS = _lt("Nexudus–QuickBooks › Mappings › Customer links")
PAYMENT_METHODS = _lt("Nexudus–QuickBooks › Mappings › Payment methods")
SETTINGS = _lt("Settings › Nexudus ↔ QuickBooks Online")


@dataclass
class Chart:
    """What the check needs to know; ``accounts``/``taxes`` hold one dict per mapping row:
    ``{"ready": bool, "reason": str, "has_account": bool}``."""

    served_locations: dict  # Nexudus location id -> name
    accounts: dict = field(default_factory=dict)  # (location id, code) -> row
    taxes: dict = field(default_factory=dict)  # (location id, name, rate as Decimal) -> row
    has_default_tax_code: bool = False
    home_currency: str = ""
    multicurrency: bool = False


def invoice_label(invoice):
    return invoice.get("InvoiceNumber") or f"draft {invoice.get('Id')}"


def transfer_problems(invoice, lines, chart, coworker=None):
    """The list of problems (texts) that stop ``invoice`` from being transferred; empty when none."""
    label = invoice_label(invoice)
    location_id = invoice.get("BusinessId")
    if location_id not in chart.served_locations:
        return [
            _lt(
                "Invoice %(label)s belongs to Nexudus location “%(location)s”, which this company does not serve. "
                "Fix (%(administrators)s): add it to Locations served in %(settings)s.",
                label=label,
                location=invoice.get("BusinessName") or location_id,
                administrators=ADMINISTRATORS,
                settings=SETTINGS,
            )
        ]
    problems = []
    currency = invoice.get("CurrencyCode") or ""
    if currency and chart.home_currency and currency != chart.home_currency and not chart.multicurrency:
        problems.append(
            _lt(
                "Invoice %(label)s is in %(currency)s but QuickBooks (home currency %(home)s) has multicurrency "
                "off. Fix: turn on Multicurrency in QuickBooks (⚙ › Account and settings › Advanced › Currency), "
                "or stop serving this location from this company.",
                label=label,
                currency=currency,
                home=chart.home_currency,
            )
        )
    if coworker is not None and not (
        (coworker.get("BillingName") or "").strip() or (coworker.get("FullName") or "").strip()
    ):
        problems.append(
            _lt(
                "Invoice %(label)s: its Nexudus customer %(customer)s has neither a billing name nor a full name. "
                "Fix: give the customer a billing name in Nexudus.",
                label=label,
                customer=coworker.get("Id"),
            )
        )
    if not lines:
        problems.append(_lt("Invoice %(label)s has no lines in Nexudus: there is nothing to transfer.", label=label))
    for line in sorted(lines, key=lambda line: (line.get("Position") or 0, line.get("Id") or 0)):
        problems += _line_problems(label, location_id, line, chart)
    return problems


def _line_problems(label, location_id, line, chart):
    number = line.get("Position") or line.get("Id")
    if line.get("Description"):
        where = _lt(
            "Invoice %(label)s, line %(line)s (“%(description)s”)",
            label=label,
            line=number,
            description=line["Description"][:60],
        )
    else:
        where = _lt("Invoice %(label)s, line %(line)s", label=label, line=number)
    problems = []
    code = line.get("FinancialAccountCode") or ""
    name = line.get("FinancialAccountName") or ""
    if not code:
        problems.append(
            _lt(
                "%(where)s: the line has no Nexudus financial account. Fix: set the line's account on the invoice "
                "in Nexudus (Finance › Invoices, pencil icon) and in its Chart settings.",
                where=where,
            )
        )
    else:
        account = chart.accounts.get((location_id, code))
        mapping = _lt("Nexudus account %(code)s “%(name)s”", code=code, name=name)
        fix = {"where": where, "mapping": mapping, "managers": MANAGERS, "mappings": ACCOUNT_MAPPINGS}
        if account is None:
            problems.append(
                _lt(
                    "%(where)s: %(mapping)s is not in the chart of this location. Fix (%(managers)s): refresh the "
                    "lists in %(mappings)s, or correct the line's account in Nexudus.",
                    **fix,
                )
            )
        elif not account["has_account"]:
            problems.append(_not_mapped(account, fix))
        elif not account["ready"]:
            problems.append(
                _lt(
                    "%(where)s: %(mapping)s has no QuickBooks item. Fix (%(managers)s): pick one, or use “Create "
                    "QuickBooks items”, in %(mappings)s.",
                    **fix,
                )
            )
    tax_name = (line.get("TaxCategoryName") or "").strip()
    if tax_name.lower() in NO_TAX_NAMES and not line.get("TaxRate"):
        if not chart.has_default_tax_code:
            problems.append(
                _lt(
                    "%(where)s: the line has no tax rate and no Default tax code is chosen. Fix "
                    "(%(administrators)s): choose the Default tax code in %(settings)s.",
                    where=where,
                    administrators=ADMINISTRATORS,
                    settings=SETTINGS,
                )
            )
        return problems
    tax = chart.taxes.get((location_id, tax_name, rate(line.get("TaxRate"))))
    mapping = _lt("Nexudus tax rate “%(name)s” %(rate)s", name=tax_name, rate=percent(line.get("TaxRate")))
    fix = {"where": where, "mapping": mapping, "managers": MANAGERS, "mappings": TAX_MAPPINGS}
    if tax is None:
        problems.append(
            _lt(
                "%(where)s: %(mapping)s is not among this location's tax rates. Fix (%(managers)s): refresh the "
                "lists in %(mappings)s, or correct the line's tax rate in Nexudus.",
                **fix,
            )
        )
    elif not tax["ready"]:
        problems.append(_not_mapped(tax, fix))
    return problems


def _not_mapped(row, fix):
    if row.get("reason"):
        return _lt(
            "%(where)s: %(mapping)s is not mapped (%(reason)s). Fix (%(managers)s): map %(mapping)s in %(mappings)s.",
            reason=row["reason"],
            **fix,
        )
    return _lt("%(where)s: %(mapping)s is not mapped. Fix (%(managers)s): map %(mapping)s in %(mappings)s.", **fix)


def summary(reason):
    """The first problem of a reason, and how many follow (for lists and notifications)."""
    lines = [line for line in (reason or "").splitlines() if line.strip()]
    if not lines:
        return False
    first = lines[1] if len(lines) > 1 and lines[0].endswith(":") else lines[0]
    more = len(lines) - 1 - (1 if first is not lines[0] else 0)
    return f"{first} (+{more} more)" if more > 0 else first
