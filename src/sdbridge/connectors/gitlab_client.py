"""One GitLab connection, shared by the pull, the documents folder and the push-back writer.

python-gitlab does the requests; its own retries are off (`retry_transient_errors=False`,
and every call passes `obey_rate_limit=False, max_retries=0`). Each request — each page of
a list — runs under sdbridge's retry policy with one deadline per pull or push, so a page
that failed is asked again and the pages before it are kept. A session hook counts the
requests and keeps the last response's headers (`Retry-After`, `RateLimit-Reset`). Every answer is read under one size cap and one time limit
(`http.cap_answers`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import gitlab
import requests
from gitlab.exceptions import GitlabError, GitlabParsingError
from pydantic import SecretStr

from sdbridge import progress
from sdbridge.errors import FatalSourceError, HttpStatusError
from sdbridge.http import AnswerTooLarge, HttpFailure, RetryPolicy, call, cap_answers, safe_url, with_deadline
from sdbridge.secrets import reveal

if TYPE_CHECKING:  # the config models sit above the connectors: named for types only
    from sdbridge.sources import GitLabSourceConfig

NO_LIBRARY_RETRY = {"obey_rate_limit": False, "max_retries": 0}
"""Pass to every python-gitlab call: sdbridge's policy retries, not the library's."""


class GraphQLRefused(Exception):
    """The server's GraphQL API cannot answer this query: read the same data over REST."""


