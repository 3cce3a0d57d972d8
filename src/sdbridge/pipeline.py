"""The offline path end to end: config -> connectors -> mapping -> rules -> Assessment.

`check` is what `sdbridge check` and `sdbridge demo` run. A source that fails to read stops
the check with its `InputError` (exit 2) unless `keep_going` is set, in which case it is
reported as failed and every other source is still checked.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sdbridge import progress, registry
from sdbridge.assessment import Assessment
from sdbridge.config import Config
from sdbridge.connectors.base import RawTable
from sdbridge.errors import NotPulledError, SourceError
from sdbridge.mapping.engine import MappingEngine, SourceOutcome
from sdbridge.mapping.table import WorkProductTable, merge_tables
from sdbridge.profile import load_catalogue
from sdbridge.rules import CheckInput, assess


@dataclass
class CheckResult:
    assessment: Assessment
    tables: dict[str, WorkProductTable]
    input: CheckInput | None = None

    def restricted(self, tables: dict[str, WorkProductTable]) -> CheckResult:
        """The same check on a subset of the records (e.g. one audit period)."""
        if self.input is None:
            raise ValueError("a check result without its input cannot be restricted")
        data = replace(self.input, tables=tables)
        a = self.assessment
        assessment = assess(
            load_catalogue(),
            data,
            variation=a.variation,
            placeholders=tables_placeholders(tables),
            run_id=a.run_id,
            generated_at=a.generated_at,
            config_path=a.config,
        )
        assessment.sources = a.sources
        assessment.trend = a.trend
        return CheckResult(assessment, tables, data)


def tables_placeholders(tables: dict[str, WorkProductTable]) -> tuple[str, ...]:
    return next((t.placeholders for t in tables.values() if t.placeholders), ())


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def pull_source(config: Config, source: Any) -> RawTable:
    """Read a local file source now. Network sources are never contacted by a check: their
    data comes from the store, filled by `sdbridge pull`."""
    entry = registry.of(source)
    connector = entry.connect(source, resolve=config.resolve) if entry.kind == "file" else None
    if connector is None or connector.remote:
        raise NotPulledError(
            f"source {source.name!r} has no data in the store yet",
            source=source.name,
            hint="run `sdbridge pull` (or `sdbridge run`) first; `check` makes no network request",
        )
    pulled: RawTable = connector.pull()
    return pulled


def check(
    config: Config,
    *,
    raw: dict[str, RawTable] | None = None,
    keep_going: bool = False,
    run_id: str | None = None,
    now: datetime | None = None,
) -> CheckResult:
    """Check every configured source. `raw` supplies already pulled tables by source name
    (the store passes its snapshots); other sources are read now."""
    catalogue = load_catalogue()
    engine = MappingEngine(catalogue, config.rules.placeholders)
    parts: dict[str, list[WorkProductTable]] = defaultdict(list)
    outcomes: list[SourceOutcome] = []
    fed_by: dict[str, list[str]] = defaultdict(list)
    evidence: dict[str, list[str]] = defaultdict(list)
    for source in config.sources:
        for wp_id in source.mappings:
            fed_by[wp_id].append(source.name)
        for item_id, text in source.evidence.items():
            evidence[item_id].append(f"{source.name}: {text}")
        try:
            with progress.step(f"reading and mapping {source.name}"):
                table = (raw or {}).get(source.name) or pull_source(config, source)
                tables, outcome = engine.map_source(table, source)
        except SourceError as exc:
            if not keep_going and not isinstance(exc, NotPulledError):
                raise
            outcomes.append(
                SourceOutcome(
                    name=source.name,
                    type=source.type,
                    location=source.location,
                    status="not_pulled" if isinstance(exc, NotPulledError) else "failed",
                    error=str(exc),
                )
            )
            continue
        outcomes.append(outcome)
        for wp_id, wp_table in tables.items():
            parts[wp_id].append(wp_table)
    now = now or datetime.now(UTC)
    merged = merge_tables(catalogue, parts)
    data = CheckInput(
        tables=merged,
        outcomes=outcomes,
        fed_by=dict(fed_by),
        evidence=dict(evidence),
        process=config.process,
    )
    with progress.step("checking the items and the process requirements"):
        assessment = assess(
            catalogue,
            data,
            variation=config.profile.variation,
            placeholders=config.rules.placeholders,
            run_id=run_id or new_run_id(now),
            generated_at=now,
            config_path=str(config.path) if config.path else None,
        )
    return CheckResult(assessment=assessment, tables=merged, input=data)
