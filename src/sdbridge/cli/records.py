"""Commands that read or move what the store keeps: history, export, portfolio, store migrate."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.markup import escape
from rich.table import Table

from sdbridge.cli.options import (
    ConfigOption,
    PasswordFileOption,
    StoreOption,
    config_from,
    wp_option,
)
from sdbridge.cli.output import (
    EXIT_GAPS,
    err,
    out,
    printable,
    u,
    user_errors,
)
from sdbridge.errors import ConfigError
from sdbridge.words import plural

if TYPE_CHECKING:
    from sdbridge.config import Config


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
    cfg = config_from(config)
    wp_id = wp_option(work_product)
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

    cfg = config_from(config)
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


def _shared_store(store: str | None, password_file: Path | None, config: Path | None = None) -> Any:
    """The store a portfolio or a migration names (--store, else $SDBRIDGE_STORE_URL, else the
    store of the config given with -c), seen across its tenants."""
    from sdbridge.runner import STORE_PASSWORD_ENV, STORE_URL_ENV, store_location, store_password
    from sdbridge.secrets import read_secret_file
    from sdbridge.store import Store, is_url

    location = store or os.environ.get(STORE_URL_ENV)
    if not location and config is not None:
        cfg = config_from(config)
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
    from sdbridge.tenants import valid_tenant
    from sdbridge.urls import masked_url

    if not is_url(to):
        raise ConfigError(f"--to must be a postgresql:// URL, not {masked_url(to)!r}")
    cfg = config_from(config) if (config is not None or from_path is None or tenant is None) else None
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
