"""QBO simulator: the two readings of a TaxInclusive invoice or credit memo (``inclusive_reading`` "net" / "gross")."""

from decimal import Decimal

import pytest

from simulators.qbo import QboSimulator
from simulators.qbo.sales import reading_of
from simulators.world import build_world

from .test_qbo_sim_sales import Api, line, payment, sale
from .test_qbo_sim_writes import fault_code

D = Decimal
READINGS = ("net", "gross")


@pytest.fixture
def uk():
    with QboSimulator(build_world(profile="uk")) as sim:
        yield Api(sim)


def rate_of(api, value):
    return api.rate_id(api.vat_code(value))


def uk_lines(api, **extra):
    """Five lines with odd pence: 199.99 and 17.95 at 20%, 12.50 and 199.99 at 5%, 12.50 at 0%."""
    standard, reduced, zero = api.vat_code(20), api.vat_code(5), api.vat_code(0)
    return [
        line("199.99", tax=standard, **extra),
        line("17.95", tax=standard, **extra),
        line("12.50", item=api.item("Hours"), tax=reduced, **extra),
        line("199.99", tax=reduced, **extra),
        line("12.50", tax=zero, **extra),
    ]


def taxes(document):
    """{TaxRate Id: (tax, NetAmountTaxable)}."""
    return {
        t["TaxLineDetail"]["TaxRateRef"]["value"]: (t["Amount"], t["TaxLineDetail"]["NetAmountTaxable"])
        for t in document["TxnTaxDetail"]["TaxLine"]
    }


def amounts(document):
    return [ln["Amount"] for ln in document["Line"] if ln["DetailType"] == "SalesItemLineDetail"]


def check_consistent(api, document, entity="Invoice"):
    """The document adds up, and what is stored is what was returned."""
    items = amounts(document)
    subtotal = document["Line"][-1]
    assert subtotal["DetailType"] == "SubTotalLineDetail" and subtotal["Amount"] == sum(items)
    tax = document["TxnTaxDetail"]
    assert tax["TotalTax"] == sum(t["Amount"] for t in tax["TaxLine"])
    assert document["TotalAmt"] == sum(items) + tax["TotalTax"] == document["Balance"]
    by_rate = {}
    for ln in document["Line"][:-1]:
        code = api.table("TaxCode").get(ln["SalesItemLineDetail"]["TaxCodeRef"]["value"])
        for rate_detail in code["SalesTaxRateList"]["TaxRateDetail"]:
            rate_id = rate_detail["TaxRateRef"]["value"]
            by_rate[rate_id] = by_rate.get(rate_id, 0) + ln["Amount"]
    assert by_rate == {rate_id: net for rate_id, (_, net) in taxes(document).items()}, "lines add up to each net"
    assert api.current(entity, document["Id"]) == document


# -- TaxInclusive, without an override ------------------------------------------------------------------------


def test_net_reading_takes_amounts_as_net(uk):
    assert uk.sim.inclusive_reading == "net", "the default reading"
    invoice = uk.create("Invoice", sale(*uk_lines(uk), GlobalTaxCalculation="TaxInclusive"))
    assert amounts(invoice) == [D("199.99"), D("17.95"), D("12.50"), D("199.99"), D("12.50")]
    assert taxes(invoice) == {
        rate_of(uk, 20): (D("43.59"), D("217.94")),
        rate_of(uk, 5): (D("10.62"), D("212.49")),
        rate_of(uk, 0): (D("0.00"), D("12.50")),
    }
    assert (invoice["TxnTaxDetail"]["TotalTax"], invoice["TotalAmt"]) == (D("54.21"), D("497.14"))
    assert all("TaxInclusiveAmt" not in ln["SalesItemLineDetail"] for ln in invoice["Line"][:-1])
    check_consistent(uk, invoice)


