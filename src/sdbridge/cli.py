"""The `sdbridge` command. Thin: parses options, calls the pipeline, renders with rich.

Exit codes: 0 done; 1 gaps found and `--fail-on-gaps`; 2 usage, config or input error;
3 a run in which a source failed (everything else was still pulled, checked and reported).
A user error is one line (or one list) on stderr, never a traceback.

Start-up stays light (`--version`, `--help`): pandas, pyarrow, the clients, openpyxl and
Jinja2 are imported inside the commands that use them.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sys
import threading
from collections.abc import Callable
from functools import partial, wraps
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sdbridge import __version__
from sdbridge.errors import ConfigError, Interrupted, SdbridgeError
from sdbridge.files import NotARegularFile
from sdbridge.reports import BUILTIN_SINKS
from sdbridge.words import plural

if TYPE_CHECKING:
    from sdbridge.assessment import Assessment
    from sdbridge.config import Config

EXIT_OK, EXIT_GAPS, EXIT_ERROR, EXIT_PARTIAL = 0, 1, 2, 3

app = typer.Typer(
    name="sdbridge",
    help="Check ISO/IEC 29110-4-3 (Service Delivery) conformance from the tools your team already uses.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: flags without a "<bool>" placeholder, examples kept as written
    epilog="Config: -c FILE, else $SDBRIDGE_CONFIG, else ./sdbridge.yaml. Docs: `sdbridge docs` (installed with sdbridge).",
)
out = Console(soft_wrap=True)
"""Results: what a command is run for (a verdict, a table asked for). Silent only with -qq."""
say = Console(soft_wrap=True)
"""Everything around the results (tables of a check, notes, files written): silent with -q."""
err = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Configuration file (default: $SDBRIDGE_CONFIG, else ./sdbridge.yaml)."),
]
OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the report files.")]
FormatOption = Annotated[
    str | None,
    typer.Option("--format", "-f", help=f"Comma-separated report formats: {','.join(BUILTIN_SINKS)} (and plugins')."),
]


def u(value: object) -> str:
    """Outside text placed inside a Rich markup string: escaped, control characters shown."""
    return escape(printable(str(value)))


def printable(text: str) -> str:
    """Text from outside (a file name, a header, an entry of a ZIP) as it may reach a
    terminal: control characters (ESC, newlines) shown escaped, never acted on."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


OS_HINTS = {
    errno.EACCES: "check the permissions of that file or folder (or run as the user who owns it)",
    errno.EPERM: "check the permissions of that file or folder (or run as the user who owns it)",
    errno.EROFS: "the file system is read-only: give a folder that can be written (`store.path`, `--out`)",
    errno.ENOSPC: "the disk is full: free space or give another folder; nothing half-written was left",
    errno.EDQUOT: "the disk quota is used up: free space or give another folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "that path is a folder: give a file",
    errno.ENAMETOOLONG: "the path is too long",
    errno.ELOOP: "the path loops through symbolic links",
}


