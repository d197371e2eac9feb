"""The Nexudus simulator answers like the Nexudus admin REST API: tokens, auth, paged lists, filters, data.

The simulator enforces Nexudus's documented request limits (1 request per 100 ms per account...), so the
helpers here call it as a well-behaved client does: :func:`send` honours a throttle's ``Retry-After`` by moving
the simulator clock forward instead of sleeping.
"""

import math
import re
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests

from simulators.nexudus import NexudusData, NexudusSimulator
from simulators.nexudus.invoices import price_line
from simulators.nexudus.server import ENTITIES
from simulators.world import CHART, build_world

TIMEOUT = 5
ADMIN, NO_API, TWO_FA = "admin@example.com", "noapi@example.com", "2fa@example.com"
ENVELOPE_KEYS = {
    "Records",
    "CurrentPage",
    "CurrentPageSize",
    "CurrentOrderField",
    "CurrentSortDirection",
    "FirstItem",
    "LastItem",
    "TotalItems",
    "TotalPages",
    "HasNextPage",
    "HasPreviousPage",
}
LIST_URLS = [
    "/api/sys/businesses",
    "/api/spaces/coworkers",
    "/api/billing/coworkerinvoices",
    "/api/billing/coworkerinvoicelines",
    "/api/billing/financialaccounts",
    "/api/sys/taxrates",
    "/api/billing/coworkerledgerentries",
]
INVOICES = "/api/billing/coworkerinvoices"


@pytest.fixture(scope="module")
def sim():
    with NexudusSimulator() as server:
        yield server


@pytest.fixture
def fresh():
    """A simulator of its own, for tests that change data, time or faults."""
    with NexudusSimulator() as server:
        yield server


@pytest.fixture(scope="module")
def auth(sim):
    return {"Authorization": f"Bearer {sign_in(sim).json()['access_token']}"}


# -- helpers -------------------------------------------------------------------------------------------------


def throttle_wait(response):
    """The seconds a throttle answer asks to wait: ``Retry-After``, else the "Wait N seconds" of a 429 body."""
    if "Retry-After" in response.headers:
        return int(response.headers["Retry-After"])
    return int(re.search(r"Wait (\d+) seconds", response.json()["Message"]).group(1))


def send(sim, method, path, **kwargs):
    """One API call by a client that honours Nexudus's throttle: when the simulator's limits refuse it, wait
    what the answer says by moving the simulator clock (no sleeping), then ask again. Other answers,
    injected ``fail_next`` faults included, come back as they are."""
    for _attempt in range(100):
        before = sim.throttled_count
        response = requests.request(method, sim.url + path, timeout=TIMEOUT, **kwargs)
        if sim.throttled_count == before:
            return response
        sim.clock_offset += throttle_wait(response)
    raise AssertionError(f"{method} {path} still throttled after 100 waits")


def freeze(sim):
    """Stop the simulator's wall clock (at the next whole second): time then passes only through clock_offset,
    so limit windows can be checked to the millisecond. Returns the frozen wall-clock time."""
    frozen = float(math.ceil(sim.wall_clock()))
    sim.wall_clock = lambda: frozen
    return frozen


def sign_in(sim, username=ADMIN, password="secret", headers=None, **extra):
    form = {"grant_type": "password", "username": username, "password": password, **extra}
    return send(sim, "POST", "/api/token", data=form, headers=headers)


def refresh(sim, token, client_id=None):
    headers = {"client_id": client_id} if client_id else None
    form = {"grant_type": "refresh_token", "refresh_token": token}
    return send(sim, "POST", "/api/token", data=form, headers=headers)


def get(sim, auth, path, **params):
    return send(sim, "GET", path, params=params, headers=auth)


def envelope(sim, auth, path, **params):
    response = get(sim, auth, path, **params)
    assert response.status_code == 200, response.text
    return response.json(parse_float=Decimal)


def read_all(sim, auth, path, size=1000, **params):
    """Every record of a list, page after page, stopping on TotalPages."""
    records, page = [], 1
    while True:
        body = envelope(sim, auth, path, page=page, size=size, **params)
        records += body["Records"]
        if page >= body["TotalPages"]:
            return records
        page += 1


def ids(records):
    return [record["Id"] for record in records]


def _table(path):
    """The NexudusData table behind a list URL."""
    return next(table for table, (url, _entity) in ENTITIES.items() if path == f"/api/{url}")


# -- tokens --------------------------------------------------------------------------------------------------


def test_password_grant_with_a_form_issues_a_bearer_token(sim):
    response = sign_in(sim)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 604799
    assert body["access_token"] and body["refresh_token"] and body["access_token"] != body["refresh_token"]


def test_token_endpoint_refuses_a_json_body(sim):
    form = {"grant_type": "password", "username": ADMIN, "password": "secret"}
    response = send(sim, "POST", "/api/token", json=form)
    assert response.status_code == 400
    assert response.json() == {"error": "unsupported_grant_type"}


@pytest.mark.parametrize(("username", "password"), [(ADMIN, "wrong"), ("nobody@example.com", "secret")])
def test_bad_credentials_are_an_invalid_grant(sim, username, password):
    response = sign_in(sim, username, password)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "access_token" not in response.json()


