"""python-quickbooks objects as QuickBooks bodies: only what the connector set, never a class default; answers,
change data capture and batch answers read back with ``from_json``, money as Decimal."""

import json
from decimal import Decimal

import pytest
from nqc_tools import qbo_objects as qo
from nqc_tools.http_client import wire_json
from nqc_tools.invoice_payload import PayloadError, build
from nqc_tools.list_payload import customer_document, reactivation, service_item
from nqc_tools.payment_payload import credit_application_document, qbo_payment_document
from quickbooks.objects.base import Ref as LibraryRef
from quickbooks.objects.invoice import Invoice as LibraryInvoice
from seeded import seeded_invoices

D = Decimal
CLASSES = [
    qo.Invoice,
    qo.CreditMemo,
    qo.Payment,
    qo.PaymentLine,
    qo.Customer,
    qo.Item,
    qo.SalesItemLine,
    qo.SalesItemLineDetail,
    qo.TxnTaxDetail,
    qo.TaxLine,
    qo.TaxLineDetail,
    qo.Ref,
    qo.EmailAddress,
    qo.LinkedTxn,
    qo.BatchItemRequest,
    qo.IntuitBatchRequest,
]
# research QBO §4.4: what python-quickbooks' own to_json sends without being asked
LEAKS = {
    "Invoice": {"ExchangeRate": 1, "GlobalTaxCalculation": "TaxExcluded", "AllowIPNPayment": True, "TxnDate": ""},
    "CreditMemo": {"ExchangeRate": 0, "ApplyTaxAfterDiscount": "", "SyncToken": 0},
    "Payment": {"SyncToken": 0, "sparse": False, "domain": "QBO"},
    "Customer": {"Taxable": True, "Balance": 0, "Active": True},
    "Item": {"UnitPrice": 0, "Active": True, "Type": ""},
}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_a_fresh_object_has_an_empty_body(cls):
    assert qo.to_body(cls()) == {}


@pytest.mark.parametrize("entity", sorted(LEAKS))
def test_the_library_would_send_its_defaults_and_the_serializer_does_not(entity):
    cls = qo.DOCUMENTS[entity]
    library = json.loads(cls.__mro__[2]().to_json())
    assert LEAKS[entity].items() <= library.items(), "python-quickbooks sends these defaults itself"
    document = cls(Id="5")
    assert qo.to_body(document) == {"Id": "5"}


def test_a_value_equal_to_the_default_is_still_sent_when_set():
    assert qo.to_body(qo.Invoice(GlobalTaxCalculation="TaxExcluded", ExchangeRate=1)) == {
        "GlobalTaxCalculation": "TaxExcluded",
        "ExchangeRate": 1,
    }
    assert qo.to_body(qo.TaxLineDetail(PercentBased=True)) == {"PercentBased": True}
    detail = qo.SalesItemLineDetail()
    detail.Qty = 0
    assert qo.to_body(detail) == {"Qty": 0}


def test_fields_come_in_the_order_first_set_and_decimals_stay_decimals():
    line = qo.SalesItemLine(DetailType="SalesItemLineDetail", Amount=D("120.00"))
    line.SalesItemLineDetail = qo.SalesItemLineDetail(ItemRef=qo.ref("7"), UnitPrice=D("33.33333"))
    line.Amount = D("100.00")  # set again: keeps its place
    body = qo.to_body(line)
    assert list(body) == ["DetailType", "Amount", "SalesItemLineDetail"]
    assert body["Amount"] == D("100.00") and isinstance(body["Amount"], Decimal)
    assert wire_json(body) == (
        '{"DetailType": "SalesItemLineDetail", "Amount": 100, '
        '"SalesItemLineDetail": {"ItemRef": {"value": "7"}, "UnitPrice": 33.33333}}'
    )


def test_an_object_not_built_here_is_refused_rather_than_guessed():
    with pytest.raises(TypeError, match="not built from qbo_objects"):
        qo.to_body(qo.Invoice(CustomerRef=LibraryRef()))
    with pytest.raises(TypeError):
        qo.to_body(LibraryInvoice())


