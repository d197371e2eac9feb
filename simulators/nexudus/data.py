"""The seeded Nexudus records the simulator serves, built from the shared :class:`~simulators.world.World`.

Tables are plain dicts keyed by ``Id`` whose values are the JSON records with Nexudus's own field
names. Money is ``Decimal`` quantized to 0.01; datetimes are ISO-8601 UTC strings ending in ``Z``
(``*Local`` twins carry the location's wall-clock time without an offset).

Only fields the research shows are served. Whether a location enters prices gross of tax is *not* a
Business field (none is documented): it comes from the world's ``LocationDef.tax_inclusive`` and shows only
in how that location's lines are priced (see :mod:`simulators.nexudus.invoices`).

Every record carries ``CreatedOn`` and ``UpdatedOn``. An invoice line is made with its invoice, so its
``CreatedOn`` is the invoice's; its ``UpdatedOn`` moves only when the line itself changes
(:meth:`NexudusData.touch_line`), not when its invoice does: the ``CoworkerInvoice*`` copies on a line are
read through to the invoice (:data:`LINE_PARENT_COPIES`) and are not a change of the line.
"""

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from ..world import build_world
from . import ledger
from .invoices import build_invoices
from .values import BASE_DATE, CURRENCIES, PAYMENT_PROVIDERS, guid, iso, parse_datetime

COUNTRY_IDS = {"GB": 1, "IE": 2, "US": 3, "CA": 4}
TIME_ZONE_IDS = {
    "Europe/London": 1,
    "Europe/Dublin": 2,
    "America/New_York": 3,
    "America/Chicago": 4,
    "America/Toronto": 5,
}
STREETS = ["High Street", "Station Road", "Market Square", "Mill Lane", "Church Street", "Harbour View"]

# The Nexudus users that may sign in, all with password "secret": (Id, Email, APIAccess, TOTP code if 2FA).
API_USERS = [
    (1, "admin@example.com", True, None),
    (2, "noapi@example.com", False, None),
    (3, "2fa@example.com", True, "123456"),
]

INCLUSIVE_READINGS = ("gross_unit_price", "net_lines")
# Invoice fields copied onto each of its lines (line field: invoice field).
LINE_PARENT_COPIES = {
    "CoworkerInvoiceInvoiceNumber": "InvoiceNumber",
    "CoworkerInvoicePaid": "Paid",
    "CoworkerInvoicePaidOn": "PaidOn",
    "CoworkerInvoiceCreditNote": "CreditNote",
    "CoworkerInvoiceCurrencyCode": "CurrencyCode",
    "CoworkerInvoiceDueDate": "DueDate",
}

# Line fields touch_line leaves alone: identity, stamps, the invoice link and everything the totals depend on.
LINE_FIXED_FIELDS = {
    "Id",
    "UniqueId",
    "CoworkerInvoiceId",
    "CreatedOn",
    "UpdatedOn",
    "Quantity",
    "UnitPrice",
    "SubTotal",
    "TaxAmount",
    "TaxRate",
    "TaxCategoryName",
    "DiscountAmount",
    "CreditAmount",
    "FinancialAccountCode",
    "FinancialAccountName",
}


