"""Push the gaps back where people work: one living comment per ticket, a label, a summary.

For every ticket (Jira issue, GitLab issue or merge request) of a pushed work product:
- gaps and no sdbridge comment yet       -> create the comment, add the label;
- gaps changed since the comment         -> edit that same comment;
- gaps unchanged                         -> nothing is written (the comment is only read, to
                                            recreate it if someone deleted it);
- gaps closed                            -> replace the comment with a short resolved note (or
                                            delete it) and remove the label;
- ticket left the active set             -> not touched.

sdbridge owns a comment when it carries the marker *and* was written by the token's own
user: a human who quotes the marker is never edited. Comments name the missing items and why
they matter; they never carry values, other records' data or contact details. A cap on write
requests stops a mapping mistake from commenting on thousands of tickets; `--dry-run` plans
and writes nothing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from sdbridge.errors import SdbridgeError, UnansweredWriteError
from sdbridge.faults import fault_point


@dataclass(frozen=True)
class PushState:
    """What push-back last did on one ticket: the comment it owns and what it said."""

    comment_id: str | None
    fingerprint: str | None
    labelled: bool

    @classmethod
    def saved(cls, row: tuple[str | None, str | None, bool] | None) -> PushState | None:
        """The state from the store's row for the ticket (None: nothing saved yet)."""
        return None if row is None else cls(row[0], row[1], bool(row[2]))


@dataclass
class OwnComment:
    id: str
    author: str | None
    marked: bool
    text: str | None = None
    """The comment's words as they stand (when read with it): an update that would write the
    same words is not written."""


class TicketWriter(Protocol):
    """What push-back needs from a tracker. `find` reads the saved comments (in bulk where the
    tracker can); `find_own` looks through one ticket's comments for sdbridge's own."""

    def me(self) -> str: ...
    def words(self, lines: list[str] | None) -> str: ...
    def find(self, comments: dict[str, str]) -> dict[str, OwnComment | None]: ...
    def find_own(self, ticket: str, me: str) -> OwnComment | None: ...
    def create(self, ticket: str, lines: list[str]) -> str: ...
    def update(self, ticket: str, comment_id: str, lines: list[str] | None) -> None: ...
    def delete(self, ticket: str, comment_id: str) -> None: ...
    def label(self, ticket: str, label: str, add: bool) -> None: ...
    def summary(self, existing: str | None, title: str, text_lines: list[str]) -> str: ...


@dataclass
class Action:
    ticket: str
    kind: str  # create | update | unchanged | retract
    lines: list[str] = field(default_factory=list)
    fingerprint: str = ""


@dataclass
class PushResult:
    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retracted: int = 0
    writes: int = 0
    dry_run: bool = False
    capped: int = 0
    plan: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = (
            f"{self.source}: created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"retracted {self.retracted}"
        )
        if self.dry_run:
            text += " (dry run: nothing was written)"
        if self.capped:
            text += (
                f"; write cap reached: {self.capped} ticket(s) not pushed — check the mapping, or raise push.max_writes"
            )
        return text


def fingerprint(gaps: set[tuple[str, str]]) -> str:
    """What a ticket's comment stands for: its gapped item ids and their statuses. The
    wording is not part of it, so rewording a message rewrites no comment by itself."""
    return hashlib.sha256("\n".join(f"{item}={status}" for item, status in sorted(gaps)).encode()).hexdigest()[:16]


def plan(
    findings: pd.DataFrame, active: set[str], state: dict[str, PushState], work_products: tuple[str, ...]
) -> list[Action]:
    """Pure: what to do per ticket, from this run's findings (work_product, item, record_id,
    status, message), the tickets still in the source and what was pushed before."""
    gaps: dict[str, set[tuple[str, str]]] = defaultdict(set)
    lines: dict[str, set[str]] = defaultdict(set)
    rows = findings[findings["work_product"].isin(work_products) & findings["record_id"].notna()]
    for ticket, item, status, message in zip(rows["record_id"], rows["item"], rows["status"], rows["message"]):
        if ticket in active:
            gaps[str(ticket)].add((str(item), str(status)))
            lines[str(ticket)].add(str(message))
    actions = []
    for ticket in sorted(gaps):
        mark = fingerprint(gaps[ticket])
        text = sorted(lines[ticket])
        previous = state.get(ticket)
        if previous is None or not previous.comment_id:
            actions.append(Action(ticket, "create", text, mark))
        elif previous.fingerprint != mark:
            actions.append(Action(ticket, "update", text, mark))
        else:
            actions.append(Action(ticket, "unchanged", text, mark))
    for ticket, previous in sorted(state.items()):
        if ticket not in gaps and ticket in active and previous.fingerprint not in (None, "resolved"):
            actions.append(Action(ticket, "retract", [], "resolved"))
    return actions


class _Budget:
    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0

    def allows(self, writes: int) -> bool:
        return self.used + writes <= self.limit

    def spend(self, writes: int = 1) -> None:
        self.used += writes


