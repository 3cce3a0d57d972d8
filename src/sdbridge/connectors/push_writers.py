"""The write side of push-back, per source type: comments (Jira) and notes (GitLab) that
sdbridge owns, labels, and the summary issue. Every request runs under the source's retry
policy; bodies are built here from lines that name items only (no values, no people)."""

from __future__ import annotations

import json
import re
from typing import Any

from sdbridge.connectors.gitlab import NO_LIBRARY_RETRY, GitLabConnector
from sdbridge.connectors.jira import JiraConnector
from sdbridge.errors import FatalSourceError, PushError
from sdbridge.pushback import HEADING, MARKER, RESOLVED_TEXT, OwnComment

INTRO = "An audit of this service will look for the following on this ticket, and it is not there yet:"
OUTRO = "Please fill them in on the ticket. sdbridge updates this comment after every run and closes it when nothing is missing."


class JiraWriter:
    def __init__(self, source: Any) -> None:
        self.source = source
        self.reader = JiraConnector(source)
        self.adf = source.push.jira_body == "adf" or (source.push.jira_body == "auto" and source.auth == "cloud")

    def _request(self, what: str, method: str, path: str, payload: Any = None) -> Any:
        client = self.reader.client
        url = client._get_url(path)

        def send() -> Any:
            response = client._session.request(method, url, data=json.dumps(payload) if payload is not None else None)
            return response.json() if response.content else None

        return self.reader._call(what, send)

    def _body(self, lines: list[str] | None) -> Any:
        if lines is None:
            if self.adf:
                return {"type": "doc", "version": 1, "content": [_paragraph(RESOLVED_TEXT)]}
            return RESOLVED_TEXT
        if self.adf:
            return {"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": HEADING, "marks": [{"type": "strong"}]},
                                                  {"type": "text", "text": f" — {INTRO}"}]},
                {"type": "bulletList", "content": [{"type": "listItem", "content": [_paragraph(line)]} for line in lines]},
                _paragraph(OUTRO),
            ]}
        return "\n".join([f"*{HEADING}* — {INTRO}", "", *(f"* {line}" for line in lines), "", OUTRO])

    def me(self) -> str:
        user = self._request("reading the token's user", "GET", "myself")
        return str(user.get("accountId") or user.get("name") or user.get("key"))

    def find(self, ticket: str, comment_id: str | None) -> OwnComment | None:
        if not comment_id:
            return None
        try:
            comment = self._request("reading a comment", "GET", f"issue/{ticket}/comment/{comment_id}?expand=properties")
        except FatalSourceError as exc:
            if "HTTP 404" in str(exc):
                return None  # deleted by someone: it will be written again
            raise
        author = comment.get("author") or {}
        marked = any(p.get("key") == "sdbridge" and (p.get("value") or {}).get("marker") == MARKER
                     for p in comment.get("properties", []))
        return OwnComment(str(comment["id"]), str(author.get("accountId") or author.get("name")), marked)

    def create(self, ticket: str, lines: list[str]) -> str:
        payload = {
            "body": self._body(lines),
            "properties": [
                {"key": "sdbridge", "value": {"marker": MARKER}},
                {"key": "sd.public.comment", "value": {"internal": True}},  # JSM: never shown to the customer
            ],
        }
        return str(self._request(f"commenting on {ticket}", "POST", f"issue/{ticket}/comment", payload)["id"])

    def update(self, ticket: str, comment_id: str, lines: list[str] | None) -> None:
        self._request(f"updating the comment on {ticket}", "PUT", f"issue/{ticket}/comment/{comment_id}",
                      {"body": self._body(lines)})

    def delete(self, ticket: str, comment_id: str) -> None:
        self._request(f"deleting the comment on {ticket}", "DELETE", f"issue/{ticket}/comment/{comment_id}")

    def label(self, ticket: str, label: str, add: bool) -> None:
        change = {"add": label} if add else {"remove": label}
        self._request(f"labelling {ticket}", "PUT", f"issue/{ticket}", {"update": {"labels": [change]}})

    def summary(self, existing: str | None, title: str, text_lines: list[str]) -> str:
        if not existing:
            raise PushError("push.summary.issue must name the Jira issue that holds the summary")
        text = "\n".join([f"*{title}*", "", *text_lines])
        body = {"type": "doc", "version": 1, "content": [_paragraph(line) for line in [title, *text_lines] if line]} \
            if self.adf else text
        self._request(f"updating the summary {existing}", "PUT", f"issue/{existing}", {"fields": {"description": body}})
        return existing