@dataclass
class NexudusData:
    businesses: dict = field(default_factory=dict)
    coworkers: dict = field(default_factory=dict)
    financialaccounts: dict = field(default_factory=dict)
    taxrates: dict = field(default_factory=dict)
    coworkerinvoices: dict = field(default_factory=dict)
    coworkerinvoicelines: dict = field(default_factory=dict)
    coworkerledgerentries: dict = field(default_factory=dict)
    api_users: dict = field(default_factory=dict)
    balances: dict = field(default_factory=dict)  # coworker id -> ledger balance after their last entry (not served)
    reversed_payments: set = field(default_factory=set)  # ids of direct-debit payments reversed (not served)
    # What a refund does to the invoice's RefundedAmount: "amount" adds it, "zero" leaves it at 0 (as FAUX saw live).
    refunded_amount_reading: str = "amount"
    # How a tax-inclusive location's lines read (research uncertainty 10): see simulators.nexudus.invoices.
    inclusive_reading: str = "gross_unit_price"
    builder: object = field(default=None, compare=False, repr=False)  # issues invoices at run time (not served)

    @classmethod
    def from_world(cls, world=None, refunded_amount_reading="amount", inclusive_reading="gross_unit_price"):
        """The deterministic Nexudus side of ``world``: same world, same records and ids.

        ``refunded_amount_reading``: "amount" (a refund adds to the invoice's ``RefundedAmount``) or "zero" (it
        stays 0, as FAUX saw with ``COWORKER_INVOICE_REFUND``); it holds for the seeded refunds and later ones."""
        if refunded_amount_reading not in ledger.REFUNDED_AMOUNT_READINGS:
            raise ValueError(f"refunded_amount_reading must be 'amount' or 'zero', not {refunded_amount_reading!r}")
        world = world or build_world()
        users = {
            user_id: {"Id": user_id, "Email": email, "Password": "secret", "APIAccess": access, "TotpCode": totp}
            for user_id, email, access, totp in API_USERS
        }
        if inclusive_reading not in INCLUSIVE_READINGS:
            raise ValueError(f"inclusive_reading must be one of {INCLUSIVE_READINGS}, not {inclusive_reading!r}")
        data = cls(
            api_users=users, refunded_amount_reading=refunded_amount_reading, inclusive_reading=inclusive_reading
        )
        data.businesses = _businesses(world)
        data.coworkers = _coworkers(world, data.businesses)
        data.financialaccounts = _financial_accounts(world, data.businesses)
        data.taxrates = _tax_rates(world, data.businesses)
        data.builder = build_invoices(world, data)
        data.sync_lines()
        return data

    def table(self, name):
        return getattr(self, name)

    def user_by_email(self, email):
        email = (email or "").strip().lower()
        return next((user for user in self.api_users.values() if user["Email"] == email), None)

    def lines_of(self, invoice_id):
        lines = (line for line in self.coworkerinvoicelines.values() if line["CoworkerInvoiceId"] == invoice_id)
        return sorted(lines, key=lambda line: line["Position"])

    def record_entry(
        self, invoice, fields, when, created, user="admin@example.com", coworker=None, business=None, unique_id=None
    ):
        """Store a ledger entry and apply it to its invoice (see :mod:`.ledger`); returns the stored record.

        ``fields``: Code, Description, Debit, Credit, PaymentGatewayName. ``when`` is the TransactionDate,
        ``created`` the moment it is recorded (CreatedOn, the invoice's UpdatedOn, PaidOn, RefundedOn). The
        customer and location are the invoice's unless given (an entry without invoice). The lines'
        ``CoworkerInvoice*`` copies are left to the caller (:meth:`sync_lines`).
        """
        coworker = coworker or self.coworkers[invoice["CoworkerId"]]
        business = business or self.businesses[invoice["BusinessId"]]
        zone = ZoneInfo(business["SimpleTimeZoneName"])
        entries = self.coworkerledgerentries
        entry_id = next(reversed(entries)) + 1 if entries else ledger.LEDGER_BASE_ID
        balance = self.balances.get(coworker["Id"], ledger.ZERO) + fields["Debit"] - fields["Credit"]
        self.balances[coworker["Id"]] = balance
        unique_id = unique_id or str(uuid.uuid4())
        record = ledger.entry(
            entry_id, unique_id, business, coworker, invoice, fields, balance, when, created, zone, user
        )
        entries[entry_id] = record
        if invoice is not None:
            ledger.apply(invoice, record, created, zone, user, self.refunded_amount_reading)
        return record

    def sync_lines(self, *invoice_ids):
        """Copy the invoice fields that lines repeat (``CoworkerInvoicePaid`` …) onto the lines of
        ``invoice_ids`` (all invoices when none is given), in one pass over the lines."""
        wanted = set(invoice_ids)
        for line in self.coworkerinvoicelines.values():
            if wanted and line["CoworkerInvoiceId"] not in wanted:
                continue
            invoice = self.coworkerinvoices[line["CoworkerInvoiceId"]]
            line.update({line_field: invoice[source] for line_field, source in LINE_PARENT_COPIES.items()})

    def touch_invoice(self, invoice_id, updated_on=None, **changes):
        """Change an invoice as Nexudus would between two syncs and bump its ``UpdatedOn``.

        ``updated_on`` (an aware datetime) defaults to one second after the newest ``UpdatedOn`` of
        any invoice, so the change is always seen by a ``from_CoworkerInvoice_UpdatedOn`` cursor.
        Only existing fields may change (a typo raises ``KeyError``). Returns the invoice.

        The ledger follows an issue and a void: ``Draft`` becoming false (the invoice not void) records its INV
        debit of ``TotalAmount``; ``Void`` becoming true on an issued invoice records the VOID credit of what it
        still owes. Other changes (amounts included) are the fields alone: the ledger is not rewritten.
        """
        invoice = self.coworkerinvoices[invoice_id]
        unknown = set(changes) - set(invoice)
        if unknown:
            raise KeyError(f"not CoworkerInvoice fields: {sorted(unknown)}")
        if updated_on is None:
            newest = max(record["UpdatedOn"] for record in self.coworkerinvoices.values())
            stamp = iso(parse_datetime(newest) + timedelta(seconds=1))
        else:
            stamp = iso(updated_on)
        was_draft, was_void = invoice["Draft"], invoice["Void"]
        invoice.update(changes)
        moment = parse_datetime(stamp)
        if was_draft and not invoice["Draft"] and not invoice["Void"] and not invoice["CreditNote"]:
            charge = {"Code": ledger.INV, "Description": f"Invoice {invoice['InvoiceNumber']}", "Credit": ledger.ZERO}
            self.record_entry(
                invoice, charge | {"Debit": invoice["TotalAmount"], "PaymentGatewayName": None}, moment, moment
            )
        if not was_void and invoice["Void"] and not invoice["Draft"] and invoice["DueAmount"] > 0:
            void = {
                "Code": ledger.VOID,
                "Description": f"Invoice {invoice['InvoiceNumber']} voided",
                "Debit": ledger.ZERO,
            }
            self.record_entry(
                invoice, void | {"Credit": invoice["DueAmount"], "PaymentGatewayName": None}, moment, moment
            )
        invoice["UpdatedOn"] = stamp
        self.sync_lines(invoice_id)
        return invoice

    def issue_invoice(self, coworker_id, moment, avoid=()):
        """Issue a new invoice of the coworker at ``moment`` (an aware datetime), as a billing run would; its
        lines use no account code or tax rate name in ``avoid``."""
        invoice = self.builder.issue_now(self.coworkers[coworker_id], moment, avoid=avoid)
        self.sync_lines(invoice["Id"])
        return invoice

    def credit_invoice(self, invoice_id, moment, full=True):
        """Issue at ``moment`` a credit note for an issued invoice (all its lines, or its first), as
        COWORKER_INVOICE_CANCEL makes; its credit goes to the invoice. Returns the credit note."""
        original = self.coworkerinvoices[invoice_id]
        if original["Draft"] or original["Void"] or original["CreditNote"]:
            raise ValueError(f"invoice {invoice_id} is not an issued invoice: it cannot be credited")
        note = self.builder.credit_now(original, moment, full)
        self.sync_lines(note["Id"], invoice_id)
        return note

    def touch_line(self, line_id, updated_on=None, **changes):
        """Change a line's own text fields (``Description``, ``DisplayAs``, ``IsHidden``, ``Position``...)
        and bump its ``UpdatedOn`` only; its invoice is untouched.

        ``updated_on`` defaults to one second after the newest ``UpdatedOn`` of any line. Amounts, tax and
        account fields, the invoice link and the ``CoworkerInvoice*`` copies cannot change here (the
        invoice's totals would no longer add up): ``KeyError`` for them and for unknown fields.
        """
        line = self.coworkerinvoicelines[line_id]
        refused = set(changes) - (set(line) - LINE_FIXED_FIELDS - set(LINE_PARENT_COPIES))
        if refused:
            raise KeyError(f"not changeable CoworkerInvoiceLine fields: {sorted(refused)}")
        if updated_on is None:
            newest = max(record["UpdatedOn"] for record in self.coworkerinvoicelines.values())
            stamp = iso(parse_datetime(newest) + timedelta(seconds=1))
        else:
            stamp = iso(updated_on)
        line.update(changes)
        line["UpdatedOn"] = stamp
        return line


