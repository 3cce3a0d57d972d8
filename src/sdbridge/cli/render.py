"""The console's tables and lines for a check, a pull and a push: one line per row at any
width (see `sdbridge.console`)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from sdbridge.cli.output import err, out, printable, say, u
from sdbridge.words import plural

if TYPE_CHECKING:
    from sdbridge.assessment import Assessment


def print_summary(assessment: Assessment, written: list[Path]) -> None:
    from rich.text import Text

    from sdbridge.console import Column, fitted_table
    from sdbridge.profile import load_catalogue

    catalogue = load_catalogue()
    number = partial(Column, justify="right")
    say.print(
        fitted_table(
            "Sources",
            [Column("Source", flex=1), Column("Status"), *map(number, ("Pulled", "Mapped", "Excluded", "Rejected"))],
            [
                [printable(s.name), s.status, str(s.items_pulled), str(s.mapped), str(s.excluded), str(s.rejected)]
                for s in assessment.sources
            ],
            say.width,
        )
    )
    for s in assessment.sources:
        for note in s.notes:
            say.print(f"[yellow]note[/] {u(s.name)}: {u(note)}", highlight=False)
        for wp_id, items in s.never_provides.items():
            say.print(
                f"[yellow]note[/] {u(s.name)} never provides {wp_id} {', '.join(items)} (not in this export): "
                "these items are missing on each of its records",
                highlight=False,
            )
        if s.error:
            say.print(f"[red]failed[/] {u(s.name)}: {u(s.error)}", highlight=False, soft_wrap=True)

    rows: list[list[str | Text]] = []
    for wp_id, result in assessment.work_products.items():
        if result.status == "no_evidence":
            rows.append([wp_id, result.name, "0", Text("no evidence", "yellow"), "—"])
        elif result.fed:
            with_gaps = Text(str(result.records_with_gaps), "red" if result.gaps else "green")
            rows.append([wp_id, result.name, str(result.records), with_gaps, str(result.gaps)])
        else:
            rows.append([wp_id, result.name, "—", Text("no source", "dim"), "—"])
    columns = [Column("WP"), Column("Name", flex=1), *map(number, ("Records", "With gaps", "Gaps"))]
    say.print(fitted_table("Work products", columns, rows, say.width))

    if assessment.fix_first:
        say.print(fix_first_table(assessment, 5))

    top = assessment.top_missing_items(5)
    if top:
        say.print(
            fitted_table(
                "Most frequent gaps",
                [Column("Item"), Column("Label", flex=1), number("Records")],
                [[item_id, catalogue.item(item_id).label, str(count)] for item_id, count in top],
                say.width,
            )
        )
    if assessment.process_checks:
        gaps = [p.id for p in assessment.process_checks if p.status == "gap"]
        unknown = [p.id for p in assessment.process_checks if p.status == "not_evidenced"]
        met = sum(p.status == "met" for p in assessment.process_checks)
        line = f"Process checks: {met} met, {len(gaps)} gap" + (f" ({', '.join(gaps)})" if gaps else "")
        line += f", {len(unknown)} not evidenced" + (f" ({', '.join(unknown)})" if unknown else "")
        say.print(line, highlight=False)
    expiring = [f"{f.work_product} {f.status}" for f in assessment.freshness if f.status in ("warning", "expired")]
    if expiring:
        say.print(f"Evidence to review soon: {', '.join(expiring)}", highlight=False)
    c = assessment.conformance
    out.print(
        f"Variation [bold]{c.variation}[/]: {c.requirements} requirements — "
        f"[green]{c.met} met[/], [red]{c.gap} gap[/], [yellow]{c.not_evidenced} not evidenced[/]. "
        f"{plural(assessment.summary.gaps, 'gap')} in {assessment.summary.records_with_gaps} of "
        f"{plural(assessment.summary.records, 'record')}.",
        highlight=False,
    )
    for path in written:
        say.print(f"wrote {printable(str(path))}", markup=False, highlight=False)


def fix_first_table(assessment: Assessment, limit: int) -> Table:
    """The requirements closest to met, one line each whatever the width: what blocks each
    is cut with an ellipsis rather than wrapped (the reports give it in full)."""
    from sdbridge.console import Column, fitted_table
    from sdbridge.rules.fixfirst import start_with

    shown = assessment.fix_first[:limit]
    return fitted_table(
        "Fix first — the requirements closest to met, and all that blocks each",
        [
            Column("Req"),
            Column("Work", justify="right"),
            Column("What blocks it", flex=3),
            Column("Start with", flex=2),
        ],
        [[e.requirement, str(e.work), printable(e.summary), printable(start_with(e, 1))] for e in shown],
        say.width,
        caption=f"{len(shown)} of {plural(len(assessment.fix_first), 'requirement')} not met; "
        "all of them, in full, in the reports",
    )


def print_pushes(results: list[Any], console: Console | None = None) -> None:
    """What each push did (`console`: `out` where it is the command's result, else `say`)."""
    console = console or say
    for result in results:
        if result.dry_run:
            for action in result.plan:
                console.print(
                    f"  plan {action.kind:9} {result.source} {printable(action.ticket)}", markup=False, highlight=False
                )
        console.print(f"push {printable(result.line())}", markup=False, highlight=False)
        for note in result.notes:
            err.print(f"[yellow]push[/] {u(result.source)}: {u(note)}", highlight=False, soft_wrap=True)


def print_pulls(pulls: list[Any]) -> None:
    for p in pulls:
        if p.status in ("failed", "partial"):
            err.print(f"[red]{p.status}[/] {u(p.source)}: {u(p.error)}", highlight=False, soft_wrap=True)
        elif p.status == "unchanged":
            say.print(f"{printable(p.source)}: unchanged since the last pull, skipped", markup=False, highlight=False)
        else:
            say.print(f"{printable(p.source)}: pulled {plural(p.items, 'item')}", markup=False, highlight=False)
        for note in getattr(p, "notes", []):
            say.print(f"  {printable(note)}", markup=False, highlight=False)
