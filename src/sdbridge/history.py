"""`sdbridge history`: runs, the trend of gaps per work product, and one finding's life."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from rich.markup import escape
from rich.table import Table

from sdbridge.config import Config
from sdbridge.errors import SdbridgeError
from sdbridge.profile import load_catalogue
from sdbridge.runner import has_store, open_store, store_location
from sdbridge.store import Store
from sdbridge.words import plural

SPARK = "▁▂▃▄▅▆▇█"


def _open(config: Config) -> Store:
    if not has_store(config):
        raise SdbridgeError(f"no store at {store_location(config)} yet", hint="`sdbridge run -c CONFIG` creates it")
    return open_store(config)


def sparkline(values: list[int]) -> str:
    """Gaps over runs as bars scaled between the lowest and highest value seen."""
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return SPARK[3] * len(values)
    return "".join(SPARK[round((v - low) / (high - low) * (len(SPARK) - 1))] for v in values)


def run_rows(config: Config, limit: int) -> list[dict[str, Any]]:
    """The last `limit` runs, oldest first, with what changed since the run before."""
    with _open(config) as store:
        runs = list(reversed(store.runs(limit + 1)))  # oldest first, one extra for the first diff
        previous: set[str] | None = None
        rows: list[dict[str, Any]] = []
        for run in runs:
            report = store.assessment(run.id)
            failed = [name for name, source in store.run(run.id).sources.items() if source.status == "failed"]
            row: dict[str, Any] = {
                "run_id": run.id,
                "trigger": run.trigger,
                "started_at": run.started_at,
                "status": run.status,
                "failed_sources": failed,
                "records": None,
                "gaps": None,
                "new": None,
                "closed": None,
            }
            if report is not None:
                ids = store.finding_ids(run.id)
                row.update(records=report.summary.records, gaps=report.summary.gaps)
                if previous is not None:
                    row.update(new=len(ids - previous), closed=len(previous - ids))
                previous = ids
            rows.append(row)
    return rows[-limit:]


def runs_table(config: Config, limit: int) -> Table:
    table = Table(title="Runs", title_justify="left")
    rows = run_rows(config, limit)
    widest = max((len(r["run_id"]) for r in rows), default=10)
    table.add_column("Run", no_wrap=True, min_width=widest)  # ids are what --run takes: never cut
    for column in ("Trigger", "Started (UTC)", "Status", "Failed sources", "Records", "Gaps", "New", "Closed"):
        table.add_column(
            column, justify="right" if column in ("Records", "Gaps", "New", "Closed") else "left", overflow="fold"
        )
    for row in rows:
        style = {"ok": "green", "partial": "yellow", "failed": "red"}.get(row["status"], "")
        shown = ["" if row[k] is None else str(row[k]) for k in ("records", "gaps", "new", "closed")]
        table.add_row(
            escape(row["run_id"]),
            escape(row["trigger"]),
            row["started_at"].replace("T", " ")[:16],
            f"[{style}]{escape(row['status'])}[/]" if style else escape(row["status"]),
            escape(", ".join(row["failed_sources"])),
            *shown,
        )
    return table


def runs_text(config: Config, limit: int, format: str) -> str:
    """The runs as JSON or CSV, for scripts (ids whole, whatever the terminal width)."""
    rows = run_rows(config, limit)
    if format == "json":
        return json.dumps(rows, indent=2) + "\n"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["run_id"], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "failed_sources": ";".join(row["failed_sources"])})
    return buffer.getvalue()


def run_detail(config: Config, run_id: str) -> Table:
    """One run: its sources, their status and counts, and the gaps opened and closed since the
    run before."""
    with _open(config) as store:
        run = store.run(run_id)
        report = store.assessment(run_id)
        previous_id = store.previous_assessed_run(run_id)
        ids = store.finding_ids(run_id)
        before = store.finding_ids(previous_id) if previous_id else set()
    table = Table(
        title=f"Run {run.id} ({run.trigger}, {run.status}, started {run.started_at[:16]} UTC)", title_justify="left"
    )
    for column in ("Source", "Pull", "Status", "Pulled", "Mapped", "Excluded", "Rejected", "Error"):
        table.add_column(column, overflow="fold")
    summaries = {s.name: s for s in report.sources} if report else {}
    for name in sorted(set(run.sources) | set(summaries)):
        pull = run.sources.get(name)
        summary = summaries.get(name)
        counts = [
            str(getattr(summary, k)) if summary else "" for k in ("items_pulled", "mapped", "excluded", "rejected")
        ]
        error = (pull.error if pull else None) or (summary.error if summary else None) or ""
        table.add_row(
            escape(name), pull.status if pull else "", summary.status if summary else "", *counts, escape(error)
        )
    if report is not None:
        table.caption = (
            f"{plural(report.summary.gaps, 'gap')} in {report.summary.records_with_gaps} of "
            f"{plural(report.summary.records, 'record')}; since {previous_id or 'the start'}: "
            f"{len(ids - before)} new, {len(before - ids)} closed"
        )
    return table


def trend_table(config: Config, limit: int, wp_id: str | None) -> Table:
    catalogue = load_catalogue()
    with _open(config) as store:
        runs = store.trend(limit)
    wps = sorted({wp for run in runs for wp in run["by_work_product"]})
    series = {wp: [run["by_work_product"].get(wp, 0) for run in runs] for wp in wps}
    table = Table(title=f"Gaps per work product over the last {len(runs)} assessed run(s)", title_justify="left")
    for column in ("WP", "Name", "First", "Last", "Change", "Trend"):
        table.add_column(column, justify="right" if column in ("First", "Last", "Change") else "left")
    for wp, values in sorted(series.items()):
        if wp_id and wp != wp_id:
            continue
        change = values[-1] - values[0]
        colour = "green" if change < 0 else "red" if change > 0 else ""
        table.add_row(
            wp,
            catalogue.work_product(wp).name,
            str(values[0]),
            str(values[-1]),
            f"[{colour}]{change:+d}[/]" if colour else "0",
            sparkline(values),
        )
    return table


def finding_timeline(config: Config, finding_id: str) -> Table:
    table = Table(title=f"Finding {finding_id}", title_justify="left")
    table.add_column("Run")
    table.add_column("Started (UTC)")
    table.add_column("Gap")
    with _open(config) as store:
        timeline = store.finding_history(finding_id)
    if not any(present for _, _, present in timeline):
        raise SdbridgeError(f"finding {finding_id!r} appears in no stored run", hint="ids are <source>:<record>:<item>")
    for run_id, started, present in timeline:
        table.add_row(run_id, started.replace("T", " ")[:16], "[red]open[/]" if present else "[green]closed[/]")
    return table
