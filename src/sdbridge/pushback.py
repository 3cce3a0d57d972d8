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
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from sdbridge.errors import PushError, SdbridgeError

MARKER = "sdbridge:iso29110-gaps"
HEADING = "ISO/IEC 29110 gap check"
RESOLVED_TEXT = "All ISO/IEC 29110 items sdbridge checks are now present on this ticket. Thank you."


@dataclass
class OwnComment:
    id: str
    author: str | None
    marked: bool


class TicketWriter(Protocol):
    """What push-back needs from a source; each method is one request."""

    def me(self) -> str: ...
    def find(self, ticket: str, comment_id: str | None) -> OwnComment | None: ...
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
        text = (f"{self.source}: created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
                f"retracted {self.retracted}")
        if self.dry_run:
            text += " (dry run: nothing was written)"
        if self.capped:
            text += (f"; write cap reached: {self.capped} ticket(s) not pushed — check the mapping, "
                     "or raise push.max_writes")
        return text


def is_own_text(text: str | None) -> bool:
    """A comment or note sdbridge wrote (it must never count as evidence, e.g. of restoration steps)."""
    return bool(text) and (MARKER in text or HEADING in text or RESOLVED_TEXT in text)  # type: ignore[operator]


def fingerprint(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:16]


def plan(
    findings: pd.DataFrame, active: set[str], state: dict[str, dict[str, Any]], work_products: tuple[str, ...]
) -> list[Action]:
    """Pure: what to do per ticket, from this run's findings, the tickets still in the source
    and what was pushed before."""
    gaps: dict[str, list[str]] = defaultdict(list)
    rows = findings[findings["work_product"].isin(work_products) & findings["record_id"].notna()]
    for ticket, message in zip(rows["record_id"], rows["message"]):
        if ticket in active:
            gaps[str(ticket)].append(str(message))
    actions = []
    for ticket in sorted(gaps):
        lines = sorted(set(gaps[ticket]))
        mark = fingerprint(lines)
        previous = state.get(ticket)
        if previous is None or not previous.get("comment_id"):
            actions.append(Action(ticket, "create", lines, mark))
        elif previous.get("fingerprint") != mark:
            actions.append(Action(ticket, "update", lines, mark))
        else:
            actions.append(Action(ticket, "unchanged", lines, mark))
    for ticket, previous in sorted(state.items()):
        if ticket not in gaps and ticket in active and previous.get("fingerprint") not in (None, "resolved"):
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
    state: dict[str, dict[str, Any]],
    save: Any,
    *,
    label: str,
    on_resolved: str,
    max_writes: int,
    dry_run: bool,
) -> PushResult:
    """Carry out a plan. `save(ticket, comment_id, fingerprint, labelled)` records the state
    after each ticket, so an interrupted push resumes without duplicates."""
    result = PushResult(source=source, dry_run=dry_run, plan=actions)
    budget = _Budget(max_writes)
    me = None if dry_run else writer.me()
    for action in actions:
        previous = state.get(action.ticket, {})
        if dry_run:
            setattr(result, _counter(action.kind), getattr(result, _counter(action.kind)) + 1)
            continue
        comment = None
        if previous.get("comment_id"):
            comment = writer.find(action.ticket, previous["comment_id"])
            if comment is not None and not (comment.marked and comment.author == me):
                comment = None  # not ours (any more): never edit it
        kind = action.kind
        if kind in ("update", "unchanged") and comment is None:
            kind = "create"  # someone deleted our comment: write it again
        if kind == "unchanged" and not previous.get("labelled"):
            kind = "relabel"  # the label did not make it last time (the comment did)
        if kind == "unchanged":
            result.unchanged += 1
            continue
        if kind == "retract" and comment is None:
            kind = "retract-label"
        writes = {"create": 2, "update": 1, "retract": 2, "retract-label": 1, "relabel": 1}[kind]
        if not budget.allows(writes):
            result.capped += 1
            continue
        try:
            if kind == "create":
                comment_id = writer.create(action.ticket, action.lines)
                budget.spend(1)
                # Remember the comment before anything else can fail: a retry must edit it,
                # never write a second one.
                save(action.ticket, comment_id, action.fingerprint, False)
                writer.label(action.ticket, label, add=True)
                save(action.ticket, comment_id, action.fingerprint, True)
                result.created += 1
                writes -= 1
            elif kind == "relabel":
                writer.label(action.ticket, label, add=True)
                save(action.ticket, comment.id, action.fingerprint, True)  # type: ignore[union-attr]
                result.unchanged += 1
            elif kind == "update":
                writer.update(action.ticket, comment.id, action.lines)  # type: ignore[union-attr]
                if not previous.get("labelled"):
                    writer.label(action.ticket, label, add=True)
                save(action.ticket, comment.id, action.fingerprint, True)  # type: ignore[union-attr]
                result.updated += 1
            else:
                if comment is not None:
                    if on_resolved == "delete":
                        writer.delete(action.ticket, comment.id)
                    else:
                        writer.update(action.ticket, comment.id, None)
                writer.label(action.ticket, label, add=False)
                save(action.ticket, None if on_resolved == "delete" else previous.get("comment_id"), "resolved", False)
                result.retracted += 1
        except SdbridgeError as exc:
            result.notes.append(f"{action.ticket}: {exc}")
            continue
        budget.spend(writes)
    result.writes = budget.used
    return result


