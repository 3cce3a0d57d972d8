"""Pull, check and run with the store: what `sdbridge pull`, `check`, `run` and the
scheduler call.

- `pull_all` fills the store. Each source is pulled on its own: a failing source is recorded
  with its error and every other source is still pulled. A file whose content did not change
  is skipped by its hash.
- `stored_raw` gives `check` its input without any network request: file sources from their
  latest (or a past run's) snapshot, or straight from disk before any pull.
- `run_once` = lock -> pull -> check -> reports -> store the assessment; a run with a failed
  source is `partial` and still checks and reports everything it has.
"""

from __future__ import annotations

import json
import logging
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sdbridge import progress, registry
from sdbridge.assessment import Assessment
from sdbridge.config import Config
from sdbridge.connectors.base import FileConnector, RawTable, item_table
from sdbridge.errors import Interrupted, SdbridgeError, SourceError
from sdbridge.pipeline import CheckResult, check, new_run_id
from sdbridge.reports.writing import write_reports
from sdbridge.secrets import reveal
from sdbridge.urls import is_url

if TYPE_CHECKING:  # the store (and SQLAlchemy) load when one is opened: not for a check without one
    from sdbridge.store import Store

log = logging.getLogger("sdbridge.run")


def event(name: str, **fields: object) -> None:
    """One structured log line (`--log-format json` prints it as JSON): a phase of a run, with
    its source, counts and duration. Never a secret: errors name URLs without credentials."""
    if log.isEnabledFor(logging.INFO):
        log.info(json.dumps({"event": name, **{k: v for k, v in fields.items() if v is not None}}, default=str))


@dataclass
class PullOutcome:
    source: str
    status: str  # pulled | unchanged | partial (part of the source could not be read) | failed
    items: int = 0
    error: str | None = None
    snapshot_id: int | None = None
    notes: list[str] = field(default_factory=list)
    requests: int | None = None


@dataclass
class RunOutcome:
    run_id: str
    status: str  # ok | partial | failed
    pulls: list[PullOutcome]
    assessment: Assessment | None
    written: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    pushes: list = field(default_factory=list)


STORE_URL_ENV = "SDBRIDGE_STORE_URL"
STORE_PASSWORD_ENV = "SDBRIDGE_STORE_PASSWORD"


def store_path(config: Config) -> Path:
    """The SQLite store's file (the default store)."""
    return config.resolve(config.store.path)


def store_location(config: Config) -> Path | str:
    """Where the config's store is: $SDBRIDGE_STORE_URL, else `store.url` (PostgreSQL), else
    the SQLite file at `store.path`."""
    return os.environ.get(STORE_URL_ENV) or config.store.url or store_path(config)


def store_password(config: Config) -> str | None:
    """The PostgreSQL password: $SDBRIDGE_STORE_PASSWORD, else `store.password` (a ${VAR} or a
    mounted file), else None (libpq then looks at PGPASSWORD and ~/.pgpass)."""
    if os.environ.get(STORE_PASSWORD_ENV):
        return os.environ[STORE_PASSWORD_ENV]
    if config.store.password is None:
        return None
    return reveal(config.store.password, source="store", purpose="opening the store")


def has_store(config: Config) -> bool:
    """Whether there is a store to read: a SQLite file that exists, or any PostgreSQL URL."""
    location = store_location(config)
    return is_url(location) or Path(location).exists()


def open_store(config: Config) -> Store:
    """The config's store, as its tenant."""
    from sdbridge.store import Store

    location = store_location(config)
    return Store(location, tenant=config.tenant, password=store_password(config) if is_url(location) else None)


def pull_source_into(config: Config, store: Store, source: Any, *, run_id: str | None, full: bool) -> PullOutcome:
    name = source.name
    entry = registry.of(source)
    connector = entry.connect(source, resolve=config.resolve)
    if entry.kind == "file":
        digest = _content_hash(connector)
        if digest and not full and store.cursor(name).get("content_hash") == digest:
            store.touch(name)
            return PullOutcome(name, "unchanged", snapshot_id=store.cursor(name).get("snapshot_id"))
        raw = connector.pull()  # raises InputError for a missing or broken file
        snapshot_id = store.save_table(raw, digest or "", {"location": raw.location})
        return PullOutcome(name, "pulled", items=raw.items, snapshot_id=snapshot_id)
    batch = connector.pull_items(store.cursor(name), full=full)
    counts = store.save_items(name, batch.items, batch.cursor, run_id=run_id, full=batch.full)
    notes = list(batch.notes)
    kind = "full" if batch.full else "incremental"
    notes.append(
        f"{kind} pull: {len(batch.items)} item(s) in {batch.requests} request(s); created {counts['created']}, "
        f"updated {counts['updated']}, unchanged {counts['unchanged']}, left the source {counts['deleted']}"
    )
    if batch.problems:
        return PullOutcome(
            name,
            "partial",
            items=len(batch.items),
            notes=notes,
            requests=batch.requests,
            error="; ".join(batch.problems),
        )
    return PullOutcome(name, "pulled", items=len(batch.items), notes=notes, requests=batch.requests)


