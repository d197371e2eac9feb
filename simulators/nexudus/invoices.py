"""CoworkerInvoices, their lines and the ledger payments against them, generated from a World.

Sizes: ``world.invoices`` ordinary invoices (about 1 in 12 Draft, 1 in 20 Void, the rest issued),
then ``world.credit_notes`` credit notes on top (each crediting one issued invoice, in full or its
first line only), then ``world.payments`` payment ledger entries spread over issued invoices (some
paid in one go, some in instalments, about a quarter only partly paid).

Pricing — research uncertainty 10 (is ``UnitPrice`` net in tax-inclusive locations?). The simulator
reads ``UnitPrice`` as the price *as entered* in the location; whether a location enters prices gross is the
world's ``LocationDef.tax_inclusive`` (no Business field says so: none is documented). With ``D`` the
line's ``DiscountAmount`` and rounding half-up to the cent:

- tax-exclusive location: ``UnitPrice`` is net; ``SubTotal = UnitPrice × Quantity`` ("before tax", DEV);
  ``TaxAmount = round((SubTotal − D) × TaxRate / 100)``; the line adds ``SubTotal + TaxAmount − D`` to
  the invoice's ``TotalAmount``;
- tax-inclusive location: ``UnitPrice`` is gross; ``gross = UnitPrice × Quantity − D``;
  ``TaxAmount = round(gross × TaxRate / (100 + TaxRate))``; ``SubTotal = gross − TaxAmount`` (net, after
  the discount); so ``UnitPrice × Quantity − D == SubTotal + TaxAmount`` and the line adds
  ``SubTotal + TaxAmount`` to the invoice's ``TotalAmount``.

About 1 line in 12 has a 10% discount, in both kinds of location. An invoice's ``TaxAmount`` and
``DiscountAmount`` are the sums of its lines', and exactly (:func:`line_total`):
``TotalAmount = Σ(SubTotal + TaxAmount) − Σ DiscountAmount`` in a tax-exclusive location and
``TotalAmount = Σ(SubTotal + TaxAmount) = Σ(UnitPrice × Quantity) − DiscountAmount`` in a tax-inclusive one.
Credit-note lines repeat the credited lines with a negative ``UnitPrice`` (``Quantity`` stays positive), so
all their amounts and the total are negative.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from .values import BASE_DATE, CURRENCIES, PAYMENT_PROVIDERS, cents, guid, iso, local_iso, money, parse_datetime

INVOICE_BASE_ID, LINE_BASE_ID, LEDGER_BASE_ID = 50000, 600000, 80000
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
# Bank, Cash, Check); 11 is Manual, 501 Quickbooks (a payment pulled back from QuickBooks).
GATEWAYS = {2: 4, 12: 14, 96: 996, 97: 997, 98: 998}
MANUAL, QUICKBOOKS = 11, 501


def build_invoices(world, data):
    """Fill ``data``'s invoice, line and ledger tables (businesses and coworkers must exist)."""
    _Builder(world, data).run()