def os_error_message(exc: OSError) -> tuple[str, str]:
    """An error of the machine (a permission, a full disk, a read-only folder, a device where
    a file belongs): one line naming the path and what to do. These are not sdbridge's bugs."""
    if isinstance(exc, NotARegularFile):
        return str(exc), "give a regular file"
    where = f"{exc.filename}: " if exc.filename else ""
    what = exc.strerror or type(exc).__name__
    return f"{where}{what}", OS_HINTS.get(exc.errno or 0, "check that path")


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn `SdbridgeError` into a message on stderr and its exit code; an error of the machine
    (`OSError`: no permission, a full disk, a device in a file's place) into one line and exit 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SdbridgeError as exc:
            lines = str(exc).split("\n")  # a config error lists its problems one per line
            text = "\n".join(escape(printable(line)) for line in lines)
            err.print(f"[bold red]error:[/] {text}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            message, hint = os_error_message(exc)
            err.print(
                f"[bold red]error:[/] {escape(printable(message))} ({escape(hint)})",
                markup=True,
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(2) from None

    return wrapper


def _load(config: Path | None) -> Config:
    from sdbridge.config import load_config

    return load_config(config)


def _wp(work_product: str | None) -> str | None:
    """A work-product id from the command line, checked like the config checks it."""
    if work_product is None:
        return None
    from sdbridge.profile import load_catalogue, normalise_wp_id

    try:
        wp_id = normalise_wp_id(work_product)
        load_catalogue().work_product(wp_id)
    except (KeyError, ValueError):
        raise ConfigError(f"no work product {work_product!r}; use WP.01 ... WP.21") from None
    return wp_id


def _formats(option: str | None, config: Config) -> list[str]:
    if option is None:
        return list(config.reports.formats)
    formats = [f.strip() for f in option.split(",") if f.strip()]
    from sdbridge.reports import sink_names

    known = sink_names()
    unknown = [f for f in formats if f not in known]
    if unknown:
        raise ConfigError(f"unknown report format(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return formats


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


def _write(assessment: Assessment, config: Config, out_dir: Path | None, formats: list[str]) -> list[Path]:
    from sdbridge.reports.writing import write_reports

    return write_reports(assessment, out_dir or config.resolve(config.reports.out), formats)


@app.command()
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

    cfg = _load(config)
    if variation is not None:
        if variation not in ("governance", "operational", "full"):
            raise ConfigError(f"unknown variation {variation!r}; use governance, operational or full")
        cfg.profile.variation = cast(Variation, variation)
    formats = _formats(format, cfg)
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


@app.command()
@user_errors
def pull(
    config: ConfigOption = None,
    source: Annotated[str | None, typer.Option("--source", "-s", help="Only this source.")] = None,
    full: Annotated[bool, typer.Option("--full", help="Pull everything, not only what changed.")] = False,
) -> None:
    """Fetch the sources into the store (changed files and items only, unless --full).

    Examples: sdbridge pull; sdbridge pull --source jira --full"""
    from sdbridge.runner import pull_once

    run_id, pulls, status = pull_once(_load(config), only=source, full=full)
    _print_pulls(pulls)
    out.print(f"pull {run_id}: {status}", highlight=False)
    if status == "partial":
        raise typer.Exit(EXIT_PARTIAL)


@app.command()
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

    cfg = _load(config)
    outcome = run_once(cfg, trigger="manual", full=full, out=out_dir, formats=_formats(format, cfg), dry_run=dry_run)
    _print_pulls(outcome.pulls)
    if outcome.assessment is not None:
        print_summary(outcome.assessment, outcome.written)
    _print_pushes(outcome.pushes)
    out.print(f"run {outcome.run_id}: {outcome.status}", highlight=False)
    if outcome.status == "partial":
        raise typer.Exit(EXIT_PARTIAL)
    if fail_on_gaps and outcome.assessment is not None and outcome.assessment.summary.gaps:
        raise typer.Exit(EXIT_GAPS)


@app.command()
@user_errors
def history(
    config: ConfigOption = None,
    work_product: Annotated[str | None, typer.Option("--work-product", "-w", help="Trend of this WP only.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs.", min=1)] = 20,
    finding: Annotated[str | None, typer.Option("--finding", help="Follow one finding id across runs.")] = None,
    run: Annotated[str | None, typer.Option("--run", help="One run: its sources, counts and changes.")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
) -> None:
    """Past runs and the trend of gaps per work product. Run ids are shown whole: they are
    what `check --run`, `push --run` and `export --run` take.

    Examples: sdbridge history; sdbridge history --run 20261127T020000Z-ab12cd; sdbridge history -f json"""
    from sdbridge import history as views

    if format not in ("table", "json", "csv"):
        raise ConfigError(f"unknown format {format!r}; use table, json or csv")
    cfg = _load(config)
    wp_id = _wp(work_product)
    if finding:
        out.print(views.finding_timeline(cfg, finding))
        return
    if run:
        out.print(views.run_detail(cfg, run))
        return
    if format != "table":
        sys.stdout.write(views.runs_text(cfg, limit, format))
        return
    out.print(views.runs_table(cfg, limit))
    out.print(views.trend_table(cfg, limit, wp_id))


@app.command()
@user_errors
def schedule(
    config: ConfigOption = None,
    run_now: Annotated[bool, typer.Option("--run-now", help="Also run the first job once at start.")] = False,
) -> None:
    """Run the configured jobs on their schedule until stopped (SIGTERM/SIGINT).

    Example: sdbridge schedule --run-now"""
    from sdbridge.scheduler import configure_logging, serve

    cfg = _load(config)
    configure_logging()
    serve(cfg, run_now=run_now)


@app.command()
@user_errors
def push(
    config: ConfigOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; send no write request.")] = False,
    run: Annotated[str | None, typer.Option("--run", help="Push this stored run (default: the latest).")] = None,
) -> None:
    """Push the gaps of a stored run back to the tickets: one comment each, a label, a summary.

    Examples: sdbridge push --dry-run; sdbridge push --run 20261127T020000Z-ab12cd"""
    from sdbridge.runner import push_once

    results = push_once(_load(config), run_id=run, dry_run=dry_run)
    if not results:
        out.print("no source has `push: {enabled: true}`", highlight=False)
    _print_pushes(results, out)
    if any(r.notes for r in results):
        raise typer.Exit(EXIT_PARTIAL)


@app.command("export")
@user_errors
def export_package(
    config: ConfigOption = None,
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="The zip to write.")] = None,
    period: Annotated[str | None, typer.Option("--period", help="Only records dated FROM..TO (YYYY-MM-DD).")] = None,
    run: Annotated[str | None, typer.Option("--run", help="Export the data of this stored run.")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Check now instead of packaging the last stored run.")] = False,
    verify_file: Annotated[Path | None, typer.Option("--verify", help="Check a package against its manifest.")] = None,
    oscal: Annotated[
        bool, typer.Option("--oscal", help="Add the OSCAL catalog, assessment results and POA&M (oscal/*.json).")
    ] = False,
    sign_key: Annotated[
        Path | None,
        typer.Option(
            "--sign-key", help="Sign the package's provenance with this PEM private key (or $SDBRIDGE_SIGN_KEY)."
        ),
    ] = None,
    sign: Annotated[bool, typer.Option("--sign", help="Sign with the key in $SDBRIDGE_SIGN_KEY.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace a package that exists.")] = False,
    key: Annotated[
        Path | None,
        typer.Option("--key", help="With --verify: the packager's PEM public key; the package must be signed by it."),
    ] = None,
) -> None:
    """Write the audit package (zip indexed by WP, Annex B and C, manifest; with --oscal the
    OSCAL documents; with --sign-key a signed in-toto provenance), or verify one.
    Without --run it packages the last stored run (the one `history` lists first).

    Examples: sdbridge export --out audit.zip --oscal --sign-key packager.pem;
    sdbridge export --verify audit.zip --key packager.pub.pem"""
    import zipfile

    from sdbridge.export import ExportError, Period, build_package, check_target, in_period, write_package
    from sdbridge.verify import verify, verify_signature

    if verify_file is not None:
        problems = verify(verify_file)
        said = ""
        if not problems:
            signature_problems, said = verify_signature(verify_file, key)
            problems += signature_problems
        if problems:
            for problem in problems:
                err.print(f"[red]not intact[/] {escape(printable(problem))}", highlight=False)
            err.print(
                f"{printable(str(verify_file))}: {len(problems)} problem(s); the package cannot be trusted",
                markup=False,
                highlight=False,
            )
            raise typer.Exit(EXIT_GAPS)
        out.print(
            f"{verify_file}: every file matches its SHA-256 in the manifest (folder entries added by re-zipping "
            "tools are ignored: they hold no content)",
            highlight=False,
        )
        if said:
            out.print(printable(said), markup=False, highlight=False)
        return
    from datetime import date

    from sdbridge.runner import check_with_store, latest_stored_run

    cfg = _load(config)
    target = out_file or Path(f"audit-{date.today():%Y-%m-%d}.zip")
    check_target(target, force=force)  # before the check: a wrong target is said at once
    if run and fresh:
        raise ExportError("give --run or --fresh, not both")
    chosen = Period.parse(period) if period else None
    stored = run or (None if fresh else latest_stored_run(cfg))
    result, _ = check_with_store(cfg, run_id=stored)
    if stored:
        result.assessment.run_id = stored  # the package says which stored run it holds
        from datetime import UTC, datetime

        from sdbridge.runner import annotate_ages, open_store

        with open_store(cfg) as store:  # each gap's first run and age, as the reports show them
            annotate_ages(result.assessment, store, datetime.now(UTC))
    if chosen is not None:
        result = result.restricted({wp: in_period(t, chosen) for wp, t in result.tables.items()})
    signer = None
    if sign_key is not None or sign:
        from sdbridge.provenance import load_signer, predicate, signer_for

        signer = signer_for(load_signer(sign_key), predicate(result.assessment, cfg, str(chosen) if chosen else None))
    members = build_package(result.assessment, result.tables, period=chosen, oscal=oscal, sign=signer)
    try:
        with zipfile.ZipFile(write_package(members, target)) as written:
            count = len(written.namelist())
    except OSError as exc:
        raise ExportError(
            f"could not write {target}: {exc.strerror or exc}",
            hint="free disk space or choose another folder; no package was left behind",
        ) from None
    out.print(
        f"wrote {target}: {count} files, run {result.assessment.run_id}"
        + (f", period {chosen}" if chosen else "")
        + (", OSCAL" if oscal else "")
        + (", signed" if signer is not None else ""),
        highlight=False,
    )


@app.command()
@user_errors
def mapping(
    config: ConfigOption = None,
    source: Annotated[str | None, typer.Option("--source", "-s", help="Only this source.")] = None,
    work_product: Annotated[str | None, typer.Option("--work-product", "-w", help="Only this WP.")] = None,
) -> None:
    """Show the effective mapping (preset merged with your overrides): which column or path
    feeds each canonical field, which items it evidences, and — for an export file — whether
    this export has that column (found, with how many rows filled; empty; absent).

    Examples: sdbridge mapping; sdbridge mapping --source jira -w WP.18"""
    from sdbridge.profile import load_catalogue

    cfg = _load(config)
    catalogue = load_catalogue()
    wanted = _wp(work_product)
    sources = [cfg.source(source)] if source else cfg.sources
    for src in sources:
        resolver, unread = _export_columns(cfg, src)
        if unread:
            out.print(f"{printable(src.name)}: {printable(unread)}", markup=False, highlight=False)
        for wp_id, spec in src.mappings.items():
            if wanted and wp_id != wanted:
                continue
            wp = catalogue.work_product(wp_id)
            table = Table(title=f"{src.name} -> {wp_id} {wp.name}", title_justify="left")
            columns = ["Field", "Evidences", "From (first non-empty)", "Transforms", "Origin"]
            for column in columns + (["In this export"] if resolver is not None else []):
                table.add_column(column)
            where = "; ".join(c.describe() for c in spec.where)
            if spec.where_any:
                where += ("; " if where else "") + "any of: " + " | ".join(c.describe() for c in spec.where_any)
            for name, field in spec.fields.items():
                items = ", ".join(i.id for i in wp.items if name in i.fields or name == i.when)
                origin = "your config" if field.required else f"preset {src.preset}"
                sources_text = ", ".join(
                    r if isinstance(r, str) else f"({', '.join(r.references())})" for r in field.from_
                ) or (f"duration {field.duration}" if field.duration else repr(field.value))
                transforms = ", ".join(t.name for t in field.transforms)
                cells = [name, items, u(sources_text), transforms, origin]
                if resolver is not None:
                    cells.append(u(_column_state(resolver, field.references())))
                table.add_row(*cells)
            unmapped = [
                i.id
                for i in wp.record_items
                if not any(f in spec.fields for f in i.fields) and not any((wp.field(f).derive or {}) for f in i.fields)
            ]
            out.print(table)
            if where:
                out.print(f"  records: {printable(where)}", markup=False, highlight=False)
            if unmapped:
                out.print(f"  [yellow]not mapped[/] (always missing): {', '.join(unmapped)}", highlight=False)


def _export_columns(cfg: Any, src: Any) -> tuple[Any, str | None]:
    """A resolver over the export file of `src` (None for other sources), and why it could
    not be read, if so."""
    from sdbridge import registry
    from sdbridge.errors import SdbridgeError
    from sdbridge.mapping.engine import ColumnResolver
    from sdbridge.pipeline import pull_source

    if registry.of(src).kind != "file" or src.type == "documents":
        return None, None
    try:
        return ColumnResolver(pull_source(cfg, src)), None
    except SdbridgeError as exc:
        return None, f"its export could not be read, columns not checked: {exc}"


def _column_state(resolver: Any, references: list[str]) -> str:
    """found `Header` (N of M rows filled) / empty / absent, for the first reference found."""
    from sdbridge.values import blank_mask

    if not references:
        return "—"
    for reference in references:
        header = resolver.resolve(reference)
        if header is None:
            continue
        column = resolver.column(reference)
        filled = int((~blank_mask(column)).sum())
        if not filled:
            return f"empty: {header} has no value"
        return f"found {header} ({filled} of {len(column)} filled)"
    return "absent"


def _print_pushes(results: list[Any], console: Console | None = None) -> None:
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


def _print_pulls(pulls: list[Any]) -> None:
    for p in pulls:
        if p.status in ("failed", "partial"):
            err.print(f"[red]{p.status}[/] {u(p.source)}: {u(p.error)}", highlight=False, soft_wrap=True)
        elif p.status == "unchanged":
            say.print(f"{printable(p.source)}: unchanged since the last pull, skipped", markup=False, highlight=False)
        else:
            say.print(f"{printable(p.source)}: pulled {plural(p.items, 'item')}", markup=False, highlight=False)
        for note in getattr(p, "notes", []):
            say.print(f"  {printable(note)}", markup=False, highlight=False)


@app.command()
@user_errors
def profile(
    format: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    work_product: Annotated[str | None, typer.Option("--work-product", "-w", help="Only this WP, e.g. WP.18.")] = None,
    checks: Annotated[
        bool, typer.Option("--checks", help="List the process checks: what each reads and when it is met.")
    ] = False,
) -> None:
    """Show the ISO/IEC 29110-4-3 catalogue: requirements, work products and their items.

    Examples: sdbridge profile -w WP.18; sdbridge profile --checks; sdbridge profile -f json"""
    if checks:
        _print_checks(format)
        return
    from sdbridge.profile import load_catalogue

    catalogue = load_catalogue()
    wps = list(catalogue.work_products)
    wanted = _wp(work_product)
    if wanted:
        wps = [catalogue.work_product(wanted)]
    if format == "json":
        data = catalogue.model_dump(mode="json")
        data["work_products"] = [wp.model_dump(mode="json") for wp in wps]
        if work_product:
            data["requirements"] = [r for r in data["requirements"] if wps[0].id in r["work_products"]]
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    if format != "table":
        raise ConfigError(f"unknown format {format!r}; use table or json")
    if not work_product:
        reqs = Table(title=f"{catalogue.profile} — requirements", title_justify="left")
        for column in ("Id", "Process", "Statement (our words)", "Work products", "Guide tasks"):
            reqs.add_column(column)
        for r in catalogue.requirements:
            reqs.add_row(r.id, r.process, r.statement, " ".join(r.work_products), " ".join(r.guide_tasks))
        out.print(reqs)
    for wp in wps:
        table = Table(title=f"{wp.id} {wp.name} ({wp.process}, Table {wp.table})", title_justify="left")
        table.add_column("Item")
        table.add_column("Label")
        table.add_column("Evidenced by")
        table.add_column("Applies")
        for item in wp.items:
            applies = "per work product" if item.scope == "work_product" else "every record"
            if item.when:
                applies = item.condition or f"when {item.when}"
            table.add_row(item.id, item.label, ", ".join(item.fields) or "evidence:", applies)
        out.print(table)
        if work_product:
            out.print("Annex C audit evidence:")
            for line in wp.audit_evidence:
                out.print(f"  - {line}", markup=False)


def _print_checks(format: str) -> None:
    from sdbridge.rules.process import check_catalogue

    rows = check_catalogue()
    if format == "json":
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    if format != "table":
        raise ConfigError(f"unknown format {format!r}; use table or json")
    table = Table(title="Process checks (each is met only on evaluated records)", title_justify="left")
    table.add_column("Check", no_wrap=True)
    for column in ("Reads", "Settings", "What it checks"):
        table.add_column(column, overflow="fold")
    for row in rows:
        reads = "; ".join(f"{wp}: {', '.join(fields)}" for wp, fields in row["needs"].items())
        settings = ", ".join(f"{k}={v}" for k, v in row["settings"].items())
        table.add_row(row["id"], reads, settings or "—", f"{row['description']} {row['details']}".strip())
    out.print(table)


@app.command()
@user_errors
def init(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Where to write the config (a .yaml file); with --from, more exports to read may follow.",
            show_default=False,
        ),
    ] = None,
    from_exports: Annotated[
        list[Path] | None,
        typer.Option("--from", help="An export to read (repeat it, or list more after it); writes a config that fits."),
    ] = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", "-o", help="With --from: the config to write (default sdbridge.yaml).")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="With --from: the zone the exports' times are in.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
    templates: Annotated[Path | None, typer.Option("--templates", help="Also write starter documents here.")] = None,
) -> None:
    """Write a commented starter configuration (and, with --templates, starter documents), or
    with --from, a configuration made from your own exports, ready to check.

    Examples: sdbridge init; sdbridge init --templates docs/;
    sdbridge init --from exports/jira.csv exports/cmdb.xlsx --out sdbridge.yaml;
    sdbridge init my.yaml --from exports/jira.csv"""
    if from_exports and any(str(p).startswith("--") for p in from_exports):  # `--from --out x.yaml`
        raise ConfigError("give at least one export after --from, e.g. `sdbridge init --from jira.csv`")
    if from_exports:
        # `init my.yaml --from a.csv b.csv`: a .yaml/.yml among the arguments is the config to
        # write, every other one an export.
        targets = [p for p in paths or [] if p.suffix.lower() in (".yaml", ".yml")]
        exports = [*from_exports, *(p for p in paths or [] if p not in targets)]
        if len(targets) > 1 or (targets and out_path is not None and targets[0] != out_path):
            raise ConfigError(
                f"more than one config to write: {', '.join(str(t) for t in [*targets, out_path] if t)}",
                hint="give the config once: `sdbridge init my.yaml --from export.csv`",
            )
        _init_from(
            exports, out_path or (targets[0] if targets else Path("sdbridge.yaml")), force=force, timezone=timezone
        )
        return
    path = (paths or [Path("sdbridge.yaml")])[0]
    if paths and len(paths) > 1:
        raise ConfigError("give one config path (or --from with the exports to read)")
    if templates is not None:
        from sdbridge.templates import write_templates

        written = write_templates(templates, force=force)
        out.print(
            f"wrote {len(written)} starter document(s) to {printable(str(templates))}", markup=False, highlight=False
        )
        if path == Path("sdbridge.yaml") and path.exists():
            return
    if path.exists() and not force:
        raise ConfigError(f"{path} exists; use --force to overwrite it")
    from sdbridge.values import local_zone

    text = resources.files("sdbridge").joinpath("starter.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("__LOCAL_ZONE__", local_zone()), encoding="utf-8")
    out.print(
        f"wrote {printable(str(path))} — edit the sources, then run: sdbridge check -c {printable(str(path))}",
        markup=False,
        highlight=False,
    )


def _init_from(paths: list[Path], target: Path, *, force: bool, timezone: str | None) -> None:
    """Write the config `onboard` proposes, then show the coverage it gives."""
    from sdbridge import onboard
    from sdbridge.config import load_config
    from sdbridge.pipeline import check as run_check
    from sdbridge.values import check_timezone

    if timezone is not None:
        try:
            check_timezone(timezone)
        except ValueError as exc:
            raise ConfigError(f"--timezone: {exc}") from None
    proposals = onboard.write(paths, target, force=force, timezone=timezone)
    for p in proposals:
        line = f"{p.path}: {p.flavour} -> {p.name} (preset {p.preset or 'none'}, {p.rows} row(s))"
        out.print(printable(line), markup=False, highlight=False)
        if p.recognition is not None and p.recognition.kind is not None:
            out.print(f"  {printable(p.recognition.said())}", markup=False, highlight=False)
        for comment in [*p.notes, *p.comments]:
            out.print(f"  {printable(comment)}", markup=False, highlight=False)
        for doubt in p.unsure:
            out.print(f"  unsure: {printable(doubt)}", markup=False, highlight=False)
    result = run_check(load_config(target), keep_going=True)
    table = Table(title="Coverage with this config", title_justify="left")
    for column in ("Source", "Status", "Rows", "Records per work product", "Items no column feeds"):
        table.add_column(column)
    for summary in result.assessment.sources:
        records = ", ".join(f"{wp} {n}" for wp, n in summary.records_by_work_product.items()) or "—"
        never = "; ".join(
            f"{wp}: {', '.join(i.split('.')[-1] for i in items)}" for wp, items in summary.never_provides.items()
        )
        table.add_row(printable(summary.name), summary.status, str(summary.items_pulled), records, never or "—")
    out.print(table)
    out.print(
        f"wrote {printable(str(target))} — run: sdbridge check -c {printable(str(target))}",
        markup=False,
        highlight=False,
    )


@app.command()
@user_errors
def demo(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the report files.")] = Path("sdbridge-demo"),
) -> None:
    """Run the whole offline pipeline on bundled sample data of a fictional hosting company.

    Example: sdbridge demo --out demo-reports"""
    config_file = resources.files("sdbridge.demo").joinpath("demo.yaml")
    from sdbridge.pipeline import check as run_check

    with resources.as_file(config_file) as path:
        cfg = _load(path)
        assessment = run_check(cfg).assessment
        written = _write(assessment, cfg, out_dir, list(BUILTIN_SINKS))
    out.print("[bold]sdbridge demo[/] — Nordlys Hosting AS (fictional), sample exports bundled with sdbridge\n")
    print_summary(assessment, written)


StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="The shared store: a postgresql:// URL (default: $SDBRIDGE_STORE_URL) or a SQLite file. "
        "The password comes from $SDBRIDGE_STORE_PASSWORD or --password-file.",
    ),
]
PasswordFileOption = Annotated[
    Path | None, typer.Option("--password-file", help="A file holding the store's password (a mounted secret).")
]


@app.command()
@user_errors
def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="The port to listen on (0: any free one).", min=0)] = 8929,
) -> None:
    """Live mode: take the trackers' webhooks and put each ticket's gap comment right within
    seconds (POST /hooks/SOURCE; GET /healthz, /metrics). Stops on SIGTERM after evaluating
    what it accepted. Process requirements stay with the nightly run.

    Examples: sdbridge serve -c sdbridge.yaml; sdbridge serve --host 0.0.0.0 --port 8929"""
    try:
        import prometheus_client  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise ConfigError(
            "live mode needs the `serve` extra (Starlette, uvicorn, prometheus-client)",
            hint="pip install 'sdbridge[serve]'",
        ) from None
    from sdbridge.live.app import serve as serve_live
    from sdbridge.runner import open_store

    cfg = _load(config)
    live = [s.name for s in cfg.sources if s.type in ("jira", "gitlab")]
    if not live:
        raise ConfigError("live mode serves Jira and GitLab sources; this config has none")
    unsigned = [s.name for s in cfg.sources if getattr(getattr(s, "webhook", None), "secret", 0) is None]
    if unsigned:
        err.print(
            f"note: {', '.join(unsigned)} ha{'s' if len(unsigned) == 1 else 've'} no `webhook: {{secret: ...}}`: "
            "every delivery to it is refused (401)",
            markup=False,
            highlight=False,
        )
    logs = logging.getLogger("sdbridge")
    if logs.level > logging.INFO and not out.quiet:
        logs.setLevel(logging.INFO)  # a service says what it does
    with open_store(cfg) as store:
        serve_live(cfg, store, host=host, port=port)