def _content_hash(connector: FileConnector) -> str | None:
    """A file's hash, or a documents folder's (names and contents of its files); None when
    it cannot be read (the pull then says why)."""
    try:
        return connector.content_hash()
    except SourceError:
        return None


def pull_all(
    config: Config, store: Store, *, run_id: str | None = None, only: str | None = None, full: bool = False
) -> list[PullOutcome]:
    sources = [config.source(only)] if only else config.sources
    outcomes = []
    for source in sources:
        started = time.monotonic()
        try:
            with progress.step(f"pulling {source.name}"):
                outcome = pull_source_into(config, store, source, run_id=run_id, full=full)
        except SourceError as exc:
            outcome = PullOutcome(source.name, "failed", error=str(exc))
        except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
            # A server answer of a shape no documentation gives (a list for an object, HTML for
            # JSON): this source failed; the others are still pulled and checked.
            outcome = PullOutcome(
                source.name,
                "failed",
                error=f"source {source.name!r}: the server answered in a shape sdbridge cannot read "
                f"({type(exc).__name__}); its last good data is kept",
            )
        outcomes.append(outcome)
        event(
            "pull",
            run_id=run_id,
            source=source.name,
            status=outcome.status,
            items=outcome.items,
            requests=outcome.requests,
            seconds=round(time.monotonic() - started, 3),
            error=outcome.error,
        )
        if run_id:
            store.record_source(
                run_id,
                source.name,
                outcome.status,
                error=outcome.error,
                items=outcome.items,
                snapshot_id=outcome.snapshot_id,
            )
    return outcomes


def stored_raw(
    config: Config, store: Store | None, *, run_id: str | None = None
) -> tuple[dict[str, RawTable], list[str]]:
    """The raw tables `check` should use, from the store, and notes about them."""
    raw: dict[str, RawTable] = {}
    notes: list[str] = []
    if store is None:
        return raw, notes
    past_run = store.run(run_id) if run_id else None
    for source in config.sources:
        if registry.of(source).kind == "file":
            wanted = None
            if past_run is not None:
                recorded = past_run.sources.get(source.name)
                wanted = recorded.snapshot_id if recorded else None
                wanted = wanted or store.snapshot_as_of(source.name, past_run.started_at)
                if wanted is None:
                    continue
            snapshot = store.table(source.name, wanted)
            if snapshot is None:
                continue
            raw[source.name] = snapshot.raw
            connector = registry.of(source).connect(source, resolve=config.resolve)
            current = _content_hash(connector) if not run_id and not connector.remote else None  # no request
            if current is not None and current != snapshot.content_hash:
                where = Path(snapshot.raw.location).name
                notes.append(
                    f"{source.name}: checked the copy pulled at {snapshot.pulled_at:%Y-%m-%d %H:%M} UTC; "
                    f"{where} has changed since — run `sdbridge pull` to use it"
                )
        elif store.cursor(source.name).get("last_ok_at"):
            as_of = past_run.as_of if past_run else None
            raw[source.name] = item_table(source.name, source.location, store.items(source.name, as_of=as_of))
    return raw, notes


def _annotate_sources(assessment: Assessment, store: Store, pulls: list[PullOutcome], now: datetime) -> None:
    failed = {p.source: p.error for p in pulls if p.status == "failed"}
    partial = {p.source: p.error for p in pulls if p.status == "partial"}
    for summary in assessment.sources:
        last_ok = store.cursor(summary.name).get("last_ok_at")
        if last_ok:
            summary.data_from = datetime.fromisoformat(last_ok)
            # never negative (a clock a little ahead) and never -0.0
            summary.data_age_hours = max(0.0, round((now - summary.data_from).total_seconds() / 3600, 1)) + 0.0
        if summary.name in failed:
            summary.status = "failed"
            summary.error = failed[summary.name]
            age = f"{summary.data_age_hours:.0f} h old" if summary.data_age_hours is not None else "none stored"
            summary.notes.append(f"this pull failed; checked the last good data ({age})")
        elif summary.name in partial:
            summary.status = "partial"
            summary.error = partial[summary.name]


