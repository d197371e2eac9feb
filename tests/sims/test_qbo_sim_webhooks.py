"""QuickBooks simulator webhooks: a signed notification per write, as CloudEvents or the legacy format."""

import base64
import hashlib
import hmac
import json

import pytest

from simulators.qbo import QboSimulator
from simulators.world import build_world

from .receiver import Receiver
from .test_qbo_sim_writes import connect, post


@pytest.fixture(params=["cloudevents", "legacy"])
def sim(request):
    with QboSimulator(build_world(profile="uk"), webhook_format=request.param) as server:
        yield server


def test_nothing_is_posted_until_subscribed(sim):
    post(sim, connect(sim), "customer", {"DisplayName": "Nova Studio Ltd"})
    assert sim.wait_for_deliveries()
    assert sim.deliverer.log == []


def test_a_write_posts_one_signed_notification(sim):
    with Receiver() as receiver:
        sim.subscribe_webhooks(receiver.url + "/hook", "token-1")
        row = post(sim, connect(sim), "customer", {"DisplayName": "Nova Studio Ltd"}).json()["Customer"]
        assert sim.wait_for_deliveries()
    assert len(receiver.posts) == 1 and sim.webhook_answers == [200]
    _path, headers, body = receiver.posts[0]
    expected = base64.b64encode(hmac.new(b"token-1", body, hashlib.sha256).digest()).decode()
    assert headers["intuit-signature"] == expected
    payload = json.loads(body)
    if sim.webhook_format == "cloudevents":
        (event,) = payload
        assert event["type"] == "qbo.customer.created.v1"
        assert (event["intuitentityid"], event["intuitaccountid"]) == (row["Id"], sim.company.realm_id)
        assert event["specversion"] == "1.0" and event["id"] and event["time"].endswith("Z")
    else:
        (notification,) = payload["eventNotifications"]
        assert notification["realmId"] == sim.company.realm_id
        (entity,) = notification["dataChangeEvent"]["entities"]
        assert (entity["name"], entity["id"], entity["operation"]) == ("Customer", row["Id"], "Create")
        assert entity["lastUpdated"].endswith("Z")
