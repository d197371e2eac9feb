"""QBO simulator sales writes: Invoice, CreditMemo and Payment rules, tax, currency, void, delete and replay."""

import json
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import requests

from simulators.qbo import QboSimulator
from simulators.qbo.sales import NO_VAT_RATE
from simulators.world import build_world

from .test_qbo_sim import api_get, connect, query_rows
from .test_qbo_sim_writes import fault_code, post

D = Decimal


class Api:
    """One simulator and a connected client's tokens."""

    def __init__(self, sim):
        self.sim, self.tokens = sim, connect(sim)
        self.table = sim.company.table

    def post(self, entity, body, **params):
        return post(self.sim, self.tokens, entity.lower(), body, **params)

    def create(self, entity, body, **params):
        response = self.post(entity, body, **params)
        assert response.status_code == 200, response.text
        return parsed(response)[entity]

    def update(self, entity, row, **fields):
        return self.create(entity, {"Id": row["Id"], "SyncToken": row["SyncToken"], "sparse": True, **fields})

    def read(self, entity, row_id):
        return api_get(self.sim, self.tokens["access_token"], f"{entity.lower()}/{row_id}")

    def current(self, entity, row_id):
        response = self.read(entity, row_id)
        assert response.status_code == 200, response.text
        return parsed(response)[entity]

    def query(self, text, entity):
        return query_rows(self.sim, self.tokens, text, entity)

    def customer(self, name):
        return self.table("Customer").find(DisplayName=name)["Id"]

    def item(self, name="Services"):
        return self.table("Item").find(Name=name)["Id"]

    def vat_code(self, rate_value):
        """The Id of the UK tax code charging the one sales rate ``rate_value``."""
        rate = self.table("TaxRate").find(RateValue=D(rate_value))
        return next(
            code["Id"]
            for code in self.table("TaxCode").rows.values()
            if [d["TaxRateRef"]["value"] for d in code["SalesTaxRateList"]["TaxRateDetail"]] == [rate["Id"]]
        )

    def rate_id(self, code_id):
        return self.table("TaxCode").get(code_id)["SalesTaxRateList"]["TaxRateDetail"][0]["TaxRateRef"]["value"]


def parsed(response):
    return json.loads(response.text, parse_float=Decimal)


def detail(response):
    assert response.status_code == 400, response.text
    return response.json()["Fault"]["Error"][0]


@pytest.fixture
def uk():
    with QboSimulator(build_world(profile="uk")) as sim:
        yield Api(sim)


@pytest.fixture
def us():
    with QboSimulator(build_world(profile="us")) as sim:
        yield Api(sim)


def line(amount, item="1", tax=None, **extra):
    sales = {"ItemRef": {"value": item}, **extra}
    if tax is not None:
        sales["TaxCodeRef"] = {"value": tax}
    return {"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": sales}


def sale(*lines, customer="1", **fields):
    return {"CustomerRef": {"value": customer}, "Line": list(lines), **fields}


def payment(total, *links, customer="1", **fields):
    lines = [{"Amount": amount, "LinkedTxn": [{"TxnId": txn["Id"], "TxnType": kind}]} for kind, txn, amount in links]
    return {"CustomerRef": {"value": customer}, "TotalAmt": total, "Line": lines, **fields}


def standard_invoice(api, amount="100.00", **fields):
    """An invoice of one line at 20% VAT: ``amount`` plus its tax."""
    return api.create("Invoice", sale(line(amount, tax=api.vat_code(20)), **fields))


# -- invoices: lines, tax and totals (UK) ---------------------------------------------------------------------


