"""Commands that run the work: check, pull, run, push, schedule, demo."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from sdbridge.cli.options import (
    ConfigOption,
    FormatOption,
    OutOption,
    config_from,
    formats_option,
)
from sdbridge.cli.output import (
    EXIT_GAPS,
    EXIT_PARTIAL,
    err,
    out,
    printable,
    say,
    u,
    user_errors,
)
from sdbridge.cli.render import print_pulls, print_pushes, print_summary
from sdbridge.errors import ConfigError
from sdbridge.reports import BUILTIN_SINKS

if TYPE_CHECKING:
    from sdbridge.assessment import Assessment
    from sdbridge.config import Config


def _write(assessment: Assessment, config: Config, out_dir: Path | None, formats: list[str]) -> list[Path]:
    from sdbridge.reports.writing import write_reports

    return write_reports(assessment, out_dir or config.resolve(config.reports.out), formats)


@user_errors
def check(
    config: ConfigOption = None,
    out_dir: OutOption = None,
    format: FormatOption = None,
    fail_on_gaps: Annotated[bool, typer.Option("--fail-on-gaps", help="Exit 1 when any gap is found.")] = False,
    run: Annotated[str | None, typer.Option("--run", help="Re-check the data of a past run (see `history`).")] = None,
    variation: Annotated[str | None, typer.Option("--variation", help="governance, operational or full.")] = None,
) -> None:
    """Check the sources against the profile and write the reports. Makes no network request:
    it uses what `pull` stored, or reads local files directly before any pull.

    Examples: sdbridge check; sdbridge check -c sdbridge.yaml -f json,html --fail-on-gaps"""
    from sdbridge.config import Variation
    from sdbridge.runner import check_with_store

    cfg = config_from(config)
    if variation is not None:
        if variation not in ("governance", "operational", "full"):
            raise ConfigError(f"unknown variation {variation!r}; use governance, operational or full")
        cfg.profile.variation = cast(Variation, variation)
    formats = formats_option(format, cfg)
    result, notes = check_with_store(cfg, run_id=run, record=True)
    for note in notes:
        say.print(f"[yellow]note[/] {u(note)}", highlight=False)
    print_summary(result.assessment, _write(result.assessment, cfg, out_dir, formats))
    unhealthy = [f"{s.name} ({s.status.replace('_', ' ')})" for s in result.assessment.sources if not s.healthy]
    said = "partial" if unhealthy else "ok"
    if run:
        said += f" (a replay of run {run}, not kept in the history)"
    out.print(f"check {result.assessment.run_id}: {said}", highlight=False)
    if unhealthy:
        err.print(
            f"not every source could be checked: {printable(', '.join(unhealthy))}", markup=False, highlight=False
        )
        raise typer.Exit(EXIT_PARTIAL)
    if fail_on_gaps and result.assessment.summary.gaps:
        raise typer.Exit(EXIT_GAPS)


@user_errors
def pull(
    config: ConfigOption = None,
    source: Annotated[str | None, typer.Option("--source", "-s", help="Only this source.")] = None,
    full: Annotated[bool, typer.Option("--full", help="Pull everything, not only what changed.")] = False,
) -> None:
    """Fetch the sources into the store (changed files and items only, unless --full).

    Examples: sdbridge pull; sdbridge pull --source jira --full"""
    from sdbridge.runner import pull_once

    run_id, pulls, status = pull_once(config_from(config), only=source, full=full)
    print_pulls(pulls)
    out.print(f"pull {run_id}: {status}", highlight=False)
    if status == "partial":
        raise typer.Exit(EXIT_PARTIAL)


@user_errors
def run(
    config: ConfigOption = None,
    out_dir: OutOption = None,
    format: FormatOption = None,
    full: Annotated[bool, typer.Option("--full", help="Pull everything, not only what changed.")] = False,
    fail_on_gaps: Annotated[bool, typer.Option("--fail-on-gaps", help="Exit 1 when any gap is found.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan the push-back, write nothing to tickets.")] = False,
) -> None:
    """Pull, check, write the reports, keep the result in the history, push the gaps back.

    Examples: sdbridge run; sdbridge run --dry-run; sdbridge run -q --log-format json"""
    from sdbridge.runner import run_once

    cfg = config_from(config)
    outcome = run_once(
        cfg, trigger="manual", full=full, out=out_dir, formats=formats_option(format, cfg), dry_run=dry_run
    )
    print_pulls(outcome.pulls)
    if outcome.assessment is not None:
        print_summary(outcome.assessment, outcome.written)
    print_pushes(outcome.pushes)
    out.print(f"run {outcome.run_id}: {outcome.status}", highlight=False)
    if outcome.status == "partial":
        raise typer.Exit(EXIT_PARTIAL)
    if fail_on_gaps and outcome.assessment is not None and outcome.assessment.summary.gaps:
        raise typer.Exit(EXIT_GAPS)


@user_errors
def schedule(
    config: ConfigOption = None,
    run_now: Annotated[bool, typer.Option("--run-now", help="Also run the first job once at start.")] = False,
) -> None:
    """Run the configured jobs on their schedule until stopped (SIGTERM/SIGINT).

    Example: sdbridge schedule --run-now"""
    from sdbridge.scheduler import configure_logging, serve

    cfg = config_from(config)
    configure_logging()
    serve(cfg, run_now=run_now)


@user_errors
def push(
    config: ConfigOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; send no write request.")] = False,
    run: Annotated[str | None, typer.Option("--run", help="Push this stored run (default: the latest).")] = None,
) -> None:
    """Push the gaps of a stored run back to the tickets: one comment each, a label, a summary.

    Examples: sdbridge push --dry-run; sdbridge push --run 20261127T020000Z-ab12cd"""
    from sdbridge.runner import push_once

    results = push_once(config_from(config), run_id=run, dry_run=dry_run)
    if not results:
        out.print("no source has `push: {enabled: true}`", highlight=False)
    print_pushes(results, out)
    if any(r.notes for r in results):
        raise typer.Exit(EXIT_PARTIAL)


@user_errors
def demo(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the report files.")] = Path("sdbridge-demo"),
) -> None:
    """Run the whole offline pipeline on bundled sample data of a fictional hosting company.

    Example: sdbridge demo --out demo-reports"""
    config_file = resources.files("sdbridge.demo").joinpath("demo.yaml")
    from sdbridge.pipeline import check as run_check

    with resources.as_file(config_file) as path:
        cfg = config_from(path)
        assessment = run_check(cfg).assessment
        written = _write(assessment, cfg, out_dir, list(BUILTIN_SINKS))
    out.print("[bold]sdbridge demo[/] — Nordlys Hosting AS (fictional), sample exports bundled with sdbridge\n")
    print_summary(assessment, written)
