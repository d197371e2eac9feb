"""The Nexudus simulator's read-only HTML overview (``GET /``): locations and the latest invoices."""

import pytest
import requests

from simulators.nexudus import NexudusSimulator
from simulators.nexudus.overview import LATEST, status
from simulators.world import build_world

TIMEOUT = 5


@pytest.fixture
def sim():
    with NexudusSimulator(build_world(profile="uk", invoices=20)) as server:
        yield server


def page(sim):
    response = requests.get(sim.url + "/", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    return response.text


def test_overview_lists_locations_and_latest_invoices_without_a_token(sim):
    text = page(sim)
    for business in sim.data.businesses.values():
        assert f"<td>{business['Name']}</td>" in text
    assert f"<h2>Locations ({len(sim.data.businesses)})</h2>" in text
    invoices = sorted(sim.data.coworkerinvoices.values(), key=lambda i: (i["CreatedOn"], i["Id"]), reverse=True)
    assert f"<h2>Latest invoices ({min(LATEST, len(invoices))} of {len(invoices)})</h2>" in text
    newest, oldest = invoices[0], invoices[-1]
    assert text.index(f"<td>{newest['Id']}</td>") < text.index(f"<td>{oldest['Id']}</td>")
    numbered = next(i for i in invoices if i["InvoiceNumber"] and not i["CreditNote"])
    assert f"<td>{numbered['InvoiceNumber']}</td>" in text
    assert f"{numbered['CurrencyCode']} {numbered['TotalAmount']:,.2f}" in text
    assert f">{status(numbered)}</span>" in text


def test_status_follows_nexudus(sim):
    assert status({"CreditNote": True, "Void": True}) == "Credit note"
    assert status({"Void": True, "Draft": True}) == "Void"
    assert status({"Draft": True}) == "Draft"
    assert status({"Paid": True, "TotalAmount": 10}) == "Paid"
    assert status({"PaidAmount": 4, "TotalAmount": 10}) == "Partly paid"
    assert status({"PaidAmount": 0, "TotalAmount": 10}) == "Issued"


def test_html_in_a_customer_name_is_escaped(sim):
    invoice_id = next(iter(sim.data.coworkerinvoices))
    sim.touch_invoice(invoice_id, BillToName="<b>Bold</b> & Sons")
    text = page(sim)
    assert "<b>Bold</b>" not in text
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Sons" in text


def test_the_api_still_needs_a_token(sim):
    response = requests.get(sim.url + "/api/sys/businesses", timeout=TIMEOUT)
    assert response.status_code == 401
