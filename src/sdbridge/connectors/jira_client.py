"""One Jira connection, shared by the pull and the push-back writer.

The `jira` library connects (server info, so a wrong URL or deployment fails at once) and
reads what it has a method for (`fields()`, `myself()`). REST paths it has no method for —
the enhanced search with `nextPageToken`, the paged changelog, JSM approvals, Assets, comment
writes with entity properties — go through one `requests` session set up with the same
credentials. Every request runs under sdbridge's retry policy with one deadline per pull or
push, and is counted. The library's own retries are off (`max_retries=0`). Both sessions
read every answer under one size cap and one time limit (`http.cap_answers`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import requests
from jira import JIRA, JIRAError

from sdbridge.errors import FatalSourceError
from sdbridge.http import HttpFailure, RetryPolicy, call, cap_answers, headers_of, safe_url, with_deadline
from sdbridge.secrets import reveal

if TYPE_CHECKING:  # the config models sit above the connectors: named for types only
    from sdbridge.sources import JiraSourceConfig


def inspect(exc: BaseException) -> HttpFailure | None:
    """A library or HTTP exception in the policy's terms; None for anything else."""
    if isinstance(exc, JIRAError):
        return HttpFailure(exc.status_code, exc.url, headers_of(exc.response), exc.text or "")
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return HttpFailure(exc.response.status_code, exc.response.url, headers_of(exc.response), str(exc))
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return HttpFailure(None, getattr(exc.request, "url", None), {}, type(exc).__name__)
    return None


class JiraClient:
    def __init__(self, source: JiraSourceConfig) -> None:
        self.name: str = source.name
        self.server: str = source.url.rstrip("/")
        self.cloud: bool = source.auth == "cloud"
        self.version = "3" if self.cloud else "2"
        self.timeout: float = source.timeout_seconds
        self.policy: RetryPolicy = source.retry.policy()
        self._secret = source.token
        self._email: str | None = source.email
        self.requests = 0
        self._deadline: float | None = None
        self._jira: JIRA | None = None
        self._session: requests.Session | None = None

    def _revealed(self) -> str:
        return reveal(self._secret, source=self.name, purpose=f"reaching {self.server}")

    def begin(self) -> None:
        """Start a pull or a push: its retries share one time budget."""
        self._deadline = with_deadline(self.policy)

    def call(self, what: str, fn: Callable[[], Any], *, idempotent: bool = True) -> Any:
        def counted() -> Any:
            self.requests += 1
            return fn()

        if self._deadline is None:
            self.begin()
        return call(
            counted,
            source=self.name,
            what=what,
            inspect=inspect,
            policy=self.policy,
            deadline=self._deadline,
            idempotent=idempotent,
        )

    def connect(self) -> JIRA:
        """The library's client, connected (server info read) on first use. Its session reads
        answers under the same size and time caps as ours (`http.cap_answers`): the client is
        made without its first request, capped, then asked for the server info."""
        if self._jira is None:
            auth: dict[str, Any] = (
                {"basic_auth": (self._email, self._revealed())} if self.cloud else {"token_auth": self._revealed()}
            )
            jira = JIRA(
                server=self.server,
                options={"rest_api_version": self.version},
                max_retries=0,  # sdbridge's policy retries, not the library's
                timeout=self.timeout,
                get_server_info=False,
                logging=False,
                **auth,
            )
            cap_answers(jira._session, source=self.name, timeout=self.timeout)
            info = self.call("connecting", jira.server_info)
            if not isinstance(info, dict):
                raise FatalSourceError(
                    f"source {self.name!r}: {safe_url(self.server)} did not answer as a Jira server",
                    source=self.name,
                    hint="check `url`: it may point at a login page or a proxy",
                )
            jira.deploymentType = info.get("deploymentType")
            self._jira = jira
        return self._jira

    @property
    def jira(self) -> JIRA:
        return self.connect()

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self.connect()  # a wrong URL or token fails here, with the library's checks
            session = requests.Session()
            if self.cloud:
                session.auth = (self._email or "", self._revealed())
            else:
                session.headers["Authorization"] = f"Bearer {self._revealed()}"
            session.headers.update({"Accept": "application/json", "Content-Type": "application/json"})
            cap_answers(session, source=self.name, timeout=self.timeout)
            self._session = session
        return self._session

    def url(self, path: str, api: str | None = None) -> str:
        """`path` under the platform REST API, or under `api` (`servicedeskapi`, a full URL)."""
        if api is None:
            return f"{self.server}/rest/api/{self.version}/{path}"
        if api.startswith("http"):
            return f"{api.rstrip('/')}/{path}"
        return f"{self.server}/rest/{api}/{path}"

    def request(
        self,
        what: str,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        payload: Any = None,
        api: str | None = None,
        reads: bool = False,
    ) -> Any:
        """One REST request; the JSON answer (None when the body is empty). A POST creates
        something, so it is not repeated blindly, unless `reads` says it only reads."""
        url = self.url(path, api)

        def send() -> Any:
            response = self.session.request(
                method,
                url,
                params=params,
                timeout=self.timeout,
                data=json.dumps(payload) if payload is not None else None,
            )
            response.raise_for_status()
            body = response.content
            if not body:
                return None
            try:
                return json.loads(body)
            except ValueError:
                raise FatalSourceError(
                    f"source {self.name!r}: {what}: the server answered with something that is not JSON "
                    f"at {safe_url(url)}",
                    source=self.name,
                    hint="check `url`: it may point at a login page or a proxy",
                ) from None

        return self.call(what, send, idempotent=method != "POST" or reads)

    def get(self, what: str, path: str, params: dict[str, Any] | None = None, api: str | None = None) -> Any:
        return self.request(what, "GET", path, params=params, api=api)
