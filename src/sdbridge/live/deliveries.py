"""Webhook deliveries, trusted or refused: what a Jira or GitLab delivery says happened, read
only after its signature was checked.

The body is a hint, never the evidence: it tells which ticket changed, when and by whom; the
ticket itself is read again through the source's client before anything is judged.

- **Jira** (Cloud admin webhooks, Data Center 10+) signs the raw body with the webhook's
  secret: `X-Hub-Signature: sha256=<hex HMAC-SHA256>` (developer.atlassian.com "Webhooks",
  "Secure admin webhooks"; confluence.atlassian.com "Managing webhooks", Data Center).
  `X-Atlassian-Webhook-Identifier` names a delivery and stays the same on a retry.
  Events: `jira:issue_created|updated|deleted`, `comment_created|updated|deleted`.
- **GitLab** sends the secret token in `X-Gitlab-Token`; `Idempotency-Key` (17.4+) stays
  the same on a retry, `X-Gitlab-Event-UUID` names an event (docs.gitlab.com "Webhooks",
  "Delivery headers"). Events (`object_kind`): `issue`, `work_item` (incidents and other
  work items since 17.x), `merge_request`, `note`, `deployment`, `release`
  (docs.gitlab.com "Webhook events").
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from sdbridge.dates import epoch_ms
from sdbridge.marker import is_own_text


class DeliveryRefused(Exception):
    """A delivery sdbridge does not act on: `status` is what the sender is answered."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Delivery:
    source: str
    kind: str
    """What changed: `issue`, `merge_request` (tickets), `deployment`, `release` (records)."""
    project: str | None
    """GitLab: the project's path; Jira: None."""
    number: str
    """Jira: the issue id; GitLab: the iid, the deployment id or the release tag."""
    changed_ms: int | None
    """When the tracker says the change happened (milliseconds since the epoch)."""
    delivery_id: str
    actor: str | None
    """Who made the change (Jira account id or name, GitLab user id)."""
    event: str
    label_only: bool = False
    """The change touched labels only (sdbridge's own label edit, when `actor` is its user)."""
    own_text: bool = False
    """A comment or note whose text is sdbridge's."""
    comment: bool = False
    """A comment or note event (its author is the actor)."""

    @property
    def key(self) -> str:
        """What deliveries are collapsed by: one ticket (or record) of one source."""
        return f"{self.source}\x00{self.kind}\x00{self.project or ''}\x00{self.number}"

    @property
    def ticket(self) -> str:
        """The ticket as people write it: `OPS-12` is known only after the read, so Jira's is
        its id; GitLab's is its reference."""
        if self.project and self.kind in ("issue", "merge_request"):
            return f"{self.project}{'#' if self.kind == 'issue' else '!'}{self.number}"
        return self.number