webhooks_app = typer.Typer(help="Set up the trackers' webhooks for live mode (`sdbridge serve`).")
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("register")
@user_errors
def webhooks_register(
    url: Annotated[
        str, typer.Option("--url", help="Where trackers reach `sdbridge serve`, e.g. https://sdbridge.example.com")
    ],
    config: ConfigOption = None,
    source: Annotated[str | None, typer.Option("--source", "-s", help="Only this source.")] = None,
) -> None:
    """Register each GitLab project's webhook (created, or updated in place) with the
    source's secret; print the steps for Jira, whose webhooks an administrator creates.
    Without a secret in the environment, one is generated and printed once, to keep.

    Example: sdbridge webhooks register -c sdbridge.yaml --url https://sdbridge.example.com"""
    from sdbridge.live.register import register

    cfg = _load(config)
    for line in register(cfg, url, only=source):
        out.print(line, markup=False, highlight=False, soft_wrap=True)


def _doc_pages() -> dict[str, Any]:
    """The pages installed with sdbridge (`sdbridge/docs/*.md`), by topic."""
    folder = resources.files("sdbridge").joinpath("docs")
    return {
        p.name.removesuffix(".md"): p for p in sorted(folder.iterdir(), key=lambda p: p.name) if p.name.endswith(".md")
    }