def _paragraph(text: str) -> dict:
    return {"type": "paragraph", "content": [{"type": "text", "text": text}]}


class GitLabWriter:
    def __init__(self, source: Any) -> None:
        self.source = source
        self.reader = GitLabConnector(source)

    def _ticket(self, ticket: str) -> tuple[Any, Any]:
        found = re.fullmatch(r"(.+)([#!])(\d+)", ticket)
        if not found:
            raise PushError(f"{ticket!r} is not a GitLab issue or merge request reference")
        path, kind, iid = found.groups()
        project = self.reader.gl.projects.get(path, lazy=True)
        manager = project.issues if kind == "#" else project.mergerequests
        return manager, manager.get(int(iid), lazy=True)

    def _call(self, what: str, fn: Any) -> Any:
        return self.reader._call(what, fn)

    def _body(self, lines: list[str] | None) -> str:
        if lines is None:
            return f"{RESOLVED_TEXT}\n\n<!-- {MARKER} -->"
        return "\n".join([f"**{HEADING}** — {INTRO}", "", *(f"- {line}" for line in lines), "", OUTRO, "",
                          f"<!-- {MARKER} -->"])

    def me(self) -> str:
        def auth() -> str:
            self.reader.gl.auth()
            return str(self.reader.gl.user.id)

        return self._call("reading the token's user", auth)

    def find(self, ticket: str, comment_id: str | None) -> OwnComment | None:
        if not comment_id:
            return None
        _, item = self._ticket(ticket)
        try:
            note = self._call("reading a note", lambda: item.notes.get(int(comment_id), **NO_LIBRARY_RETRY))
        except FatalSourceError as exc:
            if "HTTP 404" in str(exc):
                return None
            raise
        author = note.attributes.get("author") or {}
        return OwnComment(str(note.id), str(author.get("id")), MARKER in (note.attributes.get("body") or ""))

    def create(self, ticket: str, lines: list[str]) -> str:
        _, item = self._ticket(ticket)
        note = self._call(f"commenting on {ticket}", lambda: item.notes.create({"body": self._body(lines)},
                                                                               **NO_LIBRARY_RETRY))
        return str(note.id)

    def update(self, ticket: str, comment_id: str, lines: list[str] | None) -> None:
        _, item = self._ticket(ticket)
        self._call(f"updating the note on {ticket}", lambda: item.notes.update(
            int(comment_id), {"body": self._body(lines)}, **NO_LIBRARY_RETRY))

    def delete(self, ticket: str, comment_id: str) -> None:
        _, item = self._ticket(ticket)
        self._call(f"deleting the note on {ticket}", lambda: item.notes.delete(int(comment_id), **NO_LIBRARY_RETRY))

    def label(self, ticket: str, label: str, add: bool) -> None:
        manager, item = self._ticket(ticket)
        key = "add_labels" if add else "remove_labels"
        self._call(f"labelling {ticket}", lambda: manager.update(item.get_id(), {key: label}, **NO_LIBRARY_RETRY))

    def summary(self, existing: str | None, title: str, text_lines: list[str]) -> str:
        path = self.source.projects[0] if self.source.projects else None
        if path is None:
            raise PushError("push.summary needs a project under `projects:` to hold the summary issue")
        project = self.reader.gl.projects.get(path, lazy=True)
        description = "\n".join([*text_lines, "", f"<!-- {MARKER} -->"])
        if existing:
            self._call("updating the summary issue", lambda: project.issues.update(
                int(existing), {"description": description, "title": title}, **NO_LIBRARY_RETRY))
            return existing
        issue = self._call("opening the summary issue", lambda: project.issues.create(
            {"title": title, "description": description}, **NO_LIBRARY_RETRY))
        return str(issue.iid)


__all__ = ["JiraWriter", "GitLabWriter"]
