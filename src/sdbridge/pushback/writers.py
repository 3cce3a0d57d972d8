"""The write side of push-back, per tracker: comments (Jira) and notes (GitLab) that sdbridge
owns, labels, and the summary issue. Each writer uses the same shared client as the pull
(connection, retry policy, one deadline per push); a deleted comment is recognised by the
404 status of the typed error, never by the message text."""

from __future__ import annotations

import re
from typing import Any

from sdbridge.connectors.gitlab_client import NO_LIBRARY_RETRY, GitLabClient
from sdbridge.connectors.jira_client import JiraClient
from sdbridge.errors import HttpStatusError, PushError
from sdbridge.pushback import render
from sdbridge.pushback.marker import MARKER
from sdbridge.pushback.plan import OwnComment

NOT_FOUND = 404


class JiraWriter:
    def __init__(self, source: Any) -> None:
        self.source = source
        self.client = JiraClient(source)
        self.adf = source.push.jira_body == "adf" or (source.push.jira_body == "auto" and source.auth == "cloud")

    def _body(self, lines: list[str] | None) -> Any:
        return render.jira_adf(lines) if self.adf else render.jira_wiki(lines)

    def me(self) -> str:
        user = self.client.get("reading the token's user", "myself")
        return str(user.get("accountId") or user.get("name") or user.get("key"))

    def find(self, ticket: str, comment_id: str | None) -> OwnComment | None:
        if not comment_id:
            return None
        try:
            comment = self.client.get(
                "reading a comment", f"issue/{ticket}/comment/{comment_id}", {"expand": "properties"}
            )
        except HttpStatusError as exc:
            if exc.status == NOT_FOUND:
                return None  # deleted by someone: it will be written again
            raise
        author = comment.get("author") or {}
        marked = any(
            p.get("key") == "sdbridge" and (p.get("value") or {}).get("marker") == MARKER
            for p in comment.get("properties", [])
        )
        return OwnComment(str(comment["id"]), str(author.get("accountId") or author.get("name")), marked)

    def create(self, ticket: str, lines: list[str]) -> str:
        payload = {
            "body": self._body(lines),
            "properties": [
                {"key": "sdbridge", "value": {"marker": MARKER}},
                {"key": "sd.public.comment", "value": {"internal": True}},  # JSM: never shown to the customer
            ],
        }
        created = self.client.request(f"commenting on {ticket}", "POST", f"issue/{ticket}/comment", payload=payload)
        return str(created["id"])

    def update(self, ticket: str, comment_id: str, lines: list[str] | None) -> None:
        self.client.request(
            f"updating the comment on {ticket}",
            "PUT",
            f"issue/{ticket}/comment/{comment_id}",
            payload={"body": self._body(lines)},
        )

    def delete(self, ticket: str, comment_id: str) -> None:
        self.client.request(f"deleting the comment on {ticket}", "DELETE", f"issue/{ticket}/comment/{comment_id}")

    def label(self, ticket: str, label: str, add: bool) -> None:
        change = {"add": label} if add else {"remove": label}
        self.client.request(f"labelling {ticket}", "PUT", f"issue/{ticket}", payload={"update": {"labels": [change]}})

    def summary(self, existing: str | None, title: str, text_lines: list[str]) -> str:
        if not existing:
            raise PushError("push.summary.issue must name the Jira issue that holds the summary")
        self.client.request(
            f"updating the summary {existing}",
            "PUT",
            f"issue/{existing}",
            payload={"fields": {"description": render.jira_description(title, text_lines, self.adf)}},
        )
        return existing


class GitLabWriter:
    def __init__(self, source: Any) -> None:
        self.source = source
        self.client = GitLabClient.for_source(source)

    def _ticket(self, ticket: str) -> tuple[Any, Any]:
        found = re.fullmatch(r"(.+)([#!])(\d+)", ticket)
        if not found:
            raise PushError(f"{ticket!r} is not a GitLab issue or merge request reference")
        path, kind, iid = found.groups()
        project = self.client.project(path)
        manager = project.issues if kind == "#" else project.mergerequests
        return manager, manager.get(int(iid), lazy=True)

    def me(self) -> str:
        def auth() -> str:
            self.client.gl.auth()
            user = self.client.gl.user
            if user is None:
                raise PushError("GitLab did not say which user the token belongs to")
            return str(user.id)

        return str(self.client.call("reading the token's user", auth))

    def find(self, ticket: str, comment_id: str | None) -> OwnComment | None:
        if not comment_id:
            return None
        _, item = self._ticket(ticket)
        try:
            note = self.client.call("reading a note", lambda: item.notes.get(int(comment_id), **NO_LIBRARY_RETRY))
        except HttpStatusError as exc:
            if exc.status == NOT_FOUND:
                return None
            raise
        author = note.attributes.get("author") or {}
        return OwnComment(str(note.id), str(author.get("id")), MARKER in (note.attributes.get("body") or ""))

    def create(self, ticket: str, lines: list[str]) -> str:
        _, item = self._ticket(ticket)
        note = self.client.call(
            f"commenting on {ticket}",
            lambda: item.notes.create({"body": render.gitlab_markdown(lines)}, **NO_LIBRARY_RETRY),
        )
        return str(note.id)

    def update(self, ticket: str, comment_id: str, lines: list[str] | None) -> None:
        _, item = self._ticket(ticket)
        self.client.call(
            f"updating the note on {ticket}",
            lambda: item.notes.update(int(comment_id), {"body": render.gitlab_markdown(lines)}, **NO_LIBRARY_RETRY),
        )

    def delete(self, ticket: str, comment_id: str) -> None:
        _, item = self._ticket(ticket)
        self.client.call(
            f"deleting the note on {ticket}", lambda: item.notes.delete(int(comment_id), **NO_LIBRARY_RETRY)
        )

    def label(self, ticket: str, label: str, add: bool) -> None:
        manager, item = self._ticket(ticket)
        key = "add_labels" if add else "remove_labels"
        self.client.call(f"labelling {ticket}", lambda: manager.update(item.get_id(), {key: label}, **NO_LIBRARY_RETRY))

    def summary(self, existing: str | None, title: str, text_lines: list[str]) -> str:
        path = self.source.projects[0] if self.source.projects else None
        if path is None:
            raise PushError("push.summary needs a project under `projects:` to hold the summary issue")
        project = self.client.project(path)
        description = render.gitlab_summary(text_lines)
        if existing:
            self.client.call(
                "updating the summary issue",
                lambda: project.issues.update(
                    int(existing), {"description": description, "title": title}, **NO_LIBRARY_RETRY
                ),
            )
            return existing
        issue = self.client.call(
            "opening the summary issue",
            lambda: project.issues.create({"title": title, "description": description}, **NO_LIBRARY_RETRY),
        )
        return str(issue.iid)


__all__ = ["GitLabWriter", "JiraWriter"]