class _Builder:
    def __init__(self, world, data):
        self.world, self.data = world, data
        self.rng = world.rng("nexudus:invoices")
        self.zones = {bid: ZoneInfo(b["SimpleTimeZoneName"]) for bid, b in data.businesses.items()}
        self.prefixes = {location.id: location.definition.invoice_prefix for location in world.locations}
        self.accounts = {code: name for code, name, _type in world.chart}
        self.rates = list(world.tax_rates)
        self.inclusive = {location.id: location.definition.tax_inclusive for location in world.locations}
        # Discounts in tax-inclusive locations draw from their own stream, so the rest of the data is the
        # same as before they existed.
        self.inclusive_discounts = world.rng("nexudus:inclusive-discounts")
        self.no_tax = next((rate for rate in self.rates if rate.rate == 0), self.rates[0])
        self.sequences = defaultdict(int)  # (business id, series) -> last number used
        self.updated = {}  # invoice id -> latest change (datetime)
        self.payments = defaultdict(list)  # invoice id -> [(datetime, amount)]
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
        for count, original in enumerate(originals):
            self.credit_note(original, full=count % 2 == 0)
        credited = {invoice["Id"] for invoice in originals}
        self.add_payments([invoice for invoice in issued if invoice["Id"] not in credited])
        for invoice in self.data.coworkerinvoices.values():
            self.finish(invoice)
        for business_id, business in self.data.businesses.items():
            business["NextInvoice"] = self.sequences[(business_id, "invoice")] + 1

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
    def add_lines(self, invoice, count, unmapped=False):
        rng = self.rng
        inclusive = self.inclusive[invoice["BusinessId"]]
        odd_position = rng.randint(1, count) if unmapped else None
        for position in range(1, count + 1):
            if position == 1 and rng.random() < 0.8:
                item = rng.choice(CONTRACT_ITEMS)
            else:
                item = DEPOSIT_ITEM if rng.random() < 0.05 else rng.choice(EXTRA_ITEMS)
            code, descriptions, (low, high), max_quantity, source_field, name_field = item
            rate = self.no_tax if item is DEPOSIT_ITEM else rng.choice(self.rates[:1] * 9 + self.rates)
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
            fields["SubTotal"], fields["TaxAmount"] = price_line(
                fields["UnitPrice"], fields["Quantity"], fields["TaxRate"], fields.get("DiscountAmount", 0), inclusive
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
        lines = self.data.lines_of(original["Id"])
        for source in lines if full else lines[:1]:
            copied = {key: source[key] for key in CREDITED_LINE_FIELDS}
            negated = {key: Decimal("0.00") - source[key] for key in NEGATED_LINE_FIELDS}  # never -0.00
            self.line(note, **copied, **negated, CancelledCoworkerInvoiceLineUniqueId=source["UniqueId"])
        original["CreditedAmount"] = -note["TotalAmount"]
        self.updated[original["Id"]] = max(self.updated[original["Id"]], created)

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
        rng = self.rng
        total = int(invoice["TotalAmount"] * 100)
        paid = rng.randint(max(instalments, total // 5), max(instalments, total * 4 // 5)) if partial else total
        cuts = sorted(rng.sample(range(1, paid), instalments - 1)) if instalments > 1 else []
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, paid], strict=True)]
        coworker = self.data.coworkers[invoice["CoworkerId"]]
        zone = self.zones[invoice["BusinessId"]]
        moment = parse_datetime(invoice["SentOn"])
        due_left = invoice["TotalAmount"]
        for part in parts:
            moment += timedelta(days=rng.randint(1, 15), seconds=rng.randrange(86400))
            amount = cents(part)
            due_left -= amount
            gateway = GATEWAYS[coworker["RegularPaymentProvider"]]
            if invoice["QuickbooksInvoiceTransfered"] and rng.random() < 0.5:
                gateway = QUICKBOOKS
            elif rng.random() < 0.1:
                gateway = MANUAL
            entry_id = LEDGER_BASE_ID + len(self.data.coworkerledgerentries)
            self.data.coworkerledgerentries[entry_id] = {
                "Id": entry_id,
                "UniqueId": guid(rng),
                "BusinessId": invoice["BusinessId"],
                "BusinessName": invoice["BusinessName"],
                "CoworkerId": coworker["Id"],
                "CoworkerFullName": coworker["FullName"],
                "CoworkerInvoiceId": invoice["Id"],
                "CoworkerInvoiceInvoiceNumber": invoice["InvoiceNumber"],
                "CoworkerInvoiceUniqueId": invoice["UniqueId"],
                "Description": f"Payment for invoice {invoice['InvoiceNumber']}",
                "Code": "PAYM",
                "Debit": Decimal("0.00"),
                "Credit": amount,
                "Balance": due_left,  # simulator reading: what the invoice still owes after this entry
                "PaymentGatewayName": gateway,
                "PaymentMethodNumber": "****4242" if gateway in (4, 14) else None,
                "TransactionDate": iso(moment),
                "TransactionDateLocal": local_iso(moment, zone),
                "Billed": True,
                "ConnectedTransactionGuid": None,
                "CreatedOn": iso(moment),
                "UpdatedOn": iso(moment),
                "UpdatedBy": "admin@example.com",
                "IsNew": False,
                "SystemId": None,
            }
            self.payments[invoice["Id"]].append((moment, amount))

    # -- derived fields ----------------------------------------------------------------------------
    def finish(self, invoice):
        zone = self.zones[invoice["BusinessId"]]
        payments = self.payments[invoice["Id"]]
        total = invoice["TotalAmount"]
        paid_amount = sum((amount for _moment, amount in payments), Decimal("0.00"))
        last_payment = payments[-1][0] if payments else None
        fully_paid = bool(payments) and paid_amount == total
        open_invoice = not (invoice["Draft"] or invoice["Void"] or invoice["CreditNote"])
        due = total - paid_amount - invoice["CreditedAmount"] if open_invoice else Decimal("0.00")
        invoice.update(
            {
                "PaidAmount": paid_amount,
                "ReceivedAmount": paid_amount,
                "Paid": fully_paid,
                "PaidOn": iso(last_payment) if fully_paid else None,
                "PaidOnLocal": local_iso(last_payment, zone) if fully_paid else None,
                "LastPaymentAttempt": iso(last_payment),
                "LastPaymentAttemptLocal": local_iso(last_payment, zone),
                "DueAmount": due,
                "IsDue": due > 0,
                "TransactionTotalAmount": total,
                "TotalAmountFormated": _formatted(total, self.data.businesses[invoice["BusinessId"]]),
                "QuickbooksPaymentTransfered": invoice["QuickbooksInvoiceTransfered"] and fully_paid,
                "UpdatedOn": iso(max(self.updated[invoice["Id"]], last_payment or self.updated[invoice["Id"]])),
            }
        )


def price_line(unit_price, quantity, rate, discount, inclusive):
    """(SubTotal, TaxAmount) of a line; see the module docstring for both readings of UnitPrice."""
    amount = money(unit_price * quantity)
    if inclusive:
        gross = amount - discount
        tax = money(gross * rate / (100 + rate))
        return gross - tax, tax
    return amount, money((amount - discount) * rate / 100)


def line_total(line, inclusive):
    """What a line adds to its invoice's ``TotalAmount`` (the discount is inside SubTotal when inclusive)."""
    total = line["SubTotal"] + line["TaxAmount"]
    return total if inclusive else total - line["DiscountAmount"]


def _formatted(amount, business):
    symbol = CURRENCIES[business["CurrencyCode"]][1]
    return f"{'-' if amount < 0 else ''}{symbol}{abs(amount):,.2f}"