def _stamps(created, updated):
    return {
        "CreatedOn": iso(created),
        "UpdatedOn": iso(updated),
        "UpdatedBy": "admin@example.com",
        "IsNew": False,
        "SystemId": None,
    }


def _businesses(world):
    rng = world.rng("nexudus:businesses")
    root_id = world.locations[0].id if world.locations else None
    records = {}
    for location in world.locations:
        loc = location.definition
        created = BASE_DATE - timedelta(days=900 - 30 * len(records))
        records[location.id] = {
            "Id": location.id,
            "UniqueId": guid(rng),
            "Name": loc.name,
            "WebAddress": loc.name.lower().replace(" ", ""),
            "Address": f"{rng.randint(1, 99)} {rng.choice(STREETS)}",
            "TownCity": _city(loc.name),
            "CountryId": COUNTRY_IDS[loc.country_code],
            "CountryName": loc.country_name,
            "CountryTwoDigitsCode": loc.country_code,
            "CurrencyId": CURRENCIES[loc.currency][0],
            "CurrencyCode": loc.currency,
            "SimpleTimeZoneId": TIME_ZONE_IDS[loc.time_zone],
            "SimpleTimeZoneName": loc.time_zone,
            "RootLocationId": root_id,
            "NextInvoice": None,  # set once invoices are numbered
            "InvoicingPeriod": 1,
            "DefaultPaymentGatewayId": None,
            "Active": True,
            **_stamps(created, created + timedelta(days=30)),
        }
    return records


