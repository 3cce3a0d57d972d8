"""The write side of push-back, per tracker: comments (Jira) and notes (GitLab) that sdbridge
owns, labels, and the summary issue. Each writer uses the same shared client as the pull
(connection, retry policy, one deadline per push); a deleted comment is recognised by the
404 status of the typed error, never by the message text."""

from __future__ import annotations

import re
from functools import partial
from typing import TYPE_CHECKING, Any

from sdbridge.connectors.gitlab_client import NO_LIBRARY_RETRY, GitLabClient
from sdbridge.connectors.jira_client import JiraClient
from sdbridge.errors import HttpStatusError, PushError
from sdbridge.marker import MARKER, is_own_text
from sdbridge.pushback import render
from sdbridge.pushback.plan import OwnComment

if TYPE_CHECKING:  # the config models sit above: named for types only
    from sdbridge.sources import GitLabSourceConfig, JiraSourceConfig

NOT_FOUND = 404
COMMENT_LIST_MAX = 1000
"""Comment ids per `POST /comment/list` (the documented maximum)."""


class JiraWriter:
    def __init__(self, source: JiraSourceConfig) -> None:
        self.source = source
        self.client = JiraClient(source)
        self.adf = source.push.jira_body == "adf" or (source.push.jira_body == "auto" and source.auth == "cloud")
        self.quiet_labels = True
        """Label edits ask Jira not to e-mail the watchers (`notifyUsers=false`) until a server
        refuses that for this token (Data Center wants project admin rights for it)."""
        self.notes: list[str] = []
        self._me: str | None = None

    def _body(self, lines: list[str] | None) -> Any:
        return render.jira_adf(lines) if self.adf else render.jira_wiki(lines)

    def words(self, lines: list[str] | None) -> str:
        """The words a body with these lines says, as `_text` reads them back."""
        return _text(self._body(lines))

    def me(self) -> str:
        """The token's user (read once per writer: a token's user does not change)."""
        if self._me is None:
            user = self.client.get("reading the token's user", "myself")
            self._me = str(user.get("accountId") or user.get("name") or user.get("key"))
        return self._me

    @staticmethod
    def _author(comment: dict[str, Any]) -> str:
        author = comment.get("author") or {}
        return str(author.get("accountId") or author.get("name") or author.get("key"))

    @staticmethod
    def _marked(properties: list[dict[str, Any]]) -> bool:
        return any(p.get("key") == "sdbridge" and (p.get("value") or {}).get("marker") == MARKER for p in properties)

    def _with_marks(self, comments: list[dict[str, Any]]) -> dict[str, OwnComment]:
        """Comment id -> the comment with its author and whether it carries sdbridge's marker.
        Cloud reads the marker of up to 1000 comments in one documented request
        (`POST /comment/list?expand=properties`); Data Center reads each comment's property."""
        found: dict[str, OwnComment] = {}
        if self.client.cloud:
            ids = [int(c["id"]) for c in comments]
            for start in range(0, len(ids), COMMENT_LIST_MAX):
                page = self.client.request(
                    "reading sdbridge's comments",
                    "POST",
                    "comment/list",
                    params={"expand": "properties"},
                    payload={"ids": ids[start : start + COMMENT_LIST_MAX]},
                    reads=True,
                )
                for comment in page.get("values", []):
                    found[str(comment["id"])] = OwnComment(
                        str(comment["id"]), self._author(comment), self._marked(comment.get("properties") or [])
                    )
            return found
        for comment in comments:
            cid = str(comment["id"])
            try:
                prop = self.client.get("reading a comment's marker", f"comment/{cid}/properties/sdbridge")
            except HttpStatusError as exc:
                if exc.status != NOT_FOUND:
                    raise
                prop = None  # no marker: not sdbridge's
            found[cid] = OwnComment(cid, self._author(comment), bool(prop) and self._marked([prop]))
        return found

    def find(self, comments: dict[str, str]) -> dict[str, OwnComment | None]:
        """Ticket -> the comment sdbridge saved for it, as it is now (None: deleted)."""
        if self.client.cloud:
            marks = self._with_marks([{"id": cid} for cid in comments.values()])
            return {ticket: marks.get(cid) for ticket, cid in comments.items()}
        result: dict[str, OwnComment | None] = {}
        for ticket, cid in comments.items():
            try:
                comment = self.client.get("reading a comment", f"issue/{ticket}/comment/{cid}")
            except HttpStatusError as exc:
                if exc.status != NOT_FOUND:
                    raise
                result[ticket] = None  # deleted by someone: it will be written again
                continue
            result[ticket] = self._with_marks([comment])[cid]
        return result

    def find_own(self, ticket: str, me: str) -> OwnComment | None:
        """sdbridge's own comment on a ticket, looked for among its comments: before a first
        comment (a lost store, a run killed after the write) and after a create that got no
        answer. Only the token's own comments that carry the marker count."""
        mine: list[dict[str, Any]] = []
        start = 0
        while True:
            page = self.client.get(
                f"reading the comments of {ticket}", f"issue/{ticket}/comment", {"startAt": start, "maxResults": 100}
            )
            comments = page.get("comments", [])
            mine += [c for c in comments if self._author(c) == me]
            start += len(comments)
            if not comments or start >= int(page.get("total", start)):
                break
        if not mine:
            return None
        marks = self._with_marks(mine)
        bodies = {str(c["id"]): _text(c.get("body")) for c in mine}
        owned = [marks[str(c["id"])] for c in mine if marks.get(str(c["id"])) and marks[str(c["id"])].marked]
        if not owned:
            # The marker property was removed (by a person or an app): the token user's comment
            # that says sdbridge's fixed words is still sdbridge's, never a second one.
            owned = [OwnComment(cid, me, True) for cid, text in bodies.items() if is_own_text(text)]
        if not owned:
            return None
        found = owned[-1]
        found.text = bodies.get(found.id)
        return found

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
        """Add or remove the label without e-mailing every watcher: `notifyUsers=false`. Jira
        Cloud ignores it for a token without the permission; Data Center refuses the edit
        (403), so the label is set with notifications, the rest of the run without asking
        again, and a note says so once."""
        change = {"add": label} if add else {"remove": label}
        payload = {"update": {"labels": [change]}}
        if self.quiet_labels:
            try:
                self.client.request(
                    f"labelling {ticket}", "PUT", f"issue/{ticket}", params={"notifyUsers": "false"}, payload=payload
                )
                return
            except HttpStatusError as exc:
                if exc.status not in (400, 403):
                    raise
                self.quiet_labels = False
                self.notes.append(
                    "the token may not edit labels without notifying watchers (notifyUsers=false needs project "
                    "admin rights): labels were set with the usual notifications"
                )
        self.client.request(f"labelling {ticket}", "PUT", f"issue/{ticket}", payload=payload)

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
    def __init__(self, source: GitLabSourceConfig) -> None:
        self.source = source
        self.client = GitLabClient.for_source(source)
        self._me: str | None = None

    def _ticket(self, ticket: str) -> tuple[Any, Any]:
        found = re.fullmatch(r"(.+)([#!])(\d+)", ticket)
        if not found:
            raise PushError(f"{ticket!r} is not a GitLab issue or merge request reference")
        path, kind, iid = found.groups()
        project = self.client.project(path)
        manager = project.issues if kind == "#" else project.mergerequests
        return manager, manager.get(int(iid), lazy=True)

    def me(self) -> str:
        """The token's user (read once per writer)."""

        def auth() -> str:
            self.client.gl.auth()
            user = self.client.gl.user
            if user is None:
                raise PushError("GitLab did not say which user the token belongs to")
            return str(user.id)

        if self._me is None:
            self._me = str(self.client.call("reading the token's user", auth))
        return self._me

    @staticmethod
    def _own(note: Any) -> OwnComment:
        author = note.attributes.get("author") or {}
        body = note.attributes.get("body") or ""
        # the hidden marker, or — were it edited away — sdbridge's fixed words
        return OwnComment(str(note.id), str(author.get("id")), is_own_text(body), _text(body))

    def words(self, lines: list[str] | None) -> str:
        return _text(render.gitlab_markdown(lines))

    def find(self, comments: dict[str, str]) -> dict[str, OwnComment | None]:
        """Ticket -> the note sdbridge saved for it, as it is now (None: deleted); one read each."""
        result: dict[str, OwnComment | None] = {}
        for ticket, note_id in comments.items():
            _, item = self._ticket(ticket)
            try:
                note = self.client.call("reading a note", partial(item.notes.get, int(note_id), **NO_LIBRARY_RETRY))
            except HttpStatusError as exc:
                if exc.status != NOT_FOUND:
                    raise
                result[ticket] = None
                continue
            result[ticket] = self._own(note)
        return result

    def find_own(self, ticket: str, me: str) -> OwnComment | None:
        """sdbridge's own note on an issue or merge request: the token user's note that
        carries the marker, looked for among all its notes."""
        _, item = self._ticket(ticket)
        notes = self.client.each(
            f"reading the notes of {ticket}", partial(item.notes.list, iterator=True, **NO_LIBRARY_RETRY)
        )
        owned = [own for note in notes if (own := self._own(note)).marked and own.author == me]
        return owned[-1] if owned else None

    def create(self, ticket: str, lines: list[str]) -> str:
        _, item = self._ticket(ticket)
        note = self.client.call(
            f"commenting on {ticket}",
            lambda: item.notes.create({"body": render.gitlab_markdown(lines)}, **NO_LIBRARY_RETRY),
            idempotent=False,
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
            idempotent=False,
        )
        return str(issue.iid)


__all__ = ["GitLabWriter", "JiraWriter"]


def _text(body: Any) -> str:
    """A comment body (ADF, wiki text or Markdown) as its words, spaces collapsed: what a
    comparison before an update looks at, whatever the tracker did to the markup."""
    from sdbridge.connectors.jira_data import adf_to_text

    text = (adf_to_text(body) or "") if isinstance(body, dict) else str(body or "")
    return " ".join(text.split())