@pytest.mark.parametrize(
    ("reading", "unknown_user_says"),
    [("same", "The user name or password is incorrect."), ("distinct", "There is no user with this email address.")],
)
def test_sign_in_errors_reading_decides_what_an_unknown_email_is_told(reading, unknown_user_says):
    with NexudusSimulator(sign_in_errors=reading) as server:
        unknown = sign_in(server, "nobody@example.com", "secret").json()
        wrong_password = sign_in(server, ADMIN, "wrong").json()
    assert unknown == {"error": "invalid_grant", "error_description": unknown_user_says}
    assert wrong_password == {"error": "invalid_grant", "error_description": "The user name or password is incorrect."}


def test_sign_in_errors_reading_must_be_known():
    with pytest.raises(ValueError, match="sign_in_errors"):
        NexudusSimulator(sign_in_errors="maybe")


def test_two_factor_user_needs_the_totp_code(sim):
    missing = sign_in(sim, TWO_FA)
    assert missing.status_code == 400
    assert missing.json()["error"] == "two_factor_auth_check"
    wrong = sign_in(sim, TWO_FA, totp="000000")
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    good = sign_in(sim, TWO_FA, totp="123456")
    assert good.status_code == 200
    headers = {"Authorization": f"Bearer {good.json()['access_token']}"}
    assert get(sim, headers, "/api/sys/businesses").status_code == 200


def test_refresh_grant_rotates_and_invalidates_the_previous_refresh_token(sim):
    first = sign_in(sim).json()
    second = refresh(sim, first["refresh_token"], client_id=ADMIN)
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    reused = refresh(sim, first["refresh_token"], client_id=ADMIN)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert get(sim, {"Authorization": f"Bearer {second['access_token']}"}, "/api/sys/taxrates").status_code == 200
    # A fresh sign-in is a new refresh token for the same client_id: the previous one dies too.
    sign_in(sim)
    assert refresh(sim, second["refresh_token"], client_id=ADMIN).status_code == 400


def test_refresh_client_id_defaults_to_the_email_and_must_match(sim):
    token = sign_in(sim).json()["refresh_token"]
    assert refresh(sim, token, client_id="someone-else").json()["error"] == "invalid_grant"
    assert refresh(sim, token).status_code == 200  # no header: the email is the client_id


def test_refresh_tokens_of_other_client_ids_survive(sim):
    app_a = sign_in(sim, headers={"client_id": "app-a"}).json()["refresh_token"]
    app_b = sign_in(sim, headers={"client_id": "app-b"}).json()["refresh_token"]
    assert refresh(sim, app_a, client_id="app-a").status_code == 200
    assert refresh(sim, app_b, client_id="app-b").status_code == 200


def test_tokens_expire_on_the_simulator_clock(fresh):
    tokens = sign_in(fresh).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    fresh.clock_offset += fresh.access_token_ttl + 1
    assert get(fresh, headers, "/api/sys/businesses").status_code == 401
    renewed = refresh(fresh, tokens["refresh_token"])
    assert renewed.status_code == 200  # refresh tokens last 15 days
    fresh.clock_offset += fresh.refresh_token_ttl + 1
    assert refresh(fresh, renewed.json()["refresh_token"]).json()["error"] == "invalid_grant"


def test_token_lifetime_is_overridable(fresh):
    fresh.access_token_ttl = 60
    tokens = sign_in(fresh).json()
    assert tokens["expires_in"] == 60
    fresh.clock_offset += 61
    assert get(fresh, {"Authorization": f"Bearer {tokens['access_token']}"}, INVOICES).status_code == 401


# -- authentication ------------------------------------------------------------------------------------------


def test_basic_auth_with_email_and_password(sim):
    assert send(sim, "GET", INVOICES, auth=(ADMIN, "secret")).status_code == 200
    assert send(sim, "GET", INVOICES, auth=(ADMIN, "nope")).status_code == 401


@pytest.mark.parametrize("path", LIST_URLS)
def test_every_entity_needs_authentication(sim, path):
    assert requests.get(sim.url + path, timeout=TIMEOUT).status_code == 401
    assert get(sim, {"Authorization": "Bearer not-a-token"}, path).status_code == 401
    assert requests.get(sim.url + path + "/1000", timeout=TIMEOUT).status_code == 401


def test_user_without_api_access_gets_tokens_but_every_call_is_refused(sim):
    tokens = sign_in(sim, NO_API)
    assert tokens.status_code == 200
    refused = get(sim, {"Authorization": f"Bearer {tokens.json()['access_token']}"}, INVOICES)
    assert refused.status_code == 401
    assert "API access" in refused.json()["Message"]
    assert send(sim, "GET", INVOICES, auth=(NO_API, "secret")).status_code == 401


# -- lists and paging ----------------------------------------------------------------------------------------