def test_a_reference_read_from_quickbooks_is_sent_as_it_came():
    assert qo.to_body(qo.ref({"value": "58", "name": "Acme"})) == {"value": "58", "name": "Acme"}
    assert qo.to_body(qo.ref("58")) == {"value": "58"}


def every_key(value, path=""):
    if isinstance(value, list):
        for entry in value:
            yield from every_key(entry, path)
    elif isinstance(value, dict):
        for key, entry in value.items():
            yield f"{path}{key}"
            yield from every_key(entry, f"{path}{key}.")


@pytest.mark.parametrize("profile", ["uk", "us"])
def test_no_default_leaks_into_any_simulated_invoice(profile):
    data, target = seeded_invoices(profile, invoices=150)
    allowed = {
        "CustomerRef", "CustomerRef.value", "DocNumber", "TxnDate", "DueDate", "PrivateNote", "GlobalTaxCalculation",
        "CurrencyRef", "CurrencyRef.value", "Line", "Line.DetailType", "Line.Amount", "Line.Description",
        "Line.SalesItemLineDetail", "Line.SalesItemLineDetail.ItemRef", "Line.SalesItemLineDetail.ItemRef.value",
        "Line.SalesItemLineDetail.Qty", "Line.SalesItemLineDetail.UnitPrice", "Line.SalesItemLineDetail.TaxCodeRef",
        "Line.SalesItemLineDetail.TaxCodeRef.value", "Line.SalesItemLineDetail.TaxInclusiveAmt", "TxnTaxDetail",
        "TxnTaxDetail.TotalTax", "TxnTaxDetail.TxnTaxCodeRef", "TxnTaxDetail.TxnTaxCodeRef.value",
        "TxnTaxDetail.TaxLine", "TxnTaxDetail.TaxLine.Amount", "TxnTaxDetail.TaxLine.DetailType",
        "TxnTaxDetail.TaxLine.TaxLineDetail", "TxnTaxDetail.TaxLine.TaxLineDetail.TaxRateRef",
        "TxnTaxDetail.TaxLine.TaxLineDetail.TaxRateRef.value", "TxnTaxDetail.TaxLine.TaxLineDetail.PercentBased",
    }  # fmt: skip
    seen, built = set(), 0
    for record in data.coworkerinvoices.values():
        try:
            payload = build(record, data.lines_of(record["Id"]), target)
        except PayloadError:
            continue
        built += 1
        assert isinstance(payload.document, qo.CreditMemo if record["CreditNote"] else qo.Invoice)
        assert payload.body == qo.to_body(payload.document)
        keys = set(every_key(payload.body))
        assert keys <= allowed, keys - allowed
        assert all(value not in ("", None) for value in _leaves(payload.body)), "no empty defaults"
        seen |= keys
    assert built > 100 and "Line.SalesItemLineDetail.Qty" in seen


def _leaves(value):
    if isinstance(value, list | dict):
        for entry in value.values() if isinstance(value, dict) else value:
            yield from _leaves(entry)
    else:
        yield value


def test_payments_are_payment_documents_with_only_their_fields():
    entry = {"Id": 9001, "CoworkerInvoiceInvoiceNumber": "LON-1", "TransactionDate": "2026-04-01T10:00:00Z"}
    document = qbo_payment_document(entry, D("12.30"), invoice_id="130", customer_id="58", method_id="2")
    assert isinstance(document, qo.Payment) and isinstance(document.Line[0], qo.PaymentLine)
    assert qo.to_body(document) == {
        "CustomerRef": {"value": "58"},
        "TotalAmt": D("12.30"),
        "Line": [{"Amount": D("12.30"), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]}],
        "PaymentRefNum": "9001",
        "PrivateNote": "Nexudus payment 9001 for invoice LON-1 [nexudus-payment 9001]",
        "TxnDate": "2026-04-01",
        "PaymentMethodRef": {"value": "2"},
    }
    credit = credit_application_document(
        entry, D("5.00"), invoice=("130", "LON-1"), memo=("140", "CN-1"), customer_ref={"value": "58", "name": "A"}
    )
    assert [line.LinkedTxn[0].TxnType for line in credit.Line] == ["Invoice", "CreditMemo"]
    assert qo.to_body(credit)["TotalAmt"] == D("0.00")


