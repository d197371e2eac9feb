"""QBO simulator throttles per realm: 500 requests a minute, 10 at once, 40 batches a minute (research §3.8)."""

import threading
import time

import pytest
import requests

from simulators.qbo import QboLimits, QboSimulator
from simulators.world import build_world

from .test_qbo_sim import TIMEOUT, connect, refresh
from .test_qbo_sim_writes import post

THROTTLED = "message=ThrottleExceeded; errorCode=003001; statusCode=429"


class Clock:
    """A frozen wall clock the test moves by hand: the windows are exact, nothing sleeps."""

    def __init__(self):
        self.moment = time.time()

    def __call__(self):
        return self.moment


@pytest.fixture
def clock():
    return Clock()


def started(clock, limits=None):
    return QboSimulator(build_world(profile="uk"), limits=limits, clock=clock)


class Client:
    """A connected client on one keep-alive session."""

    def __init__(self, sim):
        self.sim, self.tokens = sim, connect(sim)
        self.session = requests.Session()
        self.base = f"{sim.url}/v3/company/{sim.company.realm_id}"

    def headers(self):
        return {"Authorization": f"Bearer {self.tokens['access_token']}", "Accept": "application/json"}

    def get(self, path="companyinfo/" + "{realm}"):
        url = f"{self.base}/{path.format(realm=self.sim.company.realm_id)}"
        return self.session.get(url, params={"minorversion": "75"}, headers=self.headers(), timeout=TIMEOUT)

    def batch(self, items=None, **params):
        items = items or [{"bId": "q", "Query": "select * from CompanyCurrency"}]
        return self.session.post(f"{self.base}/batch", params={"minorversion": "75", **params},
                                 json={"BatchItemRequest": items}, headers=self.headers(), timeout=TIMEOUT)  # fmt: skip


def assert_throttled(response):
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["fault"]["type"] == "SERVICE"
    [error] = body["fault"]["error"]
    assert (error["message"], error["code"]) == (THROTTLED, "3001")
    assert "Fault" not in body, "the gateway's lower-case envelope, not the API's Fault"
    assert response.headers.get("intuit_tid")


def test_documented_limits_are_the_default():
    assert QboLimits() == QboLimits(per_minute=500, concurrent=10, batch_per_minute=40, batch_items=30)
    sim = QboSimulator(build_world(profile="uk"))
    assert sim.limits == QboLimits() and sim.retry_after_header is False


def test_the_501st_request_within_a_minute_is_refused_and_not_run(clock):
    with started(clock) as sim:
        api = Client(sim)
        start = clock.moment
        assert api.get().status_code == 200
        clock.moment += 1
        for _ in range(499):
            assert api.get().status_code == 200
        realm = sim.company.realm_id
        refused = post(sim, api.tokens, "customer", {"DisplayName": "Too Late Ltd"})
        assert_throttled(refused)
        assert "Retry-After" not in refused.headers, "Intuit documents no Retry-After (research §6.11)"
        assert not sim.company.table("Customer").find(DisplayName="Too Late Ltd") and sim.writes == []
        assert (sim.throttled_count, sim.throttled, sim.requests_per_realm[realm]) == (1, [(realm, "per_minute")], 500)
        clock.moment = start + 59.9
        assert_throttled(api.get())
        clock.moment = start + 60  # the first request is a minute old: one place is free again
        assert api.get().status_code == 200
        assert_throttled(api.get())
        assert sim.requests_per_realm[realm] == 501 and sim.throttled_count == 3


def test_clock_offset_moves_the_window(clock):
    with started(clock, QboLimits(per_minute=2)) as sim:
        api = Client(sim)
        assert [api.get().status_code, api.get().status_code] == [200, 200]
        assert_throttled(api.get())
        sim.clock_offset = 1800  # half an hour on (the access token lives an hour)
        assert [api.get().status_code, api.get().status_code] == [200, 200]
        sim.clock_offset = 0  # and back: what was admitted "later" does not hold the window
        assert [api.get().status_code, api.get().status_code] == [200, 200]
        assert_throttled(api.get())