def test_list_envelope(sim, auth):
    body = envelope(sim, auth, INVOICES, page=2, size=10)
    total = len(sim.data.coworkerinvoices)
    assert set(body) == ENVELOPE_KEYS
    assert ids(body["Records"]) == sorted(sim.data.coworkerinvoices)[10:20]
    assert body["CurrentPage"] == 2
    assert body["CurrentPageSize"] == 10
    assert body["CurrentOrderField"] == "Id"
    assert body["CurrentSortDirection"] == 1
    assert (body["FirstItem"], body["LastItem"]) == (11, 20)
    assert body["TotalItems"] == total
    assert body["TotalPages"] == -(-total // 10)
    assert body["HasNextPage"] is True
    assert body["HasPreviousPage"] is True


def test_list_defaults_to_page_one_of_25_by_id(sim, auth):
    body = envelope(sim, auth, INVOICES)
    assert (body["CurrentPage"], body["CurrentPageSize"], body["HasPreviousPage"]) == (1, 25, False)
    assert ids(body["Records"]) == sorted(sim.data.coworkerinvoices)[:25]


def test_past_the_last_page_is_empty(sim, auth):
    body = envelope(sim, auth, INVOICES, page=99, size=50)
    assert body["Records"] == []
    assert body["HasNextPage"] is False


@pytest.mark.parametrize("order_by", ["Id", "UpdatedOn", "CreatedOn", "BusinessId", "Paid"])
def test_paging_by_seven_has_no_gaps_or_duplicates(sim, auth, order_by):
    seen, page = [], 1
    while True:
        body = envelope(sim, auth, INVOICES, page=page, size=7, orderBy=order_by)
        assert len(body["Records"]) <= 7
        assert body["HasNextPage"] == (page < body["TotalPages"])
        seen += ids(body["Records"])
        if not body["HasNextPage"]:
            break
        page += 1
    assert len(seen) == len(set(seen)) == body["TotalItems"]
    assert set(seen) == set(sim.data.coworkerinvoices)


def test_page_number_and_page_size_are_ignored(sim, auth):
    body = envelope(sim, auth, INVOICES, PageNumber=2, PageSize=5)
    assert (body["CurrentPage"], body["CurrentPageSize"]) == (1, 25)
    assert ids(body["Records"]) == sorted(sim.data.coworkerinvoices)[:25]


def test_size_is_capped_at_1000(sim, auth):
    assert envelope(sim, auth, "/api/billing/coworkerinvoicelines", size=5000)["CurrentPageSize"] == 1000


@pytest.mark.parametrize(
    ("direction", "descending"),
    [
        (None, False),
        ("1", False),
        ("0", False),
        ("Ascending", False),
        ("-1", True),
        ("Descending", True),
    ],
)
def test_order_by_and_both_dir_readings(sim, auth, direction, descending):
    params = {"orderBy": "TotalAmount", "size": 1000, **({"dir": direction} if direction else {})}
    body = envelope(sim, auth, INVOICES, **params)
    expected = sorted(sim.data.coworkerinvoices.values(), key=lambda r: (r["TotalAmount"], r["Id"]), reverse=descending)
    assert ids(body["Records"]) == ids(expected)
    assert body["CurrentOrderField"] == "TotalAmount"
    assert body["CurrentSortDirection"] == (-1 if descending else 1)


def test_unknown_order_field_falls_back_to_id(sim, auth):
    body = envelope(sim, auth, INVOICES, orderBy="NoSuchField", size=5)
    assert body["CurrentOrderField"] == "Id"
    assert ids(body["Records"]) == sorted(sim.data.coworkerinvoices)[:5]


# -- filters -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "table", "name", "field"),
    [
        (INVOICES, "coworkerinvoices", "CoworkerInvoice_Business", "BusinessId"),
        (INVOICES, "coworkerinvoices", "CoworkerInvoice_Coworker", "CoworkerId"),
        (
            "/api/billing/coworkerinvoicelines",
            "coworkerinvoicelines",
            "CoworkerInvoiceLine_CoworkerInvoice",
            "CoworkerInvoiceId",
        ),
        (
            "/api/billing/coworkerledgerentries",
            "coworkerledgerentries",
            "CoworkerLedgerEntry_CoworkerInvoice",
            "CoworkerInvoiceId",
        ),
        ("/api/billing/financialaccounts", "financialaccounts", "FinancialAccount_Business", "BusinessId"),
        ("/api/sys/taxrates", "taxrates", "TaxRate_Business", "BusinessId"),
        ("/api/spaces/coworkers", "coworkers", "Coworker_InvoicingBusiness", "InvoicingBusinessId"),
    ],
)
def test_equality_filter_on_related_ids(sim, auth, path, table, name, field):
    rows = list(sim.data.table(table).values())
    value = rows[len(rows) // 2][field]
    found = read_all(sim, auth, path, **{name: value})
    assert found
    assert ids(found) == sorted(row["Id"] for row in rows if row[field] == value)


@pytest.mark.parametrize("text", ["false", "False", "FALSE"])
def test_boolean_filter_is_case_insensitive(sim, auth, text):
    unpaid = read_all(sim, auth, INVOICES, CoworkerInvoice_Paid=text)
    assert unpaid
    assert ids(unpaid) == sorted(r["Id"] for r in sim.data.coworkerinvoices.values() if not r["Paid"])


def test_string_and_related_path_filters(sim, auth):
    invoice = next(r for r in sim.data.coworkerinvoices.values() if r["InvoiceNumber"] and not r["Draft"])
    found = read_all(sim, auth, INVOICES, CoworkerInvoice_InvoiceNumber=invoice["InvoiceNumber"].lower())
    assert ids(found) == [invoice["Id"]]
    by_name = read_all(sim, auth, INVOICES, CoworkerInvoice_Coworker_FullName=invoice["CoworkerFullName"])
    assert invoice["Id"] in ids(by_name)
    assert {r["CoworkerFullName"] for r in by_name} == {invoice["CoworkerFullName"]}


def test_unknown_filters_are_ignored(sim, auth):
    body = envelope(sim, auth, INVOICES, CoworkerInvoice_NoSuchField="x", Unrelated_Business=1)
    assert body["TotalItems"] == len(sim.data.coworkerinvoices)


def test_old_batch_form_of_id_filter(sim, auth):
    wanted = sorted(sim.data.coworkerinvoices)[3:6]
    found = read_all(sim, auth, INVOICES, CoworkerInvoice_Id=f"[{','.join(map(str, wanted))}]")
    assert ids(found) == wanted


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (INVOICES, {"CoworkerInvoice_Paid": "yes"}),  # not a boolean
        (INVOICES, {"CoworkerInvoice_Business": "London"}),  # not a number
        (INVOICES, {"CoworkerInvoice_Business": "[1,2]"}),  # the list form is for invoice ids only
        (INVOICES, {"CoworkerInvoice_Id": "[1,x]"}),  # a list, but not of ids
        (INVOICES, {"from_CoworkerInvoice_UpdatedOn": "yesterday"}),
        (INVOICES, {"from_CoworkerInvoice_UpdatedOn": "2026-01-01"}),  # a bare date is not the documented shape
        (INVOICES, {"to_CoworkerInvoice_TotalAmount": "lots"}),
        ("/api/billing/coworkerinvoicelines", {"CoworkerInvoiceLine_CoworkerInvoice": "[50000,50001]"}),
        ("/api/billing/coworkerledgerentries", {"CoworkerLedgerEntry_CoworkerInvoice": "[50000,50001]"}),
        ("/api/spaces/coworkers", {"Coworker_Id": "[1,2]"}),
        ("/api/sys/taxrates", {"TaxRate_Rate": "[20,5]"}),
        ("/api/sys/taxrates", {"TaxRate_Name": "[No VAT,Zero-rated]"}),  # text: compared literally
    ],
)
def test_an_unrecognised_filter_value_matches_nothing(sim, auth, path, params):
    body = envelope(sim, auth, path, **params)
    assert (body["Records"], body["TotalItems"], body["HasNextPage"]) == ([], 0, False)