@app.command()
@user_errors
def docs(
    topic: Annotated[str | None, typer.Argument(help="A topic (see the list); without one, the list.")] = None,
) -> None:
    """The documentation installed with sdbridge: the list of topics, or one of them.

    Examples: sdbridge docs; sdbridge docs jira; sdbridge docs cli | less"""
    import difflib

    from rich.markdown import Markdown

    pages = _doc_pages()
    if topic is None:
        from sdbridge.console import Column, fitted_table

        rows = []
        for name, page in pages.items():
            text = page.read_text(encoding="utf-8").split("\n")
            rows.append([name, text[0].removeprefix("# "), next((t for t in text[1:] if t.strip()), "")])
        out.print(
            fitted_table(
                "sdbridge docs TOPIC",
                [Column("Topic"), Column("Title", flex=1), Column("What it says", flex=2)],
                rows,
                out.width,
            )
        )
        return
    page = pages.get(topic.lower().removesuffix(".md"))
    if page is None:
        close = difflib.get_close_matches(topic.lower(), list(pages), n=1, cutoff=0.5)
        raise ConfigError(
            f"no page {topic!r}" + (f"; did you mean {close[0]!r}?" if close else ""),
            hint=f"the topics: {', '.join(pages)}",
        )
    out.print(Markdown(page.read_text(encoding="utf-8")))


