"""The QuickBooks Online company the simulator serves, built from the shared :mod:`simulators.world`.

Rows are stored exactly as QBO returns them in JSON (``Id`` and ``SyncToken`` strings, ``MetaData``,
``domain``/``sparse``), so handlers only copy them out. The chart, tax codes and clashing names come from
the world, near-misses included, so the Nexudus simulator and this one describe one business.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from simulators.qbo.query import PACIFIC
from simulators.world import DEPOSITS, PAYMENTS, QBO_ACCOUNT_NEAR_MISSES, SALES, qbo_display_name

DEFAULT_REALM_ID = "9341453012345678"
BASE_TIME = datetime(2026, 1, 1, 9, 0, tzinfo=PACIFIC)  # MetaData of seeded rows counts on from here

CURRENCY_NAMES = {
    "GBP": "British Pound Sterling",
    "USD": "United States Dollar",
    "EUR": "Euro",
    "CAD": "Canadian Dollar",
}

# Entity name -> whether it is a name list (queries hide its inactive rows unless WHERE mentions Active).
ENTITIES = {
    "Account": True,
    "Item": True,
    "TaxCode": True,
    "TaxRate": True,
    "TaxAgency": False,
    "Customer": True,
    "Vendor": True,
    "Employee": True,
    "PaymentMethod": True,
    "CompanyCurrency": True,
    "Invoice": False,
    "Payment": False,
    "CreditMemo": False,
    "CompanyInfo": False,
    "Preferences": False,
}
SINGLETONS = ("CompanyInfo", "Preferences")  # read by their own endpoints, not by ``{entity}/{id}``

_CLASSIFICATION = {
    "Income": "Revenue",
    "Expense": "Expense",
    "Bank": "Asset",
    "Other Current Asset": "Asset",
    "Accounts Receivable": "Asset",
    "Other Current Liability": "Liability",
}

_PROFILE = {
    "us": {
        "addr": {"Line1": "500 Loft Avenue", "City": "New York", "CountrySubDivisionCode": "NY", "PostalCode": "10001"},
        "phone": "(212) 555-0100",
        "email": "accounts@loftcoworking.example",
        "web": "https://loftcoworking.example",
        "fiscal_month": "January",
        "time_zone": "America/New_York",
        "agency": "New York State Department of Taxation and Finance",
        "tax_liability": "Sales Tax Payable",
    },
    "uk": {
        "addr": {"Line1": "1 Bridge Street", "City": "London", "CountrySubDivisionCode": "", "PostalCode": "SE1 9BG"},
        "phone": "020 7946 0100",
        "email": "accounts@bridgecoworking.example",
        "web": "https://bridgecoworking.example",
        "fiscal_month": "April",
        "time_zone": "Europe/London",
        "agency": "HM Revenue & Customs",
        "tax_liability": "VAT Control",
    },
}


def qbo_timestamp(moment):
    """QBO's MetaData format, e.g. ``2026-01-01T09:00:00-08:00``."""
    return moment.astimezone(PACIFIC).isoformat(timespec="seconds")


class EntityStore:
    """The rows of one entity type by ``Id`` in creation order, and the next numeric ``Id`` to hand out.

    ``hidden`` holds the Ids that lookups (``get``, ``find``, ``visible_rows``) do not see: a batch hides the rows
    its earlier items created from its later ones (research §3.3); it is empty outside a batch.
    """

    def __init__(self, name, name_list):
        self.name = name
        self.name_list = name_list
        self.rows = {}
        self.next_id = 1
        self.hidden = set()

    def add(self, fields, moment, row_id=None, bare=False):
        """Store a new row; ``bare`` rows (the US pseudo tax codes) carry only ``Id`` and ``MetaData``."""
        if row_id is None:
            row_id = str(self.next_id)
            self.next_id += 1
        stamp = qbo_timestamp(moment)
        row = {"Id": row_id}
        if not bare:
            row.update(SyncToken="0", domain="QBO", sparse=False)
        row["MetaData"] = {"CreateTime": stamp, "LastUpdatedTime": stamp}
        row.update(fields)
        self.rows[row_id] = row
        return row

    def get(self, row_id):
        return None if str(row_id) in self.hidden else self.rows.get(str(row_id))

    def visible_rows(self):
        """The rows lookups and queries see, in creation order."""
        return [row for row in self.rows.values() if row["Id"] not in self.hidden]

    def find(self, **fields):
        """The first visible row whose top-level fields equal ``fields`` exactly, or None."""
        return next((row for row in self.visible_rows() if all(row.get(k) == v for k, v in fields.items())), None)