def test_customers_and_items_are_sent_as_the_hand_written_bodies_were():
    coworker = {"Id": 42, "CompanyName": "Acme: Labs", "BillingEmail": "pay@acme.example", "Email": "x@y.z"}
    document = customer_document(coworker, "Ada Lovelace", "EUR")
    assert isinstance(document, qo.Customer) and isinstance(document.PrimaryEmailAddr, qo.EmailAddress)
    assert wire_json(qo.to_body(document)) == wire_json(
        {
            "DisplayName": "Ada Lovelace",
            "Notes": "Nexudus customer 42",
            "CompanyName": "Acme - Labs",
            "PrimaryEmailAddr": {"Address": "pay@acme.example"},
            "CurrencyRef": {"value": "EUR"},
        }
    )
    plain = qo.to_body(customer_document({"Id": 7, "Email": "not-an-address"}, "Bo"))
    assert plain == {"DisplayName": "Bo", "Notes": "Nexudus customer 7"}, "no Taxable, Active, Balance …"
    assert qo.to_body(reactivation({"Id": "9", "SyncToken": "3", "Active": False, "DisplayName": "Bo"})) == {
        "Id": "9",
        "SyncToken": "3",
        "sparse": True,
        "Active": True,
    }
    assert wire_json(qo.to_body(service_item("Hot desks", "81"))) == wire_json(
        {"Name": "Hot desks", "Type": "Service", "IncomeAccountRef": {"value": "81"}}
    )


ANSWER = """{"Invoice": {"TxnDate": "2026-04-01", "domain": "QBO", "PrintStatus": "NotSet", "TotalAmt": 144.00,
 "Line": [{"Id": "1", "LineNum": 1, "Amount": 120.00, "DetailType": "SalesItemLineDetail",
   "SalesItemLineDetail": {"ItemRef": {"value": "7", "name": "Desk"}, "UnitPrice": 33.33333, "Qty": 3.6,
     "TaxCodeRef": {"value": "tc-20"}}},
  {"Amount": 120.00, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}],
 "TxnTaxDetail": {"TotalTax": 24.00, "TaxLine": [{"Amount": 24.00, "DetailType": "TaxLineDetail",
   "TaxLineDetail": {"TaxRateRef": {"value": "tr-20"}, "PercentBased": true, "TaxPercent": 20,
     "NetAmountTaxable": 120.00}}]},
 "CustomerRef": {"value": "58", "name": "Acme"}, "Balance": 144.00, "sparse": false, "Id": "130", "SyncToken": "0",
 "MetaData": {"CreateTime": "2026-04-01T10:00:00-07:00", "LastUpdatedTime": "2026-04-01T10:00:00-07:00"}},
 "time": "2026-04-01T10:00:00.000-07:00"}"""


def test_an_answer_reads_as_documents_with_exact_money_and_gives_the_same_body_back():
    data = json.loads(ANSWER, parse_float=Decimal)["Invoice"]
    document = qo.read("Invoice", data)
    assert isinstance(document, qo.Invoice)
    assert document.TotalAmt == D("144.00") and isinstance(document.TotalAmt, Decimal)
    assert document.Balance == D("144.00")
    sales, subtotal = document.Line
    assert isinstance(sales, qo.SalesItemLine) and isinstance(sales.SalesItemLineDetail, qo.SalesItemLineDetail)
    assert sales.SalesItemLineDetail.UnitPrice == D("33.33333") and sales.SalesItemLineDetail.Qty == D("3.6")
    assert sales.SalesItemLineDetail.ItemRef.value == "7"
    assert subtotal.DetailType == "SubTotalLineDetail"
    assert document.TxnTaxDetail.TaxLine[0].TaxLineDetail.TaxRateRef.value == "tr-20"
    assert document.CustomerRef.name == "Acme" and document.Id == "130" and document.SyncToken == "0"
    body = qo.to_body(document)
    assert body == data and list(body) == list(data)
    assert json.dumps(body, default=str) == json.dumps(data, default=str), "same keys in the same order"