def test_a_range_on_a_text_or_boolean_field_is_not_a_parameter(sim, auth):
    # Ranges are documented "for all date, integer and decimal properties": other names are ignored.
    body = envelope(sim, auth, INVOICES, from_CoworkerInvoice_InvoiceNumber="Z", to_CoworkerInvoice_Paid="false")
    assert body["TotalItems"] == len(sim.data.coworkerinvoices)


def test_an_empty_filter_value_is_as_if_not_sent(sim, auth):
    body = envelope(sim, auth, INVOICES, CoworkerInvoice_Business="", from_CoworkerInvoice_UpdatedOn=" ")
    assert body["TotalItems"] == len(sim.data.coworkerinvoices)


def test_a_null_field_matches_no_equality(sim, auth):
    assert any(r["PurchaseOrder"] is None for r in sim.data.coworkerinvoices.values())
    assert envelope(sim, auth, INVOICES, CoworkerInvoice_PurchaseOrder="null")["TotalItems"] == 0


def _updated_on(sim):
    return sorted({r["UpdatedOn"] for r in sim.data.coworkerinvoices.values()})


def _bound(stamp, shape):
    """``stamp`` (``...Z``) written as a client might send it."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if shape == "minutes":  # the documented YYYY-MM-DDTHH:mm
        return moment.strftime("%Y-%m-%dT%H:%M")
    if shape == "offset":  # the same instant one hour east of UTC
        return moment.astimezone(timezone(timedelta(hours=1))).isoformat()
    return stamp


@pytest.mark.parametrize("shape", ["minutes", "seconds_z", "offset"])
def test_range_filter_on_dates_accepts_each_format_and_is_inclusive(sim, auth, shape):
    stamps = _updated_on(sim)
    low, high = stamps[len(stamps) // 4], stamps[3 * len(stamps) // 4]
    if shape == "minutes":  # the seconds are dropped from the bounds
        low, high = f"{low[:16]}:00Z", f"{high[:16]}:00Z"
    found = read_all(
        sim,
        auth,
        INVOICES,
        from_CoworkerInvoice_UpdatedOn=_bound(low, shape),
        to_CoworkerInvoice_UpdatedOn=_bound(high, shape),
    )
    expected = [r["Id"] for r in sim.data.coworkerinvoices.values() if low <= r["UpdatedOn"] <= high]
    assert found and ids(found) == sorted(expected)
    if shape != "minutes":  # inclusive at both ends
        assert {r["UpdatedOn"] for r in found} >= {low, high}


def test_range_filter_on_decimals_and_ints(sim, auth):
    found = read_all(sim, auth, INVOICES, from_CoworkerInvoice_TotalAmount="100.00", to_CoworkerInvoice_TotalAmount=500)
    expected = [r["Id"] for r in sim.data.coworkerinvoices.values() if 100 <= r["TotalAmount"] <= 500]
    assert found and ids(found) == sorted(expected)
    lines = read_all(sim, auth, "/api/billing/coworkerinvoicelines", from_CoworkerInvoiceLine_Quantity=3)
    assert lines and all(line["Quantity"] >= 3 for line in lines)
    assert len(lines) == sum(line["Quantity"] >= 3 for line in sim.data.coworkerinvoicelines.values())


def test_range_filter_with_only_a_lower_bound_reads_changes_since(sim, auth):
    cursor = _updated_on(sim)[-3]
    found = read_all(sim, auth, INVOICES, from_CoworkerInvoice_UpdatedOn=cursor, orderBy="UpdatedOn")
    assert [r["UpdatedOn"] for r in found] == sorted(
        r["UpdatedOn"] for r in sim.data.coworkerinvoices.values() if r["UpdatedOn"] >= cursor
    )


def test_lines_carry_created_and_updated_on_of_their_invoice(sim):
    for line in sim.data.coworkerinvoicelines.values():
        invoice = sim.data.coworkerinvoices[line["CoworkerInvoiceId"]]
        assert line["CreatedOn"] == line["UpdatedOn"] == invoice["CreatedOn"]
        assert line["CreatedOn"].endswith("Z")
    assert all(entry["CreatedOn"].endswith("Z") for entry in sim.data.coworkerledgerentries.values())


def test_range_filters_on_lines(sim, auth):
    lines_url = "/api/billing/coworkerinvoicelines"
    stamps = sorted({line["CreatedOn"] for line in sim.data.coworkerinvoicelines.values()})
    low, high = stamps[len(stamps) // 3], stamps[2 * len(stamps) // 3]
    for name in ("CreatedOn", "UpdatedOn"):
        found = read_all(
            sim,
            auth,
            lines_url,
            orderBy=name,
            **{f"from_CoworkerInvoiceLine_{name}": low, f"to_CoworkerInvoiceLine_{name}": high},
        )
        expected = [r for r in sim.data.coworkerinvoicelines.values() if low <= r[name] <= high]
        assert found and sorted(ids(found)) == sorted(ids(expected))
        assert [r[name] for r in found] == sorted(r[name] for r in expected), f"ordered by {name}"
    minute = stamps[-5][:16]  # the documented YYYY-MM-DDTHH:mm
    since = read_all(sim, auth, lines_url, from_CoworkerInvoiceLine_UpdatedOn=minute)
    assert ids(since) == sorted(r["Id"] for r in sim.data.coworkerinvoicelines.values() if r["UpdatedOn"] >= minute)


def test_line_updated_on_moves_only_when_the_line_changes(fresh):
    auth = {"Authorization": f"Bearer {sign_in(fresh).json()['access_token']}"}
    lines_url = "/api/billing/coworkerinvoicelines"
    cursor = max(line["UpdatedOn"] for line in fresh.data.coworkerinvoicelines.values())
    since = {"from_CoworkerInvoiceLine_UpdatedOn": cursor}
    before = ids(read_all(fresh, auth, lines_url, **since))
    line = fresh.data.lines_of(sorted(fresh.data.coworkerinvoices)[0])[0]
    fresh.touch_invoice(line["CoworkerInvoiceId"], InvoiceNumber="LON-7777")
    assert fresh.data.coworkerinvoicelines[line["Id"]]["CoworkerInvoiceInvoiceNumber"] == "LON-7777"
    assert ids(read_all(fresh, auth, lines_url, **since)) == before, "an invoice change is no line change"
    touched = fresh.touch_line(line["Id"], DisplayAs="Membership (January)")
    assert touched["UpdatedOn"] > cursor and touched["CreatedOn"] == line["CreatedOn"]
    changed = read_all(fresh, auth, lines_url, from_CoworkerInvoiceLine_UpdatedOn=touched["UpdatedOn"])
    assert [(r["Id"], r["DisplayAs"]) for r in changed] == [(line["Id"], "Membership (January)")]
    for refused in ({"UnitPrice": 1}, {"CoworkerInvoicePaid": True}, {"NoSuchField": 1}):
        with pytest.raises(KeyError):
            fresh.touch_line(line["Id"], **refused)


# -- single records ------------------------------------------------------------------------------------------


def test_lists_hold_partial_records_and_get_by_id_the_full_one(sim, auth):
    listed = envelope(sim, auth, INVOICES, size=1)["Records"][0]
    full = get(sim, auth, f"{INVOICES}/{listed['Id']}").json(parse_float=Decimal)
    assert "InvoiceLines" not in listed
    assert full["InvoiceLines"] == []  # empty even on a single GET: read coworkerinvoicelines
    assert {k: v for k, v in full.items() if k != "InvoiceLines"} == listed
    coworker = envelope(sim, auth, "/api/spaces/coworkers", size=1)["Records"][0]
    assert "Businesses" not in coworker
    full_coworker = get(sim, auth, f"/api/spaces/coworkers/{coworker['Id']}").json()
    assert full_coworker["Businesses"] == [coworker["InvoicingBusinessId"]]


@pytest.mark.parametrize("path", LIST_URLS)
def test_get_by_id_and_404(sim, auth, path):
    first = envelope(sim, auth, path, size=1)["Records"][0]
    assert get(sim, auth, f"{path}/{first['Id']}").json(parse_float=Decimal)["Id"] == first["Id"]
    missing = get(sim, auth, f"{path}/999999999")
    assert missing.status_code == 404
    assert missing.json() == {"Message": "Not found"}


def test_unknown_route_is_404(sim, auth):
    response = get(sim, auth, "/api/billing/nosuchthing")
    assert response.status_code == 404
    assert response.json() == {"Message": "Not found"}


def test_batch_get_returns_a_plain_array_of_partial_records(sim, auth):
    a, b = sorted(sim.data.coworkerinvoices)[5], sorted(sim.data.coworkerinvoices)[2]
    body = get(sim, auth, INVOICES, id=f"[{a},{b},999999]").json()
    assert isinstance(body, list)
    assert ids(body) == [a, b]
    assert all("InvoiceLines" not in record for record in body)  # not a single GET: no collections
    assert get(sim, auth, INVOICES, id=f"[{a},x]").json() == []  # not a list of ids: matches nothing
    assert get(sim, auth, INVOICES, id=str(a)).json() == []


@pytest.mark.parametrize("path", [p for p in LIST_URLS if p != INVOICES])
def test_batch_get_is_documented_for_invoices_only(sim, auth, path):
    first = envelope(sim, auth, path, size=1)["Records"][0]
    body = envelope(sim, auth, path, id=f"[{first['Id']}]")  # ``id`` is an unknown parameter here: ignored
    assert body["TotalItems"] == len(sim.data.table(_table(path)))


# -- data ----------------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_data_and_another_seed_differs():
    first, again = NexudusData.from_world(build_world(seed=7)), NexudusData.from_world(build_world(seed=7))
    assert first == again
    assert first.coworkerinvoices != NexudusData.from_world(build_world(seed=8)).coworkerinvoices


def test_businesses_follow_the_world(sim):
    locations = {location.id: location.definition for location in sim.world.locations}
    assert set(sim.data.businesses) == set(locations)
    for business in sim.data.businesses.values():
        loc = locations[business["Id"]]
        assert (business["Name"], business["CurrencyCode"], business["CountryName"]) == (
            loc.name,
            loc.currency,
            loc.country_name,
        )
        assert "PricesIncludeTax" not in business  # undocumented: the world says which prices include tax
    accounts = {(a["BusinessId"], a["Code"], a["Name"], a["AccountType"]) for a in sim.data.financialaccounts.values()}
    assert accounts == {(b, code, name, kind) for b in locations for code, name, kind in CHART}
    rates = {(r["BusinessId"], r["Name"], r["Rate"]) for r in sim.data.taxrates.values()}
    assert rates == {(b, t.name, t.rate) for b in locations for t in sim.world.tax_rates}
    assert {c["Id"] for c in sim.data.coworkers.values()} == {c.id for c in sim.world.customers}


def _is_cents(value):
    return isinstance(value, Decimal) and value.as_tuple().exponent == -2


def _inclusive_locations(sim):
    return {location.id for location in sim.world.locations if location.definition.tax_inclusive}


def _line_total(line, inclusive):
    """What a line adds to its invoice's TotalAmount (see simulators.nexudus.invoices)."""
    total = Decimal(line["SubTotal"]) + Decimal(line["TaxAmount"])
    return total if inclusive else total - Decimal(line["DiscountAmount"])