def test_gross_reading_takes_tax_out_of_the_gross_per_rate(uk):
    uk.sim.inclusive_reading = "gross"
    invoice = uk.create("Invoice", sale(*uk_lines(uk), GlobalTaxCalculation="TaxInclusive"))
    # 20%: 217.94 x 20/120 = 36.323 -> 36.32, net 181.62 = 166.66 (199.99 share, 166.6585) + 14.96 (the rest)
    # 5%: 212.49 x 5/105 = 10.119 -> 10.12, net 202.37 = 11.90 (12.50 share, 11.9052) + 190.47; 0%: 12.50 as is
    assert taxes(invoice) == {
        rate_of(uk, 20): (D("36.32"), D("181.62")),
        rate_of(uk, 5): (D("10.12"), D("202.37")),
        rate_of(uk, 0): (D("0.00"), D("12.50")),
    }
    assert amounts(invoice) == [D("166.66"), D("14.96"), D("11.90"), D("190.47"), D("12.50")]
    assert [ln["SalesItemLineDetail"]["TaxInclusiveAmt"] for ln in invoice["Line"][:-1]] == [
        D("199.99"),
        D("17.95"),
        D("12.50"),
        D("199.99"),
        D("12.50"),
    ], "the gross used is stored"
    assert (invoice["TxnTaxDetail"]["TotalTax"], invoice["TotalAmt"]) == (D("46.44"), D("442.93")), "the gross total"
    assert invoice["Line"][-1]["Amount"] == D("396.49")
    check_consistent(uk, invoice)
    again = uk.update("Invoice", invoice, PrivateNote="sparse")
    assert (amounts(again), taxes(again), again["TotalAmt"]) == (amounts(invoice), taxes(invoice), D("442.93"))


def test_gross_reading_prefers_tax_inclusive_amt_and_ignores_a_zero_one(uk):
    uk.sim.inclusive_reading = "gross"
    standard = uk.vat_code(20)
    body = sale(
        line("166.66", tax=standard, TaxInclusiveAmt="199.99", Qty=1, UnitPrice="199.99"),
        line("17.95", tax=standard, TaxInclusiveAmt=0, Qty=1, UnitPrice="17.95"),
        GlobalTaxCalculation="TaxInclusive",
    )
    invoice = uk.create("Invoice", body)
    assert taxes(invoice) == {rate_of(uk, 20): (D("36.32"), D("181.62"))}
    assert (amounts(invoice), invoice["TotalAmt"]) == ([D("166.66"), D("14.96")], D("217.94"))
    check_consistent(uk, invoice)
    net_price = sale(line("166.66", tax=standard, TaxInclusiveAmt="199.99", Qty=2, UnitPrice="83.33"))
    assert uk.create("Invoice", net_price | {"GlobalTaxCalculation": "TaxInclusive"})["TotalAmt"] == D("199.99")
    wrong = sale(line("166.66", tax=standard, TaxInclusiveAmt="199.99", Qty=1, UnitPrice=150))
    assert fault_code(uk.post("Invoice", wrong | {"GlobalTaxCalculation": "TaxInclusive"})) == "6000"
    uk.sim.inclusive_reading = "net"
    assert fault_code(uk.post("Invoice", body)) == "6000", "net reading: Qty x UnitPrice must be the net Amount"


# -- TaxInclusive with a TxnTaxDetail override -------------------------------------------------------------------


def overridden(api, twenty, five):
    tax_lines = [
        {"Amount": twenty, "TaxLineDetail": {"TaxRateRef": {"value": rate_of(api, 20)}}},
        {"Amount": five, "TaxLineDetail": {"TaxRateRef": {"value": rate_of(api, 5)}}},
    ]
    body = sale(*uk_lines(api), GlobalTaxCalculation="TaxInclusive", TxnTaxDetail={"TaxLine": tax_lines})
    return api.create("Invoice", body)


