"""A loopback fake of GitLab's REST API v4, following GitLab's documented shapes, for tests that
drive the real `python-gitlab` client over real HTTP.

Offset pagination with `X-Page`/`X-Next-Page`/`X-Total` (omitted above `total_limit`, as
GitLab omits it above 10,000) and a `Link: rel="next"` header; keyset pagination (`Link`
with `id_after`) for a group's projects; `RateLimit-*` headers on every answer;
`PRIVATE-TOKEN` auth; forbidden projects; faults injected per path prefix.

`POST /api/graphql` is GitLab's GraphQL API over the same projects (tests/fakes/gitlab_graphql.py:
the schema subset sdbridge reads, executed by graphql-core).

Strict by default, as GitLab's API documentation says: the pipelines list carries basic
pipelines only (who ran one and when it finished come from the single pipeline); the
repository tree pages by keyset only and answers 404 for a path that does not exist;
deployments ordered by `updated_at` need an `updated_after`/`updated_before` filter. Every
answer of an endpoint with a schema pinned in tests/contracts/gitlab/ is validated when the
fake stops. `lose_next` carries a write out and then loses its answer.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.fakes.waiting import Waitable

MAX_PER_PAGE = 100


class RawText(str):
    """A body sent as plain text (a raw repository file), not JSON."""


BOT = {"id": 1, "username": "sdbridge-bot", "name": "sdbridge bot", "state": "active"}
PIPELINE_BASIC = (
    "id",
    "iid",
    "project_id",
    "status",
    "source",
    "ref",
    "sha",
    "name",
    "web_url",
    "created_at",
    "updated_at",
)
"""What the pipelines list carries (GitLab docs, 'List project pipelines')."""


def schema_of(path: str) -> tuple[str, bool] | None:
    """The pinned schema of an answer (name, whether the answer is a list of it)."""
    rules = [
        (r"/api/v4/user", "user", False),
        (r"/api/v4/projects/[^/]+/pipelines", "pipelines_list_item", True),
        (r"/api/v4/projects/[^/]+/pipelines/\d+", "pipeline", False),
        (r"/api/v4/projects/[^/]+/repository/tree", "repository_tree_item", True),
        (r"/api/v4/projects/[^/]+/(issues|merge_requests)/\d+/notes", "note", True),
        (r"/api/v4/projects/[^/]+/(issues|merge_requests)/\d+/notes/\d+", "note", False),
        (r"/api/v4/projects/[^/]+/merge_requests/\d+/approvals", "merge_request_approvals", False),
    ]
    for pattern, name, listed in rules:
        if re.fullmatch(pattern, path):
            return name, listed
    return None


@dataclass
class FakeProject:
    id: int
    path: str
    default_branch: str = "main"
    archived: bool = False
    forbidden: bool = False
    issues: list[dict] = field(default_factory=list)
    notes: dict[int, list[dict]] = field(default_factory=dict)
    mr_notes: dict[int, list[dict]] = field(default_factory=dict)
    links: dict[int, list[dict]] = field(default_factory=dict)
    merge_requests: list[dict] = field(default_factory=list)
    approvals: dict[int, dict] = field(default_factory=dict)
    deployments: list[dict] = field(default_factory=list)
    environments: list[dict] = field(default_factory=list)
    releases: list[dict] = field(default_factory=list)
    pipelines: list[dict] = field(default_factory=list)
    test_reports: dict[int, dict] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    """Repository files of the default branch: path -> text."""
    hooks: list[dict] = field(default_factory=list)
    """Project webhooks as `GET /projects/:id/hooks` lists them (the secret token kept apart)."""
    hook_tokens: dict[int, str] = field(default_factory=dict)

    def json(self) -> dict:
        return {
            "id": self.id,
            "path_with_namespace": self.path,
            "name": self.path.split("/")[-1],
            "default_branch": self.default_branch,
            "archived": self.archived,
            "web_url": f"https://gitlab.example.invalid/{self.path}",
        }


@dataclass
class FakeGitLab(Waitable):
    token: str = "glpat-secret"
    projects: list[FakeProject] = field(default_factory=list)
    groups: dict[str, list[int]] = field(default_factory=dict)
    total_limit: int = 10_000
    next_to_itself: bool = False
    """Offset listings: the last page's `Link: rel="next"` points back at itself."""
    requests: list[tuple[str, dict]] = field(default_factory=list)
    methods: list[tuple[str, str]] = field(default_factory=list)
    faults: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    lost: dict[str, list[str]] = field(default_factory=dict)
    responses: list[tuple[str, str, int, Any]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _changed: threading.Condition = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._changed = threading.Condition(self.lock)

    graphql: bool | str | dict = True
    """Whether `POST /api/graphql` answers: True; False (404, as on a server without it); an
    error message every query gets (as a server whose schema lacks a field answers); or a
    canned answer body (for hostile shapes)."""
    graphql_requests: list[dict] = field(default_factory=list)
    graphql_before_17_4: bool = False
    """Answer GraphQL with the schema of a GitLab before 17.4 (`MergeRequest` has no `closedAt`)."""

    def lose_next(self, prefix: str, *modes: str) -> None:
        """Carry out the next write(s) under `prefix`, then answer 502 or drop the connection."""
        self.lost.setdefault(prefix, []).extend(modes)

    def contract_problems(self) -> list[str]:
        from tests.contracts import gitlab_problems

        found: list[str] = []
        for method, path, status, body in self.responses:
            rule = schema_of(path)
            if rule is None or not 200 <= status < 300:
                continue
            name, listed = rule
            listed = listed and method == "GET"  # a POST to a list creates one
            for value in body if listed else [body]:
                found += [f"{path}: {p}" for p in gitlab_problems(name, value)]
        return found

    def fail_next(self, prefix: str, *responses: tuple[int, dict[str, str]]) -> None:
        self.faults.setdefault(prefix, []).extend(responses)

    def count(self, pattern: str) -> int:
        return sum(1 for path, _ in self.requests if re.search(pattern, path))

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                try:
                    fake._handle(self)
                finally:
                    fake.answered()

            def do_POST(self) -> None:  # noqa: N802
                try:
                    fake._handle(self)
                finally:
                    fake.answered()

            def do_PUT(self) -> None:  # noqa: N802
                try:
                    fake._handle(self)
                finally:
                    fake.answered()

            def do_DELETE(self) -> None:  # noqa: N802
                try:
                    fake._handle(self)
                finally:
                    fake.answered()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.base

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        problems = self.contract_problems()
        assert not problems, "the fake GitLab answered outside its documented shapes:\n" + "\n".join(problems[:10])

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict | None = None) -> None:
        raw = isinstance(body, RawText)
        with self.lock:
            self.responses.append((handler.command, urlsplit(handler.path).path, status, body))
        data = body.encode() if raw else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain; charset=utf-8" if raw else "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("RateLimit-Limit", "600")
        handler.send_header("RateLimit-Remaining", "599")
        for k, v in (headers or {}).items():
            handler.send_header(k, v)
        handler.end_headers()
        handler.wfile.write(data)

    @property
    def writes(self) -> int:
        return sum(1 for method, path in self.methods if method != "GET" and path != "/api/graphql")  # a query reads

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        method = handler.command
        body: dict = {}
        if method in ("POST", "PUT"):
            raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        with self.lock:
            self.requests.append((path, query))
            self.methods.append((method, path))
            for prefix, queue in self.faults.items():
                if path.startswith(prefix) and queue:
                    status, headers = queue.pop(0)
                    return self._send(handler, status, {"message": "injected"}, headers)
        if handler.headers.get("PRIVATE-TOKEN") != self.token:
            return self._send(handler, 401, {"message": "401 Unauthorized"})
        if path == "/api/graphql" and method == "POST":
            with self.lock:
                self.graphql_requests.append(body)
            if self.graphql is False:
                return self._send(handler, 404, {"message": "404 Not Found"})
            if isinstance(self.graphql, str):
                return self._send(handler, 200, {"errors": [{"message": self.graphql}]})
            if isinstance(self.graphql, dict):
                return self._send(handler, 200, self.graphql)
            from tests.fakes.gitlab_graphql import answer

            return self._send(handler, 200, answer(self, body))
        if method != "GET":
            status, payload = self._write(method, path, body)
            with self.lock:
                mode = next((q.pop(0) for prefix, q in self.lost.items() if path.startswith(prefix) and q), None)
            if mode == "drop" and status < 300:
                handler.close_connection = True
                handler.connection.shutdown(2)  # carried out; the answer never arrives
                return
            if mode == "502" and status < 300:
                return self._send(handler, 502, {"message": "502 Bad Gateway"})
            if status == 204:
                handler.send_response(204)
                handler.end_headers()
                return
            return self._send(handler, status, payload)
        if path == "/api/v4/user":
            return self._send(handler, 200, BOT)
        written = self._read_note(path)
        if written is not None:
            return self._send(handler, *written)
        status, body, headers = self._route(path, query)
        self._send(handler, status, body, headers)

    def _notes(self, path: str) -> tuple[FakeProject, dict, list[dict], str | None] | None:
        m = re.fullmatch(r"/api/v4/projects/([^/]+)/(issues|merge_requests)/(\d+)/notes(?:/(\d+))?", path)
        if not m:
            return None
        project = self._project(m.group(1))
        iid = int(m.group(3))
        items = project.issues if m.group(2) == "issues" else project.merge_requests
        item = next(i for i in items if i["iid"] == iid)
        store = project.notes if m.group(2) == "issues" else project.mr_notes
        return project, item, store.setdefault(iid, []), m.group(4)

    def _touch(self, item: dict) -> None:
        """A change moves `updated_at` to now (the newest time in the fake), as GitLab does."""
        newest = max(i["updated_at"] for p in self.projects for i in (*p.issues, *p.merge_requests))
        moment = datetime.strptime(newest[:19], "%Y-%m-%dT%H:%M:%S") + timedelta(seconds=1)
        item["updated_at"] = moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def _read_note(self, path: str) -> tuple[int, Any] | None:
        found = self._notes(path)
        if not found or found[3] is None:
            return None
        note = next((n for n in found[2] if str(n["id"]) == found[3]), None)
        return (200, note) if note else (404, {"message": "404 Not found"})

    def _write(self, method: str, path: str, body: dict) -> tuple[int, Any]:
        found = self._notes(path)
        if found:
            project, item, notes, note_id = found
            if method == "POST":
                note = {
                    "id": 800_000 + len(self.requests),
                    "body": body["body"],
                    "author": BOT,
                    "system": False,
                    "created_at": item["updated_at"],
                    "noteable_type": "Issue" if "/issues/" in path else "MergeRequest",
                    "noteable_iid": item["iid"],
                }
                notes.append(note)
                self._touch(item)
                return 201, note
            note = next((n for n in notes if str(n["id"]) == note_id), None)
            if note is None:
                return 404, {"message": "404 Not found"}
            if method == "PUT":
                note["body"] = body["body"]
                self._touch(item)
                return 200, note
            notes.remove(note)
            self._touch(item)
            return 204, None
        m = re.fullmatch(r"/api/v4/projects/([^/]+)/(issues|merge_requests)(?:/(\d+))?", path)
        if m:
            project = self._project(m.group(1))
            items = project.issues if m.group(2) == "issues" else project.merge_requests
            if method == "POST" and m.group(3) is None:
                iid = max((i["iid"] for i in items), default=0) + 1
                issue = {  # what GitLab answers for a new issue (REST "New issue"), in full
                    "id": 90_000 + iid,
                    "iid": iid,
                    "project_id": project.id,
                    "title": body.get("title"),
                    "description": body.get("description"),
                    "labels": [],
                    "state": "opened",
                    "issue_type": "issue",
                    "author": BOT,
                    "assignee": None,
                    "assignees": [],
                    "closed_at": None,
                    "updated_at": "2026-01-01T00:00:00.000Z",
                    "web_url": f"https://gitlab.example.invalid/{project.path}/-/issues/{iid}",
                    "references": {"short": f"#{iid}", "full": f"{project.path}#{iid}"},
                }
                self._touch(issue)  # created now: the newest time in the fake
                issue["created_at"] = issue["updated_at"]
                items.append(issue)
                return 201, issue
            item = next(i for i in items if i["iid"] == int(m.group(3)))
            for label in str(body.get("add_labels", "")).split(","):
                if label and label not in item["labels"]:
                    item["labels"].append(label)
            for label in str(body.get("remove_labels", "")).split(","):
                if label in item["labels"]:
                    item["labels"].remove(label)
            for key in ("title", "description"):
                if key in body:
                    item[key] = body[key]
            self._touch(item)
            return 200, item
        m = re.fullmatch(r"/api/v4/projects/([^/]+)/hooks(?:/(\d+))?", path)
        if m:  # project webhooks (project_webhooks.md): add, edit; the token is never shown
            project = self._project(m.group(1))
            if project is None:
                return 404, {"message": "404 Project Not Found"}
            events = {k: bool(v) for k, v in body.items() if k.endswith("_events") or k == "enable_ssl_verification"}
            if method == "POST" and m.group(2) is None:
                hook = {
                    "id": 700 + len(project.hooks) + 1,
                    "url": body["url"],
                    "project_id": project.id,
                    "created_at": "2026-01-01T00:00:00.000Z",
                    **events,
                }
                project.hooks.append(hook)
                project.hook_tokens[hook["id"]] = body.get("token", "")
                return 201, hook
            hook = next((h for h in project.hooks if str(h["id"]) == m.group(2)), None)
            if hook is None:
                return 404, {"message": "404 Not found"}
            if method == "PUT":
                hook.update(url=body.get("url", hook["url"]), **events)
                if "token" in body:
                    project.hook_tokens[hook["id"]] = body["token"]
                return 200, hook
        return 404, {"message": "404 Not Found"}

    def _project(self, ref: str) -> FakeProject | None:
        ref = unquote(ref)
        for project in self.projects:
            if str(project.id) == ref or project.path == ref:
                return project
        return None

    def _page(self, path: str, items: list, query: dict) -> tuple[int, Any, dict]:
        per_page = min(int(query.get("per_page", 20)), MAX_PER_PAGE)
        page = int(query.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page)}
        more = page * per_page < len(items)
        headers["X-Next-Page"] = str(page + 1) if more else ""
        if len(items) <= self.total_limit:
            headers["X-Total"] = str(len(items))
            headers["X-Total-Pages"] = str(max(1, -(-len(items) // per_page)))
        if more:
            nxt = {**query, "page": str(page + 1), "per_page": str(per_page)}
            headers["Link"] = f'<{self.base}{path}?{urlencode(nxt)}>; rel="next"'
        elif self.next_to_itself:  # a broken server or proxy: the last page says its next is itself
            headers["Link"] = f'<{self.base}{path}?{urlencode(query)}>; rel="next"'
        return 200, chunk, headers

    def _keyset(self, path: str, items: list[dict], query: dict, key: str) -> tuple[int, Any, dict]:
        """Keyset pagination: `page_token` is the key of the last item of the previous page."""
        per_page = min(int(query.get("per_page", 20)), MAX_PER_PAGE)
        after = query.get("page_token")
        rest = [i for i in sorted(items, key=lambda i: i[key]) if after is None or i[key] > after]
        chunk = rest[:per_page]
        headers = {}
        if len(rest) > per_page:
            nxt = {**query, "page_token": chunk[-1][key], "pagination": "keyset"}
            headers["Link"] = f'<{self.base}{path}?{urlencode(nxt)}>; rel="next"'
        return 200, chunk, headers

    def _updated(self, items: list[dict], query: dict, key: str = "updated_at") -> list[dict]:
        since = query.get("updated_after")
        chosen = [i for i in items if not since or i[key] >= since]
        return sorted(chosen, key=lambda i: (i[key], i["id"]))

    def _route(self, path: str, query: dict) -> tuple[int, Any, dict]:
        match = re.fullmatch(r"/api/v4/groups/([^/]+)/projects", path)
        if match:
            ids = self.groups.get(unquote(match.group(1)))
            if ids is None:
                return 404, {"message": "404 Group Not Found"}, {}
            projects = [
                p
                for p in self.projects
                if p.id in ids and (str(query.get("archived")).lower() != "false" or not p.archived)
            ]
            projects.sort(key=lambda p: p.id)
            # GitLab documents keyset pagination for `GET /projects` only; here `pagination`
            # is not a parameter (groups.md), so the listing pages by offset whatever is sent.
            if "pagination" in query:
                return 400, {"error": "pagination does not have a valid value"}, {}
            return self._page(path, [p.json() for p in projects], query)
        match = re.fullmatch(r"/api/v4/projects/([^/]+)(/.*)?", path)
        if not match:
            return 404, {"message": "404 Not Found"}, {}
        project = self._project(match.group(1))
        if project is None:
            return 404, {"message": "404 Project Not Found"}, {}
        if project.forbidden:
            return 403, {"message": "403 Forbidden"}, {}
        rest = match.group(2) or ""
        if rest == "":
            return 200, project.json(), {}
        if rest == "/issues":
            return self._page(path, self._updated(project.issues, query), query)
        if m := re.fullmatch(r"/(issues|merge_requests)/(\d+)", rest):
            items = project.issues if m.group(1) == "issues" else project.merge_requests
            found = next((i for i in items if i["iid"] == int(m.group(2))), None)
            return (200, found, {}) if found else (404, {"message": "404 Not found"}, {})
        if m := re.fullmatch(r"/deployments/(\d+)", rest):
            found = next((d for d in project.deployments if d["id"] == int(m.group(1))), None)
            return (200, found, {}) if found else (404, {"message": "404 Not found"}, {})
        if m := re.fullmatch(r"/releases/([^/]+)", rest):
            found = next((r for r in project.releases if r["tag_name"] == unquote(m.group(1))), None)
            return (200, found, {}) if found else (404, {"message": "404 Not Found"}, {})
        if rest == "/hooks":
            return self._page(path, project.hooks, query)
        if m := re.fullmatch(r"/issues/(\d+)/notes", rest):
            return self._page(path, project.notes.get(int(m.group(1)), []), query)
        if m := re.fullmatch(r"/merge_requests/(\d+)/notes", rest):
            return self._page(path, project.mr_notes.get(int(m.group(1)), []), query)
        if m := re.fullmatch(r"/issues/(\d+)/links", rest):
            return 200, project.links.get(int(m.group(1)), []), {}
        if rest == "/merge_requests":
            return self._page(path, self._updated(project.merge_requests, query), query)
        if m := re.fullmatch(r"/merge_requests/(\d+)/approvals", rest):
            return 200, project.approvals.get(int(m.group(1)), {"approved": False, "approved_by": []}), {}
        if rest == "/deployments":
            if query.get("order_by") == "updated_at" and not (
                query.get("updated_after") or query.get("updated_before")
            ):
                return 400, {"message": "ordering by updated_at needs updated_after or updated_before"}, {}
            chosen = [
                d
                for d in self._updated(project.deployments, query)
                if not query.get("environment") or d["environment"]["name"] == query["environment"]
            ]
            if query.get("order_by", "id") == "id":
                chosen.sort(key=lambda d: d["id"])
            if query.get("sort") == "desc":
                chosen.reverse()
            return self._page(path, chosen, query)
        if rest == "/environments":
            return self._page(path, project.environments, query)
        if rest == "/releases":
            return self._page(path, sorted(project.releases, key=lambda r: r["released_at"], reverse=True), query)
        if rest == "/pipelines":
            chosen = [
                {k: v for k, v in p.items() if k in PIPELINE_BASIC}
                for p in self._updated(project.pipelines, query)
                if not query.get("ref") or p["ref"] == query["ref"]
            ]
            return self._page(path, chosen, query)
        if m := re.fullmatch(r"/pipelines/(\d+)", rest):
            found = next((p for p in project.pipelines if p["id"] == int(m.group(1))), None)
            return (200, found, {}) if found else (404, {"message": "404 Not found"}, {})
        if rest == "/repository/tree":
            prefix = query.get("path", "").strip("/")
            if query.get("ref", "main") != project.default_branch:
                return 404, {"message": "404 Tree Not Found"}, {}
            if prefix and not any(p.startswith(prefix + "/") for p in project.files):
                return 404, {"message": "404 invalid revision or path Not Found"}, {}
            if query.get("pagination") != "keyset" and int(query.get("page", 1)) > 1:
                return 400, {"message": "offset pagination is not supported for the repository tree; use keyset"}, {}
            entries = [
                {
                    "id": hashlib.sha1(text.encode()).hexdigest(),
                    "name": p.split("/")[-1],
                    "type": "blob",
                    "path": p,
                    "mode": "100644",
                }
                for p, text in sorted(project.files.items())
                if not prefix or p.startswith(prefix + "/")
            ]
            if query.get("pagination") == "keyset":
                return self._keyset(path, entries, query, "path")
            return self._page(path, entries, query)
        if m := re.fullmatch(r"/repository/files/(.+)/raw", rest):
            name = unquote(m.group(1))
            if name not in project.files:
                return 404, {"message": "404 File Not Found"}, {}
            return 200, RawText(project.files[name]), {}
        if m := re.fullmatch(r"/pipelines/(\d+)/test_report_summary", rest):
            empty = {
                "total": {"time": 0, "count": 0, "success": 0, "failed": 0, "skipped": 0, "error": 0},
                "test_suites": [],
            }
            return 200, project.test_reports.get(int(m.group(1)), empty), {}
        return 404, {"message": "404 Not Found"}, {}
