"""The HTTP funnel's retry and error policy, with a scripted session instead of a server."""

import pytest
import requests
from nqc_tools.errors import AuthError, NotFoundError, RejectedError, ThrottledError, TransientError
from nqc_tools.http_client import THROTTLE_MARGIN, ApiClient


class ScriptedSession:
    """Answers each request with the next scripted item: a (status, body, headers) tuple or an exception."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def request(self, method, url, **kw):
        self.calls.append((method, url, kw))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, body, headers = answer
        response = requests.Response()
        response.status_code = status
        response._content = body.encode()
        response.headers.update(headers)
        response.url = url
        return response


def make_client(*answers):
    sleeps = []
    client = ApiClient("http://127.0.0.1:1", session=ScriptedSession(*answers), sleep=sleeps.append)
    return client, sleeps


def test_success_passes_through_and_sends_accept_json():
    client, sleeps = make_client((200, '{"ok": true}', {}))
    assert client.request("GET", "/x").json() == {"ok": True}
    assert client.session.calls[0][2]["headers"]["Accept"] == "application/json"
    assert client.session.calls[0][2]["timeout"] == client.timeout
    assert sleeps == []


def test_transient_errors_are_retried_then_succeed():
    client, sleeps = make_client(requests.ConnectionError("reset"), (503, "busy", {}), (200, "{}", {}))
    client.request("GET", "/x")
    assert len(client.session.calls) == 3
    assert sleeps == [1.0, 1.0]


def test_transient_errors_give_up_after_the_retry_budget():
    client, _sleeps = make_client((500, "a", {}), (502, "b", {}), (504, "c", {}))
    with pytest.raises(TransientError):
        client.request("GET", "/x")
    assert len(client.session.calls) == 3


class Throttling(ApiClient):
    def _error_from_response(self, response):
        if response.status_code == 409:
            return ThrottledError("wait", service="T", status=409)
        return super()._error_from_response(response)


def test_short_throttle_waits_what_the_service_asks():
    client = Throttling(
        "http://h",
        session=ScriptedSession((409, "", {"Retry-After": "2"}), (200, "{}", {})),
        sleep=(sleeps := []).append,
    )
    client.request("GET", "/x")
    assert sleeps == [2.0 + THROTTLE_MARGIN]


def test_wait_n_seconds_in_the_body_is_understood():
    client = Throttling(
        "http://h",
        session=ScriptedSession((409, "Please Wait 3 seconds", {}), (200, "{}", {})),
        sleep=(sleeps := []).append,
    )
    client.request("GET", "/x")
    assert sleeps == [3.0 + THROTTLE_MARGIN]


def test_long_throttle_is_not_slept_away_but_raised_with_retry_after():
    client = Throttling(
        "http://h", session=ScriptedSession((409, "", {"Retry-After": "60"})), sleep=(sleeps := []).append
    )
    with pytest.raises(ThrottledError) as caught:
        client.request("GET", "/x")
    assert caught.value.retry_after == 60.0
    assert sleeps == []


@pytest.mark.parametrize(
    ("status", "error"), [(401, AuthError), (403, AuthError), (404, NotFoundError), (400, RejectedError)]
)
def test_client_errors_are_typed_and_never_retried(status, error):
    client, sleeps = make_client((status, "no", {}))
    with pytest.raises(error):
        client.request("GET", "/x")
    assert len(client.session.calls) == 1
    assert sleeps == []


def test_a_write_the_service_cannot_recognise_is_not_retried_unanswered():
    for failure in (requests.ReadTimeout("slow"), (502, "bad gateway", {})):
        client, sleeps = make_client(failure, (200, "{}", {}))
        with pytest.raises(TransientError):
            client.request("POST", "/x", idempotent=False)
        assert len(client.session.calls) == 1, "it may have been done: only the caller can look it up"
        assert sleeps == []