def test_uk_invoice_totals_and_vat_per_rate(uk):
    standard, reduced = uk.vat_code(20), uk.vat_code(5)
    body = sale(
        line(100, tax=standard, Qty=2, UnitPrice=50),
        line("50.50", tax=standard),
        line("10.10", item=uk.item("Hours"), tax=reduced),
        {"DetailType": "DescriptionOnly", "Description": "Thank you"},
        {"DetailType": "SalesItemLineDetail", "Amount": 999, "SalesItemLineDetail": {}},
        {"DetailType": "SubTotalLineDetail", "Amount": 1, "SubTotalLineDetail": {}},
        DocNumber="INV-1",
    )
    invoice = uk.create("Invoice", body)
    assert [(ln.get("Id"), ln["DetailType"]) for ln in invoice["Line"]] == [
        ("1", "SalesItemLineDetail"),
        ("2", "SalesItemLineDetail"),
        ("3", "SalesItemLineDetail"),
        ("4", "DescriptionOnly"),
        ("5", "SalesItemLineDetail"),
        (None, "SubTotalLineDetail"),
    ]
    assert invoice["Line"][-1]["Amount"] == D("160.60"), "the documentation line (no ItemRef) is not counted"
    assert invoice["Line"][2]["SalesItemLineDetail"]["ItemRef"] == {"value": uk.item("Hours"), "name": "Hours"}
    taxes = {t["TaxLineDetail"]["TaxRateRef"]["value"]: t for t in invoice["TxnTaxDetail"]["TaxLine"]}
    assert taxes[uk.rate_id(standard)]["Amount"] == D("30.10")
    assert taxes[uk.rate_id(standard)]["TaxLineDetail"]["NetAmountTaxable"] == D("150.50")
    assert taxes[uk.rate_id(reduced)]["Amount"] == D("0.51"), "10.10 x 5% = 0.505 rounds half up"
    assert taxes[uk.rate_id(reduced)]["TaxLineDetail"]["TaxPercent"] == 5
    assert invoice["TxnTaxDetail"]["TotalTax"] == D("30.61")
    assert invoice["TotalAmt"] == invoice["Balance"] == invoice["HomeTotalAmt"] == D("191.21")
    assert (invoice["DocNumber"], invoice["GlobalTaxCalculation"], invoice["LinkedTxn"]) == ("INV-1", "TaxExcluded", [])
    assert (invoice["EmailStatus"], invoice["PrintStatus"], invoice["Deposit"]) == ("NotSet", "NotSet", 0)
    assert invoice["CustomerRef"] == {"value": "1", "name": "Amy's Bird Sanctuary"}
    assert invoice["CurrencyRef"]["value"] == "GBP" and invoice["ExchangeRate"] == 1
    assert invoice["TxnDate"] == datetime.now(ZoneInfo("Europe/London")).date().isoformat()
    found = uk.query("select * from Invoice where DocNumber = 'INV-1'", "Invoice")
    assert [row["Id"] for row in found] == [invoice["Id"]]
    assert uk.sim.writes[-1] == ("Invoice", "create", invoice["Id"])


def test_invoice_of_documentation_lines_only_totals_zero(uk):
    body = sale({"DetailType": "SalesItemLineDetail", "Amount": 50, "SalesItemLineDetail": {"Qty": 1}})
    invoice = uk.create("Invoice", body)
    assert invoice["Line"][0]["Amount"] == 50
    assert (invoice["TotalAmt"], invoice["TxnTaxDetail"]["TotalTax"]) == (0, 0)


def test_tax_override_is_honoured_unless_switched_off(uk):
    standard, reduced = uk.vat_code(20), uk.vat_code(5)
    override = {"TaxLine": [{"Amount": "29.99", "TaxLineDetail": {"TaxRateRef": {"value": uk.rate_id(standard)}}}]}
    body = sale(line(100, tax=standard), line(100, tax=reduced), TxnTaxDetail=override)
    honoured = uk.create("Invoice", body)
    assert honoured["TxnTaxDetail"]["TotalTax"] == D("34.99")
    assert honoured["TotalAmt"] == D("234.99")
    kept = uk.update("Invoice", honoured, PrivateNote="sparse")
    assert kept["TxnTaxDetail"]["TotalTax"] == 25, "a sparse update does not carry the stored tax as an override"
    uk.sim.honour_tax_override = False
    ignored = uk.create("Invoice", body)
    assert (ignored["TxnTaxDetail"]["TotalTax"], ignored["TotalAmt"]) == (25, 225)
    uk.sim.honour_tax_override = True
    foreign_rate = {"TaxLine": [{"Amount": 1, "TaxLineDetail": {"TaxRateRef": {"value": uk.rate_id(uk.vat_code(0))}}}]}
    assert fault_code(uk.post("Invoice", sale(line(100, tax=standard), TxnTaxDetail=foreign_rate))) == "6000"


def test_tax_inclusive_stores_the_mode_and_the_inclusive_amount(uk):
    body = sale(line(100, tax=uk.vat_code(20), TaxInclusiveAmt="120.00"), GlobalTaxCalculation="TaxInclusive")
    invoice = uk.create("Invoice", body)
    assert invoice["GlobalTaxCalculation"] == "TaxInclusive"
    assert invoice["Line"][0]["SalesItemLineDetail"]["TaxInclusiveAmt"] == 120
    assert (invoice["Line"][0]["Amount"], invoice["TxnTaxDetail"]["TotalTax"], invoice["TotalAmt"]) == (100, 20, 120)
    assert fault_code(uk.post("Invoice", sale(line(100, tax="1"), GlobalTaxCalculation="Gross"))) == "2170"
    out_of_scope = uk.create("Invoice", sale(line(100), GlobalTaxCalculation="NotApplicable"))
    assert (out_of_scope["TxnTaxDetail"]["TotalTax"], out_of_scope["TotalAmt"]) == (0, 100)


