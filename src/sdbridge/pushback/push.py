"""One source's push of a stored run: plan from the stored findings and push state, carry it
out through the writer the registry names, and update the summary issue."""

from __future__ import annotations

from typing import Any

from sdbridge.errors import PushError, SdbridgeError
from sdbridge.pushback.plan import PushResult, PushState, TicketWriter, apply, plan
from sdbridge.pushback.render import summary_lines
from sdbridge.store import Store


def push_source(
    source: Any, entry: Any, store: Store, run_id: str, *, dry_run: bool, writer: TicketWriter | None = None
) -> PushResult:
    """Push one source's gaps of a stored run. `entry` is the source's type as the registry
    gives it: its push writer, and which stored items are its tickets."""
    report = store.assessment(run_id)
    if report is None:
        raise PushError(f"run {run_id} has no assessment to push")
    config = source.push
    writer = writer or entry.push_writer(source)
    active = entry.active_tickets(store.items(source.name))
    # Tickets live mode read again after this run checked them: their comment already says
    # what their newer state says; this run's older verdict must not overwrite it.
    fresher = entry.active_tickets(
        store.saved_since(source.name, report.generated_at.isoformat(timespec="microseconds"))
    )
    state = {ticket: PushState(*row) for ticket, row in store.push_state(source.name).items()}
    actions = plan(store.findings(run_id, source.name), active - fresher, state, config.work_products)

    def save(ticket: str, comment_id: str | None, mark: str, labelled: bool) -> None:
        store.save_push_state(source.name, ticket, comment_id, mark, labelled)

    result = apply(
        source.name,
        actions,
        writer,
        state,
        save,
        label=config.label,
        on_resolved=config.on_resolved,
        max_writes=config.max_writes,
        dry_run=dry_run,
        lock=lambda ticket: store.ticket_lock(source.name, ticket),
        state_of=lambda ticket: PushState.saved(store.push_state_of(source.name, ticket)),
    )
    if fresher:
        result.notes.append(
            f"{len(fresher)} ticket(s) were read again by live mode after this run's check; their comments "
            "were left as live mode wrote them"
        )
    result.notes.extend(getattr(writer, "notes", []))
    if config.summary.enabled and not dry_run:
        key = f"summary:{source.name}"
        if result.writes < config.max_writes:
            previous_run = store.previous_assessed_run(run_id)
            previous = store.assessment(previous_run) if previous_run else None
            try:
                existing = (state[key].comment_id if key in state else None) or config.summary.issue
                ref = writer.summary(existing, config.summary.title, summary_lines(report, previous, source.name))
                store.save_push_state(source.name, key, ref, "summary", False)
                result.writes += 1
            except SdbridgeError as exc:
                result.notes.append(f"summary issue: {exc}")
    return result


def push_source_safely(store: Store, run_id: str, source: Any, entry: Any, *, dry_run: bool) -> PushResult:
    """Push one source's gaps of a stored run; a failure is a note, never lost work."""
    report = store.assessment(run_id)
    if report is None:
        raise PushError(f"run {run_id} has no assessment to push")
    if any(s.name == source.name and s.status == "failed" for s in report.sources):
        return PushResult(source.name, dry_run=dry_run, notes=["not pushed: this run could not pull the source"])
    try:
        return push_source(source, entry, store, run_id, dry_run=dry_run)
    except SdbridgeError as exc:
        return PushResult(source.name, dry_run=dry_run, notes=[f"push failed: {exc}"])


__all__ = ["push_source", "push_source_safely"]
