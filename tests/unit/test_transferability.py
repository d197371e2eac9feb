"""The transferability check's messages, one test per cause."""

from decimal import Decimal

from nqc_tools.transferability import Chart, transfer_problems

LONDON = 1000


def chart(**kw):
    base = {
        "served_locations": {LONDON: "London Bridge"},
        "accounts": {
            (LONDON, "MEM-001"): {"ready": True, "has_account": True, "reason": ""},
            (LONDON, "EVT-001"): {"ready": False, "has_account": False, "reason": "code differs: EVT-001 vs evt-001"},
            (LONDON, "DESK-01"): {"ready": False, "has_account": True, "reason": ""},
        },
        "taxes": {
            (LONDON, "20.0% S", Decimal("20.0000")): {"ready": True, "reason": ""},
            (LONDON, "Zero-rated", Decimal("5.0000")): {"ready": False, "reason": "rate differs: 5% vs 0%"},
        },
        "has_default_tax_code": True,
        "home_currency": "GBP",
        "multicurrency": True,
    }
    base.update(kw)
    return Chart(**base)


def invoice(**kw):
    return {
        "Id": 7,
        "InvoiceNumber": "LON-0007",
        "BusinessId": LONDON,
        "BusinessName": "London Bridge",
        "CurrencyCode": "GBP",
        **kw,
    }


def line(position=1, code="MEM-001", name="Membership Revenue", tax="20.0% S", rate=20, **kw):
    return {
        "Id": 70 + position,
        "Position": position,
        "Description": "Hot desk, June",
        "FinancialAccountCode": code,
        "FinancialAccountName": name,
        "TaxCategoryName": tax,
        "TaxRate": rate,
        **kw,
    }


def test_a_fully_mapped_invoice_has_no_problem():
    assert transfer_problems(invoice(), [line()], chart()) == []


def test_unmapped_account_names_invoice_line_code_and_where_to_map_it():
    [problem] = transfer_problems(invoice(), [line(2, "EVT-001", "Event Revenue")], chart())
    assert problem.startswith("Invoice LON-0007, line 2 (“Hot desk, June”): Nexudus account EVT-001 “Event Revenue”")
    assert "(code differs: EVT-001 vs evt-001)" in problem
    assert "Fix: map Nexudus account EVT-001 “Event Revenue” in Nexudus–QuickBooks › Mappings › Account mappings." in (
        problem
    )


def test_account_outside_the_chart_and_line_without_account():
    problems = transfer_problems(invoice(), [line(1, "LEG-404", "Legacy"), line(2, None, None)], chart())
    assert "Nexudus account LEG-404 “Legacy” is not in the chart of this location" in problems[0]
    assert "line 2" in problems[1]
    assert "has no Nexudus financial account" in problems[1]


def test_account_without_item():
    [problem] = transfer_problems(invoice(), [line(code="DESK-01", name="Hot Desk Revenue")], chart())
    assert "has no QuickBooks item" in problem
    assert "Create QuickBooks items" in problem


def test_unmapped_tax_rate_gives_its_name_rate_and_reason():
    [problem] = transfer_problems(invoice(), [line(tax="Zero-rated", rate=5)], chart())
    assert "Nexudus tax rate “Zero-rated” 5% is not mapped (rate differs: 5% vs 0%)" in problem
    assert "Nexudus–QuickBooks › Mappings › Tax mappings" in problem


def test_tax_rate_unknown_to_the_location():
    [problem] = transfer_problems(invoice(), [line(tax="Legacy Tax", rate=Decimal("17.5"))], chart())
    assert "“Legacy Tax” 17.5% is not among this location's tax rates" in problem


def test_untaxed_line_needs_the_default_tax_code():
    assert transfer_problems(invoice(), [line(tax="[No Tax]", rate=0)], chart()) == []
    [problem] = transfer_problems(invoice(), [line(tax=None, rate=0)], chart(has_default_tax_code=False))
    assert "no tax rate and no Default tax code" in problem


def test_location_not_served():
    [problem] = transfer_problems(invoice(BusinessId=9, BusinessName="Dublin Docks"), [line()], chart())
    assert "Invoice LON-0007 belongs to Nexudus location “Dublin Docks”, which this company does not serve" in problem


def test_foreign_currency_without_multicurrency():
    [problem] = transfer_problems(invoice(CurrencyCode="EUR"), [line()], chart(multicurrency=False))
    assert "Invoice LON-0007 is in EUR but QuickBooks (home currency GBP) has multicurrency off" in problem


def test_customer_without_any_name():
    [problem] = transfer_problems(
        invoice(), [line()], chart(), coworker={"Id": 5, "FullName": " ", "BillingName": None}
    )
    assert "Nexudus customer 5 has neither a billing name nor a full name" in problem


def test_draft_without_number_and_without_lines():
    [problem] = transfer_problems(invoice(InvoiceNumber=None), [], chart())
    assert problem == "Invoice draft 7 has no lines in Nexudus: there is nothing to transfer."