def test_every_counted_uk_line_needs_an_active_vat_code(uk):
    missing = detail(uk.post("Invoice", sale(line(100, tax=uk.vat_code(20)), line(10))))
    assert (missing["code"], missing["Detail"]) == ("6000", NO_VAT_RATE)
    assert fault_code(uk.post("Invoice", sale(line(100, tax="99")))) == "610"
    documentation = {"DetailType": "SalesItemLineDetail", "Amount": 5, "SalesItemLineDetail": {}}
    assert uk.create("Invoice", sale(line(100, tax="1"), documentation))["TotalAmt"] == 120


def test_invoice_references_and_required_fields(uk):
    standard = uk.vat_code(20)
    assert fault_code(uk.post("Invoice", {"Line": [line(100, tax=standard)]})) == "2020"
    assert fault_code(uk.post("Invoice", sale())) == "2020"
    assert fault_code(uk.post("Invoice", sale({"DetailType": "SubTotalLineDetail", "Amount": 1}))) == "2020"
    assert fault_code(uk.post("Invoice", sale({"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {}}))) == (
        "2020"
    )
    assert fault_code(uk.post("Invoice", sale({"DetailType": "GroupLineDetail", "Amount": 1}))) == "2170"
    assert fault_code(uk.post("Invoice", sale(line(100, tax=standard), customer="999"))) == "610"
    inactive_customer = uk.table("Customer").find(Active=False)["Id"]
    assert fault_code(uk.post("Invoice", sale(line(100, tax=standard), customer=inactive_customer))) == "610"
    inactive_item = uk.table("Item").find(Active=False)["Id"]
    assert fault_code(uk.post("Invoice", sale(line(100, item=inactive_item, tax=standard)))) == "610"
    assert fault_code(uk.post("Invoice", sale(line("ten", tax=standard)))) == "2310"
    assert fault_code(uk.post("Invoice", sale(line("1e30", tax=standard)))) == "2310"


def test_amount_must_equal_qty_times_unit_price(uk):
    standard = uk.vat_code(20)
    rounded = uk.create("Invoice", sale(line(100, tax=standard, Qty=3, UnitPrice="33.333")))
    assert rounded["Line"][0]["SalesItemLineDetail"]["UnitPrice"] == D("33.333")
    mismatch = detail(
        uk.post("Invoice", sale(line(10, tax=standard), line("99.99", tax=standard, Qty=3, UnitPrice="33.34")))
    )
    assert mismatch["code"] == "6000"
    assert mismatch["Detail"].startswith("Line 2: Amount is not equal to UnitPrice * Qty")
    defaults = uk.create("Invoice", sale(line("42.42", tax=standard, Qty=0, UnitPrice=0)))
    assert defaults["Line"][0]["Amount"] == D("42.42"), "python-quickbooks' zero Qty and UnitPrice are no check"


def test_header_lengths_and_dates(uk):
    standard = uk.vat_code(20)
    too_long = detail(uk.post("Invoice", sale(line(1, tax=standard), DocNumber="X" * 22)))
    assert (too_long["code"], "DocNumber" in too_long["Detail"]) == ("2050", True)
    assert fault_code(uk.post("Invoice", sale(line(1, tax=standard), PrivateNote="n" * 4001))) == "2050"
    assert fault_code(uk.post("Invoice", sale(line(1, tax=standard), CustomerMemo={"value": "m" * 1001}))) == "2050"
    assert fault_code(uk.post("Invoice", sale(line(1, tax=standard) | {"Description": "d" * 4001}))) == "2050"
    bad_date = detail(uk.post("Invoice", sale(line(1, tax=standard), TxnDate="2026-13-01")))
    assert (bad_date["code"], bad_date["Message"]) == ("2020", "Invalid date")
    assert fault_code(uk.post("Invoice", sale(line(1, tax=standard), DueDate="01/02/2026"))) == "2020"
    dated = uk.create("Invoice", sale(line(1, tax=standard), TxnDate="2026-02-01", DueDate="2026-03-03"))
    assert (dated["TxnDate"], dated["DueDate"]) == ("2026-02-01", "2026-03-03")
    blank = uk.create("Invoice", sale(line(1, tax=standard), TxnDate="", DueDate=""))
    assert blank["TxnDate"] and "DueDate" not in blank, "python-quickbooks' empty dates count as absent"


# -- document numbers --------------------------------------------------------------------------------------------


def test_duplicate_custom_doc_number_is_6140(uk):
    first = standard_invoice(uk, DocNumber="A-1")
    error = detail(uk.post("Invoice", sale(line(5, tax=uk.vat_code(20)), DocNumber="A-1")))
    assert (error["code"], error["Message"]) == ("6140", "Duplicate Document Number Error")
    assert error["Detail"] == (
        "Duplicate Document Number Error : You must specify a different number. This number has already been "
        f"used. DocNumber=A-1 is assigned to TxnType=Invoice with TxnId={first['Id']}"
    )
    assert standard_invoice(uk, DocNumber="a-1")["DocNumber"] == "a-1", "numbers compare exactly"
    assert uk.create("CreditMemo", sale(line(5, tax=uk.vat_code(20)), DocNumber="A-1"))["DocNumber"] == "A-1"
    assert "DocNumber" not in standard_invoice(uk)
    uk.create("Invoice", {"Id": first["Id"], "SyncToken": "0"}, operation="void")
    assert fault_code(uk.post("Invoice", sale(line(5, tax=uk.vat_code(20)), DocNumber="A-1"))) == "6140"
    same = uk.update("Invoice", standard_invoice(uk, DocNumber="B-1"), DocNumber="B-1")
    assert same["DocNumber"] == "B-1", "a row does not collide with itself"


def test_system_numbers_when_custom_numbers_are_off(uk):
    uk.sim.company.preferences["SalesFormsPrefs"]["CustomTxnNumbers"] = False
    first = standard_invoice(uk, DocNumber="MY-7")
    assert first["DocNumber"] == "1001"
    assert standard_invoice(uk)["DocNumber"] == "1002"
    assert uk.create("CreditMemo", sale(line(5, tax=uk.vat_code(20))))["DocNumber"] == "1001"
    assert uk.update("Invoice", first, DocNumber="OTHER")["DocNumber"] == "1001"


# -- currency -------------------------------------------------------------------------------------------------


def test_foreign_currency_follows_the_customer(uk):
    assert uk.sim.company.preferences["CurrencyPrefs"]["MultiCurrencyEnabled"]
    euro = uk.create("Customer", {"DisplayName": "Euro Ltd", "CurrencyRef": {"value": "EUR"}})
    invoice = uk.create("Invoice", sale(line(100, tax=uk.vat_code(20)), customer=euro["Id"]))
    assert (invoice["CurrencyRef"]["value"], invoice["ExchangeRate"]) == ("EUR", D("0.85"))
    assert (invoice["TotalAmt"], invoice["HomeTotalAmt"]) == (120, 102)
    given = uk.create("Invoice", sale(line(100, tax="1"), customer=euro["Id"], ExchangeRate="0.9012"))
    assert (given["ExchangeRate"], given["HomeTotalAmt"]) == (D("0.9012"), D("108.14"))
    mismatch = detail(uk.post("Invoice", sale(line(100, tax="1"), customer=euro["Id"], CurrencyRef={"value": "GBP"})))
    assert mismatch["code"] == "6000" and "GBP" in mismatch["Detail"] and "EUR" in mismatch["Detail"]
    home = uk.create("Invoice", sale(line(100, tax="1"), ExchangeRate="1.5"))
    assert (home["ExchangeRate"], home["HomeTotalAmt"]) == (1, 120)


def test_without_multicurrency_only_the_home_currency_is_accepted(uk):
    uk.sim.company.preferences["CurrencyPrefs"]["MultiCurrencyEnabled"] = False
    assert fault_code(uk.post("Invoice", sale(line(100, tax="1"), CurrencyRef={"value": "EUR"}))) == "6000"
    invoice = uk.create("Invoice", sale(line(100, tax="1"), CurrencyRef={"value": "GBP"}))
    assert invoice["CurrencyRef"]["value"] == "GBP"
    assert "ExchangeRate" not in invoice and "HomeTotalAmt" not in invoice


# -- updates, void, delete ----------------------------------------------------------------------------------------


def test_sparse_update_recomputes_totals_and_needs_the_current_sync_token(uk):
    invoice = standard_invoice(uk, PrivateNote="first")
    updated = uk.update("Invoice", invoice, Line=[line(200, tax=uk.vat_code(5))])
    assert (updated["SyncToken"], updated["TotalAmt"], updated["Balance"]) == ("1", 210, 210)
    assert updated["PrivateNote"] == "first"
    assert len(updated["Line"]) == 2, "sending Line replaces every line"
    stale = uk.post("Invoice", {"Id": invoice["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "late"})
    assert fault_code(stale) == "5010"
    noted = uk.update("Invoice", updated, PrivateNote="second")
    assert (noted["TotalAmt"], noted["Line"][0]["Amount"]) == (210, 200)


def test_void_zeroes_the_invoice_and_keeps_it(uk):
    invoice = standard_invoice(uk, PrivateNote="March rent")
    voided = uk.create("Invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="void")
    assert (voided["TotalAmt"], voided["Balance"], voided["TxnTaxDetail"]["TotalTax"]) == (0, 0, 0)
    assert [ln["Amount"] for ln in voided["Line"]] == [0, 0]
    assert voided["TxnTaxDetail"]["TaxLine"][0]["Amount"] == 0
    assert (voided["PrivateNote"], voided["SyncToken"]) == ("Voided - March rent", "1")
    assert uk.current("Invoice", invoice["Id"])["TotalAmt"] == 0
    assert [row["TotalAmt"] for row in uk.query(f"select * from Invoice where Id = '{invoice['Id']}'", "Invoice")] == [
        0
    ]
    assert uk.sim.writes[-1] == ("Invoice", "void", invoice["Id"])
    assert (
        uk.create("Invoice", {"Id": standard_invoice(uk)["Id"], "SyncToken": "0"}, operation="void")["PrivateNote"]
        == "Voided"
    )
    assert fault_code(uk.post("Invoice", {"Id": invoice["Id"], "SyncToken": "1"}, operation="void")) == "6000"
    assert fault_code(uk.post("Invoice", {"Id": invoice["Id"], "SyncToken": "1", "sparse": True, "Line": []})) == "6000"
    assert fault_code(uk.post("Invoice", {"Id": invoice["Id"], "SyncToken": "0"}, operation="void")) == "5010"


def test_void_is_for_invoices_and_payments_only(uk):
    memo = uk.create("CreditMemo", sale(line(10, tax="1")))
    refused = detail(uk.post("CreditMemo", {"Id": memo["Id"], "SyncToken": "0"}, operation="void"))
    assert refused["code"] == "6000" and "delete" in refused["Detail"]
    assert fault_code(uk.post("Customer", {"Id": "1", "SyncToken": "0"}, operation="void")) == "500"
    assert fault_code(uk.post("Item", {"Id": "1", "SyncToken": "0"}, operation="delete")) == "500"


@pytest.mark.parametrize("entity", ["Invoice", "CreditMemo"])
def test_delete_removes_the_row(uk, entity):
    row = uk.create(entity, sale(line(10, tax="1"), DocNumber="D-1"))
    assert fault_code(uk.post(entity, {"Id": row["Id"], "SyncToken": "1"}, operation="delete")) == "5010"
    response = uk.post(entity, {"Id": row["Id"], "SyncToken": "0"}, operation="delete")
    assert response.status_code == 200, response.text
    assert response.json()[entity] == {"status": "Deleted", "domain": "QBO", "Id": row["Id"]}
    assert fault_code(uk.read(entity, row["Id"])) == "610"
    assert uk.query(f"select * from {entity} where DocNumber = 'D-1'", entity) == []
    assert [(e, i) for e, i, _ in uk.sim.deleted] == [(entity, row["Id"])]
    assert uk.sim.writes[-1] == (entity, "delete", row["Id"])
    assert fault_code(uk.post(entity, {"Id": row["Id"], "SyncToken": "0"}, operation="delete")) == "610"


def test_void_and_delete_are_refused_while_a_payment_is_linked(uk):
    invoice = standard_invoice(uk)
    memo = uk.create("CreditMemo", sale(line(10, tax="1")))
    paid = uk.create("Payment", payment(108, ("Invoice", invoice, 120), ("CreditMemo", memo, 12)))
    invoice, memo = uk.current("Invoice", invoice["Id"]), uk.current("CreditMemo", memo["Id"])
    for entity, row in (("Invoice", invoice), ("CreditMemo", memo)):
        refused = detail(uk.post(entity, {"Id": row["Id"], "SyncToken": row["SyncToken"]}, operation="delete"))
        assert refused["code"] == "6000" and "delete or void the payment first" in refused["Detail"]
    refused = detail(uk.post("Invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, operation="void"))
    assert refused["code"] == "6000" and f"Payment {paid['Id']}" in refused["Detail"]


# -- payments -------------------------------------------------------------------------------------------------


def test_full_payment_closes_the_invoice(uk):
    invoice = standard_invoice(uk)
    paid = uk.create("Payment", payment("120.00", ("Invoice", invoice, "120.00"), PaymentRefNum="CHK-1"))
    assert (paid["TotalAmt"], paid["UnappliedAmt"], paid["ProcessPayment"]) == (120, 0, False)
    assert paid["Line"] == [{"Amount": 120, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}]
    undeposited = uk.table("Account").find(Name="Undeposited Funds")
    assert paid["DepositToAccountRef"] == {"value": undeposited["Id"], "name": "Undeposited Funds"}
    assert paid["CustomerRef"]["name"] == "Amy's Bird Sanctuary" and paid["TxnDate"]
    after = uk.current("Invoice", invoice["Id"])
    assert (after["Balance"], after["TotalAmt"], after["SyncToken"]) == (0, 120, "1")
    assert after["LinkedTxn"] == [{"TxnId": paid["Id"], "TxnType": "Payment"}]


def test_partial_payments_and_overpayment(uk):
    invoice = standard_invoice(uk)
    first = uk.create("Payment", payment(50, ("Invoice", invoice, 50)))
    assert uk.current("Invoice", invoice["Id"])["Balance"] == 70
    over = detail(uk.post("Payment", payment(80, ("Invoice", invoice, 80))))
    assert over["code"] == "6000" and invoice["Id"] in over["Detail"] and "80" in over["Detail"]
    assert "70" in over["Detail"]
    second = uk.create("Payment", payment(100, ("Invoice", invoice, 70)))
    assert second["UnappliedAmt"] == 30
    after = uk.current("Invoice", invoice["Id"])
    assert after["Balance"] == 0
    assert [link["TxnId"] for link in after["LinkedTxn"]] == [first["Id"], second["Id"]]
    assert fault_code(uk.post("Payment", payment(10, ("Invoice", standard_invoice(uk), 20)))) == "6000"
    unapplied = uk.create("Payment", {"CustomerRef": {"value": "1"}, "TotalAmt": 25})
    assert (unapplied["UnappliedAmt"], unapplied["Line"]) == (25, [])


def test_payment_checks(uk):
    invoice = standard_invoice(uk)
    other = uk.create("Invoice", sale(line(10, tax="1"), customer=uk.customer("Cool Cars")))
    linked = detail(uk.post("Payment", payment(12, ("Invoice", other, 12))))
    assert (linked["code"], linked["Message"]) == ("620", "TxnID cannot be linked")
    assert f"Invoice {other['Id']}" in linked["Detail"]
    assert fault_code(uk.post("Payment", payment(1, ("Invoice", {"Id": "999"}, 1)))) == "610"
    assert fault_code(uk.post("Payment", payment(1, ("Bill", invoice, 1)))) == "2170"
    assert fault_code(uk.post("Payment", {"CustomerRef": {"value": "1"}})) == "2020"
    assert fault_code(uk.post("Payment", {"TotalAmt": 1})) == "2020"
    assert fault_code(uk.post("Payment", {"CustomerRef": {"value": "1"}, "TotalAmt": 1, "Line": [{"Amount": 1}]})) == (
        "2020"
    )
    income = uk.table("Account").find(AccountType="Income")
    wrong = {"DepositToAccountRef": {"value": income["Id"]}}
    assert fault_code(uk.post("Payment", payment(1, ("Invoice", invoice, 1), **wrong))) == "6000"
    bank = uk.table("Account").find(AccountType="Bank")
    banked = uk.create("Payment", payment(1, ("Invoice", invoice, 1), DepositToAccountRef={"value": bank["Id"]}))
    assert banked["DepositToAccountRef"]["value"] == bank["Id"]
    assert fault_code(uk.post("Payment", payment(1, PaymentMethodRef={"value": "99"}))) == "610"
    cash = uk.create("Payment", payment(1, PaymentMethodRef={"value": "1"}, PrivateNote="till"))
    assert cash["PaymentMethodRef"] == {"value": "1", "name": "Cash"}
    assert fault_code(uk.post("Payment", payment(1, PrivateNote="p" * 4001))) == "2050"
    voided = standard_invoice(uk)
    uk.create("Invoice", {"Id": voided["Id"], "SyncToken": "0"}, operation="void")
    assert fault_code(uk.post("Payment", payment(1, ("Invoice", voided, 1)))) == "610"


def test_credit_memo_applied_with_a_payment(uk):
    invoice = standard_invoice(uk)
    memo = uk.create("CreditMemo", sale(line("16.67", tax=uk.vat_code(20))))
    assert (memo["TotalAmt"], memo["RemainingCredit"], memo["Balance"]) == (D("20.00"), 20, 20)
    too_much = detail(uk.post("Payment", payment(90, ("Invoice", invoice, 120), ("CreditMemo", memo, 30))))
    assert too_much["code"] == "6000" and "remaining credit 20" in too_much["Detail"]
    short = uk.post("Payment", payment(90, ("Invoice", invoice, 120), ("CreditMemo", memo, 20)))
    assert fault_code(short) == "6000", "TotalAmt must cover invoices less credits"
    paid = uk.create("Payment", payment(100, ("Invoice", invoice, 120), ("CreditMemo", memo, 20)))
    assert paid["UnappliedAmt"] == 0
    memo = uk.current("CreditMemo", memo["Id"])
    assert (memo["RemainingCredit"], memo["Balance"]) == (0, 0)
    assert memo["LinkedTxn"] == [{"TxnId": paid["Id"], "TxnType": "Payment"}]
    assert uk.current("Invoice", invoice["Id"])["Balance"] == 0


def test_payment_update_replaces_the_application_all_or_nothing(uk):
    first, second = standard_invoice(uk), standard_invoice(uk)
    paid = uk.create("Payment", payment(50, ("Invoice", first, 50)))
    refused = uk.post("Payment", {**payment(500, ("Invoice", second, 500)), "Id": paid["Id"], "SyncToken": "0"})
    assert fault_code(refused) == "6000"
    assert uk.current("Invoice", first["Id"])["Balance"] == 70
    moved = uk.create("Payment", {**payment(30, ("Invoice", second, 30)), "Id": paid["Id"], "SyncToken": "0"})
    assert moved["SyncToken"] == "1"
    assert (uk.current("Invoice", first["Id"])["Balance"], uk.current("Invoice", second["Id"])["Balance"]) == (120, 90)
    assert uk.current("Invoice", first["Id"])["LinkedTxn"] == []
    more = uk.update(
        "Payment",
        moved,
        TotalAmt=120,
        Line=[{"Amount": 120, "LinkedTxn": [{"TxnId": second["Id"], "TxnType": "Invoice"}]}],
    )
    assert (more["UnappliedAmt"], uk.current("Invoice", second["Id"])["Balance"]) == (0, 0)


def test_invoice_update_keeps_what_payments_applied(uk):
    invoice = standard_invoice(uk)
    uk.create("Payment", payment(60, ("Invoice", invoice, 60)))
    invoice = uk.current("Invoice", invoice["Id"])
    grown = uk.update("Invoice", invoice, Line=[line(200, tax=uk.vat_code(20))])
    assert (grown["TotalAmt"], grown["Balance"], len(grown["LinkedTxn"])) == (240, 180, 1)
    shrunk = uk.post(
        "Invoice", {"Id": invoice["Id"], "SyncToken": grown["SyncToken"], "sparse": True, "Line": [line(10, tax="1")]}
    )
    assert fault_code(shrunk) == "6000"


def test_payment_void_and_delete_restore_balances(uk):
    invoice = standard_invoice(uk)
    first = uk.create("Payment", payment(50, ("Invoice", invoice, 50), PrivateNote="bank"))
    second = uk.create("Payment", payment(70, ("Invoice", invoice, 70)))
    voided = uk.create(
        "Payment", {"Id": first["Id"], "SyncToken": "0", "sparse": True}, operation="update", include="void"
    )
    assert (voided["TotalAmt"], voided["UnappliedAmt"], voided["PrivateNote"]) == (0, 0, "Voided - bank")
    assert voided["Line"][0]["Amount"] == 0
    after = uk.current("Invoice", invoice["Id"])
    assert after["Balance"] == 50 and after["LinkedTxn"] == [{"TxnId": second["Id"], "TxnType": "Payment"}]
    assert uk.sim.writes[-1] == ("Payment", "void", first["Id"])
    response = uk.post("Payment", {"Id": second["Id"], "SyncToken": "0"}, operation="delete")
    assert response.status_code == 200, response.text
    after = uk.current("Invoice", invoice["Id"])
    assert (after["Balance"], after["LinkedTxn"]) == (120, [])
    assert fault_code(uk.read("Payment", second["Id"])) == "610"
    assert [(e, i) for e, i, _ in uk.sim.deleted] == [("Payment", second["Id"])]
    third = uk.create("Payment", payment(10, ("Invoice", invoice, 10)))
    uk.create("Payment", {"Id": third["Id"], "SyncToken": "0"}, operation="void")
    current = uk.current("Invoice", invoice["Id"])
    gone = uk.create("Invoice", {"Id": invoice["Id"], "SyncToken": current["SyncToken"]}, operation="void")
    assert gone["TotalAmt"] == 0, "with its payments voided or deleted the invoice can be voided"


# -- US tax --------------------------------------------------------------------------------------------------


def test_us_invoice_takes_tax_from_the_tax_group(us):
    body = sale(line(100, tax="TAX"), line(50, tax="NON"), line(20), GlobalTaxCalculation="TaxExcluded")
    invoice = us.create("Invoice", body)
    group = us.sim.company.preferences["TaxPrefs"]["TaxGroupCodeRef"]["value"]
    assert "GlobalTaxCalculation" not in invoice
    assert invoice["Line"][2]["SalesItemLineDetail"]["TaxCodeRef"] == {"value": "NON"}
    tax = invoice["TxnTaxDetail"]
    assert (tax["TxnTaxCodeRef"], tax["TotalTax"]) == ({"value": group}, D("8.88")), "100 x 8.875% rounds half up"
    assert tax["TaxLine"][0]["TaxLineDetail"]["NetAmountTaxable"] == 100
    assert invoice["TotalAmt"] == D("178.88")
    texas = us.table("TaxCode").find(Name="TX Sales Tax")["Id"]
    chosen = us.create("Invoice", sale(line(100, tax="TAX"), TxnTaxDetail={"TxnTaxCodeRef": {"value": texas}}))
    assert chosen["TxnTaxDetail"]["TotalTax"] == D("8.25")
    kept = us.update("Invoice", chosen, PrivateNote="n")
    assert kept["TxnTaxDetail"]["TxnTaxCodeRef"] == {"value": texas}, "the tax group survives a sparse update"
    untaxed = us.create("Invoice", sale(line(100, tax="NON")))
    assert untaxed["TxnTaxDetail"] == {"TotalTax": 0}
    assert fault_code(us.post("Invoice", sale(line(100, tax=texas)))) == "6000"
    assert (
        fault_code(us.post("Invoice", sale(line(100, tax="TAX"), TxnTaxDetail={"TxnTaxCodeRef": {"value": "TAX"}})))
        == "6000"
    )
    assert (
        fault_code(us.post("Invoice", sale(line(100, tax="TAX"), TxnTaxDetail={"TxnTaxCodeRef": {"value": "77"}})))
        == "610"
    )


def test_us_total_tax_override(us):
    body = sale(line(100, tax="TAX"), TxnTaxDetail={"TotalTax": "9.00"})
    assert us.create("Invoice", body)["TotalAmt"] == 109
    us.sim.honour_tax_override = False
    assert us.create("Invoice", body)["TotalAmt"] == D("108.88")


def test_us_payment_and_multicurrency_customer(us):
    invoice = us.create("Invoice", sale(line(100, tax="NON")))
    paid = us.create("Payment", payment(100, ("Invoice", invoice, 100)))
    assert (paid["CurrencyRef"]["value"], paid["ExchangeRate"]) == ("USD", 1)
    canadian = us.create("Customer", {"DisplayName": "Maple Co", "CurrencyRef": {"value": "CAD"}})
    cad = us.create("Invoice", sale(line(100, tax="NON"), customer=canadian["Id"]))
    assert (cad["ExchangeRate"], cad["HomeTotalAmt"]) == (D("0.73"), 73)
    cad_paid = us.create("Payment", payment(100, ("Invoice", cad, 100), customer=canadian["Id"]))
    assert (cad_paid["CurrencyRef"]["value"], cad_paid["HomeTotalAmt"]) == ("CAD", 73)


# -- request ids and lost responses ------------------------------------------------------------------------------


def test_request_id_replays_an_invoice_create(uk):
    body = sale(line(100, tax=uk.vat_code(20)), DocNumber="R-1")
    first = uk.create("Invoice", body, requestid="inv-1")
    again = uk.create("Invoice", body, requestid="inv-1")
    assert first["Id"] == again["Id"]
    assert len(uk.table("Invoice").rows) == 1
    assert uk.sim.replays == ["inv-1"]
    void = {"Id": first["Id"], "SyncToken": "0"}
    assert uk.create("Invoice", void, operation="void", requestid="void-1")["SyncToken"] == "1"
    assert uk.create("Invoice", void, operation="void", requestid="void-1")["SyncToken"] == "1"
    assert [w for w in uk.sim.writes if w[1] == "void"] == [("Invoice", "void", first["Id"])]


def test_lost_response_leaves_one_invoice_that_a_replay_returns(uk):
    body = sale(line(100, tax=uk.vat_code(20)), DocNumber="L-1")
    uk.sim.drop_response_after_commit()
    with pytest.raises(requests.ConnectionError):
        uk.post("Invoice", body, requestid="lost-1")
    replay = uk.create("Invoice", body, requestid="lost-1")
    assert [row["Id"] for row in uk.table("Invoice").rows.values()] == [replay["Id"]]
    assert replay["DocNumber"] == "L-1"
