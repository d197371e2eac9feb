"""Constants and value formats shared by the Nexudus simulator's data and HTTP layer."""

import re
import uuid
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

# Generated dates start here, whatever the wall clock says, so the data is the same on every run.
BASE_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)
CENT = Decimal("0.01")
CURRENCIES = {"GBP": (1, "£"), "EUR": (2, "€"), "USD": (3, "$"), "CAD": (4, "CA$")}  # code: (CurrencyId, symbol)
# eRegularPaymentProvider: 2 Stripe, 12 GoCardless, 96 BankTransfer, 97 Cash, 98 Check.
PAYMENT_PROVIDERS = {2: "Stripe", 12: "GoCardless", 96: "BankTransfer", 97: "Cash", 98: "Check"}
# ePaymentProvider, a ledger entry's PaymentGatewayName (research §2.7; other values exist).
PAYMENT_METHODS = {
    3: "GoCardless",
    4: "Stripe",
    11: "Manual",
    14: "GoCardlessPro",
    15: "CreditCard",
    24: "StripeACH",
    25: "StripeDirectDebit",
    500: "Xero",
    501: "Quickbooks",
    989: "ManualDirectDebit",
    990: "BadDebt",
    991: "CreditCardManual1",
    992: "CreditCardManual2",
    993: "CreditCardManual3",
    994: "Credit",
    995: "Gift",
    996: "Bank",
    997: "Cash",
    998: "Check",
    999: "Other",
}
THROTTLED = "You must wait before accessing this url again."  # Nexudus's documented throttle answer (HTTP 409)
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def money(value):
    """``value`` as a Decimal rounded half-up to the cent (never a float)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def cents(amount):
    return money(Decimal(amount) / 100)


def iso(moment):
    """UTC ISO-8601 with a ``Z``, as Nexudus sends datetimes: ``2026-01-15T10:30:00Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def local_iso(moment, zone):
    """The ``*Local`` twin of a datetime: wall-clock time in the location's zone, without an offset."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S") if moment else None


def guid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def looks_like_datetime(text):
    return isinstance(text, str) and _DATETIME.match(text) is not None


def parse_datetime(text):
    """Parse ``YYYY-MM-DDTHH:mm``, full ISO with seconds, ``Z`` or an offset; naive means UTC.

    Returns an aware UTC datetime, or None when ``text`` is not a date.
    """
    try:
        text = text.strip()
        if text.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not read "Z"
            text = f"{text[:-1]}+00:00"
        moment = datetime.fromisoformat(text)
    except (AttributeError, ValueError):
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
