"""Commands that set sdbridge up and explain it: init, mapping, profile, docs."""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from sdbridge.cli.options import (
    ConfigOption,
    config_from,
    wp_option,
)
from sdbridge.cli.output import (
    out,
    printable,
    u,
    user_errors,
)
from sdbridge.errors import ConfigError, SdbridgeError

if TYPE_CHECKING:
    pass


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

    cfg = config_from(config)
    catalogue = load_catalogue()
    wanted = wp_option(work_product)
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
    from sdbridge.mapping.columns import ColumnResolver
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
    wanted = wp_option(work_product)
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
    from sdbridge.zones import local_zone

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
    from sdbridge.zones import check_timezone

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


def doc_pages() -> dict[str, Any]:
    """The pages installed with sdbridge (`sdbridge/docs/*.md`), by topic."""
    folder = resources.files("sdbridge").joinpath("docs")
    return {
        p.name.removesuffix(".md"): p for p in sorted(folder.iterdir(), key=lambda p: p.name) if p.name.endswith(".md")
    }


@user_errors
def docs(
    topic: Annotated[str | None, typer.Argument(help="A topic (see the list); without one, the list.")] = None,
) -> None:
    """The documentation installed with sdbridge: the list of topics, or one of them.

    Examples: sdbridge docs; sdbridge docs jira; sdbridge docs cli | less"""
    import difflib

    from rich.markdown import Markdown

    pages = doc_pages()
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
