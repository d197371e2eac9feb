"""Pure matching rules between the Nexudus chart and the QuickBooks one, and QuickBooks name hygiene.

The rule is Nexudus's own: an account matches only on exactly the same name and code, a tax rate only
on exactly the same name and rate. Anything else is reported with the reason, never guessed.
"""

import re
from decimal import Decimal

MATCHED, UNMATCHED, AMBIGUOUS = "matched", "unmatched", "ambiguous"

# QBO refuses ":" (its sub-item/sub-customer path separator), tabs and newlines in name fields; other
# control characters go too.
_FORBIDDEN = re.compile(r"[:\x00-\x1f\x7f]+")
DISPLAY_NAME_LIMIT = 100  # QBO allows 500 for DisplayName, but 100 for the name parts and items


def rate(value):
    """A tax rate (percent) as an exact Decimal to 4 places, whatever number type it came as."""
    return Decimal(str(value or 0)).quantize(Decimal("0.0001"))


def percent(value):
    """``20%``, ``8.875%``: a rate as people write it."""
    text = f"{rate(value):f}".rstrip("0").rstrip(".")
    return f"{text}%"


def match_account(code, name, qbo_accounts):
    """Match one Nexudus account against QuickBooks account dicts (``Id``, ``Name``, ``AcctNum``).

    Returns ``(state, qbo_id, reason)``.
    """
    exact = [a for a in qbo_accounts if a.get("Name") == name and (a.get("AcctNum") or "") == (code or "")]
    if len(exact) == 1:
        return MATCHED, exact[0]["Id"], ""
    if exact:
        return AMBIGUOUS, None, f"{len(exact)} QuickBooks accounts are named “{name}” with number {code}"
    same_name = [a for a in qbo_accounts if a.get("Name") == name]
    if same_name:
        numbers = ", ".join(a.get("AcctNum") or "none" for a in same_name)
        return UNMATCHED, None, f"code differs: {code} vs {numbers}"
    same_code = [a for a in qbo_accounts if (a.get("AcctNum") or "") == code and code]
    if same_code:
        names = ", ".join(f"“{a.get('Name')}”" for a in same_code)
        return UNMATCHED, None, f"name differs: “{name}” vs {names}"
    return UNMATCHED, None, f"no QuickBooks account is named “{name}” with number {code}"


def match_tax(name, value, qbo_tax_codes):
    """Match one Nexudus tax rate against QuickBooks tax code dicts (``Id``, ``Name``, ``rate``)."""
    wanted = rate(value)
    same_name = [c for c in qbo_tax_codes if c.get("Name") == name]
    exact = [c for c in same_name if rate(c.get("rate")) == wanted]
    if len(exact) == 1:
        return MATCHED, exact[0]["Id"], ""
    if exact:
        return AMBIGUOUS, None, f"{len(exact)} QuickBooks tax codes are named “{name}” at {percent(wanted)}"
    if same_name:
        rates = ", ".join(percent(c.get("rate")) for c in same_name)
        return UNMATCHED, None, f"rate differs: {percent(wanted)} vs {rates}"
    return UNMATCHED, None, f"no QuickBooks tax code is named “{name}”"


def clean_name(text, limit=DISPLAY_NAME_LIMIT):
    """``text`` made acceptable to QuickBooks as a name: no ":", tab or newline, single spaces, ``limit``."""
    cleaned = " ".join(_FORBIDDEN.sub(" - ", text or "").split()).strip(" -")
    return cleaned[:limit].strip()


def customer_name(billing_name, full_name):
    """The QuickBooks name of a Nexudus customer, as Nexudus does it: the billing name, else the full name."""
    return clean_name(billing_name) or clean_name(full_name)


def same_name(first, second):
    """Whether two names are the same QuickBooks name (QuickBooks compares names regardless of case)."""
    return clean_name(first).casefold() == clean_name(second).casefold()


def bills_a_company(billing_name, company_name, coworker_type):
    """Whether a Nexudus customer is billed to a company whose QuickBooks customer its other members may
    share: it has a billing name, and is a company (``CoworkerType`` 2) or its billing name is its company's
    name. Everyone else (no billing name: Nexudus makes "a new contact for each customer based on their full
    name"; an individual billed under a name of their own) is one person and gets a customer of their own."""
    if not clean_name(billing_name):
        return False
    if str(coworker_type or "").strip().casefold() in ("2", "company"):
        return True
    return bool(clean_name(company_name)) and same_name(billing_name, company_name)


def disambiguated_name(name, coworker_id, location=None):
    """The deterministic, readable name of a customer whose name someone else holds in QuickBooks:
    ``James Smith (London Bridge, 10094)`` (the Nexudus location it is invoiced from and its Nexudus id),
    ``James Smith (Nexudus 10094)`` when the location is unknown. Always within QuickBooks' limit."""
    place = clean_name(location, 40)
    suffix = f" ({place}, {coworker_id})" if place else f" (Nexudus {coworker_id})"
    return clean_name(name, DISPLAY_NAME_LIMIT - len(suffix)) + suffix


def legacy_disambiguated_name(name, coworker_id):
    """The name earlier versions gave a customer whose name a vendor or employee holds (still adopted)."""
    return disambiguated_name(name, coworker_id)


_MARKER = re.compile(r"^Nexudus customer (\d+)$", re.MULTILINE)


def customer_marker(coworker_id):
    """The note a QuickBooks customer the connector creates carries: whose customer it was created for."""
    return f"Nexudus customer {coworker_id}"


def marked_coworker(notes):
    """The Nexudus customer id a QuickBooks customer's ``Notes`` say it was created for, or None."""
    found = _MARKER.search(notes or "")
    return int(found.group(1)) if found else None
