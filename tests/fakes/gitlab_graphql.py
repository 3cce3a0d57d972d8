"""GitLab's GraphQL API (`POST /api/graphql`) for the loopback fake, executed by graphql-core
over the fake's projects, so a query is validated as GitLab validates it: an unknown field or
argument is an error in the answer, not a silent null.

The schema is the subset sdbridge reads, with names, types, nullability and arguments as
GitLab's GraphQL reference gives them (docs.gitlab.com/api/graphql/reference: `Query.project`,
`Project.issues`, `Issue`, `Note`, `UserCore`, `Label`, the `*Connection` types and
`PageInfo`, the `IssueState`, `IssueType` and `IssueSort` enums). Connections page with
`first`/`after` and opaque cursors, at most 100 nodes a page (GitLab's `max_page_size`);
`updatedAfter` is inclusive, as REST's `updated_after` is; `Time` is ISO 8601 in UTC.
"""

from __future__ import annotations

import base64
import functools
from datetime import UTC, datetime
from typing import Any

from graphql import build_schema, graphql_sync

MAX_PAGE = 100

SDL = """
scalar Time

type Query {
  project(fullPath: ID!): Project
}

type Project {
  id: ID!
  fullPath: ID!
  issues(
    after: String, before: String, first: Int, last: Int,
    iid: String, iids: [String!], state: IssuableState, types: [IssueType!],
    updatedAfter: Time, updatedBefore: Time, sort: IssueSort = created_desc
  ): IssueConnection
  mergeRequests(
    after: String, before: String, first: Int, last: Int,
    iids: [String!], state: MergeRequestState,
    updatedAfter: Time, updatedBefore: Time, sort: MergeRequestSort = created_desc
  ): MergeRequestConnection
}

type MergeRequestConnection {
  count: Int!
  nodes: [MergeRequest]
  pageInfo: PageInfo!
}

type MergeRequest {
  id: ID!
  iid: String!
  title: String!
  description: String
  state: MergeRequestState!
  webUrl: String
  createdAt: Time!
  updatedAt: Time!
  mergedAt: Time
  closedAt: Time
  reference(full: Boolean = false): String!
  author: MergeRequestAuthor
  labels(after: String, before: String, first: Int, last: Int): LabelConnection
  milestone: Milestone
  approvedBy(after: String, before: String, first: Int, last: Int): UserCoreConnection
}

type MergeRequestAuthor {
  id: ID!
  name: String!
  username: String!
}

type Milestone {
  id: ID!
  title: String!
  dueDate: Time
}

type PageInfo {
  endCursor: String
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
}

type IssueConnection {
  count: Int!
  nodes: [Issue]
  pageInfo: PageInfo!
}

type Issue {
  id: ID!
  iid: String!
  title: String!
  description: String
  state: IssueState!
  type: IssueType
  webUrl: String!
  createdAt: Time!
  updatedAt: Time!
  closedAt: Time
  reference(full: Boolean = false): String!
  author: UserCore!
  assignees(after: String, before: String, first: Int, last: Int): UserCoreConnection
  labels(after: String, before: String, first: Int, last: Int): LabelConnection
  notes(after: String, before: String, first: Int, last: Int, filter: NotesFilterType = ALL_NOTES): NoteConnection!
}

type Label {
  id: ID!
  title: String!
}

type LabelConnection {
  count: Int!
  nodes: [Label]
  pageInfo: PageInfo!
}

type UserCore {
  id: ID!
  name: String!
  username: String!
}

type UserCoreConnection {
  count: Int!
  nodes: [UserCore]
  pageInfo: PageInfo!
}

type Note {
  id: ID!
  body: String!
  system: Boolean!
  internal: Boolean
  createdAt: Time!
  author: UserCore
}

type NoteConnection {
  count: Int!
  nodes: [Note]
  pageInfo: PageInfo!
}

enum IssueState { opened closed locked all }
enum IssuableState { opened closed locked all }
enum IssueType { ISSUE INCIDENT TEST_CASE REQUIREMENT TASK TICKET OBJECTIVE KEY_RESULT EPIC }
enum NotesFilterType { ALL_NOTES ONLY_COMMENTS ONLY_ACTIVITY }
enum MergeRequestState { opened closed locked all merged }
enum MergeRequestSort {
  created_desc created_asc updated_desc updated_asc
  CREATED_DESC CREATED_ASC UPDATED_DESC UPDATED_ASC MERGED_AT_ASC MERGED_AT_DESC
}
enum IssueSort {
  created_desc created_asc updated_desc updated_asc
  CREATED_DESC CREATED_ASC UPDATED_DESC UPDATED_ASC
}
"""

