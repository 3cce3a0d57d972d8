"""GitLab's GraphQL API as the pull uses it: the listing queries (built for what the server's
schema offers) and the answers turned into the REST shapes the presets read.

Issues with their notes and merge requests with their approvals come a page of 100 a
request this way, where REST needs a request per ticket.
"""

from __future__ import annotations

from typing import Any

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
        "id": number(node.get("id")),
        "iid": number(node.get("iid")),
        "title": node.get("title"),
        "description": node.get("description"),
        "state": node.get("state"),
        "web_url": node.get("webUrl"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "closed_at": node.get("closedAt"),
        "references": {"full": node.get("reference")},
        "labels": [label.get("title") for label in nodes(node.get("labels"))],
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
    people = [_person(a) for a in nodes(node.get("assignees"))]
    return {
        **_rest_listed(node),
        "issue_type": str(node.get("type") or "ISSUE").lower(),
        "assignees": people,
        "assignee": people[0] if people else None,
    }


def nodes(connection: Any) -> list[dict[str, Any]]:
    found = connection.get("nodes") if isinstance(connection, dict) else None
    return [n for n in found if isinstance(n, dict)] if isinstance(found, list) else []


def number(value: Any) -> int | None:
    """A GraphQL id (`gid://gitlab/Issue/123`) or iid (`"7"`) as a number, None when it is not one."""
    text = str(value or "").rsplit("/", 1)[-1]
    return int(text) if text.isdigit() else None
