"""`sdbridge history`: runs, the trend of gaps per work product, and one finding's life."""

from __future__ import annotations

from rich.table import Table

from sdbridge.config import Config
from sdbridge.errors import SdbridgeError
from sdbridge.profile import load_catalogue
from sdbridge.runner import store_path
from sdbridge.store import Store

SPARK = "▁▂▃▄▅▆▇█"


def _open(config: Config) -> Store:
    path = store_path(config)
    if not path.exists():
        raise SdbridgeError(f"no store at {path} yet", hint="`sdbridge run -c CONFIG` creates it")
    return Store(path)


def sparkline(values: list[int]) -> str:
    """Gaps over runs as bars scaled between the lowest and highest value seen."""
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return SPARK[3] * len(values)
    return "".join(SPARK[round((v - low) / (high - low) * (len(SPARK) - 1))] for v in values)


def runs_table(config: Config, limit: int) -> Table:
    table = Table(title="Runs", title_justify="left")
    for column in ("Run", "Trigger", "Started (UTC)", "Status", "Failed sources", "Records", "Gaps", "New", "Closed"):
        table.add_column(column, justify="right" if column in ("Records", "Gaps", "New", "Closed") else "left")
    with _open(config) as store:
        runs = list(reversed(store.runs(limit + 1)))  # oldest first, one extra for the first diff
        previous: set[str] | None = None
        rows = []
        for run in runs:
            report = store.assessment(run.id)
            failed = [name for name, source in store.run(run.id).sources.items() if source.status == "failed"]
            if report is None:
                rows.append((run, failed, "", "", "", ""))
                continue
            ids = store.finding_ids(run.id)
            new = "" if previous is None else str(len(ids - previous))
            closed = "" if previous is None else str(len(previous - ids))
            previous = ids
            rows.append((run, failed, str(report.summary.records), str(report.summary.gaps), new, closed))
    for run, failed, records, gaps, new, closed in rows[-limit:]:
        style = {"ok": "green", "partial": "yellow", "failed": "red"}.get(run.status, "")
        table.add_row(
            run.id,
            run.trigger,
            run.started_at.replace("T", " ")[:16],
            f"[{style}]{run.status}[/]",
            ", ".join(failed),
            records,
            gaps,
            new,
            closed,
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