SCHEMA = build_schema(SDL)
BEFORE_17_4 = build_schema(SDL.replace("  mergedAt: Time\n  closedAt: Time\n", "  mergedAt: Time\n"))
"""The same subset as a GitLab before 17.4 has it: `MergeRequest` without `closedAt` (gitlab-org/
gitlab!164650 added it), so a query that asks for it is refused as a whole."""


@functools.lru_cache(maxsize=1 << 17)
def _time(text: str | None) -> str | None:
    """REST's `2026-01-01T10:00:00.000Z` as GraphQL's `Time` (`2026-01-01T10:00:00Z`)."""
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    return int(base64.b64decode(cursor).decode().split(":", 1)[1])


def connection(items: list[Any], first: int | None, after: str | None, build: Any = None) -> dict[str, Any]:
    """One page of a connection; `build` makes the page's nodes (only the page's)."""
    start = _offset(after)
    size = min(first if first is not None else MAX_PAGE, MAX_PAGE)
    page = items[start : start + size]
    end = start + len(page)
    return {
        "count": len(items),
        "nodes": [build(i) for i in page] if build else page,
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": _cursor(start) if page else None,
            "endCursor": _cursor(end) if page else None,
        },
    }


def _user(person: dict | None) -> dict | None:
    if not person:
        return None
    return {"id": f"gid://gitlab/User/{person.get('id', 0)}", "name": person["name"], "username": person["username"]}


