"""The QBO simulator's read-only HTML overview (``GET /``): what a person sees of the simulated company."""

import html
import re

import pytest
import requests

from simulators.qbo import QboSimulator
from simulators.world import COMPANIES, build_world

from .test_qbo_sim import TIMEOUT
from .test_qbo_sim_sales import Api, line, payment, sale, standard_invoice


@pytest.fixture
def uk():
    with QboSimulator(build_world(profile="uk")) as sim:
        yield Api(sim)


def page(sim, path="/"):
    response = requests.get(sim.url + path, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    return response.text


def section(text, title):
    """The HTML of one section of the page, from its heading to the next one."""
    start = text.index(f"<h2>{title} (")
    end = text.find("<h2>", start + 1)
    return text[start : end if end > 0 else len(text)]


def test_overview_needs_no_token_and_names_the_company(uk):
    text = page(uk.sim)
    assert f"<h1>{COMPANIES['uk']['CompanyName']}</h1>" in text
    assert uk.sim.company.realm_id in text
    for title in ("Invoices", "Credit memos", "Payments"):
        assert f"<h2>{title} (0)</h2>" in text
    assert "Automatically apply credits: <strong>on</strong>" in text
    assert page(uk.sim, f"/company/{uk.sim.company.realm_id}") == text
    assert requests.get(uk.sim.url + "/company/123", timeout=TIMEOUT).status_code == 404


def test_invoices_created_through_the_api_are_listed_newest_first(uk):
    first = standard_invoice(uk, DocNumber="LON-0001", PrivateNote="Nexudus LON-0001")
    second = standard_invoice(uk, "50.00", DocNumber="LON-0002", TxnDate="2026-02-03")
    uk.create("Payment", payment(60, ("Invoice", first, 60), PaymentRefNum="PAY-9"))
    invoices = section(page(uk.sim), "Invoices")
    assert "<h2>Invoices (2)</h2>" in invoices
    assert invoices.index("LON-0002") < invoices.index("LON-0001")
    row = re.search(r"<tr class=\"(\w+)\"><td>1</td>(.*?)</tr>", invoices)
    assert row.group(1) == "open"
    cells = [html.unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(2))]
    customer = uk.sim.company.table("Customer").get("1")["DisplayName"]
    assert cells[:7] == ["LON-0001", customer, first["TxnDate"], "GBP", "120.00", "60.00", "Nexudus LON-0001"]
    assert "2026-02-03" in invoices and second["DocNumber"] in invoices
    payments = section(page(uk.sim), "Payments")
    assert "PAY-9" in payments and "60.00" in payments


def test_voided_and_deleted_rows_are_marked(uk):
    voided = standard_invoice(uk, DocNumber="V-1")
    uk.create("Invoice", {"Id": voided["Id"], "SyncToken": "0"}, operation="void")
    memo = uk.create("CreditMemo", sale(line(10, tax="1"), DocNumber="CM-1"))
    response = uk.post("CreditMemo", {"Id": memo["Id"], "SyncToken": "0"}, operation="delete")
    assert response.status_code == 200, response.text
    text = page(uk.sim)
    assert re.search(r'<tr class="voided"><td>1</td><td>V-1</td>.*?>Voided</span>', section(text, "Invoices"))
    memos = section(text, "Credit memos")
    assert "<h2>Credit memos (0, 1 deleted)</h2>" in memos
    assert '<tr class="deleted"><td>1</td>' in memos and ">Deleted</span>" in memos


def test_html_in_names_and_notes_is_escaped(uk):
    customer = uk.create("Customer", {"DisplayName": "<script>alert(1)</script> & Co"})
    standard_invoice(uk, customer=customer["Id"], DocNumber="X-1", PrivateNote='<img src=x onerror="y">')
    text = page(uk.sim)
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in text
    assert "&lt;img src=x onerror=&quot;y&quot;&gt;" in text


def test_preferences_changed_for_the_demo_show(uk):
    uk.sim.set_preferences("SalesFormsPrefs", AutoApplyCredit=False, AutoApplyPayments=False)
    text = page(uk.sim)
    assert "Automatically apply credits: <strong>off</strong>" in text
    assert "Automatically apply payments: <strong>off</strong>" in text
    assert uk.sim.company.preferences["SalesFormsPrefs"]["CustomTxnNumbers"] is True


def test_api_routes_still_need_a_token(uk):
    response = requests.get(f"{uk.sim.url}/v3/company/{uk.sim.company.realm_id}/preferences", timeout=TIMEOUT)
    assert response.status_code == 401