def apply(
    source: str,
    actions: list[Action],
    writer: TicketWriter,
    state: dict[str, PushState],
    save: Any,
    *,
    label: str,
    on_resolved: str,
    max_writes: int,
    dry_run: bool,
    lock: Callable[[str], AbstractContextManager[Any]] | None = None,
    state_of: Callable[[str], PushState | None] | None = None,
) -> PushResult:
    """Carry out a plan. `save(ticket, comment_id, fingerprint, labelled)` records the state
    after each ticket, so an interrupted push resumes without duplicates. `lock(ticket)`
    holds a ticket while it is written (the nightly push and live mode never write one ticket
    at once); `state_of(ticket)` reads its saved state again inside that hold."""
    result = PushResult(source=source, dry_run=dry_run, plan=actions)
    if dry_run:
        for action in actions:
            setattr(result, _counter(action.kind), getattr(result, _counter(action.kind)) + 1)
        return result
    budget = _Budget(max_writes)
    me = writer.me()
    saved: dict[str, str] = {}
    for action in actions:
        comment_id = state[action.ticket].comment_id if action.ticket in state else None
        if comment_id:
            saved[action.ticket] = comment_id
    found = writer.find(saved) if saved else {}
    for action in actions:
        try:
            with (lock or _unlocked)(action.ticket):
                previous = (state_of(action.ticket) if state_of else None) or state.get(action.ticket)
                _apply_one(
                    action,
                    previous or PushState(None, None, False),
                    found.get(action.ticket),
                    writer,
                    me,
                    save,
                    budget,
                    result,
                    label=label,
                    on_resolved=on_resolved,
                )
        except SdbridgeError as exc:
            result.notes.append(f"{action.ticket}: {exc}")
    result.writes = budget.used
    return result


def _unlocked(ticket: str) -> AbstractContextManager[Any]:
    return nullcontext()


def _apply_one(
    action: Action,
    previous: PushState,
    comment: OwnComment | None,
    writer: TicketWriter,
    me: str,
    save: Any,
    budget: _Budget,
    result: PushResult,
    *,
    label: str,
    on_resolved: str,
) -> None:
    if comment is not None and not (comment.marked and comment.author == me):
        comment = None  # not ours (any more): never edit it
    kind = action.kind
    if kind != "retract" and comment is None:
        # No comment of ours is known: look before writing one. A run killed after its write,
        # a lost store or a deleted comment leaves no trace in the saved state.
        comment = writer.find_own(action.ticket, me)
        kind = "create" if comment is None else "update"
    if kind == "unchanged" and not previous.labelled:
        kind = "relabel"  # the label did not make it last time (the comment did)
    if kind == "unchanged":
        result.unchanged += 1
        return
    if kind == "retract" and comment is None:
        kind = "retract-label"
    writes = {"create": 2, "update": 1, "retract": 2, "retract-label": 1, "relabel": 1}[kind]
    if kind == "update" and not previous.labelled:
        writes += 1
    if not budget.allows(writes):
        result.capped += 1
        return
    owned = comment.id if comment is not None else ""  # update and relabel only run on a comment found

    def put_label(comment_id: str) -> None:
        writer.label(action.ticket, label, add=True)
        budget.spend(1)
        save(action.ticket, comment_id, action.fingerprint, True)

    if kind == "create":
        try:
            comment_id = writer.create(action.ticket, action.lines)
        except UnansweredWriteError:
            written = writer.find_own(action.ticket, me)  # did it happen? never write it twice
            if written is None:
                raise
            comment_id = written.id
        fault_point("after-comment-write")
        budget.spend(1)
        # Remember the comment before anything else can fail: a retry must edit it, never
        # write a second one.
        save(action.ticket, comment_id, action.fingerprint, False)
        put_label(comment_id)
        result.created += 1
    elif kind == "relabel":
        put_label(owned)
        result.unchanged += 1
    elif kind == "update":
        # Found as it should read (a lost store, a retried run): nothing to write, only to remember.
        reads_right = comment is not None and comment.text is not None and comment.text == writer.words(action.lines)
        if not reads_right:
            writer.update(action.ticket, owned, action.lines)
            budget.spend(1)
        save(action.ticket, owned, action.fingerprint, previous.labelled)
        if not previous.labelled:
            put_label(owned)
        if reads_right:
            result.unchanged += 1
        else:
            result.updated += 1
    else:
        if comment is not None:
            if on_resolved == "delete":
                writer.delete(action.ticket, comment.id)
            else:
                writer.update(action.ticket, comment.id, None)
            budget.spend(1)
        writer.label(action.ticket, label, add=False)
        budget.spend(1)
        save(action.ticket, None if on_resolved == "delete" else previous.comment_id, "resolved", False)
        result.retracted += 1


def _counter(kind: str) -> str:
    return {"create": "created", "update": "updated", "unchanged": "unchanged", "retract": "retracted"}[kind]