def _counter(kind: str) -> str:
    return {"create": "created", "update": "updated", "unchanged": "unchanged", "retract": "retracted"}[kind]


def summary_lines(assessment: dict, previous: dict | None, source: str) -> list[str]:
    """The summary issue's table: gaps by WP for this source, and the change since last run."""
    lines = ["| WP | Records | With gaps | Gaps | Since last run |", "|---|---:|---:|---:|---:|"]
    before = (previous or {}).get("summary", {}).get("by_work_product", {})
    for wp, counts in sorted(assessment["summary"]["by_work_product"].items()):
        if source not in assessment["work_products"][wp].get("sources", []):
            continue
        delta = counts["gaps"] - before.get(wp, {}).get("gaps", counts["gaps"])
        lines.append(f"| {wp} {assessment['work_products'][wp]['name']} | {counts['records']} | "
                     f"{counts['records_with_gaps']} | {counts['gaps']} | {delta:+d} |")
    lines.append("")
    lines.append(f"Run {assessment['run_id']} at {assessment['generated_at']}. Updated by sdbridge every run.")
    return lines


def push_source(
    source: Any, store: Any, findings: pd.DataFrame, report: dict, previous: dict | None, *, dry_run: bool,
    writer: TicketWriter | None = None,
) -> PushResult:
    from sdbridge.connectors.base import push_writer_for

    config = source.push
    writer = writer or push_writer_for(source)
    active = writer_active_tickets(store, source)
    state = store.push_state(source.name)
    actions = plan(findings[findings["source"] == source.name], active, state, config.work_products)

    def save(ticket: str, comment_id: str | None, mark: str, labelled: bool) -> None:
        store.save_push_state(source.name, ticket, comment_id, mark, labelled)

    result = apply(source.name, actions, writer, state, save, label=config.label, on_resolved=config.on_resolved,
                   max_writes=config.max_writes, dry_run=dry_run)
    if config.summary.enabled and not dry_run:
        key = f"summary:{source.name}"
        if result.writes < config.max_writes:
            try:
                existing = (state.get(key) or {}).get("comment_id") or config.summary.issue
                ref = writer.summary(existing, config.summary.title, summary_lines(report, previous, source.name))
                store.save_push_state(source.name, key, ref, "summary", False)
                result.writes += 1
            except SdbridgeError as exc:
                result.notes.append(f"summary issue: {exc}")
    return result


def writer_active_tickets(store: Any, source: Any) -> set[str]:
    """Tickets still in the source: the active items of the store, as record ids."""
    tickets = set()
    for item in store.items(source.name):
        if source.type == "jira" and item.get("_kind") == "issue":
            tickets.add(item.get("key"))
        elif source.type == "gitlab" and item.get("_kind") in ("issue", "merge_request"):
            tickets.add((item.get("references") or {}).get("full"))
    tickets.discard(None)
    return tickets


def push_source_safely(config: Any, store: Any, run_id: str, source: Any, *, dry_run: bool) -> PushResult:
    """Push one source's gaps of a stored run; a failure is a note, never lost work."""
    report = store.assessment(run_id)
    if report is None:
        raise PushError(f"run {run_id} has no assessment to push")
    rows = store.db.execute(
        "SELECT work_product, record_id, source, message FROM findings WHERE run_id = ? AND source = ?",
        (run_id, source.name),
    ).fetchall()
    findings = pd.DataFrame(rows, columns=["work_product", "record_id", "source", "message"])
    previous_run = store.db.execute(
        "SELECT a.run_id FROM assessments a JOIN runs r ON r.id = a.run_id WHERE r.started_at < "
        "(SELECT started_at FROM runs WHERE id = ?) ORDER BY r.started_at DESC LIMIT 1", (run_id,)
    ).fetchone()
    previous = store.assessment(previous_run[0]) if previous_run else None
    failed = [s for s in report.get("sources", []) if s["name"] == source.name and s["status"] == "failed"]
    if failed:
        return PushResult(source.name, dry_run=dry_run, notes=["not pushed: this run could not pull the source"])
    try:
        return push_source(source, store, findings, report, previous, dry_run=dry_run)
    except SdbridgeError as exc:
        return PushResult(source.name, dry_run=dry_run, notes=[f"push failed: {exc}"])


__all__ = ["MARKER", "plan", "apply", "push_source_safely", "PushResult", "OwnComment"]