def _shared_store(store: str | None, password_file: Path | None, config: Path | None = None) -> Any:
    """The store a portfolio or a migration names (--store, else $SDBRIDGE_STORE_URL, else the
    store of the config given with -c), seen across its tenants."""
    from sdbridge.runner import STORE_PASSWORD_ENV, STORE_URL_ENV, store_location, store_password
    from sdbridge.secrets import read_secret_file
    from sdbridge.store import Store, is_url

    location = store or os.environ.get(STORE_URL_ENV)
    if not location and config is not None:
        cfg = _load(config)
        found = store_location(cfg)
        if is_url(found):
            password = (
                read_secret_file(password_file.resolve(), source="store", purpose="opening the store")
                if password_file is not None
                else store_password(cfg)
            )
            return Store(str(found), password=password)
        location = str(found)
    if not location:
        raise ConfigError(f"which store? give --store URL, -c CONFIG or set {STORE_URL_ENV}")
    if not is_url(location):
        if not Path(location).is_file():
            raise ConfigError(f"no store at {location}", hint="give a postgresql:// URL or an existing state.db")
        return Store(Path(location), any_tenant=True)
    password = os.environ.get(STORE_PASSWORD_ENV) or None
    if password_file is not None:
        password = read_secret_file(password_file.resolve(), source="store", purpose="opening the store")
    return Store(location, password=password)


