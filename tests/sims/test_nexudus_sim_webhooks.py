"""Nexudus simulator webhooks: the WebHook entity, the eWebhookAction enum, and deliveries signed or not."""

import hashlib
import hmac
import json
from decimal import Decimal

import pytest

from simulators.httpbase import json_dumps
from simulators.nexudus import NexudusSimulator

from .receiver import Receiver
from .test_nexudus_sim import send, sign_in

HOOKS = "/api/sys/webhooks"


@pytest.fixture(params=["signed", "unsigned"])
def sim(request):
    with NexudusSimulator(webhook_signing=request.param) as server:
        yield server


@pytest.fixture
def auth(sim):
    return {"Authorization": f"Bearer {sign_in(sim).json()['access_token']}", "Content-Type": "application/json"}


def create(sim, auth, **fields):
    body = {"BusinessId": next(iter(sim.data.businesses)), "Name": "Odoo", "Action": 16, "URL": "http://x/y"} | fields
    return send(sim, "POST", HOOKS, data=json_dumps(body), headers=auth)


def test_enum_lists_the_documented_accounting_actions(sim, auth):
    values = send(sim, "GET", "/api/utils/enums", params={"name": "eWebhookAction"}, headers=auth).json()
    names = {value["Name"]: value["Id"] for value in values}
    assert names["CoworkerInvoiceCreate"] == 16
    assert names["CoworkerInvoicePaid"] == 21
    assert names["CoworkerInvoiceReceivedPayment"] == 23


def test_webhooks_need_a_sign_in(sim):
    assert send(sim, "GET", HOOKS).status_code == 401


def test_create_list_update_delete(sim, auth):
    answer = create(sim, auth)
    assert answer.status_code == 200 and answer.json()["WasSuccessful"] is True
    hook_id = answer.json()["Value"]["Id"]
    listed = send(sim, "GET", HOOKS, headers=auth).json()["Records"]
    assert [(h["Id"], h["Action"], h["Active"], h["ErrorCount"], h["LastError"]) for h in listed] == [
        (hook_id, 16, True, 0, None)
    ]
    body = json_dumps({**listed[0], "Active": False})
    assert send(sim, "PUT", f"{HOOKS}/{hook_id}", data=body, headers=auth).json()["WasSuccessful"] is True
    assert send(sim, "GET", f"{HOOKS}/{hook_id}", headers=auth).json()["Active"] is False
    assert send(sim, "DELETE", f"{HOOKS}/{hook_id}", headers=auth).status_code == 200
    assert send(sim, "GET", f"{HOOKS}/{hook_id}", headers=auth).status_code == 404


def test_create_refuses_an_unknown_location_or_action(sim, auth):
    assert create(sim, auth, BusinessId=999999).json()["Errors"][0]["PropertyName"] == "BusinessId"
    assert create(sim, auth, Action=999).json()["Errors"][0]["PropertyName"] == "Action"


def test_an_issued_invoice_is_delivered_to_its_locations_webhooks(sim, auth):
    with Receiver() as receiver:
        coworker = next(iter(sim.data.coworkers.values()))
        business = coworker["InvoicingBusinessId"]
        other = next(b for b in sim.data.businesses if b != business)
        create(sim, auth, BusinessId=business, URL=receiver.url + "/hook")
        create(sim, auth, BusinessId=other, URL=receiver.url + "/other")
        create(sim, auth, BusinessId=business, Action=21, URL=receiver.url + "/paid")
        invoice = sim.issue_invoice(coworker["Id"])
        assert sim.wait_for_deliveries()
    assert [path for path, _headers, _body in receiver.posts] == ["/hook"]
    _path, headers, body = receiver.posts[0]
    records = json.loads(body)
    assert isinstance(records, list) and len(records) == 1 and records[0]["Id"] == invoice["Id"]
    signature = headers.get("x-nexudus-hook-signature")
    if sim.signing == "signed":
        assert signature == hmac.new(sim.shared_secret.encode(), body, hashlib.sha256).hexdigest().upper()
    else:
        assert signature is None
    # The new invoice is served like the others, and paying it fires the paid webhook.
    served = send(sim, "GET", f"/api/billing/coworkerinvoices/{invoice['Id']}", headers=auth).json()
    assert served["Draft"] is False and Decimal(str(served["TotalAmount"])) > 0


def test_payment_fires_received_and_paid(sim, auth):
    with Receiver() as receiver:
        invoice = sim.issue_invoice()
        for action in (21, 23):
            create(sim, auth, BusinessId=invoice["BusinessId"], Action=action, URL=f"{receiver.url}/{action}")
        sim.pay(invoice["Id"], invoice["TotalAmount"])
        assert sim.wait_for_deliveries()
    assert sorted(path for path, _h, _b in receiver.posts) == ["/21", "/23"]


def test_failed_deliveries_are_recorded(sim, auth):
    with Receiver(status=401) as receiver:
        invoice = sim.issue_invoice()
        create(sim, auth, BusinessId=invoice["BusinessId"], Action=18, URL=receiver.url)
        sim.touch_invoice(invoice["Id"], Description="changed")
        assert sim.wait_for_deliveries()
    hook = send(sim, "GET", HOOKS, headers=auth).json()["Records"][0]
    assert hook["ErrorCount"] == 1 and hook["LastError"].startswith("401")


def test_crediting_an_invoice_fires_the_credit_note_webhook(sim, auth):
    with Receiver() as receiver:
        invoice = sim.issue_invoice()
        create(sim, auth, BusinessId=invoice["BusinessId"], Action=20, URL=receiver.url)
        note = sim.credit_invoice(invoice["Id"])
        assert sim.wait_for_deliveries()
    assert note["CreditNote"] is True and note["OriginalInvoiceGuid"] == invoice["UniqueId"]
    assert note["TotalAmount"] == -invoice["TotalAmount"]
    credited = send(sim, "GET", f"/api/billing/coworkerinvoices/{invoice['Id']}", headers=auth).json()
    assert Decimal(str(credited["DueAmount"])) == 0
    (post,) = receiver.posts
    assert json.loads(post[2])[0]["Id"] == note["Id"]
    with pytest.raises(ValueError):
        sim.credit_invoice(note["Id"])
