"""Can this Nexudus invoice go to QuickBooks? Every reason it cannot, in words an accountant can act on.

Plain data in: the Nexudus invoice and line dicts, and a ``Chart`` that answers mapping questions (the
addon builds it from its mapping records). Each problem names the invoice, the line, the code and
where to fix it.
"""

from dataclasses import dataclass, field

from .matching import percent, rate

NO_TAX_NAMES = {"", "[no tax]"}
ACCOUNT_MAPPINGS = "Nexudus–QuickBooks › Mappings › Account mappings"
TAX_MAPPINGS = "Nexudus–QuickBooks › Mappings › Tax mappings"
SETTINGS = "Settings › Nexudus ↔ QuickBooks Online"


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
    """The list of problems (strings) that stop ``invoice`` from being transferred; empty when none."""
    label = invoice_label(invoice)
    location_id = invoice.get("BusinessId")
    if location_id not in chart.served_locations:
        return [
            f"Invoice {label} belongs to Nexudus location “{invoice.get('BusinessName') or location_id}”, "
            f"which this company does not serve. Fix: add it to Locations served in {SETTINGS}."
        ]
    problems = []
    currency = invoice.get("CurrencyCode") or ""
    if currency and chart.home_currency and currency != chart.home_currency and not chart.multicurrency:
        problems.append(
            f"Invoice {label} is in {currency} but QuickBooks (home currency {chart.home_currency}) has "
            "multicurrency off. Fix: turn on Multicurrency in QuickBooks (⚙ › Account and settings › Advanced "
            "› Currency), or stop serving this location from this company."
        )
    if coworker is not None and not (
        (coworker.get("BillingName") or "").strip() or (coworker.get("FullName") or "").strip()
    ):
        problems.append(
            f"Invoice {label}: its Nexudus customer {coworker.get('Id')} has neither a billing name nor a full "
            "name. Fix: give the customer a billing name in Nexudus."
        )
    if not lines:
        problems.append(f"Invoice {label} has no lines in Nexudus: there is nothing to transfer.")
    for line in sorted(lines, key=lambda line: (line.get("Position") or 0, line.get("Id") or 0)):
        problems += _line_problems(label, location_id, line, chart)
    return problems


def _line_problems(label, location_id, line, chart):
    where = f"Invoice {label}, line {line.get('Position') or line.get('Id')}"
    if line.get("Description"):
        where += f" (“{line['Description'][:60]}”)"
    problems = []
    code = line.get("FinancialAccountCode") or ""
    name = line.get("FinancialAccountName") or ""
    if not code:
        problems.append(
            f"{where}: the line has no Nexudus financial account. Fix: set the line's account on "
            "the invoice in Nexudus (Finance › Invoices, pencil icon) and in its Chart settings."
        )
    else:
        account = chart.accounts.get((location_id, code))
        mapping = f"Nexudus account {code} “{name}”"
        if account is None:
            problems.append(
                f"{where}: {mapping} is not in the chart of this location. Fix: refresh the lists "
                f"in {ACCOUNT_MAPPINGS}, or correct the line's account in Nexudus."
            )
        elif not account["has_account"]:
            reason = f" ({account['reason']})" if account.get("reason") else ""
            problems.append(f"{where}: {mapping} is not mapped{reason}. Fix: map {mapping} in {ACCOUNT_MAPPINGS}.")
        elif not account["ready"]:
            problems.append(
                f"{where}: {mapping} has no QuickBooks item. Fix: pick one, or use “Create "
                f"QuickBooks items”, in {ACCOUNT_MAPPINGS}."
            )
    tax_name = (line.get("TaxCategoryName") or "").strip()
    if tax_name.lower() in NO_TAX_NAMES and not line.get("TaxRate"):
        if not chart.has_default_tax_code:
            problems.append(
                f"{where}: the line has no tax rate and no Default tax code is chosen. Fix: choose "
                f"the Default tax code in {SETTINGS}."
            )
        return problems
    tax = chart.taxes.get((location_id, tax_name, rate(line.get("TaxRate"))))
    mapping = f"Nexudus tax rate “{tax_name}” {percent(line.get('TaxRate'))}"
    if tax is None:
        problems.append(
            f"{where}: {mapping} is not among this location's tax rates. Fix: refresh the lists in "
            f"{TAX_MAPPINGS}, or correct the line's tax rate in Nexudus."
        )
    elif not tax["ready"]:
        reason = f" ({tax['reason']})" if tax.get("reason") else ""
        problems.append(f"{where}: {mapping} is not mapped{reason}. Fix: map {mapping} in {TAX_MAPPINGS}.")
    return problems


def summary(reason):
    """The first problem of a reason, and how many follow (for lists and notifications)."""
    lines = [line for line in (reason or "").splitlines() if line.strip()]
    if not lines:
        return False
    first = lines[1] if len(lines) > 1 and lines[0].endswith(":") else lines[0]
    more = len(lines) - 1 - (1 if first is not lines[0] else 0)
    return f"{first} (+{more} more)" if more > 0 else first
