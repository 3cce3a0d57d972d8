"""Jira Cloud and Data Center, through the `jira` library.

Pulls issues incrementally: the JQL asks for `updated >= <epoch ms>` (an absolute instant,
never a zone-less date that Jira would read in the token owner's zone), minus an overlap
window, because search is eventually consistent; items are de-duplicated by issue id in the
store. A first pull, `--full`, or the periodic reconcile (`full_every_days`) reads
everything and retires issues that left the JQL (deleted or moved).

Each item is the issue JSON with ADF turned into text, plus what sdbridge adds under
`sdbridge` (link, comments, done/approval times from the paged changelog, JSM approvals) and
`custom` (custom fields by the aliases of `custom_fields`, resolved by name via /field).
JSM Assets objects become items with `_kind: asset`. Mappings read items with JMESPath.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sdbridge import progress
from sdbridge.connectors.base import REJECTED, ItemBatch, full_pull_due
from sdbridge.connectors.jira_client import JiraClient
from sdbridge.connectors.jira_data import STANDARD_FIELDS, adf_to_text, simplify
from sdbridge.dates import epoch_ms
from sdbridge.errors import ConfigError, FatalSourceError, HttpStatusError

if TYPE_CHECKING:  # the config models sit above the connectors: named for types only
    from sdbridge.sources import JiraSourceConfig

CLOUD_PAGE, DC_PAGE = 100, 1000
MAX_CHANGELOG = 10_000
"""Status histories read per issue at most (a server paging without end stops here)."""
MAX_APPROVALS = 1_000
MAX_ASSETS = 1_000_000
"""Assets objects read at most: a CMDB far past a small team's, and a bound."""
BULK_CHANGELOG_ISSUES = 1_000
"""Issues per bulk changelog request (the most the endpoint takes)."""
BULK_CHANGELOG_PAGE = 10_000
"""Change histories per page of the bulk changelog (the most the endpoint gives)."""


@dataclass(frozen=True)
class Paged:
    """One of Jira's paged endpoints that completes an issue (or lists Assets), as data: the
    one paging loop (`JiraConnector._paged`) reads them all. Names as Atlassian's REST
    references give them; each endpoint pages its own way."""

    what: str
    """What the requests are named in messages."""
    path: str
    """The path under the API, `{key}` for the issue."""
    start: str = "startAt"
    size: str = "maxResults"
    page: int = 100
    values: str = "values"
    """The key of the page's records."""
    last: str | None = "isLast"
    """The documented flag of the last page; None when the endpoint has none."""
    absent_is_last: bool = True
    """What a page without the flag is (the changelog's `isLast` is optional: read on)."""
    total: bool = False
    """The page's `total` ends the paging when reached; an endpoint with no last flag and no
    `total` on a page ends there."""
    most: int = 10_000
    """Records read at most (a server paging without end stops here)."""
    api: str | None = None
    """Another API than the platform's (`servicedeskapi`, or the Assets base URL)."""
    method: str = "GET"
    params: tuple[tuple[str, str], ...] = ()


CHANGELOG = Paged("reading a changelog", "issue/{key}/changelog", absent_is_last=False, total=True, most=MAX_CHANGELOG)
"""Cloud: one issue's change histories (the fallback when the bulk endpoint was not used)."""
APPROVALS = Paged(
    "reading approvals",
    "request/{key}/approval",
    start="start",
    size="limit",
    page=50,
    last="isLastPage",
    most=MAX_APPROVALS,
    api="servicedeskapi",
)
"""A JSM request's approvals."""
COMMENTS = Paged("reading comments", "issue/{key}/comment", values="comments", last=None, total=True)
"""An issue's comments past those the search gave."""
ASSETS = Paged("reading Assets", "object/aql", method="POST", params=(("includeAttributes", "true"),), most=MAX_ASSETS)
"""Assets objects an AQL query finds."""


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