@app.command()
@user_errors
def portfolio(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Use this config's store (when no --store is given).")
    ] = None,
    store: StoreOption = None,
    password_file: PasswordFileOption = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the portfolio files.")] = Path("portfolio"),
    format: Annotated[str, typer.Option("--format", "-f", help="Comma-separated: html,json,csv.")] = "html,json,csv",
) -> None:
    """Every tenant of a shared store on one page: conformance per tenant and process, gaps
    and their trend, data age, failed sources, evidence due for review. Reads the store only.

    Examples: sdbridge portfolio --store postgresql://sdbridge@db:5432/sdbridge --out portfolio;
    sdbridge portfolio -c sdbridge.yaml"""
    from sdbridge import portfolio as views

    formats = [f.strip() for f in format.split(",") if f.strip()]
    unknown = [f for f in formats if f not in views.PORTFOLIO_FORMATS]
    if unknown or not formats:
        raise ConfigError(f"unknown format {', '.join(unknown) or '(none)'}; use html, json or csv")
    with _shared_store(store, password_file, config) as opened:
        built = views.build(opened)
    written = views.write(built, out_dir, formats)
    table = Table("tenant", "conformance", "met", "gaps", "change", "data age (h)", "failed sources", box=None)
    for t in built.tenants:
        table.add_row(
            u(t.tenant),
            "—" if t.conformance is None else f"{t.conformance * 100:.0f}%",
            f"{t.met}/{t.requirements}",
            str(t.gaps),
            "—" if t.gaps_change is None else f"{t.gaps_change:+d}",
            "—" if t.data_age_hours is None else f"{t.data_age_hours:g}",
            u(", ".join(t.failed_sources)) or "—",
        )
    out.print(table)
    out.print(f"{plural(len(built.tenants), 'tenant')}; wrote " + ", ".join(u(p) for p in written))


