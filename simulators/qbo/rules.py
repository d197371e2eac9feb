"""What QBO checks and fills in when a Customer or Item is written (research §2.1, §2.2).

A rule set lists the fields QBO sets itself, ``owned`` (a request cannot write them; ``initial`` gives their
values on create, an update keeps the stored ones) and its ``complete`` gets the writable fields the row will
hold (the request's, merged with the stored row's for a sparse update) and returns them checked and
completed, or raises a :class:`~simulators.qbo.faults.WriteRejected`. Simulator choices the research leaves open:

* names are unique ignoring case and surrounding whitespace; whether inactive rows still hold their name
  is ``sim.inactive_names_collide`` (default True), for Items as for Customers;
* ``:``, tab and newline in a name field are a 6000 business-rule fault naming the field;
* a full update gets the create defaults again for what it omits (``Active`` true, ``PrintOnCheckName``...).
"""

from decimal import Decimal

from simulators.qbo import faults

NAME_PARTS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
CUSTOMER_NAME_FIELDS = ("DisplayName", *NAME_PARTS, "CompanyName", "PrintOnCheckName")
CUSTOMER_MAX_LENGTHS = {"DisplayName": 500, "GivenName": 100, "FamilyName": 100, "CompanyName": 100}
NAME_HOLDERS = ("Customer", "Vendor", "Employee")  # DisplayName is unique across the three
ITEM_TYPES = ("Inventory", "Service", "NonInventory", "Group", "Category")
ITEM_REFS = {
    "IncomeAccountRef": "Account",
    "ExpenseAccountRef": "Account",
    "AssetAccountRef": "Account",
    "SalesTaxCodeRef": "TaxCode",
    "PurchaseTaxCodeRef": "TaxCode",
}


def blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def name_key(value):
    return value.strip().casefold()


def check_lengths(fields, limits):
    for field, limit in limits.items():
        value = fields.get(field)
        if isinstance(value, str) and len(value) > limit:
            raise faults.too_long(field, limit, len(value))


def check_characters(fields, names, forbidden, shown):
    for field in names:
        value = fields.get(field)
        if isinstance(value, str) and any(char in value for char in forbidden):
            raise faults.business_rule(f"Invalid character in {field}: {shown} are not allowed in names.")


def name_taken(sim, entities, field, value, own):
    """Whether another row of ``entities`` already holds ``value`` in ``field``; ``own`` is (entity, Id) or None."""
    key = name_key(value)
    for entity in entities:
        for row in sim.company.table(entity).rows.values():
            if (entity, row["Id"]) == own or (row.get("Active") is False and not sim.inactive_names_collide):
                continue
            if isinstance(row.get(field), str) and name_key(row[field]) == key:
                return True
    return False


def ref_id(ref):
    value = ref.get("value") if isinstance(ref, dict) else None
    return None if blank(value) else str(value)


def active_row(company, entity, ref):
    """The existing, active ``entity`` row ``ref`` points at (else fault 610)."""
    row = company.table(entity).get(ref_id(ref))
    if row is None or row.get("Active") is False:
        raise faults.not_found()
    return row


def resolve_refs(fields, refs, company):
    """Point every given reference at an existing, active row and fill in its ``name`` (else fault 610)."""
    for field, entity in refs.items():
        if field in fields:
            row = active_row(company, entity, fields[field])
            fields[field] = {"value": row["Id"], "name": row["Name"]}


class Rules:
    """One entity's rule set; ``operations`` lists what it takes besides create and update ("void", "delete")."""

    entity = ""
    owned = frozenset()
    transient = frozenset()  # fields read from the request only: a sparse update does not carry the stored ones
    initial = {}
    operations = frozenset()

    def complete(self, fields, stored, sim):
        raise NotImplementedError

    def check_delete(self, row, sim):
        """Raise a ``WriteRejected`` when ``row`` may not be deleted."""

    def committed(self, sim, before, after):
        """Bring other rows in line once ``before`` (None: created) became ``after`` (None: deleted)."""


