"""The Nexudus client against the Nexudus simulator: sign-in, token refresh, paging, errors."""

import pytest
from nqc_tools.errors import AuthError, InvalidGrantError, NotFoundError, ThrottledError
from nqc_tools.nexudus_client import NexudusClient
from nqc_tools.rate_limits import NEXUDUS, MemoryBudget

from simulators.nexudus.server import NexudusSimulator
from simulators.world import build_world


@pytest.fixture(scope="module")
def sim():
    with NexudusSimulator(build_world(seed=3, invoices=150, customers=20)) as server:
        yield server


@pytest.fixture
def stored():
    return []


BUDGETS = {}  # one per Nexudus account, shared by every client of it, as the addon shares its own


def budget(email="admin@example.com"):
    return BUDGETS.setdefault(email, MemoryBudget(NEXUDUS))


def client_for(sim, stored, email="admin@example.com", password="secret", **kw):  # noqa: S107
    return NexudusClient(
        sim.url,
        email=email,
        password=password,
        on_tokens=stored.append,
        sleep=lambda s: None,
        limiter=budget(email),
        **kw,
    )


def test_sign_in_stores_the_tokens_and_lists_locations(sim, stored):
    client = client_for(sim, stored)
    names = [b["Name"] for b in client.list("businesses", order_by="Name")]
    assert names == sorted(b["Name"] for b in sim.data.businesses.values())
    assert len(stored) == 1
    assert stored[0]["access_token"] == client.access_token
    assert stored[0]["refresh_token"]


def test_list_reads_every_page_without_gaps_or_duplicates(sim, stored):
    client = client_for(sim, stored)
    before = len(sim.request_log)
    ids = [invoice["Id"] for invoice in client.list("coworkerinvoices", size=40)]
    assert len(ids) == len(set(ids)) == len(sim.data.coworkerinvoices)
    pages = [r for r in sim.request_log[before:] if r[1] == "/api/billing/coworkerinvoices"]
    assert len(pages) == -(-len(ids) // 40)


def test_filters_are_passed_through(sim, stored):
    client = client_for(sim, stored)
    business = next(iter(sim.data.businesses))
    rows = list(client.list("coworkerinvoices", {"CoworkerInvoice_Business": business}))
    assert rows
    assert {row["BusinessId"] for row in rows} == {business}


def test_get_returns_the_full_record_and_404_is_typed(sim, stored):
    client = client_for(sim, stored)
    invoice_id = next(iter(sim.data.coworkerinvoices))
    assert client.get("coworkerinvoices", invoice_id)["Id"] == invoice_id
    with pytest.raises(NotFoundError):
        client.get("coworkerinvoices", 999999999)


def test_refresh_rotates_and_the_new_refresh_token_is_reported(sim, stored):
    client = client_for(sim, stored)
    client.sign_in()
    first = client.refresh_token
    client.refresh()
    assert client.refresh_token != first
    assert [t["refresh_token"] for t in stored] == [first, client.refresh_token]
    stale = NexudusClient(sim.url, email="admin@example.com", refresh_token=first, limiter=budget())
    with pytest.raises(InvalidGrantError):
        stale.refresh()


def test_expired_access_token_is_refreshed_before_the_call(sim, stored):
    client = client_for(sim, stored)
    client.sign_in()
    client.expires_at = 0  # as if a week had passed
    client.password = None  # only the refresh token can help now
    list(client.list("businesses"))
    assert len(stored) == 2


def test_two_factor_accounts_need_the_code(sim, stored):
    client = client_for(sim, stored, email="2fa@example.com")
    with pytest.raises(AuthError, match="two-factor"):
        client.sign_in()
    client.sign_in(totp="123456")
    assert client.access_token


def test_wrong_password_and_missing_api_access_are_explained(sim, stored):
    with pytest.raises(InvalidGrantError, match="refused the sign-in"):
        client_for(sim, stored, password="wrong").sign_in()  # noqa: S106
    with pytest.raises(AuthError, match="API access"):
        list(client_for(sim, stored, email="noapi@example.com").list("businesses"))


def test_a_token_just_issued_and_refused_is_not_signed_in_again(sim, stored):
    before = len(sim.request_log)
    with pytest.raises(AuthError, match="API access"):
        list(client_for(sim, stored, email="noapi@example.com").list("businesses"))
    assert [path for _method, path, _params in sim.request_log[before:]] == ["/api/token", "/api/sys/businesses"]


def test_refused_sign_in_keeps_nexudus_own_words(sim, stored):
    with pytest.raises(InvalidGrantError) as caught:
        client_for(sim, stored, password="wrong").sign_in()  # noqa: S106
    assert caught.value.detail == "The user name or password is incorrect."


def test_webhooks_enum_add_get_and_update(sim, stored):
    client = client_for(sim, stored)
    actions = client.enum("eWebhookAction")
    assert actions["CoworkerInvoiceCreate"] == 16
    business = next(iter(sim.data.businesses))
    hook = {"BusinessId": business, "Name": "Odoo", "Action": 16, "URL": "http://127.0.0.1:9/hook", "Active": True}
    hook_id = client.add("webhooks", hook)
    assert [h["Id"] for h in client.list("webhooks")] == [hook_id]
    client.update("webhooks", {**client.get("webhooks", hook_id), "Active": False})
    assert client.get("webhooks", hook_id)["Active"] is False


def test_long_throttle_is_raised_with_its_wait(sim, stored):
    client = client_for(sim, stored)
    client.sign_in()
    sim.fail_next(3, status=409, retry_after=120)
    try:
        with pytest.raises(ThrottledError) as caught:
            list(client.list("businesses"))
        assert caught.value.retry_after == 120
        with pytest.raises(ThrottledError) as caught:
            list(client.list("businesses"))
        assert caught.value.local, "no request leaves while the wait lasts"
    finally:
        sim.fail_next(0)
        budget().blocked_until = None  # as if the two minutes had passed