def test_change_data_capture_reads_each_entity_with_its_deleted_rows():
    sample = {  # research QBO §5.8
        "CDCResponse": [
            {
                "QueryResponse": [
                    {"Customer": [{"Id": "63"}, {"Id": "99"}], "startPosition": 1, "maxResults": 3},
                    {
                        "startPosition": 1,
                        "totalCount": 5,
                        "Payment": [
                            {"Id": "34", "TotalAmt": D("12.50")},
                            {"status": "Deleted", "domain": "QBO", "Id": "979", "MetaData": {"LastUpdatedTime": "x"}},
                        ],
                        "maxResults": 5,
                    },
                ]
            }
        ],
        "time": "2015-12-23T12:56:06.196-08:00",
    }
    found = qo.read_cdc(sample, ["Payment", "Customer", "Invoice"])
    assert [c.Id for c in found["Customer"]] == ["63", "99"]
    live, deleted = found["Payment"]
    assert isinstance(live, qo.Payment) and live.TotalAmt == D("12.50")
    assert (deleted.Id, deleted.status) == ("979", "Deleted")
    assert qo.to_body(deleted) == sample["CDCResponse"][0]["QueryResponse"][1]["Payment"][1]
    assert found["Invoice"] == []
    assert qo.read_cdc({"CDCResponse": [{"QueryResponse": [{}]}], "time": "t"}, ["Payment"]) == {"Payment": []}


def test_batch_body_carries_each_operation_and_only_the_documents_fields():
    invoice = qo.Invoice(CustomerRef=qo.ref("58"), DocNumber="B-1")
    void = qo.Payment(Id="41", SyncToken="2")
    gone = qo.Invoice(Id="12", SyncToken="0")
    body = qo.batch_body(
        [
            ("b1", "create", invoice),
            ("b2", "update", void, "void"),
            ("b3", "delete", gone, None),
            ("b4", "query", "select * from Invoice where DocNumber in ('B-1')"),
        ]
    )
    assert body == {
        "BatchItemRequest": [
            {"bId": "b1", "operation": "create", "Invoice": {"CustomerRef": {"value": "58"}, "DocNumber": "B-1"}},
            {"bId": "b2", "operation": "update", "Payment": {"Id": "41", "SyncToken": "2"}, "optionsData": "void"},
            {"bId": "b3", "operation": "delete", "Invoice": {"Id": "12", "SyncToken": "0"}},
            {"bId": "b4", "Query": "select * from Invoice where DocNumber in ('B-1')"},
        ]
    }
    assert qo.BatchItemRequest.class_dict == {}, "python-quickbooks' set_object would grow this class-wide dict"


def test_a_batch_answer_reads_per_item_documents_faults_and_queries():
    answer = {  # research QBO §5.7, with a created invoice
        "BatchItemResponse": [
            {
                "Fault": {
                    "type": "ValidationFault",
                    "Error": [{"Message": "Duplicate Name Exists Error", "code": "6240", "Detail": "…", "element": ""}],
                },
                "bId": "bid1",
            },
            {"bId": "bid2", "Invoice": {"Id": "130", "TotalAmt": D("144.00"), "DocNumber": "B-1"}},
            {"bId": "bid4", "QueryResponse": {"Invoice": [{"Id": "7"}], "startPosition": 1, "maxResults": 1}},
        ],
        "time": "2016-04-15T09:01:18.141-07:00",
    }
    results = qo.read_batch(answer)
    document, fault = results["bid1"]
    assert document is None and fault.type == "ValidationFault"
    assert (fault.Error[0].code, fault.Error[0].Message) == ("6240", "Duplicate Name Exists Error")
    created, fault = results["bid2"]
    assert fault is None and isinstance(created, qo.Invoice) and created.TotalAmt == D("144.00")
    rows, fault = results["bid4"]
    assert fault is None and [row.Id for row in rows["Invoice"]] == ["7"]


