"""GitLab (gitlab.com or self-managed), through python-gitlab.

Per project it pulls, as items with `_kind`:
- `issue` (incidents are issues of type incident or labelled `incident`), with their notes
  (text only, no system notes, no authors) — WP.18 — and their links when a map reads
  `sdbridge.links` (a request per issue that the shipped presets do not need);
- `merge_request`, with who approved it — WP.11;
- `environment`, with the deployments made to it — WP.12 (the change schedule);
- `deployment` — what was deployed where, when, by whom, from which ref/sha;
- `release` — WP.13 (version, master copies as release assets);
- `pipeline` of the project's default branch, with its test report summary — WP.20.

Every list is iterated to its last page (`iterator=True`, `per_page=100`; keyset pagination
for a group's projects). Increments use `updated_after` per project and resource, with an
overlap window; items are de-duplicated by id in the store; a periodic full pull retires
what was deleted. The client's own retries are off: each request (each page) runs under
sdbridge's policy. A missing, moved or forbidden project is named and skipped; the others
are still pulled.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sdbridge import progress
from sdbridge.connectors.base import ItemBatch
from sdbridge.connectors.gitlab_client import NO_LIBRARY_RETRY, GitLabClient, GraphQLRefused
from sdbridge.errors import FatalSourceError, HttpStatusError

UPDATED_ORDER = {"order_by": "updated_at", "sort": "asc"}
ID_ORDER = {"order_by": "id", "sort": "asc"}
RECENT_DEPLOYMENTS = 100
"""How many of an environment's latest deployments form its change schedule (WP.12)."""


