"""sdbridge's HTTP fault policy, in one place, for every network connector.

The client libraries' own retries are switched off (jira: `max_retries=0`; python-gitlab:
`retry_transient_errors=False`, `obey_rate_limit=False`) so that one policy decides:
- 429 and 5xx are retried, honouring `Retry-After` (seconds or an HTTP date), GitLab's
  `RateLimit-Reset` and Atlassian's `X-RateLimit-Reset`; never earlier than the server asked:
  a wait longer than `max_wait_seconds` stops the source (retriable) instead of retrying early;
  otherwise exponential backoff with jitter, capped at `max_wait_seconds`;
- connection errors and timeouts are retried the same way;
- 401, 403 and 404 fail at once with a message naming the source, the URL and what to check;
- nothing waits past the source's total time budget: then the source fails as retriable, and
  whatever other sources pulled is kept.

Messages never contain credentials: URLs are shown without their query string and headers
are never printed.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
import requests.adapters
import urllib3
import urllib3.connection

from sdbridge import progress
from sdbridge.errors import FatalSourceError, HttpStatusError, RetriableSourceError, UnansweredWriteError

log = logging.getLogger("sdbridge.http")

T = TypeVar("T")
RETRIABLE = {408, 425, 429, 500, 502, 503, 504}
HINTS = {
    401: "the credentials were refused: check the token (and the e-mail for Jira Cloud) in the environment",
    403: "the token's user may not read this: check its permissions or scopes",
    404: "not found: check the URL, the project or the workspace id",
    410: "this API is gone on this server: check the source's `auth`/deployment setting",
}


@dataclass(frozen=True)
class RetryPolicy:
    """Defaults are those of `RetryConfig` (sources.py), which builds the policy a source uses."""

    tries: int = 6
    backoff_seconds: float = 1.0
    max_wait_seconds: float = 60.0
    budget_seconds: float = 900.0


@dataclass
class HttpFailure:
    """What a library's exception says, in our terms."""

    status: int | None  # None: no response (connection error, timeout)
    url: str | None
    headers: dict[str, str]
    detail: str


def safe_url(url: str | None) -> str:
    if not url:
        return "?"
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def retry_after_seconds(headers: dict[str, str], now: float | None = None) -> float | None:
    """Seconds to wait as the server asked: `Retry-After` (seconds or an HTTP date); without
    it, GitLab's `RateLimit-Reset` (epoch seconds) or Atlassian's `X-RateLimit-Reset` (an ISO
    8601 time, which Atlassian documents may come without `Retry-After`)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    moment = now if now is not None else time.time()
    value = lowered.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
                return max(0.0, when.timestamp() - moment)
            except (TypeError, ValueError):
                return None
    for name in ("ratelimit-reset", "x-ratelimit-reset"):
        reset = lowered.get(name)
        if not reset:
            continue
        try:
            return max(0.0, float(reset) - moment)  # epoch seconds
        except ValueError:
            pass
        try:
            when = datetime.fromisoformat(reset.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - moment)
    return None


def call(
    fn: Callable[[], T],
    *,
    source: str,
    what: str,
    inspect: Callable[[BaseException], HttpFailure | None],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    deadline: float | None = None,
    idempotent: bool = True,
) -> T:
    """Run one request under the policy. `inspect` turns a library exception into an
    `HttpFailure` (or None for an exception that is not about HTTP, which is re-raised).
    `deadline` (a `clock()` value) is the source's overall budget. A request that is not
    `idempotent` (creating a comment) is repeated only after a 429, which says it was not
    carried out; any other fault raises `UnansweredWriteError` at once, so the caller looks
    before it writes again."""
    deadline = deadline if deadline is not None else clock() + policy.budget_seconds
    attempt = 0
    while True:
        attempt += 1
        if clock() > deadline:  # the source's whole budget, paging included: a server that pages without end
            raise RetriableSourceError(
                f"source {source!r}: {what}: the source's time budget ({policy.budget_seconds:.0f} s) ran out",
                source=source,
                hint="the next run will try again; narrow the scope or raise `retry.budget_seconds`",
            )
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - classified right below
            failure = inspect(exc)
            if failure is None:
                raise
        where = safe_url(failure.url)
        status = failure.status
        if status is not None and status not in RETRIABLE:
            hint = HINTS.get(status, "the server refused the request")
            raise HttpStatusError(
                f"source {source!r}: {what} failed with HTTP {status} at {where}",
                status=status,
                source=source,
                hint=hint,
            ) from None
        if not idempotent and status != 429:
            label = f"HTTP {status}" if status is not None else failure.detail
            raise UnansweredWriteError(
                f"source {source!r}: {what} got no clear answer ({label}) at {where}; it may have been carried out",
                source=source,
                hint="sdbridge looks for what it wrote before it writes again",
            ) from None
        wanted = retry_after_seconds(failure.headers) if status is not None else None
        backoff = policy.backoff_seconds * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
        label = f"HTTP {status}" if status is not None else failure.detail
        if wanted is not None and wanted > policy.max_wait_seconds:
            # Never earlier than the server asked: an early retry is refused again, often with
            # a longer wait (Atlassian's rate limiting). The source stops; the next run retries.
            raise RetriableSourceError(
                f"source {source!r}: {what}: the server asks to wait {wanted:.0f} s ({label}), more than "
                f"retry.max_wait_seconds ({policy.max_wait_seconds:.0f} s) at {where}",
                source=source,
                hint="the next run will try again; raise `retry.max_wait_seconds` to wait that long instead",
            ) from None
        wait = wanted if wanted is not None else min(policy.max_wait_seconds, backoff)
        if attempt >= policy.tries or clock() + wait > deadline:
            raise RetriableSourceError(
                f"source {source!r}: {what} still failing after {attempt} attempt(s) ({label}) at {where}",
                source=source,
                hint="the server is busy or unreachable; the next run will try again",
            ) from None
        why = "Retry-After" if wanted is not None else f"attempt {attempt} of {policy.tries}"
        progress.note(f"{source}: {label}, waiting {wait:.0f} s ({why}) before {what}")
        sleep(wait)


def with_deadline(policy: RetryPolicy, clock: Callable[[], float] = time.monotonic) -> float:
    return clock() + policy.budget_seconds


def headers_of(response: Any) -> dict[str, str]:
    return dict(getattr(response, "headers", None) or {})


MAX_BODY_BYTES = 256 << 20
"""The largest answer read from any server: a page of issues is a few MiB at most."""


class AnswerTooLarge(FatalSourceError):
    """A server's answer passed the size cap; retrying would read it again."""


