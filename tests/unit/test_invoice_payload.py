"""Nexudus invoices as QuickBooks bodies: exact to the cent, every reason named when it cannot be done."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nqc_tools.invoice_payload import PayloadError, Target, TaxTarget, build, local_date, short_doc_number
from seeded import line_amounts, seeded_invoices

from simulators.world import CHART

D = Decimal


def uk_target(**kw):
    base = {
        "customer_id": "58",
        "items": {code: f"item-{code}" for code, _name, _type in CHART},
        "taxes": {
            ("20.0% S", D("20.0000")): TaxTarget("tc-20", ["tr-20"]),
            ("5.0% R", D("5.0000")): TaxTarget("tc-5", ["tr-5"]),
            ("No VAT", D("0.0000")): TaxTarget("tc-0", ["tr-0"]),
            ("Zero-rated", D("5.0000")): TaxTarget("tc-z", ["tr-z"]),
        },
        "default_tax": TaxTarget("tc-0", ["tr-0"]),
        "time_zone": "Europe/London",
    }
    return Target(**(base | kw))


def invoice(**kw):
    base = {
        "Id": 50001,
        "InvoiceNumber": "LON-0001",
        "BusinessName": "London Bridge",
        "CreatedOn": "2026-03-31T23:30:00Z",
        "DueDate": "2026-04-14T23:30:00Z",
        "InvoiceFromDate": "2026-03-01T00:00:00Z",
        "TotalAmount": D("144.00"),
        "CurrencyCode": "GBP",
        "CreditNote": False,
    }
    return base | kw


def line(**kw):
    base = {
        "Id": 1,
        "Position": 1,
        "Description": "Hot desk",
        "Quantity": 1,
        "SubTotal": D("120.00"),
        "TaxAmount": D("24.00"),
        "DiscountAmount": D("0.00"),
        "TaxRate": D("20"),
        "TaxCategoryName": "20.0% S",
        "FinancialAccountCode": "DESK-01",
        "FinancialAccountName": "Hot Desk Revenue",
    }
    built = base | kw
    # A tax-exclusive line unless told otherwise: UnitPrice × Quantity = SubTotal.
    built.setdefault("UnitPrice", (built["SubTotal"] / built["Quantity"]).quantize(D("0.00001")))
    return built


def test_one_line_invoice():
    payload = build(invoice(), [line()], uk_target())
    assert payload.entity == "Invoice"
    assert payload.total == D("144.00")
    body = payload.body
    assert body["CustomerRef"] == {"value": "58"}
    assert body["DocNumber"] == "LON-0001"
    assert body["TxnDate"] == "2026-04-01", "00:30 in London on 1 April, though 31 March in UTC"
    assert body["DueDate"] == "2026-04-15"
    assert body["GlobalTaxCalculation"] == "TaxExcluded"
    assert "[nexudus-invoice 50001]" in body["PrivateNote"]
    [qbo_line] = body["Line"]
    assert qbo_line["Amount"] == D("120.00")
    assert qbo_line["SalesItemLineDetail"] == {
        "ItemRef": {"value": "item-DESK-01"},
        "Qty": D("1"),
        "UnitPrice": D("120.00000"),
        "TaxCodeRef": {"value": "tc-20"},
    }
    assert body["TxnTaxDetail"]["TotalTax"] == D("24.00")
    assert body["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"]["TaxRateRef"] == {"value": "tr-20"}
    assert "CurrencyRef" not in body


def test_per_line_tax_rounding_is_carried_per_rate():
    # Nexudus rounds per line (3 × 0.333… → 0.33 each, 0.99); QuickBooks per rate would say 1.00.
    lines = [line(Id=i, Position=i, SubTotal=D("1.67"), TaxAmount=D("0.33")) for i in (1, 2, 3)]
    payload = build(invoice(TotalAmount=D("6.00")), lines, uk_target())
    assert payload.total == D("6.00")
    assert payload.body["TxnTaxDetail"]["TaxLine"] == [
        {
            "Amount": D("0.99"),
            "DetailType": "TaxLineDetail",
            "TaxLineDetail": {"TaxRateRef": {"value": "tr-20"}, "PercentBased": True},
        }
    ]


def test_discount_is_netted_into_the_line_and_said():
    payload = build(
        invoice(TotalAmount=D("108.00")),
        [line(DiscountAmount=D("30.00"), DiscountCode="SPRING", TaxAmount=D("18.00"))],
        uk_target(),
    )
    [qbo_line] = payload.body["Line"]
    assert qbo_line["Amount"] == D("90.00")
    assert "discount SPRING 30.00 included" in qbo_line["Description"]


def test_quantity_that_does_not_divide_keeps_the_amount_exact():
    payload = build(
        invoice(TotalAmount=D("120.00")), [line(Quantity=3, SubTotal=D("100.00"), TaxAmount=D("20.00"))], uk_target()
    )
    detail = payload.body["Line"][0]["SalesItemLineDetail"]
    assert detail["UnitPrice"] == D("33.33333")
    assert (detail["UnitPrice"] * detail["Qty"]).quantize(D("0.01")) == D("100.00")


def test_tax_inclusive_prices_are_read_from_the_line_and_sent_net_with_the_gross():
    payload = build(invoice(), [line(UnitPrice=D("144.00"))], uk_target())
    assert payload.body["GlobalTaxCalculation"] == "TaxInclusive"
    detail = payload.body["Line"][0]["SalesItemLineDetail"]
    assert payload.body["Line"][0]["Amount"] == D("120.00")
    assert detail["TaxInclusiveAmt"] == D("144.00")


def test_credit_note_becomes_a_positive_credit_memo():
    payload = build(
        invoice(CreditNote=True, InvoiceNumber="LON-CN-0001", TotalAmount=D("-144.00")),
        [line(SubTotal=D("-120.00"), TaxAmount=D("-24.00"))],
        uk_target(),
    )
    assert payload.entity == "CreditMemo"
    assert payload.total == D("144.00")
    assert payload.body["Line"][0]["Amount"] == D("120.00")
    assert "DueDate" not in payload.body
    assert "credit note LON-CN-0001" in payload.body["PrivateNote"]


def test_long_number_is_shortened_deterministically():
    number = "LONDON-BRIDGE-2026-03-000123"
    short = short_doc_number(number)
    assert len(short) == 21
    assert short == short_doc_number(number)
    assert short != short_doc_number("LONDON-BRIDGE-2026-03-000124")
    assert short_doc_number("LON-0001") == "LON-0001"
    payload = build(invoice(InvoiceNumber=number), [line()], uk_target())
    assert payload.doc_number == short
    assert number in payload.body["PrivateNote"]


def test_quickbooks_numbering_and_invoice_period_and_currency():
    payload = build(
        invoice(CurrencyCode="EUR"),
        [line()],
        uk_target(custom_txn_numbers=False, use_invoice_period=True, multicurrency=True),
    )
    assert "DocNumber" not in payload.body
    assert payload.doc_number == ""
    assert payload.body["TxnDate"] == "2026-03-01"
    assert payload.body["CurrencyRef"] == {"value": "EUR"}


def test_local_twin_wins_over_utc():
    assert (
        local_date(
            {"CreatedOn": "2026-03-31T23:30:00Z", "CreatedOnLocal": "2026-03-31T23:30:00"}, "CreatedOn", "Europe/London"
        )
        == "2026-03-31"
    )
    assert local_date({"CreatedOn": "2026-03-31T23:30:00Z"}, "CreatedOn", "Not/AZone") == "2026-03-31"


def test_us_lines_are_taxable_or_not_and_the_group_carries_the_tax():
    target = Target(
        customer_id="7",
        us=True,
        items={"DESK-01": "1", "MEM-001": "2"},
        taxes={
            ("NY Sales Tax", D("8.8750")): TaxTarget("group-ny", us_taxable=True),
            ("No Tax", D("0.0000")): TaxTarget("group-ny", us_taxable=False),
        },
    )
    lines = [
        line(TaxCategoryName="NY Sales Tax", TaxRate=D("8.875"), SubTotal=D("100.00"), TaxAmount=D("8.88")),
        line(
            Id=2,
            Position=2,
            FinancialAccountCode="MEM-001",
            TaxCategoryName="No Tax",
            TaxRate=D("0"),
            SubTotal=D("50.00"),
            TaxAmount=D("0.00"),
        ),
    ]
    payload = build(invoice(TotalAmount=D("158.88")), lines, target)
    assert [ln["SalesItemLineDetail"]["TaxCodeRef"]["value"] for ln in payload.body["Line"]] == ["TAX", "NON"]
    assert payload.body["TxnTaxDetail"] == {"TxnTaxCodeRef": {"value": "group-ny"}, "TotalTax": D("8.88")}
    assert "GlobalTaxCalculation" not in payload.body


def test_us_invoice_with_two_tax_groups_is_refused():
    target = Target(
        customer_id="7",
        us=True,
        items={"DESK-01": "1"},
        taxes={
            ("NY Sales Tax", D("8.8750")): TaxTarget("group-ny", us_taxable=True),
            ("TX Sales Tax", D("8.2500")): TaxTarget("group-tx", us_taxable=True),
        },
    )
    lines = [
        line(TaxCategoryName="NY Sales Tax", TaxRate=D("8.875"), SubTotal=D("100.00"), TaxAmount=D("8.88")),
        line(
            Id=2,
            Position=2,
            TaxCategoryName="TX Sales Tax",
            TaxRate=D("8.25"),
            SubTotal=D("100.00"),
            TaxAmount=D("8.25"),
        ),
    ]
    with pytest.raises(PayloadError, match="2 different US tax groups"):
        build(invoice(TotalAmount=D("217.13")), lines, target)


def test_every_problem_is_named_with_its_line():
    lines = [
        line(FinancialAccountCode="LEG-404", FinancialAccountName="Legacy Revenue"),
        line(Id=2, Position=2, TaxCategoryName="Mystery", TaxRate=D("7")),
    ]
    with pytest.raises(PayloadError) as caught:
        build(invoice(TotalAmount=D("288.00")), lines, uk_target())
    assert caught.value.problems == [
        "Invoice LON-0001, line 1: Nexudus account LEG-404 “Legacy Revenue” has no QuickBooks item. Fix "
        "(Nexudus–QuickBooks managers): map it in Nexudus–QuickBooks › Mappings › Account mappings.",
        "Invoice LON-0001, line 2: Nexudus tax rate “Mystery” 7% has no QuickBooks tax code. Fix "
        "(Nexudus–QuickBooks managers): map it in Nexudus–QuickBooks › Mappings › Tax mappings (or "
        "administrators: choose the Default tax code in Settings › Nexudus ↔ QuickBooks Online).",
    ]


def test_a_total_that_does_not_add_up_shows_the_difference():
    with pytest.raises(
        PayloadError, match=r"lines add up to 144.00 .* total in Nexudus is 144.01, a difference of 0.01"
    ):
        build(invoice(TotalAmount=D("144.01")), [line()], uk_target())


cents = st.integers(min_value=-(10**7), max_value=10**7).map(lambda n: D(n) / 100)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            cents,
            st.integers(0, 2000).map(lambda n: D(n) / 100),
            st.integers(1, 50),
            st.sampled_from(["20.0% S", "5.0% R", "No VAT"]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_total_and_lines_always_agree_to_the_cent(rows):
    rates = {"20.0% S": D("20"), "5.0% R": D("5"), "No VAT": D("0")}
    lines, total = [], D(0)
    for index, (subtotal, tax, quantity, tax_name) in enumerate(rows, start=1):
        lines.append(
            line(
                Id=index,
                Position=index,
                SubTotal=subtotal,
                TaxAmount=tax,
                Quantity=quantity,
                TaxCategoryName=tax_name,
                TaxRate=rates[tax_name],
            )
        )
        total += subtotal + tax
    payload = build(invoice(TotalAmount=total), lines, uk_target())
    body = payload.body
    assert payload.total == total
    assert sum(ln["Amount"] for ln in body["Line"]) + body["TxnTaxDetail"]["TotalTax"] == total
    assert sum(t["Amount"] for t in body["TxnTaxDetail"]["TaxLine"]) == body["TxnTaxDetail"]["TotalTax"]
    for qbo_line in body["Line"]:
        detail = qbo_line["SalesItemLineDetail"]
        if "UnitPrice" in detail:
            assert (detail["UnitPrice"] * detail["Qty"]).quantize(D("0.01")) == qbo_line["Amount"]


@pytest.mark.parametrize("profile", ["uk", "us"])
def test_every_simulated_invoice_translates_exactly(profile):
    data, target = seeded_invoices(profile, percent=False)
    checked = refused = 0
    for record in data.coworkerinvoices.values():
        lines = data.lines_of(record["Id"])
        if record["Draft"] or not all(ln["FinancialAccountCode"] for ln in lines):
            continue
        try:
            payload = build(record, lines, target)
        except PayloadError as exc:
            assert all(("has no QuickBooks" in p or "US tax groups" in p) for p in exc.problems), exc
            refused += 1
            continue
        assert payload.total == abs(D(str(record["TotalAmount"])))
        tax = (payload.body.get("TxnTaxDetail") or {}).get("TotalTax", D(0))
        assert sum(ln["Amount"] for ln in payload.body["Line"]) + tax == payload.total
        checked += 1
    assert checked > 200 and refused > 0


# -- QuickBooks' own arithmetic, whether it honours the stated tax or not, net or gross ----------------------
RATED = {
    ("20.0% S", D("20.0000")): TaxTarget("tc-20", ["tr-20"], percent=D("20")),
    ("5.0% R", D("5.0000")): TaxTarget("tc-5", ["tr-5"], percent=D("5")),
    ("No VAT", D("0.0000")): TaxTarget("tc-0", ["tr-0"], percent=D("0")),
}
RATE_OF = {"tc-20": D("20"), "tc-5": D("5"), "tc-0": D("0")}


def quickbooks_total(body, honour, reading):
    """TotalAmt as QuickBooks would compute it: per rate on the summed nets ("net") or from the gross ("gross")."""
    lines = body["Line"]
    stated = {t["TaxLineDetail"]["TaxRateRef"]["value"]: t["Amount"] for t in body["TxnTaxDetail"]["TaxLine"]}
    if reading == "gross" and body["GlobalTaxCalculation"] == "TaxInclusive":
        return sum((line["SalesItemLineDetail"].get("TaxInclusiveAmt", line["Amount"]) for line in lines), D(0))
    nets = {}
    for line in lines:
        code = line["SalesItemLineDetail"]["TaxCodeRef"]["value"]
        nets[code] = nets.get(code, D(0)) + line["Amount"]
    tax = D(0)
    for code, net in nets.items():
        rate_id = code.replace("tc-", "tr-")
        computed = (net * RATE_OF[code] / 100).quantize(D("0.01"), "ROUND_HALF_UP")
        tax += stated[rate_id] if honour and rate_id in stated else computed
    return sum(nets.values(), D(0)) + tax


def priced(position, unit_price, quantity, rate_name, rate, discount, inclusive):
    subtotal, tax = line_amounts(unit_price, quantity, rate, discount, inclusive)
    return line(
        Id=position,
        Position=position,
        Quantity=quantity,
        UnitPrice=unit_price,
        SubTotal=subtotal,
        TaxAmount=tax,
        DiscountAmount=discount,
        TaxRate=rate,
        TaxCategoryName=rate_name,
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([D("199.99"), D("17.95"), D("12.50"), D("1.67"), D("0.99"), D("333.33"), D("45.05")]),
            st.integers(1, 7),
            st.sampled_from([("20.0% S", D("20")), ("5.0% R", D("5")), ("No VAT", D("0"))]),
            st.sampled_from([D("0.00"), D("0.00"), D("1.00"), D("2.35")]),
        ),
        min_size=1,
        max_size=8,
    ),
    st.booleans(),
)
def test_quickbooks_ends_on_the_nexudus_total_in_every_reading(specs, inclusive):
    lines = [
        priced(i, price, qty, name, rate, min(discount, price * qty), inclusive)
        for i, (price, qty, (name, rate), discount) in enumerate(specs, start=1)
    ]
    net = sum((ln["SubTotal"] - (D(0) if inclusive else ln["DiscountAmount"]) for ln in lines), D(0))
    total = net + sum((ln["TaxAmount"] for ln in lines), D(0))
    target = uk_target(taxes=RATED, default_tax=RATED[("No VAT", D("0.0000"))], prices_include_tax=inclusive)
    payload = build(invoice(TotalAmount=total), lines, target)
    for honour in (True, False):
        for reading in ("net", "gross"):
            assert quickbooks_total(payload.body, honour, reading) == total, (honour, reading)
    nexudus_tax = sum((ln["TaxAmount"] for ln in lines), D(0))
    stated = payload.body["TxnTaxDetail"]["TotalTax"]
    assert abs(stated - nexudus_tax) <= D("0.01") * (len(lines) + 2), "tax within a cent a line"