def test_every_invoice_total_is_the_exact_sum_of_its_lines(sim):
    inclusive = _inclusive_locations(sim)
    lines = defaultdict(list)
    for line in sim.data.coworkerinvoicelines.values():
        lines[line["CoworkerInvoiceId"]].append(line)
    for invoice in sim.data.coworkerinvoices.values():
        own = lines[invoice["Id"]]
        assert 1 <= len(own) <= 6
        for line in own:
            assert isinstance(line["Quantity"], int)
            assert all(_is_cents(line[k]) for k in ("UnitPrice", "SubTotal", "TaxAmount", "DiscountAmount"))
        assert _is_cents(invoice["TotalAmount"])
        gross = sum(line["SubTotal"] + line["TaxAmount"] for line in own)
        discounts = sum(line["DiscountAmount"] for line in own)
        listed = sum(line["UnitPrice"] * line["Quantity"] for line in own)
        if invoice["BusinessId"] in inclusive:  # the discount is inside SubTotal
            assert invoice["TotalAmount"] == gross == listed - discounts
        else:
            assert invoice["TotalAmount"] == gross - discounts
            assert sum(line["SubTotal"] for line in own) == listed
        assert invoice["TaxAmount"] == sum(line["TaxAmount"] for line in own)
        assert invoice["DiscountAmount"] == discounts