class _CappedBody:
    """A response body (urllib3's) read under a size cap and within one time limit for the
    whole answer. A read blocks until its block is complete, so a server trickling a byte at
    a time is stopped by a timer that shuts the connection at the limit; one sending without
    end is cut off at the cap. Everything else is the body's own."""

    def __init__(self, raw: Any, request: Any, *, source: str, limit: int, until: float) -> None:
        self._raw = raw
        self._request = request
        self._source = source
        self._limit = limit
        self._until = until
        self._expired = False

    def stream(self, amt: int = 1 << 16, decode_content: bool | None = None) -> Any:
        timer = threading.Timer(max(0.0, self._until - time.monotonic()), self._expire)
        timer.daemon = True
        timer.start()
        read = 0
        try:
            for chunk in self._raw.stream(amt, decode_content=decode_content):
                read += len(chunk)
                if read > self._limit:
                    raise self._too_large()
                if self._expired:
                    raise self._timeout()
                yield chunk
        except (OSError, http.client.HTTPException, urllib3.exceptions.HTTPError):
            # the read the timer cut short (a reset, an incomplete body) is the timeout it is
            if self._expired:
                raise self._timeout() from None
            raise
        finally:
            timer.cancel()

    def _expire(self) -> None:
        self._expired = True
        sock = getattr(getattr(self._raw, "connection", None), "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _timeout(self) -> requests.ReadTimeout:
        return requests.ReadTimeout("the whole answer took longer than the timeout", request=self._request)

    def _too_large(self) -> AnswerTooLarge:
        return AnswerTooLarge(
            f"source {self._source!r}: the answer from {safe_url(self._request.url)} is larger than "
            f"{self._limit >> 20} MiB",
            source=self._source,
            hint="check `url`; narrow the projects or lower `per_page`",
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


_DEADLINE = threading.local()
"""The moment (monotonic) the request this thread is sending must be answered by."""


class _TimedConnection:
    """Mixed into urllib3's connections: the status line and headers are read within the
    request's deadline as a whole. A server that trickles them a byte at a time never trips
    the per-read timeout; a timer shuts the socket at the deadline and the read fails as the
    timeout it is."""

    sock: Any

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        until = getattr(_DEADLINE, "until", None)
        if until is None:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        cut = threading.Event()

        def expire() -> None:
            cut.set()
            with contextlib.suppress(OSError, AttributeError):
                self.sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(max(0.0, until - time.monotonic()), expire)
        timer.daemon = True
        timer.start()
        try:
            response = super().getresponse(*args, **kwargs)  # type: ignore[misc]
        except (OSError, http.client.HTTPException):
            if cut.is_set():
                raise TimeoutError("the answer's headers took longer than the timeout") from None
            raise
        finally:
            timer.cancel()
        if cut.is_set():  # headers cut short parse as if they had ended: they did not
            response.close()
            raise TimeoutError("the answer's headers took longer than the timeout")
        return response


class _TimedHTTPConnection(_TimedConnection, urllib3.connection.HTTPConnection):
    pass


class _TimedHTTPSConnection(_TimedConnection, urllib3.connection.HTTPSConnection):
    pass


class _TimedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _TimedHTTPConnection


class _TimedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _TimedHTTPSConnection


class _TimedAdapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _TimedHTTPPool, "https": _TimedHTTPSPool}


def cap_answers(session: requests.Session, *, source: str, timeout: float, limit: int | None = None) -> None:
    """Every answer `session` receives — read by sdbridge or by a client library — is read
    under `limit` bytes and within `timeout` seconds as a whole, headers and body (the
    library's own timeout is per read: a server trickling a byte every few seconds never
    trips it). A response hook runs before the body is read, so nothing large is held."""
    limit = limit if limit is not None else MAX_BODY_BYTES
    for prefix in ("http://", "https://"):
        session.mount(prefix, _TimedAdapter())
    send = session.send

    def timed_send(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        started = time.monotonic()
        _DEADLINE.until = started + timeout
        answer: requests.Response | None = None
        try:
            answer = send(request, **kwargs)
            return answer
        finally:
            _DEADLINE.until = None
            if log.isEnabledFor(logging.DEBUG):  # -vv: each request, its answer and how long it took
                log.debug(
                    json.dumps(
                        {
                            "event": "request",
                            "source": source,
                            "method": request.method,
                            "url": safe_url(request.url),
                            "status": answer.status_code if answer is not None else None,
                            "seconds": round(time.monotonic() - started, 3),
                        }
                    )
                )

    session.send = timed_send  # type: ignore[method-assign]

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        until = getattr(_DEADLINE, "until", None) or time.monotonic() + timeout
        body = _CappedBody(response.raw, response.request, source=source, limit=limit, until=until)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            response.close()
            raise body._too_large()
        response.raw = body
        return response

    session.hooks["response"].append(hook)
