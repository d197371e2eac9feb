"""The Nexudus simulator enforces the documented request limits (research §1.5) per account, by default.

Each test freezes the simulator's wall clock (:func:`freeze`) and moves time with ``clock_offset`` alone, so the
windows are checked exactly and nothing sleeps.
"""

import base64
import time

import pytest
import requests

from simulators.nexudus import NexudusLimits, NexudusSimulator
from simulators.nexudus.limits import RateLimiter
from simulators.world import build_world

from .test_nexudus_sim import ADMIN, INVOICES, TIMEOUT, TWO_FA, freeze, sign_in

LEDGER = "/api/billing/coworkerledgerentries"
THROTTLED = {"Message": "You must wait before accessing this url again."}
SMALL_WORLD = {"invoices": 12, "customers": 6}


def basic(email=ADMIN):
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:secret".encode()).decode()}


@pytest.fixture
def sim():
    with NexudusSimulator(build_world(**SMALL_WORLD)) as server:
        freeze(server)
        yield server


def call(sim, path=INVOICES, method="GET", headers=None, step=0.0, **kwargs):
    """One raw request (no retrying) ``step`` seconds after the previous one on the simulator clock."""
    sim.clock_offset += step
    return requests.request(method, sim.url + path, headers=headers or basic(), timeout=TIMEOUT, **kwargs)


def ledger_entry(sim):
    coworker = next(iter(sim.data.coworkers.values()))
    return {"BusinessId": coworker["InvoicingBusinessId"], "CoworkerId": coworker["Id"], "Credit": "1.00"}


# -- the ALL windows ---------------------------------------------------------------------------------------------


def test_two_requests_within_100_ms_the_second_is_refused_with_retry_after(sim):
    assert call(sim).status_code == 200
    refused = call(sim, step=0.05)
    assert refused.status_code == 409
    assert refused.json() == THROTTLED
    assert refused.headers["Retry-After"] == "1"  # 50 ms, rounded up to a whole second
    assert (sim.throttled_count, sim.throttled_by_account) == (1, {ADMIN: 1})
    assert sim.throttle_log == [("GET", INVOICES, ADMIN, 1)]
    # The refused request was not counted: 100 ms after the first, the window is free again.
    assert call(sim, step=0.05).status_code == 200
    assert call(sim, step=0.125).status_code == 200


def test_the_121st_request_within_a_minute_is_refused(sim):
    assert [call(sim, step=0.25).status_code for _ in range(120)] == [200] * 120  # 120 in 29.75 s
    refused = call(sim, step=0.25)  # 30 s after the first
    assert (refused.status_code, refused.headers["Retry-After"]) == (409, "30")
    sim.clock_offset += 30  # waiting the Retry-After: the first request is exactly a minute old, out of the window
    assert call(sim).status_code == 200
    assert call(sim, step=0.125).status_code == 409, "the second one is still in it"
    assert sim.throttled_count == 2


def test_limits_are_per_account(sim):
    assert call(sim).status_code == 200
    assert call(sim, headers=basic(TWO_FA)).status_code == 200, "another account has its own windows"
    assert call(sim).status_code == 409
    assert sim.throttled_by_account == {ADMIN: 1}


def test_token_requests_count_against_the_username_of_the_form(sim):
    form = {"grant_type": "password", "username": ADMIN, "password": "secret"}
    assert call(sim, "/api/token", "POST", headers={}, data=form).status_code == 200
    refused = call(sim, "/api/token", "POST", headers={}, data=form)
    assert (refused.status_code, refused.json()) == (409, THROTTLED)
    assert call(sim, step=0.05).status_code == 409, "the sign-in counts for the account's API calls too"
    other = {**form, "username": "2fa@example.com", "totp": "123456"}
    assert call(sim, "/api/token", "POST", headers={}, data=other).status_code == 200
    assert sim.throttled_by_account == {ADMIN: 2}


def test_refresh_counts_against_the_refresh_tokens_user(sim):
    tokens = sign_in(sim).json()
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert call(sim, "/api/token", "POST", headers={}, data=form, step=0.05).status_code == 409
    assert sim.throttle_log[-1] == ("POST", "/api/token", ADMIN, 1)