def latest_stored_run(config: Config) -> str | None:
    """The last run whose assessment the store keeps (None before any run)."""
    if not has_store(config):
        return None
    with open_store(config) as store:
        return store.latest_assessed_run()


def annotate_ages(assessment: Assessment, store: Store, now: datetime) -> None:
    """Each finding's `first_seen` (the run its gap has been open since, without a break;
    this run for a new one) and `age_days`, from the store's spans."""
    findings = assessment.findings
    if findings.empty:
        return
    since = store.open_since()
    ids = findings["id"].astype("str")
    first = ids.map(since["first_seen"]).astype("str").fillna(assessment.run_id)
    started = pd.to_datetime(ids.map(since["first_seen_at"]), utc=True, format="ISO8601")
    age = ((now - started).dt.total_seconds() / 86400).clip(lower=0).round(1).fillna(0.0)
    assessment.findings = findings.assign(first_seen=first.to_numpy(), age_days=age.to_numpy())


def check_with_store(
    config: Config, *, run_id: str | None = None, record: bool = False
) -> tuple[CheckResult, list[str]]:
    """`sdbridge check`: offline; uses the store when there is one. With `record`, the check
    is kept in the history as a run of its own (trigger `check`), so the run id its reports
    carry is one `history --run`, `push --run` and `export --run` find. A replay of a past run
    (`run_id`) is never kept: its id is that run's, marked `-replay`."""
    if not has_store(config):
        if run_id:
            raise SdbridgeError(
                f"no store at {store_location(config)}; nothing to replay", hint="run `sdbridge run` first"
            )
        return check(config), []
    with open_store(config) as store, store.run_lock() if record and not run_id else nullcontext():
        raw, notes = stored_raw(config, store, run_id=run_id)
        now = datetime.now(UTC)
        new_id = None if run_id else new_run_id(now)
        if new_id and record:
            store.start_run(new_id, "check")
        try:
            last = None if run_id else [PullOutcome(n, p.status, error=p.error) for n, p in store.last_pulls().items()]
            result = _check_on_store(
                config, store, raw, run_id=f"{run_id}-replay" if run_id else new_id, now=now, pulls=last
            )
            if new_id and record:
                assessment = result.assessment
                store.save_assessment(new_id, assessment.model_dump(mode="json"), assessment.findings)
                store.end_run(new_id, "ok" if all(s.healthy for s in assessment.sources) else "partial")
        except BaseException as exc:
            if new_id and record:
                store.end_run(new_id, *ended_by(exc))
            raise
    return result, notes


def _check_on_store(
    config: Config,
    store: Store,
    raw: dict[str, RawTable],
    *,
    run_id: str | None,
    now: datetime,
    pulls: list[PullOutcome] | None,
    keep_going: bool = False,
) -> CheckResult:
    """One check of what the store holds, logged. With `pulls` (this run's, or each source's
    last) the assessment carries the store's history: each source's pull and data age, each
    finding's age, the trend. A replay of a past run (`pulls` None) carries that run's alone."""
    checking = time.monotonic()
    result = check(config, raw=raw, keep_going=keep_going, run_id=run_id, now=now)
    assessment = result.assessment
    event(
        "check",
        run_id=assessment.run_id,
        records=assessment.summary.records,
        gaps=assessment.summary.gaps,
        seconds=round(time.monotonic() - checking, 3),
    )
    if pulls is not None:
        _annotate_sources(assessment, store, pulls, now)
        annotate_ages(assessment, store, now)
        assessment.trend = [*store.trend(), _trend_point(assessment)]
    return result


def ended_by(exc: BaseException) -> tuple[str, str]:
    """How a run that stopped on `exc` is recorded: `interrupted` when it was stopped (Ctrl-C,
    SIGTERM), `failed` otherwise; and why, in words."""
    if isinstance(exc, Interrupted):
        return "interrupted", str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", "stopped by Ctrl-C"
    return "failed", str(exc) or type(exc).__name__