class Resolver:
    """Resolves the schema's fields over one fake GitLab's projects."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake

    def project(self, _root: Any, _info: Any, fullPath: str) -> dict | None:  # noqa: N803 (GraphQL's name)
        project = next((p for p in self.fake.projects if p.path == fullPath), None)
        if project is None or project.forbidden:
            return None  # GitLab answers null for a project the token cannot see
        return {"id": f"gid://gitlab/Project/{project.id}", "fullPath": project.path, "_project": project}

    @staticmethod
    def _listed(items: list[dict], args: dict[str, Any]) -> list[dict]:
        """A listing's `iids` (only those tickets), `updatedAfter` (inclusive) and `sort`
        (created or updated, either way)."""
        if args.get("iids") is not None:
            items = [i for i in items if str(i["iid"]) in set(args["iids"])]
        if args.get("updatedAfter"):
            items = [i for i in items if _time(i["updated_at"]) >= args["updatedAfter"]]
        key = args.get("sort", "created_desc").lower()
        field = "updated_at" if key.startswith("updated") else "created_at"
        return sorted(items, key=lambda i: (_time(i[field]), i["id"]), reverse=key.endswith("desc"))

    def issues(self, root: dict, _info: Any, **args: Any) -> dict:
        project = root["_project"]
        listed = self._listed(project.issues, args)
        return connection(listed, args.get("first"), args.get("after"), lambda i: self._issue(project, i))

    def merge_requests(self, root: dict, _info: Any, **args: Any) -> dict:
        project = root["_project"]
        listed = self._listed(project.merge_requests, args)
        return connection(listed, args.get("first"), args.get("after"), lambda m: self._merge_request(project, m))

    @staticmethod
    def _listed_node(kind: str, item: dict) -> dict:
        """What issues and merge requests share, from the REST item (`_`-keys feed resolvers)."""
        return {
            "id": f"gid://gitlab/{kind}/{item['id']}",
            "iid": str(item["iid"]),
            "title": item["title"],
            "description": item.get("description"),
            "state": item["state"],
            "webUrl": item.get("web_url"),
            "createdAt": _time(item["created_at"]),
            "updatedAt": _time(item["updated_at"]),
            "closedAt": _time(item.get("closed_at")),
            "_references": item.get("references") or {},
            "_labels": [{"id": f"gid://gitlab/ProjectLabel/{n}", "title": t} for n, t in enumerate(item["labels"])],
        }

    def _merge_request(self, project: Any, mr: dict) -> dict:
        approvals = project.approvals.get(mr["iid"], {"approved_by": []})
        milestone = mr.get("milestone")
        return {
            **self._listed_node("MergeRequest", mr),
            "mergedAt": _time(mr.get("merged_at")),
            "author": _user(mr.get("author")),
            "milestone": {
                "id": f"gid://gitlab/Milestone/{milestone.get('id', 0)}",
                "title": milestone.get("title", ""),
                "dueDate": f"{milestone['due_date']}T00:00:00Z" if milestone.get("due_date") else None,
            }
            if milestone
            else None,
            "_approved_by": [_user(a["user"]) for a in approvals.get("approved_by") or []],
        }

    def _issue(self, project: Any, issue: dict) -> dict:
        notes = [
            {
                "id": f"gid://gitlab/Note/{n['id']}",
                "body": n["body"],
                "system": bool(n.get("system")),
                "internal": bool(n.get("internal")),
                "createdAt": _time(n.get("created_at")),
                "author": _user(n.get("author")),
            }
            for n in project.notes.get(issue["iid"], [])
        ]
        return {
            **self._listed_node("Issue", issue),
            "webUrl": issue["web_url"],  # `Issue.webUrl: String!` (a merge request's may be null)
            "type": str(issue.get("issue_type") or "issue").upper(),
            "_author": _user(issue.get("author"))
            or {"id": "gid://gitlab/User/0", "name": "Ghost", "username": "ghost"},
            "_assignees": [_user(a) for a in issue.get("assignees") or []],
            "_notes": notes,
        }


def _field(type_name: str, name: str, resolve: Any) -> None:
    for schema in (SCHEMA, BEFORE_17_4):
        schema.get_type(type_name).fields[name].resolve = resolve  # type: ignore[union-attr]


def _paged(key: str) -> Any:
    return lambda root, _info, first=None, after=None, **_: connection(root[key], first, after)


_field("Query", "project", lambda _root, info, fullPath: info.context.project(None, info, fullPath))
_field("Project", "issues", lambda root, info, **args: info.context.issues(root, info, **args))
_field("Issue", "reference", lambda root, _info, full=False: root["_references"].get("full" if full else "short"))
_field("Issue", "author", lambda root, _info: root["_author"])
_field("Issue", "assignees", _paged("_assignees"))
_field("Issue", "labels", _paged("_labels"))
_field("Issue", "notes", _paged("_notes"))
_field("Project", "mergeRequests", lambda root, info, **args: info.context.merge_requests(root, info, **args))
_field(
    "MergeRequest", "reference", lambda root, _info, full=False: root["_references"].get("full" if full else "short")
)
_field("MergeRequest", "labels", _paged("_labels"))
_field("MergeRequest", "approvedBy", _paged("_approved_by"))


def answer(fake: Any, body: dict) -> dict:
    """The answer to one GraphQL request body, as GitLab gives it: `data`, and `errors` only
    when there are some."""
    query, variables = body.get("query"), body.get("variables") or {}
    if not isinstance(query, str):
        return {"errors": [{"message": "No query string was present"}]}
    schema = BEFORE_17_4 if getattr(fake, "graphql_before_17_4", False) else SCHEMA
    result = graphql_sync(schema, query, variable_values=variables, context_value=Resolver(fake))
    out: dict[str, Any] = {"data": result.data}
    if result.errors:
        out["errors"] = [
            {"message": e.message, "locations": [at._asdict() for at in e.locations or []]} for e in result.errors
        ]
    return out