store_app = typer.Typer(help="Manage the store: move a team's SQLite store into a shared PostgreSQL one.")
app.add_typer(store_app, name="store")


@store_app.command("migrate")
@user_errors
def store_migrate(
    to: Annotated[str, typer.Option("--to", help="The PostgreSQL store to copy into (postgresql://USER@HOST/DB).")],
    config: ConfigOption = None,
    from_path: Annotated[
        Path | None, typer.Option("--from", help="The SQLite store to copy (default: the config's store.path).")
    ] = None,
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Key the copied rows as this tenant (default: the config's).")
    ] = None,
    password_file: PasswordFileOption = None,
) -> None:
    """Copy a SQLite store (one team's history: runs, snapshots, findings, push-back state)
    into a PostgreSQL store, as one tenant, in one transaction: all of it or nothing. The
    SQLite file is left as it was.

    Example: sdbridge store migrate -c client-a.yaml --to postgresql://sdbridge@db/sdbridge"""

    from sdbridge.runner import store_path
    from sdbridge.store import Store, copy_store, is_url
    from sdbridge.values import masked_url, valid_tenant

    if not is_url(to):
        raise ConfigError(f"--to must be a postgresql:// URL, not {masked_url(to)!r}")
    cfg = _load(config) if (config is not None or from_path is None or tenant is None) else None
    source_path = from_path or store_path(cast("Config", cfg))
    as_tenant = tenant if tenant is not None else cast("Config", cfg).tenant
    if not valid_tenant(as_tenant):
        raise ConfigError(f"tenant {as_tenant!r} is not a valid id (lower-case letters, digits, _ . -)")
    if not source_path.is_file():
        raise ConfigError(f"no SQLite store at {source_path}", hint="give --from PATH or -c CONFIG")
    with Store(source_path, any_tenant=True) as source, _shared_store(to, password_file) as target:
        held = source.tenants()
        if len(held) > 1:
            raise ConfigError(f"{source_path} holds several tenants ({', '.join(held)}); migrate needs one")
        counts = copy_store(source, target, tenant=as_tenant)
    out.print(
        f"copied {source_path} into {u(target.where)} as tenant {u(as_tenant)}: "
        + ", ".join(f"{n} {table}" for table, n in counts.items() if n)
    )
    out.print(f"next: set SDBRIDGE_STORE_URL (or store.url) and `tenant: {u(as_tenant)}` in the config")


def version_callback(value: bool) -> None:
    if value:
        out.print(f"sdbridge {__version__}")
        raise typer.Exit()


def _event(record: logging.LogRecord) -> dict[str, Any] | None:
    """The structured event a module logged (its message is a JSON object), else None."""
    message = record.getMessage()
    if not message.startswith("{"):
        return None
    try:
        parsed = json.loads(message)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


class JsonLines(logging.Formatter):
    """One JSON object per line: the event a module logged (its JSON message merged in), with
    the time (ISO 8601, UTC, with its offset), level and logger. Messages never carry secrets
    (see sdbridge.secrets)."""

    def format(self, record: logging.LogRecord) -> str:
        from datetime import UTC, datetime

        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        event = _event(record)
        if event is not None:
            data.update(event)
        else:
            data["message"] = record.getMessage()
        return json.dumps(data, default=str)


class TextLines(logging.Formatter):
    """A log line for people (-v): the local time, the level, then the event and its fields
    as `name=value` ("12:03:04 info pull source=jira status=pulled items=151 seconds=0.4")."""

    def format(self, record: logging.LogRecord) -> str:
        from datetime import datetime

        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        event = _event(record)
        if event is None:
            text = record.getMessage()
        else:
            name = event.pop("event", record.name.removeprefix("sdbridge."))
            text = " ".join([str(name), *(f"{k}={_field(v)}" for k, v in event.items())])
        return f"{when} {record.levelname.lower()} {printable(text)}"


def _field(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text) if " " in text or not text else text