class GitLabConnector:
    """Pulls a GitLab source's projects as items. `skip_text` tells which note bodies are
    not evidence (push-back's own notes); the registry passes it."""

    def __init__(
        self, source: Any, *, resolve: Any = None, skip_text: Callable[[str | None], bool] | None = None
    ) -> None:
        self.source = source
        self.client = GitLabClient.for_source(source)
        self.skip_text = skip_text or (lambda text: False)
        self.links = reads(source, "sdbridge.links")
        """Whether issue links are pulled: only when a map reads them."""
        self.graphql = bool(getattr(source, "graphql", True))
        """Issues with their notes and merge requests with their approvals in bulk (GraphQL);
        links are REST-only (see `_graphql_issues`)."""
        self.notes: list[str] = []
        self.refused: set[str] = set()
        """GraphQL listings (`issues`, `mergeRequests`) this server refused: read over REST."""
        self._listing_queries: dict[str, str] | None = None

    @property
    def requests(self) -> int:
        return self.client.requests

    @property
    def gl(self) -> Any:
        return self.client.gl

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        return self.client.call(what, fn)

    def _each(self, what: str, start: Callable[[], Any]) -> Iterator[Any]:
        return self.client.each(what, start)

    # --- projects --------------------------------------------------------------------------

    def projects(self) -> tuple[list[Any], list[str]]:
        found, problems, seen = [], [], set()
        for ref in self.source.projects:
            try:
                project = self._call(f"reading project {ref}", partial(self.gl.projects.get, ref, **NO_LIBRARY_RETRY))
            except FatalSourceError as exc:
                problems.append(f"project {ref}: {exc.message}")
                continue
            if project.id not in seen:
                seen.add(project.id)
                found.append(project)
        for ref in self.source.groups:
            try:
                group = self.gl.groups.get(ref, lazy=True)
                listing = partial(  # offset pages: keyset is documented for `GET /projects` only
                    group.projects.list,
                    iterator=True,
                    include_subgroups=True,
                    order_by="id",
                    sort="asc",
                    archived=None if self.source.include_archived else False,
                    **NO_LIBRARY_RETRY,
                )
                listed = list(self._each(f"listing projects of group {ref}", listing))
            except FatalSourceError as exc:
                problems.append(f"group {ref}: {exc.message}")
                continue
            for light in listed:
                if light.id not in seen:
                    seen.add(light.id)
                    found.append(_Project(light.attributes))
        return found, problems

    # --- resources -------------------------------------------------------------------------

    def pull_project(self, project: Any, since: dict[str, str | None]) -> list[tuple[str, dict, str | None]]:
        pid = project.attributes["id"]
        manager = self.gl.projects.get(pid, lazy=True)
        path = project.attributes.get("path_with_namespace", str(pid))
        base = {"project_id": pid, "project": path}
        items: list[tuple[str, dict, str | None]] = []
        resources = self.source.resources

        def listing(name: str, manager_attr: Any, **query: Any) -> Iterator[Any]:
            after = since.get(name)
            if after:
                query["updated_after"] = after
            return self._each(
                f"listing {name} of {path}",
                lambda: iter(
                    manager_attr.list(iterator=True, per_page=self.source.per_page, **query, **NO_LIBRARY_RETRY)
                ),
            )

        # issue links are REST-only (see `_graphql_issues`): a map that reads them reads issues over REST
        bulk = (
            self._graphql_issues(path, pid, base, since)
            if "issues" in resources and self.graphql and "issues" not in self.refused and not self.links
            else None
        )
        if bulk is not None:
            items.extend(bulk)
        elif "issues" in resources:
            for issue in listing("issues", manager.issues, scope="all", **UPDATED_ORDER):
                items.append(self._rest_issue_item(issue.attributes, manager, path, pid, base))
        merges = (
            self._graphql_merge_requests(path, pid, base, since)
            if "merge_requests" in resources and self.graphql and "mergeRequests" not in self.refused
            else None
        )
        if merges is not None:
            items.extend(merges)
        elif "merge_requests" in resources:
            for mr in listing("merge_requests", manager.mergerequests, state="all", **UPDATED_ORDER):
                items.append(self._rest_merge_request_item(mr.attributes, manager, path, pid, base))
        if "deployments" in resources:
            # GitLab wants `order_by=updated_at` paired with an updated_at filter: an increment
            # has one; a full pull orders by id.
            order = UPDATED_ORDER if since.get("deployments") else ID_ORDER
            for deployment in listing("deployments", manager.deployments, **order):
                data = {**deployment.attributes, **base, "_kind": "deployment"}
                items.append((f"{pid}:deployment:{deployment.id}", _strip_people(data), data.get("updated_at")))
        if "environments" in resources:
            for environment in self._each(
                f"listing environments of {path}",
                lambda: iter(manager.environments.list(iterator=True, **NO_LIBRARY_RETRY)),
            ):
                data = {**environment.attributes, **base, "_kind": "environment"}
                # The schedule of an environment: its latest deployments (one page, newest first).
                recent = self._call(
                    f"reading deployments to {data.get('name')} of {path}",
                    partial(
                        manager.deployments.list,
                        environment=data.get("name"),
                        order_by="id",
                        sort="desc",
                        per_page=RECENT_DEPLOYMENTS,
                        get_all=False,
                        **NO_LIBRARY_RETRY,
                    ),
                )
                data["sdbridge"] = {
                    "deployments": [
                        {
                            "ref": d.attributes.get("ref"),
                            "sha": d.attributes.get("sha"),
                            "at": d.attributes.get("created_at"),
                            "status": d.attributes.get("status"),
                        }
                        for d in recent
                    ]
                }
                items.append((f"{pid}:environment:{environment.id}", data, data.get("updated_at")))
        if "releases" in resources:
            for release in self._each(
                f"listing releases of {path}", lambda: iter(manager.releases.list(iterator=True, **NO_LIBRARY_RETRY))
            ):
                data = {**release.attributes, **base, "_kind": "release"}
                items.append((f"{pid}:release:{data.get('tag_name')}", _strip_people(data), data.get("released_at")))
        if "pipelines" in resources:
            ref = self.source.pipeline_ref or project.attributes.get("default_branch")
            for pipeline in listing("pipelines", manager.pipelines, ref=ref, **UPDATED_ORDER):
                # The list holds basic pipelines; who ran it and when it finished (WP.20.f) are
                # only on the single pipeline.
                full_pipeline = self._call(
                    f"reading {path} pipeline {pipeline.id}",
                    partial(manager.pipelines.get, pipeline.id, **NO_LIBRARY_RETRY),
                )
                data = {**pipeline.attributes, **full_pipeline.attributes, **base, "_kind": "pipeline"}
                summary = self._call(
                    f"reading test report of {path} pipeline {pipeline.id}",
                    partial(manager.pipelines.get(pipeline.id, lazy=True).test_report_summary.get, **NO_LIBRARY_RETRY),
                )
                data["sdbridge"] = {"tests": summarise_test_report(summary.attributes)}
                items.append((f"{pid}:pipeline:{pipeline.id}", _strip_people(data), data.get("updated_at")))
        return items

    def _rest_issue_item(
        self, attributes: dict[str, Any], manager: Any, path: str, pid: int, base: dict[str, Any]
    ) -> tuple[str, dict, Any]:
        """One issue read over REST, with its notes (and links, when a map reads them)."""
        data = {**attributes, **base, "_kind": "issue"}
        iid = attributes.get("iid")
        extra: dict[str, Any] = {}
        if self.source.notes:
            handle = manager.issues.get(iid, lazy=True)  # lazy: no request
            notes = self._each(
                f"reading notes of {path}#{iid}", partial(handle.notes.list, iterator=True, **NO_LIBRARY_RETRY)
            )
            extra["notes"] = [
                n.attributes.get("body")
                for n in notes
                if not n.attributes.get("system") and not self.skip_text(n.attributes.get("body"))
            ]
        if self.links:
            handle = manager.issues.get(iid, lazy=True)
            links = self._call(
                f"reading links of {path}#{iid}", partial(handle.links.list, get_all=True, **NO_LIBRARY_RETRY)
            )
            extra["links"] = [
                link.attributes.get("references", {}).get("full") or link.attributes.get("web_url") for link in links
            ]
        data["sdbridge"] = extra
        return (f"{pid}:issue:{attributes.get('id')}", _strip_people(data), data.get("updated_at"))

    def _rest_merge_request_item(
        self, attributes: dict[str, Any], manager: Any, path: str, pid: int, base: dict[str, Any]
    ) -> tuple[str, dict, Any]:
        """One merge request read over REST, with who approved it."""
        data = {**attributes, **base, "_kind": "merge_request"}
        iid = attributes.get("iid")
        approvals = self._call(
            f"reading approvals of {path}!{iid}",
            partial(manager.mergerequests.get(iid, lazy=True).approvals.get, **NO_LIBRARY_RETRY),
        )
        approved_by = [a.get("user", {}).get("name") for a in approvals.attributes.get("approved_by", [])]
        data["sdbridge"] = {"approved_by": [a for a in approved_by if a], "approved": bool(approved_by)}
        return (f"{pid}:mr:{attributes.get('id')}", _strip_people(data), data.get("updated_at"))

    # --- one ticket (live mode) -------------------------------------------------------------

    def prepare(self) -> list[str]:
        """What live mode reads once: the source's projects (a delivery for a project outside
        them is not this source's). Returns the problems, as a pull names them."""
        projects, problems = self.projects()
        self.scope = {str(p.attributes.get("path_with_namespace")): p for p in projects}
        return problems

    def fetch_ticket(self, path: str, kind: str, iid: int) -> tuple[str, dict, Any] | None:
        """One issue (`kind` "issue") or merge request ("merge_request") of a project of this
        source, as a pull makes it: one GraphQL request for the ticket with its notes or
        approvals (REST where the pull would use REST). None when it is not there (deleted,
        moved, outside the source's projects or resources)."""
        project = getattr(self, "scope", {}).get(path)
        wanted = {"issue": "issues", "merge_request": "merge_requests"}.get(kind)
        if project is None or wanted not in self.source.resources:
            return None
        pid = project.attributes["id"]
        base = {"project_id": pid, "project": path}
        field = "issues" if kind == "issue" else "mergeRequests"
        if self.graphql and field not in self.refused and not (kind == "issue" and self.links):
            try:
                data = self.client.graphql(
                    f"reading {path} {'#' if kind == 'issue' else '!'}{iid} (GraphQL)",
                    self._queries()[field],
                    {"path": path, "first": 1, "after": None, "iids": [str(iid)]},
                )
            except GraphQLRefused:
                self.refused.add(field)
            else:
                holder = data.get("project") if isinstance(data, dict) else None
                connection = holder.get(field) if isinstance(holder, dict) else None
                nodes = [n for n in _nodes(connection) if _number(n.get("id")) and _number(n.get("iid"))]
                if not nodes:
                    return None
                if kind == "issue":
                    return self._issue_item(nodes[0], path, pid, base)
                return self._merge_request_item(nodes[0], pid, base)
        manager = self.gl.projects.get(pid, lazy=True)
        getter = manager.issues.get if kind == "issue" else manager.mergerequests.get
        try:
            ticket = self._call(f"reading {path} {kind} {iid}", partial(getter, iid, **NO_LIBRARY_RETRY))
        except HttpStatusError as exc:
            if exc.status == 404:
                return None
            raise
        if kind == "issue":
            return self._rest_issue_item(ticket.attributes, manager, path, pid, base)
        return self._rest_merge_request_item(ticket.attributes, manager, path, pid, base)

    def fetch_record(self, path: str, kind: str, ident: str) -> tuple[str, dict, Any] | None:
        """One deployment (`kind` "deployment", by id) or release ("release", by tag) of a
        project of this source, as a pull makes it; one request. None when it is not there."""
        project = getattr(self, "scope", {}).get(path)
        wanted = {"deployment": "deployments", "release": "releases"}.get(kind)
        if project is None or wanted not in self.source.resources:
            return None
        pid = project.attributes["id"]
        base = {"project_id": pid, "project": path}
        manager = self.gl.projects.get(pid, lazy=True)
        getter = manager.deployments.get if kind == "deployment" else manager.releases.get
        try:
            found = self._call(f"reading {path} {kind} {ident}", partial(getter, ident, **NO_LIBRARY_RETRY))
        except HttpStatusError as exc:
            if exc.status == 404:
                return None
            raise
        data = {**found.attributes, **base, "_kind": kind}
        if kind == "deployment":
            return (f"{pid}:deployment:{data.get('id')}", _strip_people(data), data.get("updated_at"))
        return (f"{pid}:release:{data.get('tag_name')}", _strip_people(data), data.get("released_at"))

    def _self_linked(self) -> list[str]:
        """One note for the pages whose next page was themselves (read as last pages)."""
        pages = self.client.self_links
        if not pages:
            return []
        note = (
            f"{len(pages)} page(s) named themselves as their next page (a server or proxy fault) and were read as "
            f"last pages, e.g. {pages[0]}"
        )
        self.client.self_links = []
        return [note]

    def _queries(self) -> dict[str, str]:
        """The listing queries for this server, built once a pull from the fields its schema
        offers (one introspection request). A server that will not describe itself is asked
        only what every GitLab since 13 has."""
        if self._listing_queries is None:
            offered: dict[str, set[str]] = {}
            try:
                data = self.client.graphql("reading GitLab's GraphQL schema", FIELDS_QUERY, {})
                for key, type_name in (("issue", "Issue"), ("mergeRequest", "MergeRequest")):
                    described = data.get(key)
                    fields = described.get("fields") if isinstance(described, dict) else None
                    if isinstance(fields, list):
                        offered[type_name] = {str(f.get("name")) for f in fields if isinstance(f, dict)}
            except GraphQLRefused:
                pass  # introspection off: the fields of GitLab 13 and later only
            self._listing_queries = listing_queries(offered)
        return self._listing_queries

    def _graphql(self, path: str, what: str, query: str, field: str, since: str | None) -> list[dict] | None:
        """Every node of one of a project's GraphQL listings (`issues`, `mergeRequests`), a page
        of up to 100 a request. None when the server's GraphQL cannot answer the first page
        (the caller reads over REST, and the pull says so once); a refusal after pages were
        read is a fault of this pull."""
        nodes: list[dict] = []
        known: set[Any] = set()
        variables: dict[str, Any] = {"path": path, "first": self.source.per_page, "after": None}
        if since:
            variables["updatedAfter"] = since
        pages = 0
        while True:
            try:
                data = self.client.graphql(f"reading {what} of {path} (GraphQL)", query, variables)
            except GraphQLRefused as refused:
                if pages:
                    raise FatalSourceError(f"source {self.source.name!r}: {refused}", source=self.source.name) from None
                # Only this listing goes to REST: a server that refuses the merge requests
                # query may well answer the issues one.
                self.refused.add(field)
                self.notes.append(
                    f"{self.source.name}: GitLab's GraphQL API did not answer for {what} ({refused}); they were "
                    "read over REST (a request per issue for its notes, per merge request for its approvals); "
                    "set `graphql: false` to skip the attempt"
                )
                return None
            project = data.get("project")
            if not isinstance(project, dict):
                raise FatalSourceError(
                    f"source {self.source.name!r}: project {path} is not visible to the token (GraphQL)",
                    source=self.source.name,
                    hint="check the project path and the token's access",
                )
            connection = project.get(field)
            if not isinstance(connection, dict):
                raise FatalSourceError(
                    f"source {self.source.name!r}: reading {what} of {path}: the GraphQL answer has no {field}",
                    source=self.source.name,
                )
            found = connection.get("nodes")
            page = [n for n in found if isinstance(n, dict)] if isinstance(found, list) else []
            usable = [n for n in page if _number(n.get("id")) and _number(n.get("iid"))]
            fresh = [n for n in usable if n.get("id") not in known]
            if usable and not fresh:  # a page of nodes already read: the server loops
                self.notes.append(
                    f"{self.source.name}: reading {what} of {path}: the server gave a page of {what} already read; "
                    f"the listing was ended there with {len(nodes):,}"
                )
                return nodes
            known.update(n.get("id") for n in fresh)
            nodes.extend(fresh)
            if len(usable) < len(found or []):
                self.notes.append(
                    f"{self.source.name}: {len(found or []) - len(usable)} of the {what} of {path} could not be "
                    "read from the GraphQL answer (no id); skipped"
                )
            pages += 1
            progress.update(f"pulling {self.source.name}: {what} of {path}")
            progress.count(len(nodes), None, what)
            paging = connection.get("pageInfo")
            info: dict[str, Any] = paging if isinstance(paging, dict) else {}
            if info.get("hasNextPage") is not True:
                return nodes
            cursor = info.get("endCursor")
            if (
                pages >= self.source.max_pages
                or not isinstance(cursor, str)
                or not cursor
                or cursor == variables["after"]
            ):
                raise FatalSourceError(
                    f"source {self.source.name!r}: reading {what} of {path}: still paging after {pages} pages",
                    source=self.source.name,
                    hint="narrow the projects, or raise `max_pages`",
                )
            variables["after"] = cursor

    def _graphql_issues(
        self, path: str, pid: int, base: dict[str, Any], since: dict[str, str | None]
    ) -> list[tuple[str, dict, str | None]] | None:
        """A project's issues with their notes (up to 100 each; an issue with more reads the
        rest over REST), in the REST shape the presets read. Links are not read here:
        `Issue.linkedWorkItems` exists only from GitLab 17.8, so a map that reads links uses
        REST throughout."""
        nodes = self._graphql(path, "issues", self._queries()["issues"], "issues", since.get("issues"))
        if nodes is None:
            return None
        return [self._issue_item(node, path, pid, base) for node in nodes]

    def _issue_item(self, node: dict[str, Any], path: str, pid: int, base: dict[str, Any]) -> tuple[str, dict, Any]:
        """One GraphQL issue node as the item a REST read would make."""
        data = {**rest_issue(node), **base, "_kind": "issue"}
        found = node.get("notes")
        notes: dict[str, Any] = found if isinstance(found, dict) else {}
        bodies = [n.get("body") for n in _nodes(notes) if not n.get("system")]
        paging = notes.get("pageInfo")
        if isinstance(paging, dict) and paging.get("hasNextPage") is True:
            bodies = self._rest_notes(path, data["iid"])
        data["sdbridge"] = {"notes": [b for b in bodies if not self.skip_text(b)]} if self.source.notes else {}
        return (f"{pid}:issue:{data['id']}", _strip_people(data), data.get("updated_at"))

    def _graphql_merge_requests(
        self, path: str, pid: int, base: dict[str, Any], since: dict[str, str | None]
    ) -> list[tuple[str, dict, str | None]] | None:
        """A project's merge requests with who approved each, in the REST shape."""
        nodes = self._graphql(
            path, "merge requests", self._queries()["mergeRequests"], "mergeRequests", since.get("merge_requests")
        )
        if nodes is None:
            return None
        return [self._merge_request_item(node, pid, base) for node in nodes]

    @staticmethod
    def _merge_request_item(node: dict[str, Any], pid: int, base: dict[str, Any]) -> tuple[str, dict, Any]:
        """One GraphQL merge request node as the item a REST read would make."""
        data = {**rest_merge_request(node), **base, "_kind": "merge_request"}
        approved_by = [a.get("name") for a in _nodes(node.get("approvedBy")) if a.get("name")]
        data["sdbridge"] = {"approved_by": approved_by, "approved": bool(approved_by)}
        return (f"{pid}:mr:{data['id']}", _strip_people(data), data.get("updated_at"))

    def _rest_notes(self, path: str, iid: int) -> list[str | None]:
        handle = self.gl.projects.get(path, lazy=True).issues.get(iid, lazy=True)
        notes = self._each(
            f"reading notes of {path}#{iid}", partial(handle.notes.list, iterator=True, **NO_LIBRARY_RETRY)
        )
        return [n.attributes.get("body") for n in notes if not n.attributes.get("system")]

    def pull_items(self, cursor: dict, *, full: bool = False) -> ItemBatch:
        self.client.begin()
        watermarks: dict[str, str] = dict(cursor.get("watermarks", {}))
        last_full = cursor.get("last_full")
        due = (
            self.source.full_every_days is not None
            and last_full is not None
            and datetime.fromisoformat(last_full) < datetime.now(UTC) - timedelta(days=self.source.full_every_days)
        )
        # Links wanted now but not pulled last time: every issue is read again to get them.
        links_missing = self.links and cursor.get("links", True) is False
        full = full or not cursor.get("last_full") or due or links_missing
        started = datetime.now(UTC)
        projects, problems = self.projects()
        items: list[tuple[str, dict, str | None]] = []
        for project in projects:
            pid = project.attributes["id"]
            since: dict[str, str | None] = {}
            if not full:
                for name in ("issues", "merge_requests", "deployments", "pipelines"):
                    mark = watermarks.get(f"{pid}:{name}")
                    if mark:
                        since[name] = (
                            datetime.fromisoformat(mark) - timedelta(minutes=self.source.overlap_minutes)
                        ).isoformat()
            try:
                items.extend(self.pull_project(project, since))
            except FatalSourceError as exc:
                problems.append(f"project {project.attributes.get('path_with_namespace', pid)}: {exc.message}")
                continue
            # Watermarks in the server's own time: the newest `updated_at` seen per resource.
            newest: dict[str, str] = {}
            for _item_id, data, updated in items:
                kind = {
                    "issue": "issues",
                    "merge_request": "merge_requests",
                    "deployment": "deployments",
                    "pipeline": "pipelines",
                }.get(data.get("_kind", ""))
                if kind and data.get("project_id") == pid and updated and updated > newest.get(kind, ""):
                    newest[kind] = updated
            for name, mark in newest.items():
                key = f"{pid}:{name}"
                if mark > watermarks.get(key, ""):
                    watermarks[key] = mark
        unique = {item_id: (item_id, data, updated) for item_id, data, updated in items}
        return ItemBatch(
            items=list(unique.values()),
            cursor={
                "watermarks": watermarks,
                "last_full": started.isoformat() if full else last_full,
                "links": self.links,
            },
            full=full and not problems,  # never retire items of a project that could not be read
            requests=self.requests,
            notes=[*problems, *self.notes, *self.client.notes, *self._self_linked()],
            problems=problems,
        )