def test_totals_add_up_on_the_wire(sim, auth):
    inclusive = _inclusive_locations(sim)
    invoices = read_all(sim, auth, INVOICES)
    business_of = {invoice["Id"]: invoice["BusinessId"] for invoice in invoices}
    lines = defaultdict(Decimal)
    for line in read_all(sim, auth, "/api/billing/coworkerinvoicelines"):
        lines[line["CoworkerInvoiceId"]] += _line_total(line, business_of[line["CoworkerInvoiceId"]] in inclusive)
    assert len(invoices) == len(sim.data.coworkerinvoices)
    assert all(Decimal(invoice["TotalAmount"]) == lines[invoice["Id"]] for invoice in invoices)


def test_unit_price_is_net_or_gross_by_location(sim):
    inclusive = _inclusive_locations(sim)
    assert inclusive and inclusive != set(sim.data.businesses)
    discounted = set()
    for line in sim.data.coworkerinvoicelines.values():
        business = sim.data.coworkerinvoices[line["CoworkerInvoiceId"]]["BusinessId"]
        gross_or_net = line["UnitPrice"] * line["Quantity"]
        if business in inclusive:
            assert line["SubTotal"] + line["TaxAmount"] == gross_or_net - line["DiscountAmount"]
        else:
            assert line["SubTotal"] == gross_or_net
        if line["DiscountAmount"]:
            discounted.add(business in inclusive)
    assert discounted == {True, False}, "discounted lines in both kinds of location"


