"""sdbridge's retry policy, on requests mocked with `responses`."""

from __future__ import annotations

import pytest
import requests
import responses

from sdbridge.connectors.jira_client import inspect
from sdbridge.errors import FatalSourceError, RetriableSourceError
from sdbridge.http import RetryPolicy, call, retry_after_seconds, safe_url

URL = "https://acme.atlassian.net/rest/api/3/search/jql"


def get() -> dict:
    response = requests.get(URL, params={"jql": "project = X"}, timeout=5)
    response.raise_for_status()
    return response.json()


def run(policy: RetryPolicy = RetryPolicy(tries=4, backoff_seconds=1, max_wait_seconds=30, budget_seconds=100)):
    waits: list[float] = []
    clock = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    result = call(
        get, source="jira", what="searching issues", inspect=inspect, policy=policy, sleep=sleep, clock=lambda: clock[0]
    )
    return result, waits


@responses.activate
def test_429_waits_as_long_as_retry_after_says_then_succeeds():
    responses.get(URL, status=429, headers={"Retry-After": "7"})
    responses.get(URL, status=503)
    responses.get(URL, json={"issues": []})
    result, waits = run()
    assert result == {"issues": []}
    assert waits[0] == 7
    assert 0.8 <= waits[1] <= 2.4  # backoff for the 503 (attempt 2, with jitter)


@responses.activate
def test_a_retry_after_longer_than_the_cap_stops_the_source_instead_of_retrying_early():
    """Atlassian: a retry before Retry-After fails again, with the same or a longer wait."""
    responses.get(URL, status=429, headers={"Retry-After": "3600"})
    responses.get(URL, json={})
    with pytest.raises(RetriableSourceError, match="asks to wait 3600 s") as caught:
        run()
    assert "max_wait_seconds" in str(caught.value)
    assert len(responses.calls) == 1  # no early retry


@responses.activate
def test_atlassians_reset_time_is_honoured_when_retry_after_is_missing():
    from datetime import UTC, datetime, timedelta

    reset = (datetime.now(UTC) + timedelta(seconds=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    responses.get(URL, status=429, headers={"X-RateLimit-Reset": reset})
    responses.get(URL, json={"issues": []})
    result, waits = run()
    assert result == {"issues": []} and 9 <= waits[0] <= 12.5


@responses.activate
def test_401_403_404_fail_fast_and_name_the_url_without_its_query():
    for status, hint in ((401, "check the token"), (403, "permissions"), (404, "check the URL")):
        responses.reset()
        responses.get(URL, status=status)
        with pytest.raises(FatalSourceError) as caught:
            run()
        text = str(caught.value)
        assert f"HTTP {status}" in text and URL in text and hint in text
        assert "jql=" not in text
        assert len(responses.calls) == 1


@responses.activate
def test_giving_up_after_the_tries_is_retriable_not_fatal():
    for _ in range(4):
        responses.get(URL, status=502)
    with pytest.raises(RetriableSourceError, match="after 4 attempt"):
        run()


@responses.activate
def test_the_time_budget_stops_retrying():
    responses.get(URL, status=429, headers={"Retry-After": "20"})
    responses.get(URL, status=429, headers={"Retry-After": "20"})
    with pytest.raises(RetriableSourceError):
        run(RetryPolicy(tries=10, backoff_seconds=1, max_wait_seconds=60, budget_seconds=30))
    assert len(responses.calls) == 2


@responses.activate
def test_connection_errors_are_retried():
    responses.get(URL, body=requests.ConnectionError("reset by peer"))
    responses.get(URL, json={"ok": True})
    result, waits = run()
    assert result == {"ok": True} and len(waits) == 1


def test_retry_after_forms():
    assert retry_after_seconds({"Retry-After": "5"}) == 5
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0
    assert retry_after_seconds({"RateLimit-Reset": "1000"}, now=990) == 10
    assert retry_after_seconds({"X-RateLimit-Reset": "1970-01-01T00:16:40Z"}, now=990) == 10
    assert retry_after_seconds({"X-RateLimit-Reset": "1970-01-01T00:16:40.000+00:00"}, now=995) == 5
    assert retry_after_seconds({"X-RateLimit-Reset": "soon"}) is None
    assert retry_after_seconds({}) is None


def test_safe_url_drops_credentials_and_query():
    assert safe_url("https://user:pw@host.example:8443/a/b?private_token=x") == "https://host.example:8443/a/b"