def _body(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise DeliveryRefused(400, "not_json", "the delivery is not JSON") from None
    if not isinstance(data, dict):
        raise DeliveryRefused(400, "not_json", "the delivery is not a JSON object")
    return data


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dict_or_none(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value) if value is not None else ""


def jira_delivery(source: str, secret: str | None, headers: dict[str, str], raw: bytes) -> Delivery | None:
    """A Jira delivery, its signature checked first; None for an event sdbridge has nothing
    to do with (a deleted issue: it left the source, and the nightly run retires it)."""
    if not secret:
        raise DeliveryRefused(401, "no_secret", f"source {source!r} has no webhook secret: every delivery is refused")
    given = headers.get("x-hub-signature", "")
    method, _, digest = given.partition("=")
    wanted = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if method.lower() != "sha256" or not hmac.compare_digest(digest.lower(), wanted):
        raise DeliveryRefused(401, "bad_signature", "the delivery's X-Hub-Signature does not match the secret")
    data = _body(raw)
    event = str(data.get("webhookEvent") or "")
    issue = _dict_or_none(data.get("issue"))
    if event == "jira:issue_deleted" or issue is None or not (issue.get("id") or issue.get("key")):
        return None
    comment = _dict_or_none(data.get("comment"))
    user = _dict(data.get("user"))
    if comment is not None:
        author = _dict(comment.get("author"))
        actor = author.get("accountId") or author.get("name") or author.get("key")
    else:
        actor = user.get("accountId") or user.get("name") or user.get("key")
    changelog = _dict(data.get("changelog"))
    changes = [c for c in changelog.get("items") or [] if isinstance(c, dict)]
    identifier = headers.get("x-atlassian-webhook-identifier") or hashlib.sha256(raw).hexdigest()
    return Delivery(
        source=source,
        kind="issue",
        project=None,
        number=str(issue.get("id") or issue.get("key")),
        changed_ms=epoch_ms(data.get("timestamp")),
        delivery_id=f"jira:{identifier}",
        actor=str(actor) if actor else None,
        event=event,
        label_only=bool(changes) and all(str(c.get("field", "")).lower() == "labels" for c in changes),
        own_text=comment is not None and is_own_text(_text(comment.get("body"))),
        comment=comment is not None,
    )


GITLAB_IGNORED_CHANGES = {"labels", "updated_at", "updated_by_id", "label_ids"}


def gitlab_delivery(source: str, secret: str | None, headers: dict[str, str], raw: bytes) -> Delivery | None:
    """A GitLab delivery, its token checked first; None for an event sdbridge has nothing to
    do with (a push, a pipeline, a note on a commit or a snippet)."""
    if not secret:
        raise DeliveryRefused(401, "no_secret", f"source {source!r} has no webhook secret: every delivery is refused")
    if not hmac.compare_digest(headers.get("x-gitlab-token", "").encode(), secret.encode()):
        raise DeliveryRefused(401, "bad_signature", "the delivery's X-Gitlab-Token does not match the secret")
    data = _body(raw)
    kind = str(data.get("object_kind") or "")
    project = _dict(data.get("project"))
    path = project.get("path_with_namespace")
    attributes = _dict(data.get("object_attributes"))
    user = _dict(data.get("user"))
    actor = str(user.get("id")) if user.get("id") is not None else None
    identifier = headers.get("idempotency-key") or headers.get("x-gitlab-event-uuid") or hashlib.sha256(raw).hexdigest()
    if not path:
        return None

    def make(
        kind_: str, number: str, changed: int | None, *, label_only: bool = False, own: bool = False, note: bool = False
    ) -> Delivery:
        return Delivery(
            source=source,
            kind=kind_,
            project=str(path),
            number=number,
            changed_ms=changed,
            delivery_id=f"gitlab:{identifier}",
            actor=actor,
            event=kind,
            label_only=label_only,
            own_text=own,
            comment=note,
        )

    if kind in ("issue", "work_item", "merge_request"):
        if kind == "work_item" and str(attributes.get("type", "")).lower() in ("epic", "objective", "key result"):
            return None  # no ticket of a project (epics are a group's)
        changes = _dict(data.get("changes"))
        iid = attributes.get("iid")
        if iid is None:
            return None
        return make(
            "merge_request" if kind == "merge_request" else "issue",
            str(iid),
            epoch_ms(attributes.get("updated_at")),
            label_only=bool(changes) and set(changes) <= GITLAB_IGNORED_CHANGES and "labels" in changes,
        )
    if kind == "note":
        noteable = str(attributes.get("noteable_type") or "")
        holder = data.get("issue") if noteable == "Issue" else data.get("merge_request")
        if noteable not in ("Issue", "MergeRequest") or not isinstance(holder, dict) or holder.get("iid") is None:
            return None
        return make(
            "issue" if noteable == "Issue" else "merge_request",
            str(holder.get("iid")),
            epoch_ms(attributes.get("updated_at")),
            own=is_own_text(_text(attributes.get("note"))),
            note=True,
        )
    if kind == "deployment" and data.get("deployment_id") is not None:
        return make("deployment", str(data.get("deployment_id")), epoch_ms(data.get("status_changed_at")))
    if kind == "release" and data.get("tag"):
        return make("release", str(data.get("tag")), epoch_ms(data.get("updated_at") or data.get("released_at")))
    return None