def test_inclusive_line_arithmetic_with_a_discount():
    # 3 x 40.00 gross, 12.00 off, 20%: 108.00 gross after the discount holds 18.00 tax.
    assert price_line(Decimal("40.00"), 3, Decimal("20"), Decimal("12.00"), True) == (
        Decimal("90.00"),
        Decimal("18.00"),
    )
    assert price_line(Decimal("120.00"), 1, Decimal("20"), Decimal("0"), True) == (Decimal("100.00"), Decimal("20.00"))
    # Rounding: 9.99 - 1.00 = 8.99 gross at 8.875% holds 0.7329... -> 0.73 tax, 8.26 net.
    assert price_line(Decimal("9.99"), 1, Decimal("8.875"), Decimal("1.00"), True) == (
        Decimal("8.26"),
        Decimal("0.73"),
    )
    # Credit-note lines negate everything and keep the identity.
    sub, tax = price_line(Decimal("-40.00"), 3, Decimal("20"), Decimal("-12.00"), True)
    assert (sub, tax) == (Decimal("-90.00"), Decimal("-18.00"))
    assert price_line(Decimal("10.00"), 3, Decimal("8.875"), Decimal("3.00"), False) == (
        Decimal("30.00"),
        Decimal("2.40"),
    )


def test_invoices_hold_a_realistic_mix(sim):
    invoices = list(sim.data.coworkerinvoices.values())
    world = sim.world
    notes = [r for r in invoices if r["CreditNote"]]
    assert len(invoices) == world.invoices + world.credit_notes
    assert len(notes) == world.credit_notes
    by_guid = {r["UniqueId"]: r for r in invoices}
    for note in notes:
        original = by_guid[note["OriginalInvoiceGuid"]]
        assert note["TotalAmount"] < 0 and not original["CreditNote"]
        # All the credit goes to the original, unless it was paid before the cancel (see test_nexudus_sim_ledger).
        assert original["CreditedAmount"] == -note["TotalAmount"] or original["PaidAmount"] > 0
    drafts = [r for r in invoices if r["Draft"]]
    assert any(r["InvoiceNumber"] is None and r["WaitingForInvoiceNumber"] for r in drafts)
    assert any(r["HasTemporaryInvoiceNumber"] and r["InvoiceNumber"] for r in drafts)
    assert any(r["Void"] for r in invoices)
    assert any(r["Paid"] and r["PaidAmount"] == r["TotalAmount"] and r["PaidOn"] for r in invoices)
    assert any(0 < r["PaidAmount"] < r["TotalAmount"] and not r["Paid"] for r in invoices)
    assert any(not r["Paid"] and r["PaidAmount"] == 0 and r["DueAmount"] == r["TotalAmount"] for r in invoices)
    assert any(r["QuickbooksInvoiceTransfered"] for r in invoices)
    assert any(len(r["InvoiceNumber"] or "") > 21 for r in invoices)
    numbers = [r["InvoiceNumber"] for r in invoices if r["InvoiceNumber"]]
    assert len(numbers) == len(set(numbers))
    assert all(r["CreatedOn"].endswith("Z") and not r["CreatedOnLocal"].endswith("Z") for r in invoices)
    chart = {(code, name) for code, name, _kind in CHART}
    tax_names = {rate.name for rate in world.tax_rates}
    lines = sim.data.coworkerinvoicelines.values()
    assert any((line["FinancialAccountCode"], line["FinancialAccountName"]) not in chart for line in lines)
    assert any(line["TaxCategoryName"] not in tax_names for line in lines)


