"""CoworkerInvoices, their lines and the customer ledger (CoworkerLedgerEntry) behind them, generated from a World.

Sizes: ``world.invoices`` ordinary invoices (about 1 in 12 Draft, 1 in 20 Void, the rest issued),
then ``world.credit_notes`` credit notes on top (each crediting one issued invoice, in full or its
first line only), then ``world.payments`` payments spread over issued invoices not credited (some paid in one
go, some in instalments, about a quarter only partly paid). When ``world.payments`` is above 0 the ledger also
holds, from a random stream of its own (so invoices, lines and those payments come out as before): about 1 in 8
of the invoices paid in one go paid in 2 or 3 instalments instead (same total), about a third
of the cancelled invoices paid (every other one in part) before their credit note, refunds on about 1 in 12
fully paid invoices, reversed direct debits on about 1 in 8 GoCardless payments and 1 in 8 Stripe ones (which
become Stripe direct debits, 25), and gift cards on about 1 invoice in 60. With ``payments=0`` the ledger holds
only the charges, voids, credit notes and their allocations. Money has odd pence throughout, from the seed.

The customer ledger — the simulator's reading. The research (§2.7) documents the entry's fields, the
ePaymentProvider values and that "a positive balance means the customer owes"; which rows Nexudus writes for each
event, and their ``Code`` and ``Description``, are inferred [I] (FAUX's live export holds only PAYM, ADJU and DMG
rows, all with ``Balance`` 0, so it neither shows nor rules out the rows below). A customer ledger debits what the
customer owes and credits what they paid or were credited; ``Balance`` is the customer's running balance after
the entry (Σ Debit − Credit of all their entries, in the order recorded, every location together [I]).

=============================  ======  ========  ===================  ==========================================
event                          Code    gateway   row                  on
=============================  ======  ========  ===================  ==========================================
invoice issued (not a draft)   INV     null      Debit  = Total       the invoice, at its CreatedOn
invoice voided                 VOID    null      Credit = Total       the invoice (its INV row stays)
credit note issued             CN      null      Credit = |Total|     the credit note, at its CreatedOn
credit allocated               CRED    994       Credit = amount      the invoice credited
                               CRED    994       Debit  = amount      the credit note (the credit consumed)
payment                        PAYM    cash      Credit = amount      the invoice
refund                         REFUND  cash      Debit  = amount      the invoice (money back to the customer)
reversed direct debit          DDFAIL  14 / 25   Debit  = payment     the invoice, days after the payment
gift card                      GIFT    995       Credit = amount      the invoice (no counterpart)
=============================  ======  ========  ===================  ==========================================

- "cash" is any other ePaymentProvider: the coworker's regular provider (4 Stripe, 14 GoCardlessPro, 996 Bank,
  997 Cash, 998 Check), about 1 payment in 10 by 11 Manual, and about half the payments on invoices Nexudus's own
  integration transferred by 501 Quickbooks. A refund goes back through the payment's own method.
- A credit note is allocated to its original at once, for its whole credit or what the original still owes,
  whichever is less. The rest (the original was paid, in full or in part) is account credit: it is applied to
  the customer's next invoices as they are issued, oldest credit first (CRED pairs again); an invoice that is
  later voided is passed over [I: the simulator knows the future here, to keep a void without credit].
- A refund here comes without a credit note [I]: the invoice owes the refunded amount again. A reversed direct
  debit leaves the invoice owing the payment again (later instalments, if any, still come).
- Every row carries the entry fields of research §2.7: ``PaymentMethodNumber`` is a masked number for card and
  direct-debit methods, ``Billed`` is true, ``ConnectedTransactionGuid`` is null (undocumented: never linked).
  Entries are recorded in date order, so ``Id`` follows ``TransactionDate`` (= ``CreatedOn`` for seeded rows).

The invoice follows its rows (:mod:`.ledger`): ``DueAmount = Σ(Debit − Credit)`` of its rows; ``PaidAmount``
(= ``ReceivedAmount``) is cash paid less refunds and reversals; ``CreditedAmount`` is credit applied (994 and 995),
not cash; ``Paid`` once an ordinary invoice owes nothing (``TotalAmount − PaidAmount − CreditedAmount = 0``, so
a cancelled unpaid invoice is paid by its credit note), ``PaidOn`` when that happened; a refund sets
``Refunded``, ``RefundedOn`` and ``RefundedAmount`` (or leaves the latter at 0: ``refunded_amount_reading``);
``UpdatedOn`` is the latest of its rows' dates (research uncertainty 9: entries bump it). A credit note keeps
``Paid`` false and ``PaidAmount``/``CreditedAmount`` 0; its ``DueAmount`` is minus the credit it still holds (0
once all allocated) [I].

Pricing — research uncertainty 10 (is ``UnitPrice`` net in tax-inclusive locations?). The simulator
reads ``UnitPrice`` as the price *as entered* in the location; whether a location enters prices gross is the
world's ``LocationDef.tax_inclusive`` (no Business field says so: none is documented). With ``D`` the
line's ``DiscountAmount`` and rounding half-up to the cent:

- tax-exclusive location: ``UnitPrice`` is net; ``SubTotal = UnitPrice × Quantity`` ("before tax", DEV);
  ``TaxAmount = round((SubTotal − D) × TaxRate / 100)``; the line adds ``SubTotal + TaxAmount − D`` to
  the invoice's ``TotalAmount``;
- tax-inclusive location, reading ``inclusive_reading="gross_unit_price"`` (the default): ``UnitPrice`` is
  gross; ``gross = UnitPrice × Quantity − D``; ``TaxAmount = round(gross × TaxRate / (100 + TaxRate))``;
  ``SubTotal = gross − TaxAmount`` (net, after the discount); so ``UnitPrice × Quantity − D == SubTotal +
  TaxAmount`` and the line adds ``SubTotal + TaxAmount`` to the invoice's ``TotalAmount``;
- tax-inclusive location, reading ``inclusive_reading="net_lines"`` (the other answer to the uncertainty:
  Nexudus stores lines net whatever was entered): the price entered gross is converted —
  ``SubTotal = round(gross before discount × 100 / (100 + TaxRate))``, ``UnitPrice = SubTotal / Quantity``
  (5 decimals), ``DiscountAmount = round(D × 100 / (100 + TaxRate))``, ``TaxAmount`` the rest of the gross
  after discount; the line then reads as a tax-exclusive one and adds ``SubTotal + TaxAmount −
  DiscountAmount`` (the gross entered, less its discount) to the ``TotalAmount``.

About 1 line in 12 has a 10% discount, in both kinds of location. An invoice's ``TaxAmount`` and
``DiscountAmount`` are the sums of its lines', and exactly (:func:`line_total`):
``TotalAmount = Σ(SubTotal + TaxAmount) − Σ DiscountAmount`` in a tax-exclusive location and
``TotalAmount = Σ(SubTotal + TaxAmount) = Σ(UnitPrice × Quantity) − DiscountAmount`` in a tax-inclusive one.
Credit-note lines repeat the credited lines with a negative ``UnitPrice`` (``Quantity`` stays positive), so
all their amounts and the total are negative.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from .ledger import (
    CN,
    CRED,
    CREDIT,
    DDFAIL,
    GIFT,
    GIFT_CARD,
    GOCARDLESS_PRO,
    INV,
    MANUAL,
    PAYM,
    QUICKBOOKS,
    REFUND,
    STRIPE,
    STRIPE_DIRECT_DEBIT,
    VOID,
    ZERO,
    ordinary,
)
from .values import BASE_DATE, CURRENCIES, PAYMENT_PROVIDERS, cents, guid, iso, local_iso, money, parse_datetime

INVOICE_BASE_ID, LINE_BASE_ID = 50000, 600000
DAYS_SPANNED = 180  # invoices are spread over this many days from BASE_DATE
LINE_COUNTS = [1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6]

SOURCE_FIELDS = (
    "CoworkerContractUniqueId",
    "ContractDepositUniqueId",
    "BookingUniqueId",
    "CoworkerExtraServiceUniqueId",
    "ExtraServiceUniqueId",
    "CoworkerTimePassUniqueId",
    "CoworkerChargeUniqueId",
    "CoworkerProductUniqueId",
    "EventAttendeeUniqueId",
    "CoworkerDiscountCodeUniqueId",
)
NAME_FIELDS = (
    "TariffName",
    "CoworkerProductName",
    "CoworkerTimePassName",
    "CoworkerExtraServiceName",
    "EventAttendeeProductName",
)

# (account code, descriptions, unit price range in cents, max quantity, source id field, source name field)
CONTRACT_ITEMS = [
    (
        "MEM-001",
        ("Flex membership", "Resident membership", "Virtual office"),
        (9500, 45000),
        1,
        "CoworkerContractUniqueId",
        "TariffName",
    ),
    (
        "OFF-001",
        ("Private office (2 desks)", "Private office (4 desks)"),
        (60000, 250000),
        1,
        "CoworkerContractUniqueId",
        "TariffName",
    ),
]
EXTRA_ITEMS = [
    ("DESK-01", ("Hot desk day pass",), (1500, 3500), 10, "CoworkerTimePassUniqueId", "CoworkerTimePassName"),
    (
        "MTG-001",
        ("Meeting room booking", "Boardroom booking"),
        (2500, 9000),
        8,
        "BookingUniqueId",
        "CoworkerExtraServiceName",
    ),
    (
        "EVT-001",
        ("Workshop ticket", "Networking evening"),
        (1000, 12000),
        4,
        "EventAttendeeUniqueId",
        "EventAttendeeProductName",
    ),
    (
        "PRD-001",
        ("Printing credits", "Coffee card", "Locker rental"),
        (250, 2000),
        20,
        "CoworkerProductUniqueId",
        "CoworkerProductName",
    ),
]
DEPOSIT_ITEM = ("DEP-001", ("Security deposit",), (50000, 150000), 1, "ContractDepositUniqueId", None)

# Lines a connector cannot map (fields set over the line's own); the chart and tax rates hold none of these.
UNMAPPED_VARIANTS = [
    {"FinancialAccountCode": "LEG-404", "FinancialAccountName": "Legacy Revenue"},  # account not in the chart
    {"TaxCategoryName": "Legacy Tax", "TaxRate": Decimal("17.5")},  # tax rate not in the location's rates
    {"FinancialAccountCode": None, "FinancialAccountName": None},  # no account ("Account code must be specified")
    {"TaxCategoryName": "[No Tax]", "TaxRate": Decimal("0")},  # no tax rate: the default tax code applies
]
# A credit-note line repeats the credited line, its amounts negated.
CREDITED_LINE_FIELDS = (
    "Position",
    "Description",
    "Quantity",
    "TaxRate",
    "TaxCategoryName",
    "FinancialAccountCode",
    "FinancialAccountName",
    "DiscountCode",
    *SOURCE_FIELDS,
    *NAME_FIELDS,
)
NEGATED_LINE_FIELDS = ("UnitPrice", "SubTotal", "TaxAmount", "DiscountAmount")

# eRegularPaymentProvider of the coworker -> ePaymentProvider of the payment (Stripe, GoCardlessPro,
# Bank, Cash, Check); 11 is Manual, 501 Quickbooks (a payment Nexudus's own integration brought back).
GATEWAYS = {2: 4, 12: 14, 96: 996, 97: 997, 98: 998}
# Ledger events on one moment happen in this order: an invoice's charge, a credit note, money, a void.
ISSUE, NOTE, MONEY, VOIDING = 0, 1, 2, 3


def build_invoices(world, data):
    """Fill ``data``'s invoice, line and ledger tables (businesses and coworkers must exist); return the
    builder, which issues invoices at run time too (:meth:`_Builder.issue_now`)."""
    builder = _Builder(world, data)
    builder.run()
    return builder


class _Builder:
    def __init__(self, world, data):
        self.world, self.data = world, data
        self.rng = world.rng("nexudus:invoices")
        self.zones = {bid: ZoneInfo(b["SimpleTimeZoneName"]) for bid, b in data.businesses.items()}
        self.prefixes = {location.id: location.definition.invoice_prefix for location in world.locations}
        self.accounts = {code: name for code, name, _type in world.chart}
        self.rates = list(world.tax_rates)
        self.entered_gross = {location.id: location.definition.tax_inclusive for location in world.locations}
        net_lines = data.inclusive_reading == "net_lines"
        # Whether the lines themselves read tax-inclusive (see the module docstring's two readings).
        self.inclusive = {bid: gross and not net_lines for bid, gross in self.entered_gross.items()}
        # Discounts in tax-inclusive locations draw from their own stream, so the rest of the data is the
        # same as before they existed.
        self.inclusive_discounts = world.rng("nexudus:inclusive-discounts")
        self.no_tax = next((rate for rate in self.rates if rate.rate == 0), self.rates[0])
        self.sequences = defaultdict(int)  # (business id, series) -> last number used
        self.updated = {}  # invoice id -> latest change (datetime)
        self.payments = defaultdict(list)  # invoice id -> [_Payment] planned by pay()
        self.partial = {}  # invoice id -> whether pay() planned less than the total
        # Ledger extras (refunds, reversals, gifts...) draw from their own stream: the invoices, lines and
        # payments above come out as they did before those existed.
        self.ledger_rng = world.rng("nexudus:ledger")
        self.events = []  # (moment, priority, sequence, handler, args), see record_ledger()
        self.account_credit = defaultdict(list)  # coworker id -> credit notes with credit left, oldest first
        self.unmapped_count = 0
        self.drafts = 0

    def run(self):
        rng, n = self.rng, self.world.invoices
        by_business = defaultdict(list)
        for coworker in self.data.coworkers.values():
            by_business[coworker["InvoicingBusinessId"]].append(coworker)
        businesses = [bid for bid in self.data.businesses if by_business[bid]]
        if not businesses:
            return
        order = list(range(n))
        rng.shuffle(order)
        drafts, voids = set(order[: n // 12]), set(order[n // 12 : n // 12 + n // 20])
        issued_indexes = [i for i in range(n) if i not in drafts and i not in voids]
        transferred = set(rng.sample(issued_indexes, min(len(issued_indexes), max(1, n // 25))))
        long_numbers = set(rng.sample(issued_indexes, min(len(issued_indexes), max(1, n // 30))))
        unmapped = set(rng.sample(range(n), min(n, max(1, n // 20))))
        issued = []
        for index in range(n):
            business_id = businesses[index % len(businesses)]
            created = BASE_DATE + timedelta(days=index * DAYS_SPANNED // n)
            # Half the invoices come from a billing run at 02:00 UTC, so equal CreatedOn values are common.
            created += timedelta(hours=2) if rng.random() < 0.5 else timedelta(seconds=rng.randrange(86400))
            kind = "draft" if index in drafts else "void" if index in voids else "issued"
            invoice = self.invoice(
                rng.choice(by_business[business_id]),
                created,
                kind,
                long_number=index in long_numbers,
                transferred=index in transferred,
            )
            self.add_lines(invoice, rng.choice(LINE_COUNTS), unmapped=index in unmapped)
            if kind == "issued":
                issued.append(invoice)
        originals = rng.sample(issued, min(len(issued), self.world.credit_notes))
        notes = [
            (original, self.credit_note(original, full=count % 2 == 0)) for count, original in enumerate(originals)
        ]
        credited = {invoice["Id"] for invoice in originals}
        self.add_payments([invoice for invoice in issued if invoice["Id"] not in credited])
        voided = [invoice for invoice in self.data.coworkerinvoices.values() if invoice["Void"]]
        self.plan_ledger(notes, voided, issued)
        self.record_ledger()
        for invoice in self.data.coworkerinvoices.values():
            self.finish(invoice)
        for business_id, business in self.data.businesses.items():
            business["NextInvoice"] = self.sequences[(business_id, "invoice")] + 1

    def issue_now(self, coworker, moment, line_count=2, avoid=()):
        """A new invoice of ``coworker`` issued (and sent) at ``moment``, with its lines and INV ledger row; its
        lines use no financial account code or tax rate name in ``avoid`` (bin/bench: only mapped ones)."""
        invoice = self.invoice(coworker, moment, "issued")
        invoice["SentOn"] = iso(moment)
        self.updated[invoice["Id"]] = moment
        self.add_lines(invoice, line_count, avoid=avoid)
        self.issue(moment, invoice)
        self.finish(invoice)
        business_id = invoice["BusinessId"]
        self.data.businesses[business_id]["NextInvoice"] = self.sequences[(business_id, "invoice")] + 1
        return invoice

    # -- invoices ----------------------------------------------------------------------------------
    def number(self, business_id, series, created, long_number=False):
        self.sequences[(business_id, series)] += 1
        seq, prefix = self.sequences[(business_id, series)], self.prefixes[business_id]
        if series == "draft":
            return f"{prefix}DRAFT-{seq:04d}"
        if series == "credit":
            return f"{prefix}CN-{seq:04d}"
        if long_number:  # longer than QuickBooks's 21-character DocNumber
            return f"{prefix}{created:%Y%m}-MEMBERSHIP-{seq:05d}"
        return f"{prefix}{seq:04d}"

    def invoice(self, coworker, created, kind, long_number=False, transferred=False, original=None):
        rng = self.rng
        business = self.data.businesses[coworker["InvoicingBusinessId"]]
        zone = self.zones[business["Id"]]
        invoice_id = INVOICE_BASE_ID + len(self.data.coworkerinvoices)
        draft = kind == "draft"
        # Drafts alternate between "waiting for a number" (none yet) and a temporary draft number.
        waiting = draft and self.drafts % 2 == 0
        temporary = draft and not waiting
        self.drafts += draft
        series = "draft" if draft else "credit" if original else "invoice"
        number = None if waiting else self.number(business["Id"], series, created, long_number)
        sent_on = None if draft else created + timedelta(minutes=rng.randint(1, 120))
        period_start = created.replace(hour=0, minute=0, second=0)
        due = period_start + timedelta(days=14)
        dates = {
            "CreatedOn": created,
            "DueDate": due,
            "InvoiceFromDate": period_start,
            "InvoiceToDate": period_start + timedelta(days=30, seconds=-1),
            "SentOn": sent_on,
            "PaidOn": None,
            "RefundedOn": None,
            "LastPaymentAttempt": None,
        }
        record = {
            "Id": invoice_id,
            "UniqueId": guid(rng),
            "InvoiceNumber": number,
            "PaymentReference": number,
            "PurchaseOrder": f"PO-{rng.randint(1000, 9999)}" if rng.random() < 0.1 else None,
            "Description": "",
            "CustomData": None,
            "ContractGuid": None,
            "SystemId": None,
            "CoworkerId": coworker["Id"],
            "CoworkerFullName": coworker["FullName"],
            "CoworkerCompanyName": coworker["CompanyName"],
            "CoworkerTeamNames": coworker["TeamNames"],
            "CoworkerBillingEmail": coworker["BillingEmail"],
            "CoworkerRegularPaymentProvider": PAYMENT_PROVIDERS.get(coworker["RegularPaymentProvider"]),
            "CoworkerDoNotProcessInvoicesAutomatically": False,
            "BusinessId": business["Id"],
            "BusinessName": business["Name"],
            "BillToName": coworker["BillingName"] or coworker["FullName"],
            "BillToAddress": coworker["BillingAddress"],
            "BillToCity": coworker["BillingCityName"],
            "BillToPostCode": coworker["BillingPostCode"],
            "BillToState": None,
            "BillToCountryId": business["CountryId"],
            "BillToCountryName": business["CountryName"],
            "BillToCountryTwoDigitsCode": business["CountryTwoDigitsCode"],
            "BillToPhone": coworker["MobilePhone"],
            "BillToFax": None,
            "BillToBankAccount": None,
            "BillToTaxIDNumber": coworker["TaxIDNumber"],
        }
        for name, moment in dates.items():
            record[name] = iso(moment)
            record[f"{name}Local"] = local_iso(moment, zone)
        del record["SentOnLocal"]  # Nexudus has no SentOnLocal twin
        zero = Decimal("0.00")
        record.update(
            {
                "TotalAmount": zero,
                "TaxAmount": zero,
                "DiscountAmount": zero,
                "PaidAmount": zero,
                "ReceivedAmount": zero,
                "CreditedAmount": zero,
                "RefundedAmount": zero,
                "DueAmount": zero,
                "IsDue": False,
                "TotalAmountFormated": "",
                "DueDateFormated": due.astimezone(zone).strftime(
                    "%m/%d/%Y" if business["CountryTwoDigitsCode"] == "US" else "%d/%m/%Y"
                ),
                "CurrencyId": business["CurrencyId"],
                "CurrencyCode": business["CurrencyCode"],
                "TransactionTotalAmount": zero,
                "TransactionCurrencyId": business["CurrencyId"],
                "TransactionCurrencyCode": business["CurrencyCode"],
                "TransactionExchangeRate": Decimal("1"),
                "Draft": draft,
                "Void": kind == "void",
                "WaitingForInvoiceNumber": waiting,
                "HasTemporaryInvoiceNumber": temporary,
                "Paid": False,
                "Sent": not draft,
                "Refunded": False,
                "CreditNote": original is not None,
                "OriginalInvoiceGuid": original["UniqueId"] if original else None,
                "Billed": not draft,
                "DoNotApplyCreditAutomatically": False,
                "XeroInvoiceTransfered": False,
                "XeroPaymentTransfered": False,
                "QuickbooksInvoiceTransfered": transferred,
                "QuickbooksPaymentTransfered": False,
                "MoloniInvoiceTransferred": False,
                "MoloniPaymentTransferred": False,
                "AutoTransferToXeroOrQuickBooks": transferred,
                "StorecoveInvoiceStatus": 1,
                "AutoTransferToStorecove": False,
                "StorecoveUniqueId": None,
                "InvoiceLines": [],  # a collection: only on a single GET, and empty there too (FAUX, live)
                "UpdatedOn": iso(created),
                "UpdatedBy": "admin@example.com",
                "IsNew": False,
            }
        )
        self.data.coworkerinvoices[invoice_id] = record
        self.updated[invoice_id] = sent_on or created
        if kind == "void":
            self.updated[invoice_id] = created + timedelta(days=rng.randint(1, 10))
        return record

    # -- lines -------------------------------------------------------------------------------------
    def add_lines(self, invoice, count, unmapped=False, avoid=()):
        rng = self.rng
        inclusive = self.entered_gross[invoice["BusinessId"]]
        converted = inclusive and not self.inclusive[invoice["BusinessId"]]
        odd_position = rng.randint(1, count) if unmapped else None
        for position in range(1, count + 1):
            for _attempt in range(100):  # drawn again while its account or tax rate is to be avoided
                if position == 1 and rng.random() < 0.8:
                    item = rng.choice(CONTRACT_ITEMS)
                else:
                    item = DEPOSIT_ITEM if rng.random() < 0.05 else rng.choice(EXTRA_ITEMS)
                rate = self.no_tax if item is DEPOSIT_ITEM else rng.choice(self.rates[:1] * 9 + self.rates)
                if item[0] not in avoid and rate.name not in avoid:
                    break
            code, descriptions, (low, high), max_quantity, source_field, name_field = item
            description = rng.choice(descriptions)
            fields = {
                "Position": position,
                "Description": description,
                "Quantity": rng.randint(1, max_quantity),
                "UnitPrice": cents(rng.randint(low, high)),
                "TaxRate": rate.rate,
                "TaxCategoryName": rate.name,
                "FinancialAccountCode": code,
                "FinancialAccountName": self.accounts[code],
                source_field: guid(rng),
            }
            if name_field:
                fields[name_field] = description
            if position == odd_position:
                fields.update(UNMAPPED_VARIANTS[self.unmapped_count % len(UNMAPPED_VARIANTS)])
                self.unmapped_count += 1
            if (self.inclusive_discounts if inclusive else rng).random() < 0.08:
                fields["DiscountAmount"] = money(fields["UnitPrice"] * fields["Quantity"] / 10)
                fields["DiscountCode"] = "WELCOME10"
            unit_price, quantity, rate = fields["UnitPrice"], fields["Quantity"], fields["TaxRate"]
            if converted:
                fields |= net_line(unit_price, quantity, rate, fields.get("DiscountAmount"))
            else:
                fields["SubTotal"], fields["TaxAmount"] = price_line(
                    unit_price, quantity, rate, fields.get("DiscountAmount", 0), inclusive
                )
            self.line(invoice, **fields)
            if source_field == "CoworkerContractUniqueId" and invoice["ContractGuid"] is None:
                invoice["ContractGuid"] = fields[source_field]

    def line(self, invoice, **fields):
        """Add a line with ``fields`` over the defaults to ``invoice``, and its amounts to the invoice's."""
        line_id = LINE_BASE_ID + len(self.data.coworkerinvoicelines)
        zero = Decimal("0.00")
        record = {
            "Id": line_id,
            "UniqueId": guid(self.rng),
            "CoworkerInvoiceId": invoice["Id"],
            "Description": None,
            "DisplayAs": None,
            "Position": 1,
            "IsHidden": False,
            "GroupedLineUniqueId": None,
            "Quantity": 1,
            "UnitPrice": zero,
            "SubTotal": zero,
            "TaxAmount": zero,
            "TaxRate": Decimal("0"),
            "TaxCategoryName": None,
            "DiscountAmount": zero,
            "DiscountCode": None,
            "CreditAmount": zero,
            "IsUniversalCredit": False,
            "IsProratedContract": False,
            "FinancialAccountCode": None,
            "FinancialAccountName": None,
            **dict.fromkeys(SOURCE_FIELDS),
            **dict.fromkeys(NAME_FIELDS),
            "Refunded": False,
            "RefundedAmount": zero,
            "RefundedOn": None,
            "CancelledCoworkerInvoiceLineUniqueId": None,
            "SaleDate": invoice["InvoiceFromDate"],
            "SaleDateLocal": invoice["InvoiceFromDateLocal"],
            "IssuedByUniqueId": None,
            "PurchaseOrder": invoice["PurchaseOrder"],
            "CreatedOn": invoice["CreatedOn"],
            "UpdatedOn": invoice["CreatedOn"],
            "UpdatedBy": "admin@example.com",
            "IsNew": False,
            "SystemId": None,
        }
        record.update(fields)
        self.data.coworkerinvoicelines[line_id] = record
        invoice["TotalAmount"] += line_total(record, self.inclusive[invoice["BusinessId"]])
        invoice["TaxAmount"] += record["TaxAmount"]
        invoice["DiscountAmount"] += record["DiscountAmount"]
        invoice["Description"] = ", ".join(filter(None, [invoice["Description"], record["Description"]]))

    def credit_note(self, original, full):
        """A credit note for all of ``original``'s lines (or its first line), as COWORKER_INVOICE_CANCEL makes."""
        rng = self.rng
        created = parse_datetime(original["CreatedOn"])
        created += timedelta(days=rng.randint(2, 25), seconds=rng.randrange(86400))
        note = self.invoice(self.data.coworkers[original["CoworkerId"]], created, "issued", original=original)
        self.credit_lines(note, original, full)
        self.updated[original["Id"]] = max(self.updated[original["Id"]], created)
        return note

    def credit_lines(self, note, original, full):
        lines = self.data.lines_of(original["Id"])
        for source in lines if full else lines[:1]:
            copied = {key: source[key] for key in CREDITED_LINE_FIELDS}
            negated = {key: Decimal("0.00") - source[key] for key in NEGATED_LINE_FIELDS}  # never -0.00
            self.line(note, **copied, **negated, CancelledCoworkerInvoiceLineUniqueId=source["UniqueId"])

    def credit_now(self, original, moment, full=True):
        """A credit note for ``original`` (all its lines, or its first) issued at ``moment``, allocated to it."""
        note = self.invoice(self.data.coworkers[original["CoworkerId"]], moment, "issued", original=original)
        note["SentOn"] = iso(moment)
        self.updated[note["Id"]] = self.updated[original["Id"]] = moment
        self.credit_lines(note, original, full)
        self.note_issued(moment, original, note)
        self.finish(note)
        self.finish(original)
        return note

    # -- payments ----------------------------------------------------------------------------------
    def add_payments(self, candidates):
        rng, wanted = self.rng, self.world.payments
        rng.shuffle(candidates)
        targets = [invoice for invoice in candidates if invoice["TotalAmount"] > 0][:wanted]
        for index, invoice in enumerate(targets):
            # Payments beyond one per target become further instalments, round-robin.
            instalments = wanted // len(targets) + (1 if index < wanted % len(targets) else 0)
            self.pay(invoice, instalments, partial=rng.random() < 0.25)

    def pay(self, invoice, instalments, partial):
        """Plan ``invoice``'s payments (recorded later, in date order, by :meth:`cash`)."""
        rng = self.rng
        total = int(invoice["TotalAmount"] * 100)
        paid = rng.randint(max(instalments, total // 5), max(instalments, total * 4 // 5)) if partial else total
        cuts = sorted(rng.sample(range(1, paid), instalments - 1)) if instalments > 1 else []
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, paid], strict=True)]
        coworker = self.data.coworkers[invoice["CoworkerId"]]
        moment = parse_datetime(invoice["SentOn"])
        self.partial[invoice["Id"]] = partial
        for part in parts:
            moment += timedelta(days=rng.randint(1, 15), seconds=rng.randrange(86400))
            gateway = GATEWAYS[coworker["RegularPaymentProvider"]]
            if invoice["QuickbooksInvoiceTransfered"] and rng.random() < 0.5:
                gateway = QUICKBOOKS
            elif rng.random() < 0.1:
                gateway = MANUAL
            self.payments[invoice["Id"]].append(_Payment(invoice, moment, cents(part), gateway, guid(rng)))

    # -- the ledger ----------------------------------------------------------------------------------
    def plan_ledger(self, notes, voids, issued):
        """Queue every ledger event: issues, credit notes, voids, the payments above, then (own random stream,
        so everything above stays as it was) payments before a cancel, refunds, reversed direct debits, gifts."""
        for invoice in self.data.coworkerinvoices.values():
            if not (invoice["Draft"] or invoice["CreditNote"]):
                self.event(parse_datetime(invoice["CreatedOn"]), ISSUE, self.issue, invoice)
        for original, note in notes:
            self.event(parse_datetime(note["CreatedOn"]), NOTE, self.note_issued, original, note)
        for invoice in voids:
            self.event(self.updated[invoice["Id"]], VOIDING, self.void, invoice)
        if self.world.payments > 0:
            self.plan_instalments()
        for payments in self.payments.values():
            for payment in payments:
                self.event(payment.moment, MONEY, self.cash, payment)
        if self.world.payments > 0:
            self.plan_paid_before_cancel(notes)
            refunded = self.plan_refunds()
            self.plan_reversals(refunded)
            self.plan_gifts(issued, {original["Id"] for original, _note in notes})

    def plan_instalments(self):
        """About 1 in 8 invoices paid in one go (of at least 10.00) is paid in 2 or 3 instalments instead, the
        first on the payment's date, the others 3 to 20 days apart (each with the same method)."""
        rng = self.ledger_rng
        singles = [payments for payments in self.payments.values() if len(payments) == 1 and payments[0].amount >= 10]
        for payments in rng.sample(singles, len(singles) // 8):
            first, count = payments[0], rng.randint(2, 3)
            whole = int(first.amount * 100)
            cuts = sorted(rng.sample(range(1, whole), count - 1))
            parts = [b - a for a, b in zip([0, *cuts], [*cuts, whole], strict=True)]
            first.amount, moment = cents(parts[0]), first.moment
            for part in parts[1:]:
                moment += timedelta(days=rng.randint(3, 20), seconds=rng.randrange(86400))
                payments.append(_Payment(first.invoice, moment, cents(part), first.gateway, guid(rng)))

    def plan_paid_before_cancel(self, notes):
        """About a third of the cancelled invoices were paid (every other one in part) before their credit note,
        so its credit is not all allocated to them: the rest is account credit."""
        rng = self.ledger_rng
        chosen = sorted(rng.sample(range(len(notes)), (len(notes) + 1) // 3))
        for count, index in enumerate(chosen):
            original, note = notes[index]
            total = int(original["TotalAmount"] * 100)
            amount = cents(total if count % 2 == 0 else rng.randint(total // 5, total * 4 // 5))
            sent, cancelled = parse_datetime(original["SentOn"]), parse_datetime(note["CreatedOn"])
            moment = (sent + (cancelled - sent) * rng.uniform(0.2, 0.8)).replace(microsecond=0)
            gateway = GATEWAYS[self.data.coworkers[original["CoworkerId"]]["RegularPaymentProvider"]]
            self.event(moment, MONEY, self.cash, _Payment(original, moment, amount, gateway, guid(rng)))

    def plan_refunds(self):
        """About 1 in 12 fully paid invoices: one payment refunded, whole or in part, 2 to 20 days after the last."""
        rng = self.ledger_rng
        candidates = [
            payments
            for invoice_id, payments in self.payments.items()
            if not self.partial[invoice_id] and any(p.gateway != QUICKBOOKS for p in payments)
        ]
        chosen = rng.sample(candidates, max(1, len(candidates) // 12)) if candidates else []
        for payments in chosen:
            payment = rng.choice([p for p in payments if p.gateway != QUICKBOOKS])
            whole = int(payment.amount * 100)
            amount = payment.amount if whole < 200 or rng.random() < 0.5 else cents(rng.randint(100, whole - 1))
            moment = max(p.moment for p in payments) + timedelta(days=rng.randint(2, 20), seconds=rng.randrange(86400))
            self.event(moment, MONEY, self.refund, payment, amount)
        return {payments[0].invoice["Id"] for payments in chosen}

    def plan_reversals(self, refunded):
        """About 1 in 8 GoCardless payments and 1 in 8 Stripe ones (then a Stripe direct debit) reversed by the
        bank 3 to 6 days later (none on a refunded invoice)."""
        rng = self.ledger_rng
        for gateway in (GOCARDLESS_PRO, STRIPE):
            candidates = [
                payment
                for invoice_id, payments in self.payments.items()
                if invoice_id not in refunded
                for payment in payments
                if payment.gateway == gateway
            ]
            for payment in rng.sample(candidates, max(1, len(candidates) // 8)) if candidates else []:
                if payment.gateway == STRIPE:
                    payment.gateway = STRIPE_DIRECT_DEBIT
                moment = payment.moment + timedelta(days=rng.randint(3, 6), seconds=rng.randrange(86400))
                self.event(moment, MONEY, self.reverse, payment)

    def plan_gifts(self, issued, credited):
        """About 1 issued invoice in 60 without payments has part of it (or all) paid by a gift card."""
        rng = self.ledger_rng
        candidates = [i for i in issued if i["Id"] not in self.payments and i["Id"] not in credited]
        for invoice in rng.sample(candidates, min(len(candidates), max(1, len(issued) // 60))):
            amount = min(cents(rng.randint(500, 6000)), invoice["TotalAmount"])
            moment = parse_datetime(invoice["SentOn"]) + timedelta(
                days=rng.randint(1, 10), seconds=rng.randrange(86400)
            )
            self.event(moment, MONEY, self.gift, invoice, amount)

    def event(self, moment, priority, handler, *args):
        self.events.append((moment, priority, len(self.events), handler, args))

    def record_ledger(self):
        """Record the queued events in date order, so ids, balances and invoice fields follow the dates."""
        for moment, _priority, _seq, handler, args in sorted(self.events, key=lambda event: event[:3]):
            handler(moment, *args)

    def record(self, invoice, code, description, moment, debit=ZERO, credit=ZERO, gateway=None, unique_id=None):
        fields = {"Code": code, "Description": description, "Debit": debit, "Credit": credit}
        return self.data.record_entry(
            invoice,
            fields | {"PaymentGatewayName": gateway},
            moment,
            moment,
            unique_id=unique_id or guid(self.ledger_rng),
        )

    def issue(self, moment, invoice):
        """The invoice's charge; account credit the customer holds is applied to it at once."""
        self.record(invoice, INV, f"Invoice {invoice['InvoiceNumber']}", moment, debit=invoice["TotalAmount"])
        if ordinary(invoice):
            for note in self.account_credit[invoice["CoworkerId"]]:
                amount = min(-note["DueAmount"], invoice["DueAmount"])
                if amount > 0:
                    self.apply_credit(note, invoice, amount, moment)

    def note_issued(self, moment, original, note):
        """The credit note's credit, allocated to its original up to what that still owes; the rest is account
        credit for the customer's next invoices."""
        self.record(note, CN, f"Credit note {note['InvoiceNumber']}", moment, credit=-note["TotalAmount"])
        amount = min(-note["TotalAmount"], original["DueAmount"]) if ordinary(original) else ZERO
        if amount > 0:
            self.apply_credit(note, original, amount, moment)
        if note["DueAmount"] < 0:
            self.account_credit[note["CoworkerId"]].append(note)

    def apply_credit(self, note, invoice, amount, moment):
        self.record(
            invoice, CRED, f"Credit note {note['InvoiceNumber']} applied", moment, credit=amount, gateway=CREDIT
        )
        self.record(note, CRED, f"Applied to invoice {invoice['InvoiceNumber']}", moment, debit=amount, gateway=CREDIT)

    def void(self, moment, invoice):
        self.record(invoice, VOID, f"Invoice {invoice['InvoiceNumber']} voided", moment, credit=invoice["TotalAmount"])

    def cash(self, moment, payment):
        """A planned payment, for no more than the invoice still owes (credit may have been applied since)."""
        invoice = payment.invoice
        amount = min(payment.amount, invoice["DueAmount"])
        if amount > 0:
            description = f"Payment for invoice {invoice['InvoiceNumber']}"
            payment.entry = self.record(
                invoice, PAYM, description, moment, credit=amount, gateway=payment.gateway, unique_id=payment.unique_id
            )

    def refund(self, moment, payment, amount):
        invoice = payment.invoice
        amount = min(amount, payment.entry["Credit"], invoice["PaidAmount"]) if payment.entry else ZERO
        if amount > 0:
            description = f"Refund for invoice {invoice['InvoiceNumber']}"
            self.record(invoice, REFUND, description, moment, debit=amount, gateway=payment.gateway)

    def reverse(self, moment, payment):
        invoice = payment.invoice
        amount = min(payment.entry["Credit"], invoice["PaidAmount"]) if payment.entry else ZERO
        if amount > 0:
            self.record(invoice, DDFAIL, "Direct debit failed", moment, debit=amount, gateway=payment.gateway)
            self.data.reversed_payments.add(payment.entry["Id"])

    def gift(self, moment, invoice, amount):
        amount = min(amount, invoice["DueAmount"])
        if amount > 0:
            self.record(invoice, GIFT, "Gift card", moment, credit=amount, gateway=GIFT_CARD)

    # -- derived fields ----------------------------------------------------------------------------
    def finish(self, invoice):
        total = invoice["TotalAmount"]
        updated = max(self.updated[invoice["Id"]], parse_datetime(invoice["UpdatedOn"]))
        invoice.update(
            {
                "TransactionTotalAmount": total,
                "TotalAmountFormated": _formatted(total, self.data.businesses[invoice["BusinessId"]]),
                "QuickbooksPaymentTransfered": invoice["QuickbooksInvoiceTransfered"] and invoice["Paid"],
                "UpdatedOn": iso(updated),
            }
        )


@dataclass
class _Payment:
    """A payment the generator plans; ``entry`` is its ledger row once recorded (None if nothing was owed)."""

    invoice: dict
    moment: datetime
    amount: Decimal
    gateway: int
    unique_id: str
    entry: dict | None = None


def price_line(unit_price, quantity, rate, discount, inclusive):
    """(SubTotal, TaxAmount) of a line; see the module docstring for both readings of UnitPrice."""
    amount = money(unit_price * quantity)
    if inclusive:
        gross = amount - discount
        tax = money(gross * rate / (100 + rate))
        return gross - tax, tax
    return amount, money((amount - discount) * rate / 100)


def net_line(unit_price, quantity, rate, discount):
    """The stored fields of a line whose price was entered gross, in the ``net_lines`` reading."""
    gross = money(unit_price * quantity)
    subtotal = money(gross * 100 / (100 + rate))
    net_discount = money((discount or 0) * 100 / (100 + rate))
    fields = {
        "UnitPrice": (subtotal / quantity).quantize(Decimal("0.00001")),
        "SubTotal": subtotal,
        "TaxAmount": gross - (discount or 0) - (subtotal - net_discount),
    }
    if discount:
        fields["DiscountAmount"] = net_discount
    return fields


def line_total(line, inclusive):
    """What a line adds to its invoice's ``TotalAmount`` (the discount is inside SubTotal when inclusive)."""
    total = line["SubTotal"] + line["TaxAmount"]
    return total if inclusive else total - line["DiscountAmount"]


def _formatted(amount, business):
    symbol = CURRENCIES[business["CurrencyCode"]][1]
    return f"{'-' if amount < 0 else ''}{symbol}{abs(amount):,.2f}"