def test_net_reading_override_replaces_the_tax_and_moves_the_total(uk):
    invoice = overridden(uk, "43.60", "10.61")
    assert taxes(invoice) == {
        rate_of(uk, 20): (D("43.60"), D("217.94")),
        rate_of(uk, 5): (D("10.61"), D("212.49")),
        rate_of(uk, 0): (D("0.00"), D("12.50")),
    }
    assert (invoice["TxnTaxDetail"]["TotalTax"], invoice["TotalAmt"]) == (D("54.21"), D("497.14"))
    check_consistent(uk, invoice)
    moved = overridden(uk, "43.50", "10.62")
    assert (moved["TxnTaxDetail"]["TotalTax"], moved["TotalAmt"]) == (D("54.12"), D("497.05"))
    assert amounts(moved) == amounts(invoice)


def test_gross_reading_override_replaces_the_tax_and_keeps_the_gross_total(uk):
    uk.sim.inclusive_reading = "gross"
    invoice = overridden(uk, "36.30", "10.11")
    # 20%: net 217.94 - 36.30 = 181.64 = 166.68 (199.99 x 181.64 / 217.94 = 166.677) + 14.96
    # 5%: net 212.49 - 10.11 = 202.38 = 11.91 (12.50 x 202.38 / 212.49 = 11.905) + 190.47
    assert taxes(invoice) == {
        rate_of(uk, 20): (D("36.30"), D("181.64")),
        rate_of(uk, 5): (D("10.11"), D("202.38")),
        rate_of(uk, 0): (D("0.00"), D("12.50")),
    }
    assert amounts(invoice) == [D("166.68"), D("14.96"), D("11.91"), D("190.47"), D("12.50")]
    assert (invoice["TxnTaxDetail"]["TotalTax"], invoice["TotalAmt"]) == (D("46.41"), D("442.93"))
    check_consistent(uk, invoice)


@pytest.mark.parametrize("reading", READINGS)
def test_an_override_not_honoured_leaves_the_computed_tax(uk, reading):
    uk.sim.inclusive_reading = reading
    plain = uk.create("Invoice", sale(*uk_lines(uk), GlobalTaxCalculation="TaxInclusive"))
    uk.sim.honour_tax_override = False
    ignored = overridden(uk, "1.00", "2.00")
    assert (taxes(ignored), amounts(ignored), ignored["TotalAmt"]) == (taxes(plain), amounts(plain), plain["TotalAmt"])
    check_consistent(uk, ignored)
    uk.sim.honour_tax_override = True
    foreign = {"TaxLine": [{"Amount": 1, "TaxLineDetail": {"TaxRateRef": {"value": "999"}}}]}
    body = sale(line(100, tax=uk.vat_code(20)), GlobalTaxCalculation="TaxInclusive", TxnTaxDetail=foreign)
    assert fault_code(uk.post("Invoice", body)) == "6000"


# -- what both readings share ------------------------------------------------------------------------------------


def test_tax_excluded_invoice_is_the_same_under_both_readings(uk):
    override = {"TaxLine": [{"Amount": "43.60", "TaxLineDetail": {"TaxRateRef": {"value": rate_of(uk, 20)}}}]}
    body = sale(*uk_lines(uk, TaxInclusiveAmt="1.00"), GlobalTaxCalculation="TaxExcluded", TxnTaxDetail=override)
    results = []
    for reading in READINGS:
        uk.sim.inclusive_reading = reading
        invoice = uk.create("Invoice", body)
        check_consistent(uk, invoice)
        results.append({key: invoice[key] for key in ("Line", "TxnTaxDetail", "TotalAmt", "Balance")})
    assert results[0] == results[1]
    assert amounts(results[1]) == [D("199.99"), D("17.95"), D("12.50"), D("199.99"), D("12.50")]
    assert results[1]["TotalAmt"] == D("497.15")
    assert results[1]["Line"][0]["SalesItemLineDetail"]["TaxInclusiveAmt"] == 1, "kept as sent"
    uk.sim.inclusive_reading = "gross"
    out_of_scope = uk.create("Invoice", sale(line("199.99"), GlobalTaxCalculation="NotApplicable"))
    assert (amounts(out_of_scope), out_of_scope["TotalAmt"]) == ([D("199.99")], D("199.99"))