def test_payments_are_ledger_entries_that_add_up_to_paid_amounts(sim):
    entries = list(sim.data.coworkerledgerentries.values())
    payments = [entry for entry in entries if entry["Code"] == "PAYM"]
    # The world's payments, some split in instalments, a few more before a cancel, a few less after account credit.
    assert sim.world.payments * 0.9 <= len(payments) <= sim.world.payments * 1.4
    paid = defaultdict(Decimal)
    for entry in entries:
        assert _is_cents(entry["Credit"]) and _is_cents(entry["Debit"])
        if entry["PaymentGatewayName"] not in (None, 994, 995):  # cash, less refunds and reversed direct debits
            paid[entry["CoworkerInvoiceId"]] += entry["Credit"] - entry["Debit"]
    for entry in payments:
        assert isinstance(entry["PaymentGatewayName"], int) and entry["Credit"] > 0 and entry["Debit"] == 0
    for invoice in sim.data.coworkerinvoices.values():
        assert invoice["PaidAmount"] == paid.get(invoice["Id"], 0)


def test_lines_repeat_their_invoice_fields(sim):
    for line in sim.data.coworkerinvoicelines.values():
        invoice = sim.data.coworkerinvoices[line["CoworkerInvoiceId"]]
        assert (
            line["CoworkerInvoiceInvoiceNumber"],
            line["CoworkerInvoicePaid"],
            line["CoworkerInvoiceCreditNote"],
        ) == (invoice["InvoiceNumber"], invoice["Paid"], invoice["CreditNote"])


def test_a_thousand_invoices_generate_quickly():
    world = build_world(customers=200, invoices=1000, credit_notes=30, payments=400)
    started = time.perf_counter()
    data = NexudusData.from_world(world)
    assert time.perf_counter() - started < 2
    assert len(data.coworkerinvoices) == 1030
    codes = Counter(entry["Code"] for entry in data.coworkerledgerentries.values())
    assert codes["INV"] == sum(not (i["Draft"] or i["CreditNote"]) for i in data.coworkerinvoices.values())
    assert 400 * 0.9 <= codes["PAYM"] <= 400 * 1.4, "400 payments, some split in instalments"


# -- helpers for tests and demos -----------------------------------------------------------------------------


def test_touch_invoice_changes_it_and_bumps_updated_on(fresh):
    auth = {"Authorization": f"Bearer {sign_in(fresh).json()['access_token']}"}
    cursor = _updated_on(fresh)[-1]
    before = envelope(fresh, auth, INVOICES, from_CoworkerInvoice_UpdatedOn=cursor)["TotalItems"]
    invoice_id = sorted(fresh.data.coworkerinvoices)[0]
    touched = fresh.touch_invoice(invoice_id, PurchaseOrder="PO-NEW")
    assert touched["UpdatedOn"] > cursor
    changed = read_all(fresh, auth, INVOICES, from_CoworkerInvoice_UpdatedOn=touched["UpdatedOn"])
    assert [(r["Id"], r["PurchaseOrder"]) for r in changed] == [(invoice_id, "PO-NEW")]
    assert envelope(fresh, auth, INVOICES, from_CoworkerInvoice_UpdatedOn=cursor)["TotalItems"] == before + 1
    fresh.touch_invoice(invoice_id, InvoiceNumber="LON-9999")
    assert {line["CoworkerInvoiceInvoiceNumber"] for line in fresh.data.lines_of(invoice_id)} == {"LON-9999"}
    with pytest.raises(KeyError):
        fresh.touch_invoice(invoice_id, NoSuchField=1)


def test_fail_next_answers_errors_then_recovers(fresh):
    auth = {"Authorization": f"Bearer {sign_in(fresh).json()['access_token']}"}
    fresh.fail_next(2, status=500)
    assert [get(fresh, auth, INVOICES).status_code for _ in range(3)] == [500, 500, 200]
    fresh.fail_next(status=409, retry_after=7)
    throttled = get(fresh, auth, INVOICES)
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (409, "7")
    assert throttled.json() == {"Message": "You must wait before accessing this url again."}
    fresh.fail_next(status=429, retry_after=3)
    assert "Wait 3 seconds" in get(fresh, auth, INVOICES).json()["Message"]
    fresh.fail_next(status=None)
    with pytest.raises(requests.ConnectionError):
        get(fresh, auth, INVOICES)
    assert get(fresh, auth, INVOICES).status_code == 200


def test_every_request_is_logged(fresh):
    freeze(fresh)
    auth = {"Authorization": f"Bearer {sign_in(fresh).json()['access_token']}"}
    fresh.clock_offset += 0.125  # a paced client: at most one request per 100 ms
    get(fresh, auth, INVOICES, page=2)
    fresh.clock_offset += 0.125
    get(fresh, auth, "/api/sys/taxrates")
    assert [(method, path) for method, path, _params in fresh.request_log] == [
        ("POST", "/api/token"),
        ("GET", INVOICES),
        ("GET", "/api/sys/taxrates"),
    ]
    assert fresh.request_log[1][2] == {"page": "2"}
    assert fresh.throttled_count == 0
    get(fresh, auth, INVOICES)  # too soon: refused once, logged too, then asked again after Retry-After
    assert fresh.throttled_count == 1
    assert [path for _method, path, _params in fresh.request_log[3:]] == [INVOICES, INVOICES]