class _Project:
    """A project as a group listing returns it (enough to pull it without another request)."""

    def __init__(self, attributes: dict) -> None:
        self.attributes = attributes
        self.id = attributes["id"]


def summarise_test_report(report: dict) -> dict:
    """GitLab's test report summary, with a sentence a report can show."""
    total = report.get("total") or {}
    suites = report.get("test_suites") or []
    count = int(total.get("count") or 0)
    failed = int(total.get("failed") or 0) + int(total.get("error") or 0)
    text = (
        f"{total.get('success', 0)} passed, {failed} failed, {total.get('skipped', 0)} skipped of {count}"
        if count
        else None
    )
    return {
        "count": count,
        "failed": failed,
        "has_tests": count > 0,
        "summary": text,
        "suites": [s.get("name") for s in suites if s.get("name")],
        "errors_resolution": "no failed tests" if count and not failed else None,
    }


LISTED = "id iid title description state webUrl createdAt updatedAt"
"""Fields every listed issue and merge request has had since GitLab 13: asked always."""
OPTIONAL_FIELDS = {"Issue": ("closedAt",), "MergeRequest": ("closedAt",)}
"""Fields a server may not have: `MergeRequest.closedAt` exists only since GitLab 17.4 (an
older server refuses the whole query for it). Asked only when the server's schema offers them
(`FIELDS_QUERY`); read as absent otherwise."""
FIELDS_QUERY = """
query {
  issue: __type(name: "Issue") { fields { name } }
  mergeRequest: __type(name: "MergeRequest") { fields { name } }
}
"""
"""The server's own schema, read once a pull (GraphQL introspection): which fields it offers."""