def test_oauth_and_the_overview_are_not_counted(clock):
    with started(clock, QboLimits(per_minute=1)) as sim:
        api = Client(sim)
        assert api.get().status_code == 200
        assert_throttled(api.get())
        renewed = refresh(sim, api.tokens["refresh_token"])
        assert renewed.status_code == 200, "Intuit's OAuth service is not the accounting API"
        assert requests.get(sim.url + "/", timeout=TIMEOUT).status_code == 200
        assert sum(sim.requests_per_realm.values()) == 1


def test_every_call_under_the_company_counts_whatever_its_answer(clock):
    with started(clock, QboLimits(per_minute=3)) as sim:
        api = Client(sim)
        assert api.get("invoice/999999").status_code == 400  # 610 Object Not Found
        assert requests.get(api.base + "/preferences", timeout=TIMEOUT).status_code == 401
        assert api.get("nonsense/path/here").status_code == 404
        assert_throttled(api.get())


def test_retry_after_when_switched_on_gives_the_seconds_until_the_window_frees(clock):
    with started(clock, QboLimits(per_minute=3)) as sim:
        sim.retry_after_header = True
        api = Client(sim)
        start = clock.moment
        for offset in (0, 10, 20):
            clock.moment = start + offset
            assert api.get().status_code == 200
        clock.moment = start + 30
        refused = api.get()
        assert_throttled(refused)
        assert refused.headers["Retry-After"] == "30"
        clock.moment = start + 59.5
        assert api.get().headers["Retry-After"] == "1", "whole seconds, rounded up"
        clock.moment = start + 60
        assert api.get().status_code == 200
        assert api.get().headers["Retry-After"] == "10", (
            "the next place frees when the request of +10 s is a minute old"
        )


def test_the_41st_batch_within_a_minute_is_refused(clock):
    with started(clock) as sim:
        api = Client(sim)
        for _ in range(40):
            assert api.batch().status_code == 200
        assert_throttled(api.batch())
        assert api.get().status_code == 200, "other calls still have room in the 500"
        realm = sim.company.realm_id
        assert (sim.batch_count, sim.batches_per_realm[realm], sim.requests_per_realm[realm]) == (40, 40, 41)
        assert sim.throttled == [(realm, "batch_per_minute")]
        clock.moment += 60
        assert api.batch().status_code == 200


def test_batch_requests_count_in_the_per_minute_limit(clock):
    with started(clock, QboLimits(per_minute=4)) as sim:
        api = Client(sim)
        assert [api.get().status_code, api.batch().status_code, api.batch().status_code] == [200] * 3
        assert api.get().status_code == 200
        assert_throttled(api.batch())
        assert sim.throttled == [(sim.company.realm_id, "per_minute")]


def test_an_eleventh_concurrent_request_is_refused(clock):
    with started(clock) as sim:
        api = Client(sim)
        answers = []

        def call():
            answers.append(requests.get(api.base + "/preferences", headers=api.headers(), timeout=TIMEOUT))

        sim.hold_requests()
        threads = [threading.Thread(target=call) for _ in range(10)]
        try:
            for thread in threads:
                thread.start()
            assert sim.wait_in_flight(10), "ten requests held in flight"
            assert_throttled(api.get())
            assert sim.in_flight(sim.company.realm_id) == 10
        finally:
            sim.release_requests()
            for thread in threads:
                thread.join(TIMEOUT)
        assert [response.status_code for response in answers] == [200] * 10
        assert sim.in_flight() == 0
        assert api.get().status_code == 200
        realm = sim.company.realm_id
        assert (sim.throttled, sim.requests_per_realm[realm]) == ([(realm, "concurrent")], 11)


def test_a_throttled_write_leaves_injected_faults_for_the_next_one(clock):
    with started(clock, QboLimits(per_minute=1)) as sim:
        api = Client(sim)
        assert api.get().status_code == 200
        sim.fail_next_write()
        assert_throttled(post(sim, api.tokens, "customer", {"DisplayName": "Later Ltd"}))
        clock.moment += 60
        failed = post(sim, api.tokens, "customer", {"DisplayName": "Later Ltd"})
        assert failed.status_code == 500 and failed.json()["Fault"]["type"] == "SystemFault"


def test_unlimited_lifts_every_limit(clock):
    with started(clock, QboLimits.unlimited()) as sim:
        api = Client(sim)
        for _ in range(45):
            assert api.batch().status_code == 200
        assert sim.throttled_count == 0 and sim.batch_count == 45