def _city(location_name):
    return location_name.rsplit(" ", 1)[0]


def _tax_id(rng, country_code):
    digits = "".join(str(rng.randrange(10)) for _ in range(9))
    return {"GB": f"GB{digits}", "IE": f"IE{digits[:7]}W", "US": f"{digits[:2]}-{digits[2:]}", "CA": f"{digits}RT0001"}[
        country_code
    ]


def _coworkers(world, businesses):
    rng = world.rng("nexudus:coworkers")
    records = {}
    for customer in world.customers:
        business = businesses[customer.location_id]
        created = BASE_DATE - timedelta(days=rng.randint(30, 700), seconds=rng.randrange(86400))
        updated = created + timedelta(days=rng.randint(0, 25), seconds=rng.randrange(86400))
        archived = rng.random() < 0.05
        provider = rng.choice(list(PAYMENT_PROVIDERS))
        billing_email = f"billing.{customer.email}" if customer.company_name else customer.email
        first, _, last = customer.full_name.partition(" ")
        records[customer.id] = {
            "Id": customer.id,
            "UniqueId": guid(rng),
            "CoworkerType": customer.coworker_type,
            "FullName": customer.full_name,
            "GuessedFirstNameForInvoice": first,
            "GuessedLastNameForInvoice": last,
            "Email": customer.email,
            "CompanyName": customer.company_name or None,
            "MobilePhone": f"07{rng.randrange(10**8, 10**9)}",
            "LandLine": None,
            "BillingName": customer.billing_name or None,
            "BillingEmail": billing_email,
            "BillingAddress": f"{rng.randint(1, 250)} {rng.choice(STREETS)}",
            "BillingCityName": business["TownCity"],
            "BillingPostCode": f"{rng.randrange(10000, 99999)}",
            "BillingState": None,
            "BillingCountryId": business["CountryId"],
            "Address": None,
            "CityName": business["TownCity"],
            "PostCode": None,
            "State": None,
            "CountryId": business["CountryId"],
            "TaxIDNumber": _tax_id(rng, business["CountryTwoDigitsCode"]) if customer.company_name else None,
            "TaxRateType": 1,
            "RegularPaymentProvider": provider,
            "ReferenceNumber": f"M{customer.id}",
            "PurchaseOrder": None,
            "TeamIds": None,
            "TeamNames": f"{customer.company_name} team" if customer.company_name else None,
            "InvoicingBusinessId": business["Id"],
            "InvoicingBusinessName": business["Name"],
            "Businesses": [business["Id"]],  # a collection: only on a single GET
            "DoNotProcessInvoicesAutomatically": False,
            "Active": not archived,
            "Archived": archived,
            **_stamps(created, updated),
        }
    return records


def _financial_accounts(world, businesses):
    rng = world.rng("nexudus:financialaccounts")
    records = {}
    for business in businesses.values():
        for code, name, account_type in world.chart:
            record_id = 3000 + len(records)
            created = BASE_DATE - timedelta(days=400, seconds=len(records))
            records[record_id] = {
                "Id": record_id,
                "UniqueId": guid(rng),
                "BusinessId": business["Id"],
                "BusinessName": business["Name"],
                "Name": name,
                "Code": code,
                "Description": None,
                "AccountType": account_type,
                **_stamps(created, created),
            }
    return records


def _tax_rates(world, businesses):
    rng = world.rng("nexudus:taxrates")
    records = {}
    for business in businesses.values():
        for definition in world.tax_rates:
            record_id = 4000 + len(records)
            created = BASE_DATE - timedelta(days=400, seconds=len(records))
            records[record_id] = {
                "Id": record_id,
                "UniqueId": guid(rng),
                "BusinessId": business["Id"],
                "BusinessName": business["Name"],
                "Name": definition.name,
                "Rate": definition.rate,
                **_stamps(created, created),
            }
    return records
