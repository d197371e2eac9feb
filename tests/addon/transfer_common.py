"""Set-up shared by the invoice transfer tests: a company connected, mapped and ready to send."""

from decimal import Decimal

from .common import connect_qbo, sign_in_nexudus


def prepare_transfers(case, company=None):
    """Connect both sides, refresh and complete the mappings as an operator would, and switch off the
    QuickBooks automation the pre-flight checks refuse."""
    company = company or case.env.company
    sign_in_nexudus(case)
    connect_qbo(case, company)
    sales = case.qbo.company.preferences["SalesFormsPrefs"]
    sales["AutoApplyCredit"] = sales["AutoApplyPayments"] = False
    with case.enter_registry_test_mode():
        case.env["nexudus.qbo.account.map"].action_refresh_lists()
        maps = case.env["nexudus.qbo.account.map"].search([("company_id", "=", company.id)])
        maps.filtered(
            lambda m: m.qbo_account_id and not m.qbo_item_id and m.nexudus_type != "payments"
        ).action_create_items()
    no_tax = case.env["nexudus.qbo.tax.code"].search(
        [("company_id", "=", company.id), ("rate", "=", 0), ("tax_group", "=", False)], limit=1
    )
    company.nexudus_qbo_default_tax_code_id = no_tax
    return company


def complete_mappings(case, company=None):
    """Map the seed's near-misses by hand, as an operator who checked them would: Event Revenue to the
    QuickBooks account numbered evt-001; Nexudus's "Zero-rated", which charges 5%, to a QuickBooks code at
    5% (its 0% namesake would put the tax in the wrong place of the return). Product Sales has no
    QuickBooks account and stays unmapped."""
    company = company or case.env.company
    near_miss = case.env["nexudus.qbo.account"].search([("company_id", "=", company.id), ("acct_num", "=", "evt-001")])
    events = case.env["nexudus.qbo.account.map"].search(
        [("company_id", "=", company.id), ("nexudus_code", "=", "EVT-001")]
    )
    events.qbo_account_id = near_miss
    with case.enter_registry_test_mode():
        events.action_create_items()
    five = case.env["nexudus.qbo.tax.code"].search(
        [("company_id", "=", company.id), ("rate", "=", 5), ("tax_group", "=", False)], limit=1
    )
    case.env["nexudus.qbo.tax.map"].search(
        [("company_id", "=", company.id), ("nexudus_name", "=", "Zero-rated")]
    ).qbo_tax_code_id = five


def import_invoices(case, company=None):
    with case.enter_registry_test_mode():
        case.env["nexudus.qbo.invoice"].action_import_from_nexudus()
    return case.env["nexudus.qbo.invoice"].search([("company_id", "=", (company or case.env.company).id)])


def send(case, invoices):
    with case.enter_registry_test_mode():
        return invoices.action_send_to_qbo()


def qbo_rows(case, entity):
    return list(case.qbo.company.table(entity).rows.values())


def money(value):
    return Decimal(str(value)).quantize(Decimal("0.01"))


def link_customers(case, invoices):
    """Link the invoices' customers beforehand, so that a test's injected fault hits the invoice itself."""
    company = invoices.company_id
    with case.enter_registry_test_mode():
        client = company._qbo_client()
        for invoice in invoices:
            currency = invoice.currency_code if company.qbo_multicurrency else None
            coworker = case.nexudus.data.coworkers[invoice.nexudus_coworker_id]
            case.env["nexudus.qbo.customer.link"]._resolve(company, client, coworker, currency)