class CustomerRules(Rules):
    entity = "Customer"
    owned = frozenset({"FullyQualifiedName", "Balance", "BalanceWithJobs", "IsProject"})
    initial = {"IsProject": False, "Balance": Decimal("0"), "BalanceWithJobs": Decimal("0")}

    def complete(self, fields, stored, sim):
        if blank(fields.get("DisplayName")):
            parts = [fields[part].strip() for part in NAME_PARTS if not blank(fields.get(part))]
            if not parts:
                raise faults.required("DisplayName")
            fields["DisplayName"] = " ".join(parts)
        check_lengths(fields, CUSTOMER_MAX_LENGTHS)
        check_characters(fields, CUSTOMER_NAME_FIELDS, ":\t\r\n", "colon (:), tab and newline")
        fields["CurrencyRef"] = self.currency(fields.get("CurrencyRef"), stored, sim.company)
        own = (self.entity, stored["Id"]) if stored else None
        if name_taken(sim, NAME_HOLDERS, "DisplayName", fields["DisplayName"], own):
            raise faults.duplicate_name(faults.CUSTOMER_NAME_TAKEN)
        name = fields["DisplayName"]
        if blank(fields.get("PrintOnCheckName")):
            fields["PrintOnCheckName"] = name
        defaults = {"Active": True, "Job": False, "BillWithParent": False, "PreferredDeliveryMethod": "Print"}
        if sim.company.is_us:
            defaults["Taxable"] = True
        return defaults | fields | {"FullyQualifiedName": name}

    @staticmethod
    def currency(ref, stored, company):
        """The customer's ``CurrencyRef``: home currency by default, one of the company's, never changed once set."""
        code = ref_id(ref)
        if stored is not None:
            current = stored.get("CurrencyRef") or company.currency_ref()
            if code is not None and code != current["value"]:
                raise faults.business_rule(
                    f"CurrencyRef cannot be changed from {current['value']} to {code}: "
                    "a customer's currency is fixed once it is set."
                )
            return dict(current)
        code = code or company.home_currency
        if code != company.home_currency and not company.table("CompanyCurrency").find(Code=code, Active=True):
            raise faults.business_rule(f"CurrencyRef {code} is not one of the company's currencies.")
        return company.currency_ref(code)


class ItemRules(Rules):
    entity = "Item"
    owned = frozenset({"FullyQualifiedName"})

    def complete(self, fields, stored, sim):
        for field in ("Name", "Type"):
            if blank(fields.get(field)):
                raise faults.required(field)
        check_lengths(fields, {"Name": 100})
        check_characters(fields, ("Name",), ":", "colons (:), which separate sub-item paths,")
        if fields["Type"] not in ITEM_TYPES:
            raise faults.invalid_enum("Type", fields["Type"], ITEM_TYPES)
        if fields["Type"] in ("Service", "Inventory") and ref_id(fields.get("IncomeAccountRef")) is None:
            raise faults.required("IncomeAccountRef")
        resolve_refs(fields, ITEM_REFS, sim.company)
        own = (self.entity, stored["Id"]) if stored else None
        if name_taken(sim, (self.entity,), "Name", fields["Name"], own):
            raise faults.duplicate_name(faults.ITEM_NAME_TAKEN)
        defaults = {"Active": True, "UnitPrice": Decimal("0")}
        if sim.company.is_us:
            defaults["Taxable"] = True
        return defaults | fields | {"FullyQualifiedName": fields["Name"]}


class PaymentMethodRules(Rules):
    """PaymentMethod, a name list (research §2.6 ``PaymentMethodRef``, §4.3 python-quickbooks' object). The
    research gives no write rules: the simulator asks only for a ``Name`` no other method has."""

    entity = "PaymentMethod"
    owned = frozenset()

    def complete(self, fields, stored, sim):
        if blank(fields.get("Name")):
            raise faults.required("Name")
        own = (self.entity, stored["Id"]) if stored else None
        if name_taken(sim, (self.entity,), "Name", fields["Name"], own):
            raise faults.duplicate_name(faults.NAME_TAKEN.format("payment method"))
        return {"Active": True, "Type": "NON_CREDIT_CARD"} | fields