class JiraConnector:
    """Pulls a Jira source's issues (and Assets objects) as items. `skip_text` tells which
    comment bodies are not evidence (push-back's own comments); the registry passes it."""

    def __init__(
        self, source: JiraSourceConfig, *, resolve: Any = None, skip_text: Callable[[str | None], bool] | None = None
    ) -> None:
        self.source = source
        self.cloud = source.auth == "cloud"
        self.client = JiraClient(source)
        self.skip_text = skip_text or (lambda text: False)
        self._custom_ids: dict[str, str] = {}
        self._asset_labels: dict[str, str] = {}
        self._done_statuses: set[str] = set()
        self._pages = 0
        self._no_approvals: list[tuple[str, int]] = []
        self._stalled: list[str] = []

    @property
    def requests(self) -> int:
        return self.client.requests

    def _get(self, what: str, path: str, params: dict[str, Any] | None = None, api: str | None = None) -> Any:
        return self.client.get(what, path, params, api)

    # --- fields ----------------------------------------------------------------------------

    def resolve_custom_fields(self) -> list[str]:
        """Custom field aliases -> ids via /field. Names are not unique in Jira: an ambiguous
        name is a config error listing the candidates. Returns notes for preset fields the
        server lacks."""
        wanted = self.source.custom_fields
        if not wanted:
            return []
        fields = self.client.call("reading /field", lambda: self.client.jira.fields())
        by_name: dict[str, list[dict]] = {}
        for f in fields:
            by_name.setdefault(str(f.get("name", "")).casefold(), []).append(f)
        ids = {f["id"] for f in fields}
        notes = []
        for alias, name in wanted.items():
            if name in ids:
                self._custom_ids[alias] = name
                continue
            matches = by_name.get(name.casefold(), [])
            if len(matches) == 1:
                self._custom_ids[alias] = matches[0]["id"]
            elif len(matches) > 1:
                candidates = ", ".join(f"{m['id']} ({m.get('schema', {}).get('custom', 'custom')})" for m in matches)
                raise ConfigError(
                    f"source {self.source.name!r}: custom field name {name!r} (custom_fields.{alias}) is ambiguous",
                    [f"candidates: {candidates}"],
                    hint=f"give the id instead, e.g. custom_fields: {{{alias}: {matches[0]['id']}}}",
                )
            else:
                notes.append(f"custom field {name!r} ({alias}) does not exist on {self.source.url}; it stays empty")
        return notes

    def requested_fields(self) -> list[str]:
        """Only the fields the mapping reads, plus what increments and enrichment need."""
        refs = " ".join(
            ref
            for mapping in self.source.mappings.values()
            for ref in [
                *(c.from_ for c in (*mapping.where, *mapping.where_any)),
                *(r for spec in mapping.fields.values() for r in spec.references()),
            ]
        )
        fields = set(re.findall(r"fields\.([A-Za-z0-9_]+)", refs)) | set(STANDARD_FIELDS)
        if self.source.comments:
            fields.add("comment")
        fields |= set(self._custom_ids.values())
        return sorted(fields)

    # --- search ----------------------------------------------------------------------------

    def _jql(self, since_ms: int | None, order: str = "updated ASC, key ASC") -> str:
        base = f"({self.source.base_jql})"
        if since_ms is not None:
            base += f" AND updated >= {since_ms}"
        return f"{base} ORDER BY {order}"

    def search(self, since_ms: int | None) -> list[dict]:
        fields = self.requested_fields()
        if self.cloud:
            return self._search_cloud(self._jql(since_ms), fields)
        return self._search_datacenter(since_ms, fields)

    def _search_cloud(self, jql: str, fields: list[str]) -> list[dict]:
        size = min(self.source.page_size or CLOUD_PAGE, 5000)
        issues: list[dict] = []
        token: str | None = None
        seen_tokens: set[str] = set()
        seen_ids: set[Any] = set()
        while True:
            params: dict[str, Any] = {"jql": jql, "maxResults": size, "fields": ",".join(fields)}
            if token:
                params["nextPageToken"] = token
            page = self._get("searching issues", "search/jql", params)
            self._count_page(len(seen_tokens) + 1)
            batch = [i for i in page.get("issues", []) if isinstance(i, dict)]
            fresh = [i for i in batch if i.get("id") not in seen_ids]
            if batch and not fresh:  # a page of issues already read (a new token each time): the server loops
                self._stalled.append(
                    f"the search gave a page of issues already read; it was ended with {len(issues):,}"
                )
                return issues
            seen_ids.update(i.get("id") for i in fresh)
            issues.extend(fresh)
            progress.count(len(issues), None, "issues")
            token = page.get("nextPageToken")
            if not token or page.get("isLast") or token in seen_tokens:
                return issues
            seen_tokens.add(token)

    def _count_page(self, pages: int) -> None:
        """A server that keeps paging (a new token each page, a `total` of a billion) stops
        the source at `max_pages`, before it fills the memory."""
        if pages > self.source.max_pages:
            raise FatalSourceError(
                f"source {self.source.name!r}: the search was still paging after {self.source.max_pages} pages",
                source=self.source.name,
                hint="narrow `jql`/`projects`, or raise `max_pages` if the project really is that large",
            )

    def _search_datacenter(self, since_ms: int | None, fields: list[str]) -> list[dict]:
        """`startAt` paging in key order, up to the result window (`startAt` past it is refused).

        Past the window the search goes on per project: Jira compares `key > "P-N"` (and
        `id >`, its alias) within project P only, so one key range cannot carry a search
        across projects. Each project seen in the window continues after the highest key the
        window gave it (key order is project by project, numbers rising); a project the
        window did not reach is read from its start. No issue is skipped or read twice."""
        size = min(self.source.page_size or DC_PAGE, DC_PAGE)
        window = self.source.result_window
        self._pages = 0
        issues, total = self._page_datacenter(self._jql(since_ms, "key ASC"), fields, size, window)
        if len(issues) >= total:
            return issues
        highest: dict[str, int] = {}
        for issue in issues:
            project, _, number = str(issue.get("key", "")).rpartition("-")
            if number.isdigit():
                highest[project] = max(highest.get(project, 0), int(number))
        for project in self._projects():
            base = self._jql(since_ms, "key ASC").replace(" ORDER BY", f' AND project = "{project}" ORDER BY')
            after = highest.get(project)
            while True:
                query = base if after is None else base.replace(" ORDER BY", f' AND key > "{project}-{after}" ORDER BY')
                batch, matching = self._page_datacenter(query, fields, size, window, count_from=len(issues))
                issues.extend(batch)
                if not batch or len(batch) >= matching:
                    break  # the project ended inside this window
                after = max(int(str(i["key"]).rpartition("-")[2]) for i in batch)
        return list({str(i.get("key")): i for i in issues}.values())

    def _page_datacenter(
        self, jql: str, fields: list[str], size: int, window: int, count_from: int = 0
    ) -> tuple[list[dict], int]:
        """One query paged by `startAt` up to the result window: its issues and its `total`."""
        issues: list[dict] = []
        keys: set[str] = set()
        start, total = 0, 0
        while start < window:
            params = {"jql": jql, "startAt": start, "maxResults": min(size, window - start), "fields": ",".join(fields)}
            page = self._get("searching issues", "search", params)
            self._pages += 1
            self._count_page(self._pages)
            batch = page.get("issues", [])
            keys = {str(i.get("key")) for i in issues}
            if batch and all(str(i.get("key")) in keys for i in batch):  # the same page again: the server loops
                self._stalled.append(
                    f"the search gave a page of issues already read; it was ended with {len(issues):,}"
                )
                break
            issues.extend(batch)
            progress.count(count_from + len(issues), int(page.get("total", 0)) or None, "issues")
            start += len(batch)
            total = int(page.get("total", 0))
            if not batch or start >= total:
                break
        return issues, total

    def _projects(self) -> list[str]:
        """The projects a search past the window goes through: the config's `projects`, else
        every project the token sees (`GET project`, one request)."""
        if self.source.projects:
            return list(self.source.projects)
        found = self._get("listing projects", "project")
        return [str(p["key"]) for p in found if isinstance(p, dict) and p.get("key")] if isinstance(found, list) else []

    # --- enrichment ------------------------------------------------------------------------

    def _status_categories(self) -> None:
        statuses = self._get("reading statuses", "status")
        self._done_statuses = {str(s["id"]) for s in statuses if s.get("statusCategory", {}).get("key") == "done"}

    def bulk_changelogs(self, ids: list[str]) -> dict[str, list[dict]]:
        """Cloud: the status changes of many issues at once (`POST changelog/bulkfetch`, up to
        1,000 issues a request, paged by `nextPageToken`): one or a few requests per thousand
        issues instead of one per issue. Issue id -> its change histories."""
        found: dict[str, list[dict]] = {}
        for start in range(0, len(ids), BULK_CHANGELOG_ISSUES):
            chunk = ids[start : start + BULK_CHANGELOG_ISSUES]
            progress.update(f"pulling {self.source.name}: changelogs")
            progress.count(start, len(ids), "issues")
            token: str | None = None
            seen: set[str] = set()
            while True:
                body: dict[str, Any] = {
                    "issueIdsOrKeys": chunk,
                    "fieldIds": ["status"],
                    "maxResults": BULK_CHANGELOG_PAGE,
                }
                if token:
                    body["nextPageToken"] = token
                page = self.client.request(
                    "reading changelogs", "POST", "changelog/bulkfetch", payload=body, reads=True
                )
                if not isinstance(page, dict):
                    raise FatalSourceError(
                        f"source {self.source.name!r}: the changelogs came back as a {type(page).__name__}",
                        source=self.source.name,
                    )
                self._count_page(len(seen) + 1)
                for log in page.get("issueChangeLogs") or []:
                    found.setdefault(str(log.get("issueId")), []).extend(log.get("changeHistories") or [])
                token = page.get("nextPageToken")
                if not token or token in seen:
                    break
                seen.add(token)
        return found

    def changelog(self, key: str, histories: list[dict] | None = None) -> list[dict]:
        """Status transitions, oldest first, from `histories` fetched in bulk, else from the
        issue's own changelog."""
        if histories is None:
            histories = self._issue_changelog(key)
        transitions = []
        for history in histories:
            for item in history.get("items", []):
                if item.get("field") == "status":
                    transitions.append(
                        {
                            "at": history.get("created"),
                            "from": item.get("fromString"),
                            "to": item.get("toString"),
                            "to_id": str(item.get("to")),
                        }
                    )
        return sorted(transitions, key=lambda t: epoch_ms(t["at"]) or 0)

    def _issue_changelog(self, key: str) -> list[dict]:
        """One issue's change histories: the paged per-issue changelog (Cloud, the fallback
        when the bulk endpoint was not used) or the issue's expanded changelog (Data Center has
        neither the bulk nor the paged endpoint)."""
        if not self.cloud:
            issue = self._get("reading a changelog", f"issue/{key}", {"expand": "changelog", "fields": "status"})
            return list(issue.get("changelog", {}).get("histories", []))
        return self._paged(CHANGELOG, key)

    def _paged(self, endpoint: Paged, key: str = "", *, api: str | None = None, payload: Any = None) -> list[dict]:
        """Every record of one of Jira's paged endpoints (`Paged`), up to its most."""
        found: list[dict] = []
        start = 0
        while True:
            params: dict[str, Any] = {endpoint.start: start, endpoint.size: endpoint.page, **dict(endpoint.params)}
            path = endpoint.path.format(key=key)
            base = api or endpoint.api
            if endpoint.method == "GET" and payload is None:
                page = self._get(endpoint.what, path, params, api=base)
            else:
                page = self.client.request(
                    endpoint.what, endpoint.method, path, api=base, payload=payload, params=params
                )
            values = page.get(endpoint.values) or []
            found.extend(values)
            start += len(values)
            flag = page.get(endpoint.last, endpoint.absent_is_last) if endpoint.last else None
            ended = endpoint.total and ("total" in page or endpoint.last is None) and start >= int(page.get("total", 0))
            if not values or flag or ended or start >= endpoint.most:
                return found

    def approvals(self, key: str) -> list[dict]:
        """A request's approvals, every page (`start`/`limit`, stop on `isLastPage`)."""
        return [
            {
                "name": a.get("name"),
                "decision": a.get("finalDecision"),
                "completed_at": (a.get("completedDate") or {}).get("iso8601"),
            }
            for a in self._paged(APPROVALS, key)
        ]

    def comments(self, issue: dict) -> list[str]:
        block = issue.get("fields", {}).get("comment") or {}
        if isinstance(block, list):  # some servers and proxies give the comments as a bare list
            block = {"comments": block}
        if not isinstance(block, dict):
            raise TypeError(f"fields.comment is a {type(block).__name__}, not a page of comments")
        comments = [c for c in block.get("comments", []) if isinstance(c, dict)]
        if int(block.get("total", len(comments))) > len(comments):
            comments = self._paged(COMMENTS, issue["key"])
        # Bodies only (no authors), and never sdbridge's own gap comment.
        return [text for c in comments if (text := adf_to_text(c.get("body"))) and not self.skip_text(text)]

    def enrich(self, issue: dict, histories: dict[str, list[dict]] | None = None) -> dict:
        """The issue as an item; an issue sdbridge cannot read (a value of a shape no
        documentation gives) becomes an item that says why, so it is rejected with its reason
        instead of stopping the whole source."""
        try:
            return self._enrich(issue, histories)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            key = issue.get("key") if isinstance(issue, dict) else None
            return {
                "_kind": "issue",
                "id": str(issue.get("id")) if isinstance(issue, dict) else None,
                "key": key,
                "fields": {},
                REJECTED: f"Jira issue {key} could not be read ({type(exc).__name__}: {exc})",
            }

    def _enrich(self, issue: dict, histories: dict[str, list[dict]] | None) -> dict:
        key = issue["key"]
        item = simplify(issue, self._custom_ids, self._asset_labels)
        extra: dict[str, Any] = {"url": f"{self.source.url.rstrip('/')}/browse/{key}"}
        if self.source.comments:
            extra["comments"] = self.comments(issue)
        if self.source.changelog:
            bulk = histories.get(str(issue.get("id")), []) if histories is not None else None
            transitions = self.changelog(key, bulk)
            done = [t for t in transitions if t["to_id"] in self._done_statuses]
            extra["transitions"] = transitions
            extra["done_at"] = done[-1]["at"] if done else None
            approved = [t for t in transitions if re.search(r"approv|scheduled|authori[sz]ed", t["to"] or "", re.I)]
            extra["approved_at"] = approved[0]["at"] if approved else None
        issue_type = (issue.get("fields", {}).get("issuetype") or {}).get("name")
        if self.source.approvals and issue_type in self.source.approval_issue_types:
            try:
                extra["approvals"] = self.approvals(key)
            except HttpStatusError as exc:
                if exc.status not in (403, 404):
                    raise
                # 404: not a customer request (created without a request type, or outside a
                # JSM project); 403: not visible to this token. Only this issue's approvals
                # are unknown: they stay empty, and a note names the issue.
                self._no_approvals.append((key, exc.status))
        item["sdbridge"] = extra
        item["_kind"] = "issue"
        return item

    def assets(self) -> list[dict]:
        config = self.source.assets
        if config is None:  # a source without `assets:` lists none
            return []
        base = (config.url or f"https://api.atlassian.com/jsm/assets/workspace/{config.workspace_id}/v1").rstrip("/")
        return [asset_item(o) for o in self._paged(ASSETS, api=base, payload={"qlQuery": config.aql})]

    # --- one issue (live mode) --------------------------------------------------------------

    def prepare(self) -> list[str]:
        """What a pull reads before its search and live mode reads once: the custom fields'
        ids and which statuses are done. Returns notes."""
        notes = self.resolve_custom_fields()
        if self.source.changelog:
            self._status_categories()
        return notes

    def fetch_issue(self, id_or_key: str) -> tuple[str, dict, str | None] | None:
        """One issue as a pull makes it: `GET issue/{id}` with the fields the mapping reads
        and its changelog expanded — one request (the changelog is paged only when the issue
        has more history than the answer holds; approvals and long comment threads as in a
        pull). None when Jira says the issue does not exist (deleted, or no longer visible)."""
        params: dict[str, Any] = {"fields": ",".join(self.requested_fields())}
        if self.source.changelog:
            params["expand"] = "changelog"
        try:
            issue = self._get("reading an issue", f"issue/{id_or_key}", params)
        except HttpStatusError as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(issue, dict) or "key" not in issue:
            raise FatalSourceError(
                f"source {self.source.name!r}: issue {id_or_key} came back in a shape sdbridge cannot read",
                source=self.source.name,
            )
        histories = None
        if self.source.changelog:
            found = issue.get("changelog")
            log: dict[str, Any] = found if isinstance(found, dict) else {}
            held = list(log.get("histories") or [])
            total = log.get("total")
            if total is None or int(total) <= len(held):  # the whole history is in the answer
                histories = {str(issue.get("id")): held}
        item = self.enrich(issue, histories)
        return str(issue.get("id")), item, _text_or_none(issue.get("fields", {}).get("updated"))

    # --- the pull --------------------------------------------------------------------------

    def pull_items(self, cursor: dict, *, full: bool = False) -> ItemBatch:
        self.client.begin()
        notes = self.prepare()
        watermark = cursor.get("watermark_ms")
        last_full = cursor.get("last_full")
        due = full_pull_due(last_full, self.source.full_every_days)
        full = full or watermark is None or due
        since = None if full or watermark is None else max(0, int(watermark) - self.source.overlap_minutes * 60_000)
        issues = self.search(since)
        unique = {str(i["id"]): i for i in issues}  # the overlap and eventual consistency repeat issues
        assets = self.assets() if self.source.assets is not None else []
        self._asset_labels = {a["id"]: a.get("label") or a.get("key") or a["id"] for a in assets}
        histories = None
        if self.source.changelog and self.cloud and unique:
            try:
                histories = self.bulk_changelogs(list(unique))
            except HttpStatusError as exc:
                if exc.status not in (404, 405):
                    raise
                notes.append("this site has no bulk changelog endpoint: changelogs were read issue by issue")
        items = [
            (issue_id, self.enrich(issue, histories), _text_or_none(issue.get("fields", {}).get("updated")))
            for issue_id, issue in unique.items()
        ]
        items += [(f"asset:{a['id']}", a, a.get("updated")) for a in assets]
        notes += [item[REJECTED] for _, item, _ in items if REJECTED in item]
        notes += self._stalled
        self._stalled = []
        if self._no_approvals:
            shown = ", ".join(f"{key} ({status})" for key, status in self._no_approvals[:5])
            more = f" and {len(self._no_approvals) - 5} more" if len(self._no_approvals) > 5 else ""
            notes.append(
                f"the approvals of {len(self._no_approvals)} issue(s) could not be read — {shown}{more}: 404 is an "
                "issue that is no customer request (no request type, or outside a service project), 403 one this "
                "token may not see; their approvals stay empty, the rest of the pull is whole"
            )
            self._no_approvals = []
        newest = max(
            (epoch_ms(i[1]["fields"].get("updated")) or 0 for i in items if i[1].get("_kind") == "issue"), default=0
        )
        new_cursor = {
            "watermark_ms": max(newest, int(watermark or 0)),
            "last_full": datetime.now(UTC).isoformat() if full else last_full,
        }
        return ItemBatch(items=items, cursor=new_cursor, full=full, requests=self.requests, notes=notes)


def asset_item(obj: dict) -> dict:
    """An Assets object as a flat item: attributes by name, values as text."""
    attributes: dict[str, Any] = {}
    for attribute in obj.get("attributes", []):
        name = (attribute.get("objectTypeAttribute") or {}).get("name") or str(attribute.get("objectTypeAttributeId"))
        values = [v.get("displayValue") or v.get("value") for v in attribute.get("objectAttributeValues", [])]
        values = [v for v in values if v not in (None, "")]
        attributes[name] = values[0] if len(values) == 1 else (values or None)
    return {
        "_kind": "asset",
        "id": str(obj.get("id")),
        "key": obj.get("objectKey"),
        "label": obj.get("label"),
        "type": (obj.get("objectType") or {}).get("name"),
        "created": obj.get("created"),
        "updated": obj.get("updated"),
        "attributes": attributes,
    }