def test_field_reads_what_the_answer_carried_never_a_class_default():
    document = qo.read("Invoice", {"Id": "5", "TotalAmt": D("10.10"), "CustomerRef": {"value": "3"}})
    assert document.Balance == 0 and qo.field(document, "Balance") is None, "Balance = 0 is the class's default"
    assert qo.field(document, "TotalAmt") == D("10.10") and isinstance(qo.field(document, "TotalAmt"), Decimal)
    assert qo.field(document, "CustomerRef", "value") == "3"
    assert qo.field(document, "CustomerRef", "name") is None, "Ref.name = '' is the class's default"
    assert qo.field(document, "CurrencyRef", "value", default="GBP") == "GBP"
    assert qo.field(None, "Id") is None
    assert qo.field({"Id": "7", "MetaData": {"LastUpdatedTime": "t"}}, "MetaData", "LastUpdatedTime") == "t"
    code = qo.read("TaxCode", {"Id": "3", "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": "9"}}]}})
    [detail] = qo.field(code, "SalesTaxRateList", "TaxRateDetail")
    assert qo.field(detail, "TaxRateRef", "value") == "9", "nested parts kept as dicts read the same way"


def test_preferences_company_info_and_lists_are_read_as_the_library_classes():
    from quickbooks.objects.account import Account
    from quickbooks.objects.company_info import CompanyInfo
    from quickbooks.objects.preferences import Preferences

    answer = {
        "SalesFormsPrefs": {"CustomTxnNumbers": True, "AutoApplyCredit": False},
        "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "GBP"}},
    }
    prefs = qo.read("Preferences", answer)
    assert isinstance(prefs, Preferences) and qo.to_body(prefs) == answer
    assert qo.field(prefs, "CurrencyPrefs", "HomeCurrency", "value") == "GBP"
    assert qo.field(prefs, "SalesFormsPrefs", "CustomTxnNumbers") is True
    assert qo.field(prefs, "SalesFormsPrefs", "AutoApplyPayments") is None
    info = qo.read("CompanyInfo", {"CompanyName": "Hub Ltd", "Country": "GB"})
    assert isinstance(info, CompanyInfo) and qo.field(info, "Country") == "GB"
    account = qo.read("Account", {"Id": "81", "Name": "Sales", "Active": False})
    assert isinstance(account, Account) and qo.field(account, "Active", default=True) is False
    assert qo.field(qo.read("Account", {"Id": "82"}), "AcctNum") is None


def test_marked_finds_the_document_whose_memo_holds_the_marker():
    documents = [
        qo.read("Invoice", {"Id": "1"}),
        qo.read("Invoice", {"Id": "2", "PrivateNote": "Nexudus invoice [nexudus-invoice 8]"}),
        qo.read("Invoice", {"Id": "3", "PrivateNote": "Nexudus invoice [nexudus-invoice 9]"}),
    ]
    assert qo.marked(documents, "[nexudus-invoice 9]").Id == "3"
    assert qo.marked(documents, "[nexudus-invoice 10]") is None


def test_a_reference_read_from_quickbooks_is_sent_back_as_it_was():
    memo = qo.read("CreditMemo", {"Id": "4", "CustomerRef": {"value": "3", "name": "Hub Ltd"}})
    assert qo.ref(memo.CustomerRef) is memo.CustomerRef
    assert qo.to_body(qo.ref(memo.CustomerRef)) == {"value": "3", "name": "Hub Ltd"}


def test_payment_readers_take_documents_as_they_take_dicts():
    from nqc_tools import payment_payload

    answer = {
        "Id": "55",
        "TotalAmt": D("0"),
        "PrivateNote": "Voided",
        "Line": [
            {"Amount": D("12.34"), "LinkedTxn": [{"TxnId": "130", "TxnType": "Invoice"}]},
            {"Amount": D("1.00"), "LinkedTxn": [{"TxnId": "131", "TxnType": "CreditMemo"}]},
        ],
    }
    document = qo.read("Payment", answer)
    assert payment_payload.invoice_lines(document) == payment_payload.invoice_lines(answer) == [("130", D("12.34"))]
    assert payment_payload.is_voided(document) and payment_payload.is_voided(answer)
    assert not payment_payload.is_from_nexudus(document)
    customer = qo.read("Customer", {"Id": "3", "SyncToken": "2", "Active": False})
    assert qo.to_body(reactivation(customer)) == qo.to_body(reactivation(qo.to_body(customer)))
