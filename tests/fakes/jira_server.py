"""A loopback fake of Jira's REST API, following Atlassian's documented shapes, for tests that
drive the real `jira` client over real HTTP.

Cloud mode: /rest/api/3, enhanced search `/search/jql` with `nextPageToken` (no startAt, no
total; the old `/search` answers 410), paged `/issue/{key}/changelog`, ADF descriptions and
comments, Basic auth (e-mail + API token), JSM approvals, Assets AQL.
Data Center mode: /rest/api/2, `/search` with `startAt`/`total` and a result window,
changelog through `expand=changelog`, Bearer personal access tokens.

Strict by default, as the published spec (tests/contracts) says, never more: no expansion an
endpoint does not document (a comment read with `expand=properties` carries no properties;
only `POST /comment/list` expands them), optional keys absent (a changelog page has no
`total` unless `changelog_total`), and every paged endpoint paged (JSM approvals too). Every
2xx answer is validated against the vendored OpenAPI spec when the fake stops: a fake that
drifts from the spec fails the test that used it.

Faults are injected per path prefix (`fail_next`); `lose_next` carries a write out and then
loses its answer (a 502, or a dropped connection); every request is logged.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.contracts import documented_expansions
from tests.fakes.waiting import Waitable


def _project(issue: dict) -> str:
    return str(issue["key"]).rpartition("-")[0]


def _number(issue: dict) -> int:
    return int(str(issue["key"]).rpartition("-")[2])


def query_expand(query: dict) -> list[str]:
    return [e.strip() for e in str(query.get("expand", "")).split(",") if e.strip()]


SEARCH_PAGE_CLOUD = 100
SEARCH_PAGE_DC = 1000
CHANGELOG_PAGE = 2  # small, so that paging is exercised
APPROVALS_PAGE = 1


@dataclass
class FakeJira(Waitable):
    cloud: bool = True
    email: str = "bot@example.invalid"
    token: str = "secret-token"
    issues: list[dict] = field(default_factory=list)
    """API-shaped issues: {"id", "key", "fields": {...}, "_changelog": [...], "_approvals": [...]}."""
    custom_fields: list[dict] = field(default_factory=list)
    assets: list[dict] = field(default_factory=list)
    dc_window: int = 10_000
    endless: bool = False
    """Cloud search answers every page with a new token and the first page again (a broken
    server or proxy): only sdbridge's progress rule ends the search."""
    _tokens: int = 0
    may_silence: bool = True
    """Whether the token may edit an issue with `notifyUsers=false` (project admin rights)."""
    notified: list[str] = field(default_factory=list)
    """Issues whose edit e-mailed their watchers (a PUT without `notifyUsers=false`)."""
    changelog_total: bool = False
    """Send `total` on changelog pages (optional in the spec: absent unless a test asks)."""
    bulk_changelog_page: int = 10_000
    """The most change histories a bulk changelog page holds (tests lower it to page)."""
    requests: list[tuple[str, str, dict]] = field(default_factory=list)
    responses: list[tuple[str, str, dict, int, Any]] = field(default_factory=list)
    faults: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    lost: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _changed: threading.Condition = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._changed = threading.Condition(self.lock)

    def lose_next(self, prefix: str, *modes: str) -> None:
        """Carry out the next write(s) under `prefix`, then answer 502 (`"502"`) or close the
        connection without an answer (`"drop"`): the client cannot tell it happened."""
        self.lost.setdefault(prefix, []).extend(modes)

    def contract_problems(self) -> list[str]:
        from tests.contracts import jira_problems

        if not self.cloud:
            return []
        found: list[str] = []
        for method, path, query, status, body in self.responses:
            found += jira_problems(method, path, query, status, body)
        return found

    def fail_next(self, prefix: str, *responses: tuple[int, dict[str, str]]) -> None:
        self.faults.setdefault(prefix, []).extend(responses)

    def count(self, path_part: str) -> int:
        return sum(1 for _, path, _ in self.requests if path_part in path)

    # --- serving ---------------------------------------------------------------------------

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                try:
                    fake._handle(self, "GET")
                finally:
                    fake.answered()

            def do_POST(self) -> None:  # noqa: N802
                try:
                    fake._handle(self, "POST")
                finally:
                    fake.answered()

            def do_PUT(self) -> None:  # noqa: N802
                try:
                    fake._handle(self, "PUT")
                finally:
                    fake.answered()

            def do_DELETE(self) -> None:  # noqa: N802
                try:
                    fake._handle(self, "DELETE")
                finally:
                    fake.answered()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self.base

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        problems = self.contract_problems()
        assert not problems, "the fake Jira answered outside the published spec:\n" + "\n".join(problems[:10])

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict | None = None) -> None:
        parts = urlsplit(handler.path)
        with self.lock:
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            self.responses.append((handler.command, parts.path, query, status, body))
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(data)

    def _authorised(self, handler: BaseHTTPRequestHandler) -> bool:
        header = handler.headers.get("Authorization", "")
        if self.cloud:
            expected = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
            return header == f"Basic {expected}"
        return header == f"Bearer {self.token}"

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        body = None
        if method in ("POST", "PUT"):
            length = int(handler.headers.get("Content-Length") or 0)
            body = json.loads(handler.rfile.read(length) or b"{}")
        with self.lock:
            self.requests.append((method, parts.path, query))
            for prefix, queue in self.faults.items():
                if parts.path.startswith(prefix) and queue:
                    status, headers = queue.pop(0)
                    return self._send(handler, status, {"errorMessages": ["injected"]}, headers)
        if not self._authorised(handler):
            return self._send(handler, 401, {"errorMessages": ["You are not authenticated."]})
        try:
            status, payload = self._route(method, parts.path, query, body)
        except KeyError:
            status, payload = 404, {"errorMessages": ["Issue does not exist or you do not have permission."]}
        if method != "GET" and 200 <= status < 300:
            with self.lock:
                mode = next((q.pop(0) for prefix, q in self.lost.items() if parts.path.startswith(prefix) and q), None)
            if mode == "drop":
                handler.close_connection = True
                handler.connection.shutdown(2)  # the write happened; its answer never arrives
                return
            if mode == "502":
                return self._send(handler, 502, {"errorMessages": ["Bad gateway"]})
        if status == 204:
            with self.lock:
                self.responses.append((method, parts.path, query, 204, None))
            handler.send_response(204)
            handler.end_headers()
            return
        self._send(handler, status, payload)

    @property
    def writes(self) -> int:
        return sum(
            1
            for method, path, _ in self.requests
            if method in ("PUT", "DELETE") or (method == "POST" and not path.endswith(("/aql", "/bulkfetch")))
        )

    def comments_of(self, key: str) -> list[dict]:
        """The comments of an issue as the fake keeps them (with their entity properties)."""
        return self._issue(key)["fields"].setdefault("comment", {"comments": []})["comments"]

    @staticmethod
    def shown(comment: dict, expand: set[str] = frozenset()) -> dict:
        """A comment as an answer shows it: properties only where `expand=properties` is
        documented and asked for, and then always as a list (empty when it has none)."""
        out = {k: v for k, v in comment.items() if k != "properties"}
        for key in ("created", "updated"):
            if isinstance(out.get(key), str):  # typed date-time (RFC 3339) in the spec
                out[key] = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", out[key])
        if "properties" in expand:
            out["properties"] = list(comment.get("properties", []))
        return out

    def _all_comments(self) -> list[tuple[dict, dict]]:
        return [(issue, c) for issue in self.issues for c in issue["fields"].get("comment", {}).get("comments", [])]

    def _touch(self, issue: dict) -> None:
        """Any change to an issue moves its `updated` to now (the newest time in the fake), as Jira does."""
        issue["_updated_ms"] = max(i["_updated_ms"] for i in self.issues) + 1000
        from datetime import UTC, datetime

        issue["fields"]["updated"] = datetime.fromtimestamp(issue["_updated_ms"] / 1000, UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.000+0000"
        )

    def _write(self, method: str, route: str, body: Any) -> tuple[int, Any] | None:
        me = {"accountId": "bot-account", "displayName": "sdbridge bot"} if self.cloud else {"name": "bot"}
        if route == "myself" and method == "GET":
            return 200, {**me, "accountType": "atlassian", "active": True} if self.cloud else me
        if route == "comment/list" and method == "POST":
            wanted = {str(i) for i in (body or {}).get("ids", [])}
            expand = set(query_expand(self._last_query))
            found = [self.shown(c, expand) for _, c in self._all_comments() if c["id"] in wanted]
            return 200, {"isLast": True, "maxResults": 1000, "startAt": 0, "total": len(found), "values": found}
        match = re.fullmatch(r"comment/([^/]+)/properties/([^/]+)", route)
        if match and method == "GET":
            found = [c for _, c in self._all_comments() if c["id"] == match.group(1)]
            if not found:
                return 404, {"errorMessages": ["Can not find a comment for the id."]}
            prop = next((p for p in found[0].get("properties", []) if p["key"] == match.group(2)), None)
            if prop is None:
                return 404, {"errorMessages": [f"The property with key '{match.group(2)}' does not exist."]}
            return 200, {"key": prop["key"], "value": prop["value"]}
        match = re.fullmatch(r"issue/([^/]+)/comment(?:/(\d+))?", route.split("?")[0])
        if match and not (method == "GET" and match.group(2) is None):
            issue = self._issue(match.group(1))
            comments = self.comments_of(match.group(1))
            if method == "POST":
                comment = {
                    "id": str(10_000 + len(self.requests)),
                    "body": body["body"],
                    "author": me,
                    "properties": body.get("properties", []),
                    "created": issue["fields"]["updated"],
                }
                comments.append(comment)
                issue["fields"]["comment"]["total"] = len(comments)
                self._touch(issue)
                return 201, self.shown(comment)
            found = [c for c in comments if c["id"] == match.group(2)]
            if not found:
                return 404, {"errorMessages": ["Can not find a comment for the id."]}
            expand = set(query_expand(self._last_query)) & documented_expansions("GET", self._last_path)
            if method == "GET":
                return 200, self.shown(found[0], expand)
            if method == "PUT":
                found[0]["body"] = body["body"]
                self._touch(issue)
                return 200, self.shown(found[0])
            if method == "DELETE":
                comments.remove(found[0])
                issue["fields"]["comment"]["total"] = len(comments)
                self._touch(issue)
                return 204, None
        match = re.fullmatch(r"issue/([^/]+)", route)
        if match and method == "PUT":
            quiet = str(self._last_query.get("notifyUsers", "true")).lower() == "false"
            if quiet and not self.may_silence:
                if not self.cloud:  # Data Center refuses; Cloud ignores the wish (its documentation)
                    return 403, {
                        "errorMessages": [
                            "To discard the user notification either admin or project admin permissions are required."
                        ],
                        "errors": {},
                    }
                quiet = False
            if not quiet:
                self.notified.append(match.group(1))  # every watcher gets an e-mail
            issue = self._issue(match.group(1))
            for change in (body.get("update") or {}).get("labels", []):
                labels = issue["fields"].setdefault("labels", [])
                if "add" in change and change["add"] not in labels:
                    labels.append(change["add"])
                if "remove" in change and change["remove"] in labels:
                    labels.remove(change["remove"])
            issue["fields"].update(body.get("fields") or {})
            self._touch(issue)
            return 204, None
        return None

    # --- routes ----------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:
        self._last_query, self._last_path = query, path
        api = "/rest/api/3/" if self.cloud else "/rest/api/2/"
        if path.startswith("/rest/api/") and not path.startswith(api) and "serverInfo" not in path:
            return 404, {"errorMessages": ["wrong API version"]}
        route = path.removeprefix(api)
        written = self._write(method, route, body)
        if written is not None:
            return written
        if path.endswith("/serverInfo"):
            return 200, {
                "baseUrl": "http://fake",
                "deploymentType": "Cloud" if self.cloud else "Server",
                "version": "1001.0.0" if self.cloud else "9.12.0",
                "versionNumbers": [1001, 0, 0] if self.cloud else [9, 12, 0],
            }
        if route == "field":
            standard = [{"id": n, "name": n.title(), "custom": False} for n in ("summary", "status", "priority")]
            return 200, standard + self.custom_fields
        if route == "status":
            return 200, [
                {"id": "3", "name": "In Progress", "statusCategory": {"key": "indeterminate"}},
                {"id": "5", "name": "Resolved", "statusCategory": {"key": "done"}},
                {"id": "10", "name": "Approved", "statusCategory": {"key": "indeterminate"}},
            ]
        if route == "changelog/bulkfetch" and method == "POST" and self.cloud:
            return self._bulk_changelog(body or {})
        if route == "project" and method == "GET":  # Get all projects: a list, not paged
            keys = sorted({_project(i) for i in self.issues})
            return 200, [
                {"id": str(10000 + n), "key": k, "name": k, "self": f"http://fake/project/{k}"}
                for n, k in enumerate(keys)
            ]
        if route == "search/jql" and self.cloud:
            return self._search_jql(query)
        if route == "search":
            if self.cloud:
                return 410, {"errorMessages": ["The requested API has been removed. Use /rest/api/3/search/jql."]}
            return self._search_dc(query)
        match = re.fullmatch(r"issue/([^/]+)/changelog", route)
        if match and self.cloud:
            return self._changelog(match.group(1), query)
        match = re.fullmatch(r"issue/([^/]+)/comment", route)
        if match:
            issue = self._issue(match.group(1))
            comments = issue["fields"].get("comment", {}).get("comments", [])
            start, size = int(query.get("startAt", 0)), min(int(query.get("maxResults", 50)), 100)
            page = [self.shown(c) for c in comments[start : start + size]]
            return 200, {"comments": page, "startAt": start, "maxResults": size, "total": len(comments)}
        match = re.fullmatch(r"issue/([^/]+)", route)
        if match:  # `GET issue/{idOrKey}`: the fields asked for, the changelog when expanded
            issue = self._issue(match.group(1))
            shaped = self._shape(issue, query.get("fields"))
            if "changelog" in query_expand(query):
                histories = [  # `created` an RFC 3339 date-time, as in the changelog pages
                    {"created": re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", h["created"]), "items": h["items"]}
                    for h in issue.get("_changelog", [])
                ]
                log: dict[str, Any] = {"histories": histories}
                if self.changelog_total:
                    log.update(startAt=0, maxResults=len(histories), total=len(histories))
                shaped["changelog"] = log
            return 200, shaped
        match = re.fullmatch(r"/rest/servicedeskapi/request/([^/]+)/approval", path)
        if match:
            if self._issue(match.group(1)).get("_not_request"):  # created without a request type
                return 404, {
                    "errorMessage": "The customer request does not exist.",
                    "i18nErrorMessage": {"i18nKey": "sd.customer.request.does.not.exist", "parameters": []},
                }
            approvals = self._issue(match.group(1)).get("_approvals", [])
            start, limit = int(query.get("start", 0)), min(int(query.get("limit", 50)), APPROVALS_PAGE)
            page = approvals[start : start + limit]
            last = start + limit >= len(approvals)
            links: dict[str, str] = {"base": "http://fake", "context": "", "self": f"http://fake{path}"}
            if not last:
                links["next"] = f"http://fake{path}?start={start + limit}&limit={limit}"
            return 200, {
                "_links": links,
                "isLastPage": last,
                "limit": limit,
                "size": len(page),
                "start": start,
                "values": page,
            }
        if re.fullmatch(r"/jsm/assets/workspace/[^/]+/v1/object/aql", path) and method == "POST":
            start, size = int(query.get("startAt", 0)), min(int(query.get("maxResults", 25)), 25)
            page = self.assets[start : start + size]
            return 200, {
                "values": page,
                "startAt": start,
                "maxResults": size,
                "total": len(self.assets),
                "isLast": start + size >= len(self.assets),
            }
        return 404, {"errorMessages": [f"no route {path}"]}

    def _issue(self, key: str) -> dict:
        for issue in self.issues:
            if issue["key"] == key or issue["id"] == key:
                return issue
        raise KeyError(key)

    def _matching(self, jql: str) -> list[dict]:
        """The issues a JQL of sdbridge's shapes selects, as Jira selects them: `project in
        (...)` / `project = "X"`; `updated >= ms`; `key > "P-N"` (and `id > N`, JQL's alias of
        the key) compares within project P only — Jira reads a key range as "issues of P with
        a higher number", never as a range across projects; `ORDER BY key` sorts project by
        project, numbers rising."""
        issues = list(self.issues)
        listed = re.search(r"project in \(([^)]*)\)", jql)
        if listed:
            keys = {k.strip().strip('"') for k in listed.group(1).split(",")}
            issues = [i for i in issues if _project(i) in keys]
        for one in re.findall(r'project = "([^"]+)"', jql):
            issues = [i for i in issues if _project(i) == one]
        since = re.search(r"updated >= (\d+)", jql)
        if since:
            issues = [i for i in issues if i["_updated_ms"] >= int(since.group(1))]
        after = re.search(r'(?:key|issuekey) > "([A-Z][A-Z0-9_]*)-(\d+)"', jql)
        by_id = re.search(r"\bid > (\d+)", jql)
        if by_id:
            anchor = self._issue(by_id.group(1))["key"]
            after = re.match(r"([A-Z][A-Z0-9_]*)-(\d+)", anchor)
        if after:
            issues = [i for i in issues if _project(i) == after.group(1) and _number(i) > int(after.group(2))]
        if "ORDER BY key" in jql:
            return sorted(issues, key=lambda i: (_project(i), _number(i)))
        return sorted(issues, key=lambda i: (i["_updated_ms"], _project(i), _number(i)))

    def _shape(self, issue: dict, fields: str | None) -> dict:
        wanted = set((fields or "*all").split(","))
        shown = {k: v for k, v in issue["fields"].items() if "*all" in wanted or k in wanted}
        return {"id": issue["id"], "key": issue["key"], "self": f"http://fake/issue/{issue['id']}", "fields": shown}

    def _search_jql(self, query: dict) -> tuple[int, Any]:
        size = min(int(query.get("maxResults", 50)), SEARCH_PAGE_CLOUD)
        token = base64.b64decode(query["nextPageToken"]).decode() if query.get("nextPageToken") else "0"
        offset = int(token) if token.isdigit() else 0
        matching = self._matching(query.get("jql", ""))
        page = matching[offset : offset + size]
        result: dict[str, Any] = {"issues": [self._shape(i, query.get("fields")) for i in page]}
        for shaped in result["issues"]:
            block = shaped["fields"].get("comment")
            if isinstance(block, dict) and "comments" in block:
                shaped["fields"]["comment"] = {**block, "comments": [self.shown(c) for c in block["comments"]]}
        if self.endless:  # a broken server: a new token every time, and the first page again
            self._tokens += 1
            result["issues"] = [self._shape(i, query.get("fields")) for i in matching[:size]]
            result["nextPageToken"] = base64.b64encode(f"again-{self._tokens}".encode()).decode()
        elif offset + size < len(matching):
            result["nextPageToken"] = base64.b64encode(str(offset + size).encode()).decode()
        else:
            result["isLast"] = True
        return 200, result

    def _search_dc(self, query: dict) -> tuple[int, Any]:
        start = int(query.get("startAt", 0))
        if start >= self.dc_window:
            return 400, {"errorMessages": [f"The result window is limited to {self.dc_window} results."]}
        size = min(int(query.get("maxResults", 50)), SEARCH_PAGE_DC, self.dc_window - start)
        matching = self._matching(query.get("jql", ""))
        page = matching[start : start + size]
        return 200, {
            "startAt": start,
            "maxResults": size,
            "total": len(matching),
            "issues": [self._shape(i, query.get("fields")) for i in page],
        }

    def _bulk_changelog(self, body: dict) -> tuple[int, Any]:
        """`POST /changelog/bulkfetch`: up to 1,000 issues; a page holds at most `maxResults`
        change histories across them; `nextPageToken` (opaque here: an offset) only while more
        remain; `fieldIds` keeps the items of those fields."""
        wanted = body.get("issueIdsOrKeys") or []
        if not 1 <= len(wanted) <= 1000:
            return 400, {"errorMessages": ["issueIdsOrKeys must hold 1 to 1000 issues"]}
        size = min(int(body.get("maxResults", 1000)), 10_000, self.bulk_changelog_page)
        fields = set(body.get("fieldIds") or [])
        entries = []
        for ref in wanted:
            issue = self._issue(str(ref))
            for history in issue.get("_changelog", []):
                items = [i for i in history["items"] if not fields or i.get("fieldId", i.get("field")) in fields]
                if items:
                    created = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", history["created"])
                    entries.append((issue["id"], {**history, "created": created, "items": items}))
        start = int(body.get("nextPageToken") or 0)
        page = entries[start : start + size]
        logs: dict[str, list[dict]] = {}
        for issue_id, history in page:
            logs.setdefault(issue_id, []).append(history)
        result: dict[str, Any] = {"issueChangeLogs": [{"issueId": i, "changeHistories": h} for i, h in logs.items()]}
        if start + size < len(entries):
            result["nextPageToken"] = str(start + size)
        return 200, result

    def _changelog(self, key: str, query: dict) -> tuple[int, Any]:
        histories = self._issue(key).get("_changelog", [])
        start = int(query.get("startAt", 0))
        size = min(int(query.get("maxResults", 100)), CHANGELOG_PAGE)
        # The spec types `created` as an RFC 3339 date-time ("+01:00"); issue fields keep Jira's
        # "+0100" form, so a pull meets both.
        page = [
            {**h, "created": re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", h["created"])}
            for h in histories[start : start + size]
        ]
        result = {"values": page, "startAt": start, "maxResults": size, "isLast": start + size >= len(histories)}
        if self.changelog_total:
            result["total"] = len(histories)
        return 200, result
