"""The QuickBooks customers and items the connector creates, as python-quickbooks documents (``qbo_objects``);
``qbo_objects.to_body`` gives their bodies."""

from . import matching
from .qbo_objects import Customer, EmailAddress, Item, field, ref


def customer_document(coworker, name, currency=None):
    """The QuickBooks Customer ``name`` for the Nexudus ``coworker``: its company, billing e-mail, currency
    (when the company uses several) and the note saying whose customer it was created for."""
    document = Customer(DisplayName=name, Notes=matching.customer_marker(coworker["Id"]))
    company_name = matching.clean_name(coworker.get("CompanyName"))
    if company_name:
        document.CompanyName = company_name
    email = coworker.get("BillingEmail") or coworker.get("Email")
    if email and "@" in email and "." in email:
        document.PrimaryEmailAddr = EmailAddress(Address=email)
    if currency:
        document.CurrencyRef = ref(currency)
    return document


def reactivation(row):
    """The sparse update making the inactive QuickBooks customer ``row`` (as QuickBooks gave it: a dict or a
    document read by ``qbo_objects.read``) active."""
    return Customer(Id=field(row, "Id"), SyncToken=field(row, "SyncToken"), sparse=True, Active=True)


def service_item(name, income_account_id):
    """The QuickBooks Service item ``name`` selling into the income account ``income_account_id``."""
    return Item(Name=name, Type="Service", IncomeAccountRef=ref(income_account_id))