def _ref(row, name_key="Name"):
    return {"value": row["Id"], "name": row[name_key]}


class QboCompany:
    """One QBO company (realm): a store per entity type plus the company's profile."""

    def __init__(self, world, realm_id):
        self.world = world
        self.realm_id = realm_id
        self.profile = world.profile
        self.stores = {name: EntityStore(name, name_list) for name, name_list in ENTITIES.items()}
        self.deleted = []  # (entity, Id, moment) of every deleted row, for change data capture
        self.voided = set()  # (entity, Id) of every voided row
        self._moment = BASE_TIME

    @classmethod
    def from_world(cls, world, realm_id=DEFAULT_REALM_ID, bulk_accounts=0):
        """The company for ``world``; ``bulk_accounts`` adds that many filler expense accounts (for paging)."""
        company = cls(world, realm_id)
        company._build(bulk_accounts)
        return company

    # -- access ----------------------------------------------------------------------------------------
    def table(self, name):
        return self.stores[name]

    @property
    def queryable(self):
        """Lower-cased entity name -> canonical name, for the query parser."""
        return {name.lower(): name for name in self.stores}

    def readable(self, path_name):
        """The store behind ``GET {entity}/{id}`` for a path segment such as ``taxcode``, or None."""
        name = self.queryable.get(path_name.lower())
        return self.stores[name] if name and name not in SINGLETONS else None

    @property
    def company_info(self):
        return self.stores["CompanyInfo"].get("1")

    @property
    def preferences(self):
        return self.stores["Preferences"].get("1")

    @property
    def home_currency(self):
        return self.world.company["HomeCurrency"]

    @property
    def is_us(self):
        return self.world.company["Country"] == "US"

    def currency_ref(self, code=None):
        """A ``CurrencyRef`` for ``code``, the home currency by default."""
        code = code or self.home_currency
        return {"value": code, "name": CURRENCY_NAMES.get(code, code)}

    # -- building --------------------------------------------------------------------------------------
    def _add(self, entity, fields, **options):
        self._moment += timedelta(minutes=1)  # distinct, ordered MetaData for ORDERBY tests
        return self.stores[entity].add(fields, self._moment, **options)

    def _build(self, bulk_accounts):
        self._add_company_info()
        self._add_accounts(bulk_accounts)
        self._add_taxes()
        self._add_items()
        self._add_names()
        self._add_lists()
        self._add_preferences()

    def _add_company_info(self):
        details = _PROFILE[self.profile]
        country = self.world.company["Country"]
        address = {"Id": "1", **details["addr"], "Country": country}
        self._add(
            "CompanyInfo",
            {
                "CompanyName": self.world.company["CompanyName"],
                "LegalName": self.world.company["CompanyName"],
                "CompanyAddr": dict(address),
                "CustomerCommunicationAddr": dict(address),
                "LegalAddr": dict(address),
                "PrimaryPhone": {"FreeFormNumber": details["phone"]},
                "CompanyStartDate": "2020-01-01",
                "FiscalYearStartMonth": details["fiscal_month"],
                "Country": country,
                "Email": {"Address": details["email"]},
                "WebAddr": {"URI": details["web"]},
                "SupportedLanguages": "en",
                "DefaultTimeZone": details["time_zone"],
                "NameValue": [
                    {"Name": "NeoEnabled", "Value": "true"},
                    {"Name": "IndustryType", "Value": "Shared office space"},
                    {"Name": "SubscriptionStatus", "Value": "PAID"},
                    {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
                    {"Name": "PayrollFeature", "Value": "false"},
                    {"Name": "AccountantFeature", "Value": "false"},
                ],
            },
            row_id="1",
        )

    def _account(self, name, account_type, sub_type, number=None, currency=None, active=True):
        fields = {
            "Name": name,
            "FullyQualifiedName": name,
            "SubAccount": False,
            "Active": active,
            "Classification": _CLASSIFICATION[account_type],
            "AccountType": account_type,
            "AccountSubType": sub_type,
            "CurrentBalance": Decimal("0"),
            "CurrentBalanceWithSubAccounts": Decimal("0"),
            "CurrencyRef": self.currency_ref(currency),
        }
        if number is not None:
            fields["AcctNum"] = number
        return self._add("Account", fields)

    def _add_accounts(self, bulk_accounts):
        kinds = {
            SALES: ("Income", "ServiceFeeIncome"),
            PAYMENTS: ("Bank", "Checking"),
            DEPOSITS: ("Other Current Liability", "OtherCurrentLiabilities"),
        }
        for code, name, kind in self.world.chart:
            qbo = QBO_ACCOUNT_NEAR_MISSES.get(code, (name, code))
            if qbo is not None:  # None: the account deliberately does not exist in QBO
                self._account(qbo[0], *kinds[kind], number=qbo[1])
        self._account("Undeposited Funds", "Other Current Asset", "UndepositedFunds")
        self._account("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable")
        for currency in self._foreign_currencies():  # QBO keeps one A/R account per currency
            self._account(
                f"Accounts Receivable (A/R) - {currency}",
                "Accounts Receivable",
                "AccountsReceivable",
                currency=currency,
            )
        self._account(_PROFILE[self.profile]["tax_liability"], "Other Current Liability", "GlobalTaxPayable")
        self._account("Services", "Income", "ServiceFeeIncome")
        self._account("Sales of Product Income", "Income", "SalesOfProductIncome")
        self._account("Rent or Lease of Buildings", "Expense", "RentOrLeaseOfBuildings")
        self._account("Office Expenses", "Expense", "OfficeGeneralAdministrativeExpenses")
        # QBO renames an account it makes inactive ("deleted") this way.
        self._account("Legacy Membership Revenue (deleted)", "Income", "ServiceFeeIncome", "MEM-OLD", active=False)
        for index in range(1, bulk_accounts + 1):
            self._account(
                f"Operating Expense {index:04d}", "Expense", "OtherMiscellaneousServiceCost", str(6000 + index)
            )

    def _foreign_currencies(self):
        currencies = {location.definition.currency for location in self.world.locations}
        return sorted(currencies - {self.home_currency})

    def _add_taxes(self):
        agency = self._add("TaxAgency", {"DisplayName": _PROFILE[self.profile]["agency"], "TaxTrackedOnSales": True})
        if self.is_us:
            # US pseudo codes: lines say TAX/NON, the rate comes from the transaction's tax group.
            self._add(
                "TaxCode",
                {"Name": "TAX", "Description": "TAX", "Taxable": True, "TaxGroup": False},
                row_id="TAX",
                bare=True,
            )
            self._add(
                "TaxCode",
                {"Name": "NON", "Description": "NON", "Taxable": False, "TaxGroup": False},
                row_id="NON",
                bare=True,
            )
        definitions = [(d.name, d.qbo_rate) for d in self.world.tax_rates if d.qbo_rate is not None]
        if not self.is_us:
            definitions.append(("Exempt", Decimal("0")))  # a QBO code Nexudus does not use
        for name, rate_value in definitions:
            rate = self._add(
                "TaxRate",
                {
                    "Name": name,
                    "Description": name,
                    "Active": True,
                    "RateValue": rate_value,
                    "AgencyRef": {"value": agency["Id"]},
                    "SpecialTaxType": "NONE",
                    "DisplayType": "ReadOnly",
                    "EffectiveTaxRate": [{"RateValue": rate_value, "EffectiveDate": "2020-01-01T00:00:00-08:00"}],
                },
            )
            detail = {"TaxRateRef": _ref(rate), "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0}
            self._add(
                "TaxCode",
                {
                    "Name": name,
                    "Description": name,
                    "Active": True,
                    "Hidden": False,
                    "Taxable": not name.lower().startswith(("no ", "exempt")),
                    "TaxGroup": self.is_us,  # US rates are applied through tax groups
                    "SalesTaxRateList": {"TaxRateDetail": [detail]},
                    "PurchaseTaxRateList": {"TaxRateDetail": []},
                    "TaxCodeConfigType": "USER_DEFINED" if self.is_us else "SYSTEM_GENERATED",
                },
            )

    def _add_items(self):
        accounts = self.stores["Account"]
        services = accounts.find(Name="Services")
        meeting = accounts.find(AcctNum="MTG-001") or services
        for name, account, active in [
            ("Services", services, True),
            ("Hours", services, True),
            ("Meeting Room Hire", meeting, True),
            ("Day Pass (deleted)", services, False),
        ]:
            fields = {
                "Name": name,
                "FullyQualifiedName": name,
                "Description": name,
                "Active": active,
                "Type": "Service",
                "IncomeAccountRef": _ref(account),
                "UnitPrice": Decimal("0"),
                "PurchaseCost": Decimal("0"),
                "TrackQtyOnHand": False,
            }
            if self.is_us:
                fields["Taxable"] = True
            self._add("Item", fields)

    def _person(self, display_name, company_name="", email=None, active=True):
        given, _, family = display_name.partition(" ")
        fields = {
            "DisplayName": display_name,
            "PrintOnCheckName": display_name,
            "GivenName": given,
            "FamilyName": family,
            "Active": active,
        }
        if company_name:
            fields["CompanyName"] = company_name
        if email:
            fields["PrimaryEmailAddr"] = {"Address": email}
        return fields

    def _customer(self, display_name, company_name="", email=None, currency=None, active=True):
        fields = self._person(display_name, company_name, email, active)
        fields.update(
            FullyQualifiedName=display_name,
            Job=False,
            BillWithParent=False,
            IsProject=False,
            Balance=Decimal("0"),
            BalanceWithJobs=Decimal("0"),
            CurrencyRef=self.currency_ref(currency),
            PreferredDeliveryMethod="Print",
        )
        if self.is_us:
            fields["Taxable"] = True
        self._add("Customer", fields)

    def _add_names(self):
        currency_of = {location.id: location.definition.currency for location in self.world.locations}
        self._customer("Amy's Bird Sanctuary", "Amy's Bird Sanctuary", "birds@intuit.example")
        self._customer("Cool Cars", "Cool Cars", "cool_cars@intuit.example")
        self._customer("Dukes Basketball Camp", "Dukes Basketball Camp")
        self._customer("Harbour Tenants (deleted)", "Harbour Tenants", active=False)
        clashes = {"customer": [], "vendor": [], "employee": []}
        for customer in self.world.customers:
            if customer.qbo_name_clash:
                clashes[customer.qbo_name_clash].append(customer)
        for customer in clashes["customer"]:
            self._customer(
                qbo_display_name(customer), customer.company_name, customer.email, currency_of.get(customer.location_id)
            )
        vendor_extra = {"Balance": Decimal("0"), "Vendor1099": False, "CurrencyRef": self.currency_ref()}
        for name in ["Office Supplies Co", "City Power & Light"]:
            self._add("Vendor", self._person(name, name) | vendor_extra)
        for customer in clashes["vendor"]:
            self._add("Vendor", self._person(qbo_display_name(customer), customer.company_name) | vendor_extra)
        for name in ["Emily Platt"] + [qbo_display_name(customer) for customer in clashes["employee"]]:
            self._add("Employee", self._person(name) | {"BillableTime": False, "EmployeeType": "Regular"})

    def _add_lists(self):
        for name, kind in [("Cash", "NON_CREDIT_CARD"), ("Check", "NON_CREDIT_CARD"), ("Credit Card", "CREDIT_CARD")]:
            self._add("PaymentMethod", {"Name": name, "Active": True, "Type": kind})
        for code in self._foreign_currencies():
            self._add("CompanyCurrency", {"Code": code, "Name": CURRENCY_NAMES.get(code, code), "Active": True})

    def _add_preferences(self):
        tax_prefs = {"UsingSalesTax": True, "PartnerTaxEnabled": False}
        if self.is_us:
            group = next(row for row in self.stores["TaxCode"].rows.values() if row.get("TaxGroup"))
            tax_prefs["TaxGroupCodeRef"] = {"value": group["Id"]}
        fiscal = _PROFILE[self.profile]["fiscal_month"]
        self._add(
            "Preferences",
            {
                "AccountingInfoPrefs": {
                    "UseAccountNumbers": True,
                    "TrackDepartments": False,
                    "ClassTrackingPerTxn": False,
                    "ClassTrackingPerTxnLine": False,
                    "FirstMonthOfFiscalYear": fiscal,
                    "TaxYearMonth": fiscal,
                    "CustomerTerminology": "Customers",
                },
                "ProductAndServicesPrefs": {"ForSales": True, "ForPurchase": True, "QuantityWithPriceAndRate": True},
                "SalesFormsPrefs": {
                    "CustomTxnNumbers": True,
                    "AllowDeposit": True,
                    "AllowDiscount": True,
                    "AllowEstimates": True,
                    "AllowServiceDate": True,
                    "AllowShipping": False,
                    "AutoApplyCredit": True,
                    "AutoApplyPayments": True,
                    "ETransactionEnabledStatus": "NotApplicable",
                    "ETransactionPaymentEnabled": False,
                    "IPNSupportEnabled": False,
                    "UsingPriceLevels": False,
                    "EmailCopyToCompany": False,
                },
                "VendorAndPurchasesPrefs": {"BillableExpenseTracking": False, "TrackingByCustomer": False},
                "TaxPrefs": tax_prefs,
                "CurrencyPrefs": {
                    "MultiCurrencyEnabled": bool(self._foreign_currencies()),
                    "HomeCurrency": {"value": self.home_currency},
                },
            },
            row_id="1",
        )