def test_credit_memo_under_the_gross_reading(uk):
    uk.sim.inclusive_reading = "gross"
    memo = uk.create("CreditMemo", sale(*uk_lines(uk), GlobalTaxCalculation="TaxInclusive"))
    assert amounts(memo) == [D("166.66"), D("14.96"), D("11.90"), D("190.47"), D("12.50")]
    assert (memo["TxnTaxDetail"]["TotalTax"], memo["TotalAmt"], memo["RemainingCredit"]) == (
        D("46.44"),
        D("442.93"),
        D("442.93"),
    )
    check_consistent(uk, memo, "CreditMemo")
    invoice = uk.create("Invoice", sale(line("500.00", tax=uk.vat_code(20)), GlobalTaxCalculation="TaxInclusive"))
    assert invoice["TotalAmt"] == 500 and invoice["TxnTaxDetail"]["TotalTax"] == D("83.33")
    uk.create("Payment", payment("57.07", ("Invoice", invoice, "500.00"), ("CreditMemo", memo, "442.93")))
    assert uk.current("CreditMemo", memo["Id"])["RemainingCredit"] == 0
    assert uk.current("Invoice", invoice["Id"])["Balance"] == 0


def test_combined_code_takes_each_rate_out_of_the_same_gross(uk):
    """A code charging 20% and 5% together: a gross holds net x 1.25, each rate is charged on that one net."""
    rates = [uk.table("TaxRate").get(rate_of(uk, value)) for value in (20, 5)]
    details = [{"TaxRateRef": {"value": rate["Id"]}, "TaxTypeApplicable": "TaxOnAmount"} for rate in rates]
    fields = {"Name": "Combined", "Active": True, "Taxable": True, "SalesTaxRateList": {"TaxRateDetail": details}}
    combined = uk.table("TaxCode").add(fields, uk.sim.moment())
    uk.sim.inclusive_reading = "gross"
    body = sale(line("199.99", tax=combined["Id"]), line("17.95", tax=uk.vat_code(20)))
    invoice = uk.create("Invoice", body | {"GlobalTaxCalculation": "TaxInclusive"})
    # combined: 199.99 x 20/125 = 31.998 -> 32.00, x 5/125 = 7.9996 -> 8.00, net 159.99; 20% alone: 17.95 -> 2.99
    assert amounts(invoice) == [D("159.99"), D("14.96")]
    assert taxes(invoice) == {
        rate_of(uk, 20): (D("34.99"), D("174.95")),
        rate_of(uk, 5): (D("8.00"), D("159.99")),
    }
    assert (invoice["TxnTaxDetail"]["TotalTax"], invoice["TotalAmt"]) == (D("42.99"), D("217.94"))
    check_consistent(uk, invoice)
    override = {"TaxLine": [{"Amount": "34.97", "TaxLineDetail": {"TaxRateRef": {"value": rate_of(uk, 20)}}}]}
    honoured = uk.create("Invoice", body | {"GlobalTaxCalculation": "TaxInclusive", "TxnTaxDetail": override})
    assert amounts(honoured) == [D("160.01"), D("14.96")], "the difference lands on the first group carrying 20%"
    assert honoured["TotalAmt"] == D("217.94")
    check_consistent(uk, honoured)
    uk.sim.inclusive_reading = "net"
    net = uk.create("Invoice", body | {"GlobalTaxCalculation": "TaxInclusive"})
    assert taxes(net) == {rate_of(uk, 20): (D("43.59"), D("217.94")), rate_of(uk, 5): (D("10.00"), D("199.99"))}


def test_reading_is_a_constructor_parameter(uk):
    with QboSimulator(build_world(profile="uk"), inclusive_reading="gross") as sim:
        assert sim.inclusive_reading == "gross"
    with pytest.raises(ValueError, match="inclusive_reading"):
        QboSimulator(build_world(profile="uk"), inclusive_reading="both")
    uk.sim.inclusive_reading = "half"
    with pytest.raises(ValueError, match="inclusive_reading"):
        reading_of(uk.sim)