def _listing_query(field: str, fields: str, optional: tuple[str, ...] = ()) -> str:
    """A project's listing (`issues`, `mergeRequests`) a page at a time, oldest change first,
    from a watermark, or the one ticket `iids` names (live mode): arguments as GitLab's
    GraphQL reference gives them."""
    return f"""
query($path: ID!, $first: Int!, $after: String, $updatedAfter: Time, $iids: [String!]) {{
  project(fullPath: $path) {{
    {field}(first: $first, after: $after, updatedAfter: $updatedAfter, iids: $iids, sort: UPDATED_ASC) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        {" ".join((LISTED, *optional))}
        reference(full: true)
        labels {{ nodes {{ title }} }}
        author {{ name username }}
        {fields}
      }}
    }}
  }}
}}
"""


ISSUE_FIELDS = (
    "type assignees { nodes { name username } } notes(first: 100) { pageInfo { hasNextPage } nodes { body system } }"
)
MERGE_REQUEST_FIELDS = "mergedAt milestone { dueDate } approvedBy { nodes { name username } }"
ISSUES_QUERY = _listing_query("issues", ISSUE_FIELDS, OPTIONAL_FIELDS["Issue"])
"""Issues with their people, labels and notes (Issue, Note, UserCore, LabelConnection)."""
MERGE_REQUESTS_QUERY = _listing_query("mergeRequests", MERGE_REQUEST_FIELDS, OPTIONAL_FIELDS["MergeRequest"])
"""Merge requests with their milestone and who approved them (MergeRequest, Milestone), as a
server of GitLab 17.4 or later is asked."""


