"""The seeded FaultPlan over the simulators: decided by the seed alone, applied through the one HTTP hook."""

from dataclasses import replace

import pytest
import requests

from simulators.chaos import KINDS, FaultPlan, FaultRates
from simulators.httpbase import Request
from simulators.nexudus.server import NexudusSimulator
from simulators.qbo import QboSimulator
from simulators.world import build_world

from .test_qbo_sim import TIMEOUT, connect
from .test_qbo_sim_writes import post


@pytest.fixture
def sim():
    with QboSimulator(build_world(profile="uk")) as server:
        yield server


def only(kind, **kw):
    plan = FaultPlan(1, replace(FaultRates.none(), **{kind: 1.0}), **kw)
    plan.active = True
    return plan


def decisions(seed):
    plan = FaultPlan(seed)
    request = Request("POST", "/v3/company/1/invoice", {"requestid": "r"}, {}, {"authorization": "Bearer x"}, b"{}")
    return [plan.decide("qbo", request)[0] for _ in range(400)]


def test_the_seed_alone_decides():
    assert decisions(3) == decisions(3)
    assert decisions(3) != decisions(4)
    assert set(decisions(3)) == {None, *KINDS}


def test_an_answer_lost_after_commit_leaves_the_write_done_and_its_request_id_answered(sim):
    tokens = connect(sim)
    sim.fault_plan = only("lost_after_commit")
    with pytest.raises(requests.ConnectionError):
        post(sim, tokens, "customer", {"DisplayName": "Lost Answer Ltd"}, requestid="lost-1")
    sim.fault_plan = None
    again = post(sim, tokens, "customer", {"DisplayName": "Lost Answer Ltd"}, requestid="lost-1")
    assert again.status_code == 200
    assert sim.replays == ["lost-1"]
    assert [w[0] for w in sim.writes] == ["Customer"]


def test_a_timeout_is_past_the_clients_after_the_write(sim):
    tokens = connect(sim)
    sim.fault_plan = only("timeout_after_commit", client_timeout=0.2)
    with pytest.raises(requests.ConnectionError):  # the answer never comes (a client timeout, were it 0.2 s)
        post(sim, tokens, "customer", {"DisplayName": "Slow Answer Ltd"}, requestid="slow-1")
    assert [w[0] for w in sim.writes] == ["Customer"]


def test_an_expired_access_token_is_the_gateways_401_and_a_refresh_rotates(sim):
    tokens = connect(sim)
    sim.fault_plan = only("token_expired", min_token_age=0)
    answer = post(sim, tokens, "customer", {"DisplayName": "Expired Ltd"})
    assert answer.status_code == 401
    assert answer.json()["fault"]["error"][0]["code"] == "3200"
    assert sim.fault_plan.injected == {"token_expired": 1}


def test_throttles_and_5xx_come_with_each_services_documented_answer():
    with NexudusSimulator(build_world()) as nexudus:
        nexudus.fault_plan = only("throttle", retry_after=(7, 7))
        url = f"{nexudus.url}/api/sys/businesses"
        answer = requests.get(url, auth=("admin@example.com", "secret"), timeout=TIMEOUT)
        assert (answer.status_code, answer.headers["Retry-After"]) == (409, "7")
        nexudus.fault_plan = only("burst_5xx", burst=(2, 2))
        statuses = [requests.get(url, timeout=TIMEOUT).status_code for _ in range(3)]
        assert statuses[0] >= 500 and statuses[1] >= 500
        nexudus.fault_plan.active = False
        assert requests.get(f"{nexudus.url}/", timeout=TIMEOUT).status_code == 200