def test_requests_signed_in_as_nobody_and_the_overview_are_not_limited(sim):
    assert call(sim).status_code == 200
    assert call(sim, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert requests.get(sim.url + INVOICES, timeout=TIMEOUT).status_code == 401
    assert [requests.get(sim.url + "/", timeout=TIMEOUT).status_code for _ in range(3)] == [200] * 3
    assert sim.throttled_count == 0


def test_injected_faults_come_first_and_are_not_throttles(sim):
    sim.fail_next(2, status=500)
    assert [call(sim).status_code for _ in range(2)] == [500, 500]
    assert call(sim).status_code == 200, "the faults were not counted"
    sim.fail_next(status=409, retry_after=7)
    assert call(sim).headers["Retry-After"] == "7"
    assert sim.throttled_count == 0
    assert call(sim).status_code == 409 and sim.throttled_count == 1


# -- writes --------------------------------------------------------------------------------------------------


def test_the_61st_write_within_a_minute_is_refused_and_changes_nothing(sim):
    body = ledger_entry(sim)
    seeded = len(sim.data.coworkerledgerentries)
    statuses = [call(sim, LEDGER, "POST", json=body, step=0.125).status_code for _ in range(61)]
    assert statuses == [200] * 60 + [409]
    assert len(sim.writes) == 60 and len(sim.data.coworkerledgerentries) == seeded + 60
    assert sim.throttle_log[-1] == ("POST", LEDGER, ADMIN, 53)  # the first write leaves in 52.375 s
    assert call(sim, step=0.125).status_code == 200, "reads are not held by the write windows"


# -- 429 mode (research uncertainty 7) -----------------------------------------------------------------------


@pytest.mark.parametrize("with_header", [False, True])
def test_429_mode_says_wait_n_seconds(with_header):
    world = build_world(**SMALL_WORLD)
    with NexudusSimulator(world, throttle_status=429, retry_after_on_429=with_header) as sim:
        freeze(sim)
        assert call(sim).status_code == 200
        refused = call(sim, step=0.01)
        assert refused.status_code == 429
        assert refused.json() == {"Message": "Too many requests. Wait 1 seconds."}
        assert refused.headers.get("Retry-After") == ("1" if with_header else None)
        sim.limits = NexudusLimits(per_100ms=None, per_minute=2)
        assert call(sim, step=0.5).status_code == 200
        refused = call(sim, step=0.5)  # the first of the two is 1 s old: room again in 59 s
        assert refused.json() == {"Message": "Too many requests. Wait 59 seconds."}
        assert sim.throttled_count == 2


def test_throttle_status_is_409_or_429():
    with pytest.raises(ValueError):
        NexudusSimulator(build_world(**SMALL_WORLD), throttle_status=503)


# -- configuration ---------------------------------------------------------------------------------------------


def test_documented_values_by_default():
    assert NexudusLimits() == NexudusLimits.documented() == NexudusLimits(1, 120, 5000, 200_000, 60, 5000)
    with NexudusSimulator(build_world(**SMALL_WORLD)) as sim:
        assert sim.limits == NexudusLimits()


def test_limits_can_be_changed_or_switched_off(sim):
    sim.limits = NexudusLimits(per_100ms=None, per_minute=3)
    assert [call(sim).status_code for _ in range(4)] == [200, 200, 200, 409]
    sim.limits = NexudusLimits.unlimited()
    assert [call(sim).status_code for _ in range(5)] == [200] * 5


def test_unlimited_simulator_never_throttles():
    # Switched off on purpose: this test checks that the switch works.
    with NexudusSimulator(build_world(**SMALL_WORLD), limits=NexudusLimits.unlimited()) as sim:
        assert [call(sim).status_code for _ in range(10)] == [200] * 10
        assert sim.throttled_count == 0


# -- the long windows, on the limiter itself (thousands of requests; no HTTP) ----------------------------------


def test_5000_requests_an_hour():
    limiter, start = RateLimiter(), 1_000_000.0
    # Two a second stays within 1 per 100 ms and 120 a minute; 5000 take 2500 s.
    assert all(limiter.check(ADMIN, False, start + i * 0.5) is None for i in range(5000))
    assert limiter.check(ADMIN, False, start + 2500) == pytest.approx(1100)  # the first leaves at +3600 s
    assert limiter.check("other@example.com", False, start + 2500) is None
    assert limiter.check(ADMIN, False, start + 3600) is None


def test_5000_writes_a_day():
    limiter, start = RateLimiter(), 1_000_000.0
    # One a second: 60 a minute, 3600 an hour at most; 5000 take 4999 s.
    assert all(limiter.check(ADMIN, True, start + i) is None for i in range(5000))
    assert limiter.check(ADMIN, True, start + 5000) == pytest.approx(86400 - 5000)
    assert limiter.check(ADMIN, False, start + 5000.5) is None, "reads still pass"


def test_200000_requests_a_day():
    # With 5000 an hour, at most 120,000 fit in a day: the daily cap shows only without the hour and minute ones.
    limiter = RateLimiter(NexudusLimits(per_minute=None, per_hour=None))
    started = time.perf_counter()
    assert all(limiter.check(ADMIN, False, i * 0.25) is None for i in range(200_000))
    assert limiter.check(ADMIN, False, 50_000.0) == pytest.approx(86400 - 50_000)
    assert time.perf_counter() - started < 5