def listing_queries(offered: dict[str, set[str]]) -> dict[str, str]:
    """The issues and merge requests queries with the optional fields the server offers."""
    return {
        "issues": _listing_query(
            "issues", ISSUE_FIELDS, tuple(f for f in OPTIONAL_FIELDS["Issue"] if f in offered.get("Issue", ()))
        ),
        "mergeRequests": _listing_query(
            "mergeRequests",
            MERGE_REQUEST_FIELDS,
            tuple(f for f in OPTIONAL_FIELDS["MergeRequest"] if f in offered.get("MergeRequest", ())),
        ),
    }


def _rest_listed(node: dict[str, Any]) -> dict[str, Any]:
    """What issues and merge requests share, in REST's names and shapes (the fields the
    listing query asks for both)."""
    author = node.get("author") if isinstance(node.get("author"), dict) else None
    return {
        "id": _number(node.get("id")),
        "iid": _number(node.get("iid")),
        "title": node.get("title"),
        "description": node.get("description"),
        "state": node.get("state"),
        "web_url": node.get("webUrl"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "closed_at": node.get("closedAt"),
        "references": {"full": node.get("reference")},
        "labels": [label.get("title") for label in _nodes(node.get("labels"))],
        "author": _person(author) if author else None,
    }


def _person(user: dict[str, Any]) -> dict[str, Any]:
    return {"name": user.get("name"), "username": user.get("username")}


def rest_merge_request(node: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL merge request in the shape of REST's (`GET /projects/:id/merge_requests`) for
    what the presets read."""
    milestone = node.get("milestone") if isinstance(node.get("milestone"), dict) else None
    due = milestone.get("dueDate") if milestone else None
    return {
        **_rest_listed(node),
        "merged_at": node.get("mergedAt"),
        "milestone": {"due_date": str(due)[:10]} if due else None,
    }


def rest_issue(node: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL issue in the shape of REST's (`GET /projects/:id/issues`) for what the presets
    read: ids, title, description, state, type, links, times, labels and people's names."""
    people = [_person(a) for a in _nodes(node.get("assignees"))]
    return {
        **_rest_listed(node),
        "issue_type": str(node.get("type") or "ISSUE").lower(),
        "assignees": people,
        "assignee": people[0] if people else None,
    }


def _nodes(connection: Any) -> list[dict[str, Any]]:
    found = connection.get("nodes") if isinstance(connection, dict) else None
    return [n for n in found if isinstance(n, dict)] if isinstance(found, list) else []


def _number(value: Any) -> int | None:
    """A GraphQL id (`gid://gitlab/Issue/123`) or iid (`"7"`) as a number, None when it is not one."""
    text = str(value or "").rsplit("/", 1)[-1]
    return int(text) if text.isdigit() else None


def reads(source: Any, reference: str) -> bool:
    """Whether any of the source's maps reads a field path (`sdbridge.links`, or below it)."""
    text = json.dumps(source.map_raw(), default=str)
    return reference in text


_PERSONAL = ("email", "public_email", "avatar_url")


def _strip_people(data: dict) -> dict:
    """Keep names (who reported, who resolved) and drop contact details nobody needs stored."""
    for key in ("author", "assignee", "user", "closed_by", "merged_by", "merge_user"):
        person = data.get(key)
        if isinstance(person, dict):
            data[key] = {k: v for k, v in person.items() if k not in _PERSONAL}
    if isinstance(data.get("assignees"), list):
        data["assignees"] = [{k: v for k, v in p.items() if k not in _PERSONAL} for p in data["assignees"]]
    return data