class GitLabClient:
    def __init__(
        self,
        name: str,
        url: str,
        token: SecretStr,
        policy: RetryPolicy,
        *,
        per_page: int = 100,
        timeout: float = 30.0,
        max_pages: int = 10_000,
    ) -> None:
        self.name = name
        self.url = url
        self.policy = policy
        self.requests = 0
        self._token = token
        self._per_page = per_page
        self.max_items = max_pages * per_page
        self.notes: list[str] = []
        """What paging stopped early for (a server that repeats a page)."""
        self.self_links: list[str] = []
        """Pages whose `rel="next"` was themselves, read as last pages."""
        self._timeout = timeout
        self._deadline: float | None = None
        self._last_headers: dict[str, str] = {}
        self._gl: gitlab.Gitlab | None = None

    @classmethod
    def for_source(cls, source: GitLabSourceConfig) -> GitLabClient:
        return cls(
            source.name,
            source.url,
            source.token,
            source.retry.policy(),
            per_page=source.per_page,
            max_pages=source.max_pages,
            timeout=source.timeout_seconds,
        )

    @property
    def gl(self) -> gitlab.Gitlab:
        if self._gl is None:
            self._gl = gitlab.Gitlab(
                self.url,
                private_token=reveal(self._token, source=self.name, purpose=f"reaching {self.url}"),
                per_page=self._per_page,
                timeout=self._timeout,
                retry_transient_errors=False,
                keep_base_url=True,
            )
            self._gl.session.hooks["response"].append(self._remember)
            cap_answers(self._gl.session, source=self.name, timeout=self._timeout)
        return self._gl

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.requests += 1
        self._last_headers = dict(response.headers)
        following = response.links.get("next", {}).get("url")
        if following and _same_page(following, response.url):
            # A page whose next page is itself: python-gitlab would follow it by recursion,
            # a request a level, and never end. It is the last page.
            del response.headers["Link"]
            response.headers.pop("X-Next-Page", None)
            self.self_links.append(safe_url(response.url))

    def _inspect(self, exc: BaseException) -> HttpFailure | None:
        if isinstance(exc, GitlabError) and exc.response_code is not None:
            return HttpFailure(exc.response_code, self.url, self._last_headers, str(exc))
        if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
            return HttpFailure(None, self.url, {}, type(exc).__name__)
        return None

    def begin(self) -> None:
        """Start a pull or a push: its retries share one time budget."""
        self._deadline = with_deadline(self.policy)

    def call(self, what: str, fn: Callable[[], Any], *, idempotent: bool = True) -> Any:
        """One request under the policy; a create (`idempotent=False`) is not repeated blindly."""
        if self._deadline is None:
            self.begin()
        try:
            return self._call(what, lambda: self._unwrapped(fn), idempotent)
        except GitlabParsingError:
            raise FatalSourceError(
                f"source {self.name!r}: {what}: the server answered with something that is not JSON",
                source=self.name,
                hint="check `url`: it may point at a login page or a proxy",
            ) from None

    @staticmethod
    def _unwrapped(fn: Callable[[], Any]) -> Any:
        """python-gitlab reports any failure while reading a body as a parsing error; a body
        over the size cap or past the time limit (`http.cap_answers`) is raised as itself."""
        try:
            return fn()
        except GitlabParsingError as exc:
            cause = exc.__cause__
            if isinstance(cause, (AnswerTooLarge, requests.Timeout)):
                raise cause from None
            raise

    def _call(self, what: str, fn: Callable[[], Any], idempotent: bool) -> Any:
        return call(
            fn,
            source=self.name,
            what=what,
            inspect=self._inspect,
            policy=self.policy,
            deadline=self._deadline,
            idempotent=idempotent,
        )

    def each(self, what: str, start: Callable[[], Iterator[Any]]) -> Iterator[Any]:
        """Every item of a paged list; each page request runs under the retry policy."""
        pages = self.call(what, start)
        count = 0
        seen: set[Any] = set()
        repeated = 0
        while True:
            try:
                item = self.call(what, lambda: next(pages))
            except StopIteration:
                return
            except RecursionError:
                # python-gitlab follows `rel="next"` by recursion, one level per page: empty pages
                # that keep pointing on recurse until Python stops it. The listing ends here.
                self.notes.append(f"{what}: the server's pages point on without end; the listing was ended")
                return
            key = getattr(item, "attributes", {}).get("id") if hasattr(item, "attributes") else None
            if key is not None:
                repeated = repeated + 1 if key in seen else 0
                seen.add(key)
                if repeated >= self._per_page:  # a whole page gave nothing new: the server loops
                    self.notes.append(
                        f"{what}: the server gave a page of items already read ({repeated}); the listing was ended "
                        f"there with {len(seen):,} items"
                    )
                    return
            count += 1
            if count % 100 == 0:
                progress.update(f"pulling {self.name}: {what}")
                progress.count(count, None, "items")
            if count > self.max_items:  # a server that pages without end stops here
                raise FatalSourceError(
                    f"source {self.name!r}: {what}: still paging after {self.max_items} items",
                    source=self.name,
                    hint="narrow the projects or resources, or raise `max_pages`",
                )
            yield item

    def graphql(self, what: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """One GraphQL request (`POST /api/graphql`) through python-gitlab's own HTTP client:
        the same session, token, answer caps, request count and retry policy as every REST
        call. A server that cannot answer the query (no GraphQL, an older schema, a query
        too complex) raises `GraphQLRefused`; the caller then reads over REST."""
        url = f"{self.url.rstrip('/')}/api/graphql"
        try:
            answer = self.call(
                what,
                lambda: self.gl.http_post(
                    url, post_data={"query": query, "variables": variables}, obey_rate_limit=False, max_retries=0
                ),
            )
        except HttpStatusError as exc:
            if exc.status in (400, 404, 405, 422):  # no GraphQL here, or it refuses the query
                raise GraphQLRefused(exc.message) from None
            raise
        if not isinstance(answer, dict):
            raise GraphQLRefused(f"{what}: the GraphQL answer is not an object")
        errors = answer.get("errors")
        if errors:
            first = errors[0].get("message") if isinstance(errors, list) and isinstance(errors[0], dict) else errors
            raise GraphQLRefused(f"{what}: {str(first)[:200]}")
        data = answer.get("data")
        if not isinstance(data, dict):
            raise GraphQLRefused(f"{what}: the GraphQL answer has no data")
        return data

    def project(self, ref: str | int) -> Any:
        """A project handle that makes no request by itself."""
        return self.gl.projects.get(ref, lazy=True)


def _same_page(a: str, b: str) -> bool:
    """Whether two URLs ask for the same page: the same path and the same query, in any order."""
    from urllib.parse import parse_qsl, urlsplit

    first, second = urlsplit(a), urlsplit(b)
    return first.path == second.path and sorted(parse_qsl(first.query)) == sorted(parse_qsl(second.query))
