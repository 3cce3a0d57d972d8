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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from sdbridge import progress
from sdbridge.connectors.base import ItemBatch, full_pull_due
from sdbridge.connectors.gitlab_client import NO_LIBRARY_RETRY, GitLabClient, GraphQLRefused
from sdbridge.connectors.gitlab_graphql import (
    FIELDS_QUERY,
    listing_queries,
    nodes,
    number,
    rest_issue,
    rest_merge_request,
)
from sdbridge.connectors.gitlab_resources import (
    BY_KIND,
    INCREMENTAL,
    RECENT_DEPLOYMENTS,
    RESOURCES,
    UPDATED_ORDER,
    Resource,
)
from sdbridge.errors import FatalSourceError, HttpStatusError

if TYPE_CHECKING:  # the config models sit above the connectors: named for types only
    from sdbridge.sources import GitLabSourceConfig


@dataclass(frozen=True)
class _Here:
    """The project a resource is being read from."""

    manager: Any
    """python-gitlab's lazy project (no request)."""
    path: str
    pid: int

    @property
    def base(self) -> dict[str, Any]:
        return {"project_id": self.pid, "project": self.path}


Item = tuple[str, dict, Any]


class GitLabConnector:
    """Pulls a GitLab source's projects as items. `skip_text` tells which note bodies are
    not evidence (push-back's own notes); the registry passes it."""

    def __init__(
        self, source: GitLabSourceConfig, *, resolve: Any = None, skip_text: Callable[[str | None], bool] | None = None
    ) -> None:
        self.source = source
        self.client = GitLabClient.for_source(source)
        self.skip_text = skip_text or (lambda text: False)
        self.links = reads(source, "sdbridge.links")
        """Whether issue links are pulled: only when a map reads them."""
        self.graphql = bool(getattr(source, "graphql", True))
        """Issues with their notes and merge requests with their approvals in bulk (GraphQL);
        links are REST-only (see `_bulk`)."""
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

    def pull_project(self, project: Any, since: dict[str, str | None]) -> list[Item]:
        """Every resource of the source, for one project: one loop over `RESOURCES`."""
        pid = project.attributes["id"]
        here = _Here(self.gl.projects.get(pid, lazy=True), project.attributes.get("path_with_namespace", str(pid)), pid)
        items: list[Item] = []
        for resource in RESOURCES:
            if resource.name not in self.source.resources:
                continue
            bulk = self._graphql_items(resource, here, since.get(resource.name)) if self._bulk(resource) else None
            if bulk is not None:
                items.extend(bulk)
                continue
            for record in self._listing(resource, project, here, since.get(resource.name)):
                items.append(self._item(resource, here, record.attributes))
        return items

    def _bulk(self, resource: Resource) -> bool:
        """Whether a resource is read over GraphQL. Issue links are REST-only
        (`Issue.linkedWorkItems` exists only from GitLab 17.8), so a map that reads them reads
        issues over REST throughout."""
        if not (resource.graphql and self.graphql and resource.graphql not in self.refused):
            return False
        return not (resource.kind == "issue" and self.links)

    def _listing(self, resource: Resource, project: Any, here: _Here, after: str | None) -> Iterator[Any]:
        """A resource's REST listing, every page, from the watermark when there is one."""
        query: dict[str, Any] = dict(resource.filters)
        if resource.on_branch:
            query["ref"] = self.source.pipeline_ref or project.attributes.get("default_branch")
        query.update(UPDATED_ORDER if resource.incremental and after else resource.full_order)
        if resource.incremental and after:
            query["updated_after"] = after
        manager = getattr(here.manager, resource.manager)
        return self._each(
            f"listing {resource.name} of {here.path}",
            lambda: iter(manager.list(iterator=True, per_page=self.source.per_page, **query, **NO_LIBRARY_RETRY)),
        )

    def _item(self, resource: Resource, here: _Here, attributes: dict[str, Any]) -> Item:
        """One record read over REST as its item, completed as its resource says."""
        more, extra = getattr(self, resource.complete)(here, attributes) if resource.complete else ({}, None)
        data = {**attributes, **more, **here.base, "_kind": resource.kind}
        if extra is not None:
            data["sdbridge"] = extra
        return (
            f"{here.pid}:{resource.prefix}:{data.get(resource.key)}",
            _strip_people(data),
            data.get(resource.updated),
        )

    def _issue_notes_and_links(self, here: _Here, data: dict[str, Any]) -> tuple[dict, dict]:
        """An issue's notes (text only, no system notes) and, when a map reads them, its links."""
        iid = data.get("iid")
        extra: dict[str, Any] = {}
        if self.source.notes:
            handle = here.manager.issues.get(iid, lazy=True)  # lazy: no request
            notes = self._each(
                f"reading notes of {here.path}#{iid}", partial(handle.notes.list, iterator=True, **NO_LIBRARY_RETRY)
            )
            extra["notes"] = [
                n.attributes.get("body")
                for n in notes
                if not n.attributes.get("system") and not self.skip_text(n.attributes.get("body"))
            ]
        if self.links:
            handle = here.manager.issues.get(iid, lazy=True)
            links = self._call(
                f"reading links of {here.path}#{iid}", partial(handle.links.list, get_all=True, **NO_LIBRARY_RETRY)
            )
            extra["links"] = [
                link.attributes.get("references", {}).get("full") or link.attributes.get("web_url") for link in links
            ]
        return {}, extra

    def _merge_request_approvals(self, here: _Here, data: dict[str, Any]) -> tuple[dict, dict]:
        """Who approved a merge request."""
        iid = data.get("iid")
        approvals = self._call(
            f"reading approvals of {here.path}!{iid}",
            partial(here.manager.mergerequests.get(iid, lazy=True).approvals.get, **NO_LIBRARY_RETRY),
        )
        approved_by = [a.get("user", {}).get("name") for a in approvals.attributes.get("approved_by", [])]
        return {}, {"approved_by": [a for a in approved_by if a], "approved": bool(approved_by)}

    def _environment_schedule(self, here: _Here, data: dict[str, Any]) -> tuple[dict, dict]:
        """The schedule of an environment: its latest deployments (one page, newest first)."""
        recent = self._call(
            f"reading deployments to {data.get('name')} of {here.path}",
            partial(
                here.manager.deployments.list,
                environment=data.get("name"),
                order_by="id",
                sort="desc",
                per_page=RECENT_DEPLOYMENTS,
                get_all=False,
                **NO_LIBRARY_RETRY,
            ),
        )
        return {}, {
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

    def _pipeline_details(self, here: _Here, data: dict[str, Any]) -> tuple[dict, dict]:
        """The list holds basic pipelines; who ran one and when it finished (WP.20.f) are only
        on the single pipeline, its tests on its test report summary."""
        pipeline_id = data.get("id")
        full_pipeline = self._call(
            f"reading {here.path} pipeline {pipeline_id}",
            partial(here.manager.pipelines.get, pipeline_id, **NO_LIBRARY_RETRY),
        )
        summary = self._call(
            f"reading test report of {here.path} pipeline {pipeline_id}",
            partial(here.manager.pipelines.get(pipeline_id, lazy=True).test_report_summary.get, **NO_LIBRARY_RETRY),
        )
        return full_pipeline.attributes, {"tests": summarise_test_report(summary.attributes)}

    # --- one record (live mode) -------------------------------------------------------------

    def prepare(self) -> list[str]:
        """What live mode reads once: the source's projects (a delivery for a project outside
        them is not this source's). Returns the problems, as a pull names them."""
        projects, problems = self.projects()
        self.scope = {str(p.attributes.get("path_with_namespace")): p for p in projects}
        return problems

    def fetch_ticket(self, path: str, kind: str, iid: int) -> Item | None:
        """One issue (`kind` "issue") or merge request ("merge_request") of a project of this
        source, as a pull makes it: one GraphQL request for the ticket with its notes or
        approvals (REST where the pull would use REST). None when it is not there (deleted,
        moved, outside the source's projects or resources)."""
        return self.fetch_record(path, kind, iid)

    def fetch_record(self, path: str, kind: str, ident: Any) -> Item | None:
        """One record of a project of this source, by its kind (`issue`, `merge_request`,
        `deployment`, `release`, ...) and what names it in the API (iid, id, tag), as a pull
        makes it. None when it is not there."""
        project = getattr(self, "scope", {}).get(path)
        resource = BY_KIND.get(kind)
        if project is None or resource is None or resource.name not in self.source.resources:
            return None
        pid = project.attributes["id"]
        here = _Here(self.gl.projects.get(pid, lazy=True), path, pid)
        if self._bulk(resource):
            found = self._graphql_one(resource, here, ident)
            if found is not False:
                return found
        getter = getattr(here.manager, resource.manager).get
        try:
            record = self._call(f"reading {path} {kind} {ident}", partial(getter, ident, **NO_LIBRARY_RETRY))
        except HttpStatusError as exc:
            if exc.status == 404:
                return None
            raise
        return self._item(resource, here, record.attributes)

    def _graphql_one(self, resource: Resource, here: _Here, iid: Any) -> Item | None | Literal[False]:
        """One ticket by its iid from its GraphQL listing; False when the server refuses."""
        field = str(resource.graphql)
        sign = "#" if resource.kind == "issue" else "!"
        try:
            data = self.client.graphql(
                f"reading {here.path} {sign}{iid} (GraphQL)",
                self._queries()[field],
                {"path": here.path, "first": 1, "after": None, "iids": [str(iid)]},
            )
        except GraphQLRefused:
            self.refused.add(field)
            return False
        holder = data.get("project") if isinstance(data, dict) else None
        connection = holder.get(field) if isinstance(holder, dict) else None
        found = [n for n in nodes(connection) if number(n.get("id")) and number(n.get("iid"))]
        return self._node_item(resource, here, found[0]) if found else None

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

    # --- GraphQL ---------------------------------------------------------------------------

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

    def _graphql_items(self, resource: Resource, here: _Here, since: str | None) -> list[Item] | None:
        """A project's records of one resource with what completes them (an issue's notes up
        to 100, a merge request's approvals), in the REST shape the presets read. None when
        the server's GraphQL cannot answer."""
        what = resource.name.replace("_", " ")
        found = self._graphql(here.path, what, self._queries()[str(resource.graphql)], str(resource.graphql), since)
        if found is None:
            return None
        return [self._node_item(resource, here, node) for node in found]

    def _graphql(self, path: str, what: str, query: str, field: str, since: str | None) -> list[dict] | None:
        """Every node of one of a project's GraphQL listings (`issues`, `mergeRequests`), a page
        of up to 100 a request. None when the server's GraphQL cannot answer the first page
        (the caller reads over REST, and the pull says so once); a refusal after pages were
        read is a fault of this pull."""
        found_nodes: list[dict] = []
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
            usable = [n for n in page if number(n.get("id")) and number(n.get("iid"))]
            fresh = [n for n in usable if n.get("id") not in known]
            if usable and not fresh:  # a page of nodes already read: the server loops
                self.notes.append(
                    f"{self.source.name}: reading {what} of {path}: the server gave a page of {what} already read; "
                    f"the listing was ended there with {len(found_nodes):,}"
                )
                return found_nodes
            known.update(n.get("id") for n in fresh)
            found_nodes.extend(fresh)
            if len(usable) < len(found or []):
                self.notes.append(
                    f"{self.source.name}: {len(found or []) - len(usable)} of the {what} of {path} could not be "
                    "read from the GraphQL answer (no id); skipped"
                )
            pages += 1
            progress.update(f"pulling {self.source.name}: {what} of {path}")
            progress.count(len(found_nodes), None, what)
            paging = connection.get("pageInfo")
            info: dict[str, Any] = paging if isinstance(paging, dict) else {}
            if info.get("hasNextPage") is not True:
                return found_nodes
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

    def _node_item(self, resource: Resource, here: _Here, node: dict[str, Any]) -> Item:
        """One GraphQL node as the item a REST read would make."""
        if resource.kind == "issue":
            data = {**rest_issue(node), **here.base, "_kind": "issue"}
            found = node.get("notes")
            notes: dict[str, Any] = found if isinstance(found, dict) else {}
            bodies = [n.get("body") for n in nodes(notes) if not n.get("system")]
            paging = notes.get("pageInfo")
            if isinstance(paging, dict) and paging.get("hasNextPage") is True:  # over 100: the rest over REST
                bodies = self._rest_notes(here.path, data["iid"])
            data["sdbridge"] = {"notes": [b for b in bodies if not self.skip_text(b)]} if self.source.notes else {}
        else:
            data = {**rest_merge_request(node), **here.base, "_kind": resource.kind}
            approved_by = [a.get("name") for a in nodes(node.get("approvedBy")) if a.get("name")]
            data["sdbridge"] = {"approved_by": approved_by, "approved": bool(approved_by)}
        return (f"{here.pid}:{resource.prefix}:{data['id']}", _strip_people(data), data.get(resource.updated))

    def _rest_notes(self, path: str, iid: int) -> list[str | None]:
        handle = self.gl.projects.get(path, lazy=True).issues.get(iid, lazy=True)
        notes = self._each(
            f"reading notes of {path}#{iid}", partial(handle.notes.list, iterator=True, **NO_LIBRARY_RETRY)
        )
        return [n.attributes.get("body") for n in notes if not n.attributes.get("system")]

    # --- the pull --------------------------------------------------------------------------

    def pull_items(self, cursor: dict, *, full: bool = False) -> ItemBatch:
        self.client.begin()
        watermarks: dict[str, str] = dict(cursor.get("watermarks", {}))
        last_full = cursor.get("last_full")
        due = full_pull_due(last_full, self.source.full_every_days)
        # Links wanted now but not pulled last time: every issue is read again to get them.
        links_missing = self.links and cursor.get("links", True) is False
        full = full or not cursor.get("last_full") or due or links_missing
        started = datetime.now(UTC)
        projects, problems = self.projects()
        items: list[Item] = []
        for project in projects:
            pid = project.attributes["id"]
            since: dict[str, str | None] = {}
            if not full:
                for name in INCREMENTAL:
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
                resource = BY_KIND.get(data.get("_kind", ""))
                if resource is None or not resource.incremental:
                    continue
                if data.get("project_id") == pid and updated and updated > newest.get(resource.name, ""):
                    newest[resource.name] = updated
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