def configure_output(*, quiet: int, verbose: int, log_format: str, no_color: bool) -> None:
    """Console and logs for this invocation: results on stdout (-q: only them; -qq: nothing),
    problems and logs on stderr; colour off with --no-color or NO_COLOR."""
    say.quiet = quiet >= 1
    out.quiet = quiet >= 2
    plain = no_color or bool(os.environ.get("NO_COLOR"))
    out.no_color = say.no_color = err.no_color = plain
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if log_format == "json" else TextLines())
    logs = logging.getLogger("sdbridge")
    logs.handlers[:] = [handler]
    logs.propagate = False
    if log_format == "json" or verbose >= 1:
        logs.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
    else:
        logs.setLevel(logging.ERROR if quiet else logging.WARNING)
    from sdbridge import progress

    # A live step display on a terminal; piped, only the waits are said; --quiet: nothing.
    live = err.is_terminal and log_format == "text"
    progress.use(None if quiet else progress.Display(err, live=live))


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Show the version.")
    ] = False,
    quiet: Annotated[
        int, typer.Option("--quiet", "-q", count=True, help="Print only the results (-qq: nothing but errors).")
    ] = 0,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="Log what happens (-vv: more).")] = 0,
    log_format: Annotated[
        str, typer.Option("--log-format", help="text or json (JSON lines on stderr: run, phase, source, counts).")
    ] = "text",
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (also when NO_COLOR is set).")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an internal error.")] = False,
) -> None:
    """Check ISO/IEC 29110-4-3 (Service Delivery) conformance from the tools your team already uses.

    Examples: sdbridge init; sdbridge check; sdbridge run -q --log-format json"""
    if log_format not in ("text", "json"):
        raise typer.BadParameter("use text or json", param_hint="--log-format")
    configure_output(quiet=quiet, verbose=verbose, log_format=log_format, no_color=no_color)


GLOBAL_FLAGS = {"-q", "-qq", "--quiet", "-v", "-vv", "-vvv", "--verbose", "--no-color", "--debug"}
EXIT_INTERNAL = 4


def global_options_first(argv: list[str]) -> list[str]:
    """Let the global options stand anywhere (`sdbridge check -q` as well as `sdbridge -q
    check`): they are moved in front of the command, where click reads them."""
    front: list[str] = []
    rest: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            rest += [arg, *args]
            break
        if arg in GLOBAL_FLAGS or arg.startswith("--log-format="):
            front.append(arg)
        elif arg == "--log-format":
            front += [arg, next(args, "")]
        else:
            rest.append(arg)
    return front + rest


def _command(args: list[str]) -> str | None:
    """The command of an argument list with the global options in front (their values skipped)."""
    rest = iter(args)
    for arg in rest:
        if arg == "--log-format":
            next(rest, None)
        elif not arg.startswith("-"):
            return arg
    return None


def crash_report(exc: BaseException, *, debug: bool) -> int:
    """A bug reached the top: one line for the user, the traceback in a log file (and on the
    terminal only with --debug). Returns the exit code for an internal error."""
    import tempfile
    import traceback
    from datetime import UTC, datetime

    details = "".join(traceback.format_exception(exc))
    name = f"crash-{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}.log"
    where: Path | None = None
    for folder in (Path(".sdbridge"), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            target = folder / name
            with open(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600), "w", encoding="utf-8") as log:
                log.write(f"sdbridge {__version__}\n{details}")
            where = target
            break
        except OSError:
            continue
    if debug:
        err.print(details, markup=False, highlight=False)
    message = printable(str(exc).split("\n")[0])[:300]
    err.print(
        f"internal error: {type(exc).__name__}: {message} — sdbridge could not finish this command. "
        + (f"The details are in {where}; please send them to the maintainers. " if where else "")
        + ("" if debug else "Run with --debug to see them here."),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return EXIT_INTERNAL


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM raise `Interrupted` where the program is (see errors.Interrupted)."""
    import signal

    def stop(signum: int, frame: Any) -> None:
        raise Interrupted(signal.Signals(signum).name if signum != signal.SIGINT else "Ctrl-C")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)


NOT_COMMANDS = {
    "verify": "sdbridge export --verify PACKAGE.zip [--key PUBLIC.pem]",
    "validate": "sdbridge check (the config is validated by every command)",
    "report": "sdbridge check -f html,xlsx",
    "status": "sdbridge history",
    "runs": "sdbridge history",
    "sync": "sdbridge pull",
    "fetch": "sdbridge pull",
    "comment": "sdbridge push",
    "package": "sdbridge export",
    "audit": "sdbridge export",
    "cron": "sdbridge schedule",
    "config": "sdbridge init (a new config) or sdbridge mapping (what a config maps)",
    "help": "sdbridge --help, or sdbridge docs",
    "doc": "sdbridge docs",
    "man": "sdbridge docs",
}
"""Words people try that are not commands, with the command that does it."""


def main() -> None:
    args = global_options_first(sys.argv[1:])
    command = _command(args)
    if command in NOT_COMMANDS:
        err.print(
            f"error: sdbridge has no command {command!r}; use: {NOT_COMMANDS[command]}", markup=False, highlight=False
        )
        sys.exit(EXIT_ERROR)
    if command not in ("schedule", "serve"):  # those stop gracefully on SIGTERM themselves
        _stop_on_signals()
    try:
        try:
            app(args=args, prog_name="sdbridge")
        finally:
            from sdbridge import progress

            progress.use(None)  # the live display ends before any last word is printed
    except Interrupted as exc:
        err.print(
            f"interrupted ({exc.signal_name}): nothing half-written was left; a run in progress is recorded as "
            "interrupted",
            markup=False,
        )
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted (Ctrl-C)", markup=False)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the one boundary: a bug becomes one line and a log file
        sys.exit(crash_report(exc, debug="--debug" in args))