def _trend_point(assessment: Assessment) -> dict:
    return {
        "run_id": assessment.run_id,
        "started_at": assessment.generated_at.isoformat(),
        "by_work_product": {wp: c.gaps for wp, c in assessment.summary.by_work_product.items()},
    }


def pull_once(config: Config, *, only: str | None = None, full: bool = False) -> tuple[str, list[PullOutcome], str]:
    """`sdbridge pull`: fill the store, recorded as a run with trigger `pull`."""
    run_id = new_run_id(datetime.now(UTC))
    with open_store(config) as store, store.run_lock():
        store.start_run(run_id, "pull")
        try:
            pulls = pull_all(config, store, run_id=run_id, only=only, full=full)
        except BaseException as exc:
            store.end_run(run_id, *ended_by(exc))
            raise
        status = "partial" if any(p.status in ("failed", "partial") for p in pulls) else "ok"
        store.end_run(run_id, status)
    return run_id, pulls, status


def run_once(
    config: Config,
    *,
    trigger: str = "manual",
    full: bool = False,
    out: Path | None = None,
    formats: list[str] | None = None,
    dry_run: bool = False,
) -> RunOutcome:
    started = time.monotonic()
    now = datetime.now(UTC)
    run_id = new_run_id(now)
    with open_store(config) as store, store.run_lock():
        store.start_run(run_id, trigger)
        try:
            pulls = pull_all(config, store, run_id=run_id, full=full)
            raw, _ = stored_raw(config, store)
            assessment = _check_on_store(
                config, store, raw, run_id=run_id, now=now, pulls=pulls, keep_going=True
            ).assessment
            for checked in assessment.sources:  # a source that failed in mapping counts as failed too
                if checked.status == "failed" and not any(
                    p.source == checked.name for p in pulls if p.status == "failed"
                ):
                    pulls.append(PullOutcome(checked.name, "failed", error=checked.error))
            status = (
                "partial"
                if any(p.status in ("failed", "partial") for p in pulls)
                or not all(s.healthy for s in assessment.sources)
                else "ok"
            )
            writing = time.monotonic()
            written = write_reports(
                assessment, out or config.resolve(config.reports.out), formats or list(config.reports.formats)
            )
            event(
                "reports", run_id=run_id, files=[p.name for p in written], seconds=round(time.monotonic() - writing, 3)
            )
            # The stored report is the assessment without findings (they go to their own table).
            store.save_assessment(run_id, assessment.model_dump(mode="json"), assessment.findings)
            pushes = push_sources(config, store, run_id, dry_run=dry_run)
            if any(p.notes for p in pushes):
                status = "partial"
            store.end_run(run_id, status)
        except BaseException as exc:
            store.end_run(run_id, *ended_by(exc))
            raise
    outcome = RunOutcome(run_id, status, pulls, assessment, written, round(time.monotonic() - started, 2), pushes)
    log.info(json.dumps(run_log_line(outcome)))
    return outcome


def push_sources(config: Config, store: Store, run_id: str, *, dry_run: bool) -> list:
    """Push-back for every source with `push.enabled`; a source whose push fails is named
    in its result's notes and does not stop the others."""
    from sdbridge.pushback.push import push_source_safely

    return [
        push_source_safely(store, run_id, source, registry.of(source), dry_run=dry_run)
        for source in config.sources
        if source.push.enabled
    ]


def push_once(config: Config, *, run_id: str | None = None, dry_run: bool = False) -> list:
    """`sdbridge push`: push the findings of a stored run (the latest by default)."""
    with open_store(config) as store, store.run_lock():
        run_id = run_id or store.latest_assessed_run()
        if run_id is None:
            raise SdbridgeError("nothing to push yet", hint="run `sdbridge run` first")
        return push_sources(config, store, run_id, dry_run=dry_run)


def run_log_line(outcome: RunOutcome) -> dict:
    """The one structured line a run leaves in the log."""
    summary = outcome.assessment.summary if outcome.assessment else None
    return {
        "event": "run",
        "run_id": outcome.run_id,
        "status": outcome.status,
        "seconds": outcome.seconds,
        "sources": {p.source: p.status for p in outcome.pulls},
        "failed": {p.source: p.error for p in outcome.pulls if p.status == "failed"},
        "records": summary.records if summary else None,
        "gaps": summary.gaps if summary else None,
        "push": {
            p.source: {"created": p.created, "updated": p.updated, "unchanged": p.unchanged, "retracted": p.retracted}
            for p in outcome.pushes
        },
    }
