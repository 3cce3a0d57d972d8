"""The result of one check, as pydantic models: what `report.json` holds and every report sink
reads. Field names here are a contract (ARCHITECTURE.md, "Contracts"): tools and auditors
read them, so they change only with a version bump.

Findings can number in the hundreds of thousands, so they travel as a DataFrame with the
columns of `FINDING_SCHEMA` (which says what each holds) and are written out column-wise.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, Field

REPORT_VERSION = 1

FINDING_SCHEMA = pa.schema(
    [
        ("id", pa.large_string()),  # stable across runs: `<source>:<record id>:<item id>`
        ("work_product", pa.dictionary(pa.int32(), pa.string())),
        ("item", pa.dictionary(pa.int32(), pa.string())),
        ("record_id", pa.large_string()),  # None for an item of the work product as a whole
        ("source", pa.large_string()),
        ("status", pa.dictionary(pa.int32(), pa.string())),  # missing | invalid
        ("severity", pa.dictionary(pa.int32(), pa.string())),  # high | medium
        ("url", pa.large_string()),
        ("message", pa.dictionary(pa.int32(), pa.string())),
        ("title", pa.large_string()),
        ("row", pa.int64()),  # the row of the export, for a table source
        # Who can fix it: the mapped `owner` field, else the record's assignee / resolver / CI
        # or agreement owner (`rules.findings.OWNER_FIELDS`).
        ("owner", pa.large_string()),
        ("first_seen", pa.large_string()),  # the run the gap has been open since; None without a store
        ("age_days", pa.float64()),  # days since `first_seen` began; None without a store
    ]
)
"""The findings as Arrow builds them: text as text, the few distinct values (work product,
item, status, severity, message) as dictionaries, which pandas reads as categories."""
FINDING_COLUMNS = list(FINDING_SCHEMA.names)
STORED_FINDING_COLUMNS = FINDING_COLUMNS[:9]
"""What the store keeps of each finding, per run (`title` and `row` stay in the reports)."""


class RejectionEntry(BaseModel):
    row: int
    work_product: str
    reason: str


SourceStatus = Literal["ok", "empty", "unmapped", "not_pulled", "partial", "failed"]
RequirementStatus = Literal["met", "gap", "not_evidenced"]


class SourceSummary(BaseModel):
    name: str
    type: str
    location: str
    status: SourceStatus = "ok"
    """ok: records mapped; empty: read fine but no data rows; unmapped: it has rows but not
    one became a record (every row excluded or rejected: the mapping does not fit this
    export; `error` says why); not_pulled: a network source
    with nothing in the store yet; partial: part of the source (a project) could not be read,
    the rest was checked; failed: it could not be read (its last good data, if any, was
    checked)."""
    error: str | None = None
    data_from: datetime | None = None
    """When the data checked was last pulled successfully (from the store), if known."""
    data_age_hours: float | None = None
    items_pulled: int = 0
    mapped: int = 0
    excluded: int = 0
    rejected: int = 0
    records_by_work_product: dict[str, int] = Field(default_factory=dict)
    rejections: list[RejectionEntry] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    never_provides: dict[str, list[str]] = Field(default_factory=dict)
    """WP id -> record items this source's export cannot evidence on any record (no column
    feeds them): each of its records shows them missing, "not in this export"."""

    @property
    def healthy(self) -> bool:
        """Read as configured (with or without data rows): no exit 3 on its account."""
        return self.status in ("ok", "empty")


class GapCount(BaseModel):
    records: int = 0
    records_with_gaps: int = 0
    gaps: int = 0


class Summary(GapCount):
    by_work_product: dict[str, GapCount] = Field(default_factory=dict)


class ItemCoverage(BaseModel):
    label: str
    scope: Literal["record", "work_product"] = "record"
    present: int = 0
    missing: int = 0
    invalid: int = 0
    pending: int = 0
    not_applicable: int = 0
    coverage: float | None = None
    """Share of applicable, due records where the item is present (0..1); None if none."""
    note: str | None = None


class WorkProductResult(BaseModel):
    name: str
    process: str
    kind: Literal["record", "document"]
    fed: bool
    status: Literal["complete", "gaps", "no_evidence", "not_fed"] = "not_fed"
    """complete: records and no gap; gaps; no_evidence: fed, but no record came (an empty
    export); not_fed: no source maps it."""
    sources: list[str] = Field(default_factory=list)
    records: int = 0
    records_with_gaps: int = 0
    gaps: int = 0
    items: dict[str, ItemCoverage] = Field(default_factory=dict)


class RequirementResult(BaseModel):
    id: str
    process: str
    statement: str
    status: RequirementStatus
    reason: str
    work_products: list[str]
    guide_tasks: list[str]
    in_variation: bool = True
    checks: list[str] = Field(default_factory=list)
    """Ids of the process checks that bear on this requirement."""


class ProcessCheck(BaseModel):
    """A check across records (P10.approved-before-deploy ...), with the records behind it."""

    id: str
    requirement: str
    title: str
    status: Literal["met", "gap", "not_evidenced"]
    reason: str
    records: list[str] = Field(default_factory=list)
    """What fails, one entry per record (or period, person): the first 50 of `failing`."""
    failing: int = 0
    """How many records (periods, people) fail or lack an input, all of them."""
    evaluated: int = 0
    """Records (or periods, people) evaluated with every input the check needs."""
    population: int = 0
    """Records the check applies to; `population - evaluated` lacked an input."""


FreshnessStatus = Literal["ok", "warning", "expired", "unknown"]


class FreshnessResult(BaseModel):
    work_product: str
    last_evidenced: str | None
    limit_days: int
    status: FreshnessStatus
    detail: str


BlockerKind = Literal["gaps", "check", "not_in_export", "no_source", "no_records", "not_evaluated"]


class Blocker(BaseModel):
    """One part of the work left before a requirement can be met."""

    kind: BlockerKind
    """gaps: record items to fill in one work product; check: a process check that fails on
    `count` records (periods, people); not_in_export: items a source's export can never
    provide (a column to map); no_source: a work product no source feeds; no_records: a fed
    work product without records; not_evaluated: a process check with nothing to evaluate."""
    text: str
    """What to do, in a few words: "2 gaps in WP.10", "no report for 2026-Q3"."""
    count: int = 1
    """Units of work: gaps to fill, records failing a check; 1 for a set-up step."""
    setup: bool = False
    """True when it needs a source, a mapping or new evidence first, not record edits."""
    work_product: str | None = None
    check: str | None = None
    source: str | None = None
    records: list[str] = Field(default_factory=list)
    """For a check: the first records (periods, people) it fails on, as it describes them."""


class FixFirst(BaseModel):
    """A requirement not yet met, with everything that still blocks it. Resolving every
    blocker (each gap finding of its `gaps` blockers, each failing record of its checks, each
    set-up step) is what brings it to met; `first` are the findings to start with."""

    requirement: str
    process: str
    status: RequirementStatus
    work: int
    """Units of work left: gaps + failing check records + set-up steps."""
    gaps: int
    """Item findings to fix in its work products (never-provided items not included)."""
    setup: int
    """Set-up steps among the blockers (a source, a column, evidence to add)."""
    summary: str
    """The blockers in one line: "4 gaps + no report for 2026-Q3"."""
    blockers: list[Blocker]
    first: list[dict[str, Any]] = Field(default_factory=list)
    """The findings to start with (high severity, then the oldest): finding columns."""


class ProcessResult(BaseModel):
    id: str
    name: str
    met: int = 0
    gap: int = 0
    not_evidenced: int = 0


class Conformance(BaseModel):
    variation: str
    requirements: int
    met: int
    gap: int
    not_evidenced: int
    by_process: list[ProcessResult]


class Assessment(BaseModel):
    report_version: int = REPORT_VERSION
    profile: str
    variation: str
    generated_at: datetime
    run_id: str
    config: str | None = None
    sources: list[SourceSummary]
    summary: Summary
    conformance: Conformance
    work_products: dict[str, WorkProductResult]
    requirements: list[RequirementResult]
    process_checks: list[ProcessCheck] = Field(default_factory=list)
    freshness: list[FreshnessResult] = Field(default_factory=list)
    fix_first: list[FixFirst] = Field(default_factory=list)
    """Every requirement in scope that is not met, the least work left first: those that need
    only record edits before those that need set-up (see `rules.fixfirst`)."""
    trend: list[dict[str, Any]] = Field(default_factory=list)
    """Gaps per WP over past runs, oldest first: {run_id, started_at, by_work_product: {WP: gaps}}."""
    findings: pd.DataFrame = Field(default_factory=lambda: pd.DataFrame(columns=FINDING_COLUMNS), exclude=True)
    item_checks: dict[str, Any] = Field(default_factory=dict, exclude=True)
    """Per WP, the item check behind the coverage (codes per record and item)."""

    @property
    def item_status(self) -> dict[str, pd.DataFrame]:
        """Per WP: one row per record (record id, source, title, url) and one column per item
        holding its status (present, missing, ...). Built on demand, for workbooks and the
        audit package."""
        return {wp: check.status_frame() for wp, check in self.item_checks.items()}

    model_config = {"arbitrary_types_allowed": True}

    def top_missing_items(self, n: int = 5) -> list[tuple[str, int]]:
        if self.findings.empty:
            return []
        counts = self.findings["item"].value_counts()
        return [(str(k), int(v)) for k, v in counts.head(n).items()]

    def unsourced_mask(self) -> np.ndarray:
        """The findings of items a source's export can never provide (`never_provides`):
        reports group them under their source instead of listing them record by record."""
        mask = np.zeros(len(self.findings), dtype=bool)
        for _, _, _, hit in self.never_provided_findings():
            mask |= hit
        return mask

    def never_provided_findings(self) -> list[tuple[str, str, list[str], np.ndarray]]:
        """Per source and WP whose export can never evidence some items: (source, WP, those
        items, a mask of their findings)."""
        findings = self.findings
        groups = []
        for source in self.sources:
            for wp_id, items in source.never_provides.items():
                hit = np.zeros(len(findings), dtype=bool)
                if len(findings):
                    hit = is_in(findings["source"], [source.name]) & is_in(findings["item"], items)
                groups.append((source.name, wp_id, items, hit))
        return groups

    def owners(self, limit: int = 10) -> list[dict[str, Any]]:
        """Gaps per owner, most first, with the oldest gap's age (`(no owner)` for the rest)."""
        findings = self.findings
        if findings.empty or "owner" not in findings:
            return []
        codes, names = pd.factorize(findings["owner"], use_na_sentinel=True)
        codes = np.where(codes < 0, len(names), codes)
        labels = [str(name) for name in names] + ["(no owner)"]
        gaps = np.bincount(codes, minlength=len(labels))
        ages = findings["age_days"].to_numpy(dtype=float) if "age_days" in findings else np.full(len(codes), np.nan)
        oldest = np.full(len(labels), -np.inf)
        np.fmax.at(oldest, codes, ages)
        present = [i for i in np.argsort(-gaps, kind="stable").tolist() if gaps[i]]
        return [
            {
                "owner": labels[i],
                "gaps": int(gaps[i]),
                "oldest_days": None if not np.isfinite(oldest[i]) else float(oldest[i]),
            }
            for i in present[:limit]
        ]


def is_in(column: pd.Series, values: Iterable[str]) -> np.ndarray:
    """Where a findings column holds one of `values`: on a categorical column by its codes
    (no text per row), else by Arrow."""
    wanted = list(values)
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = [column.cat.categories.get_loc(v) for v in wanted if v in column.cat.categories]
        return np.isin(column.cat.codes.to_numpy(), codes)
    return column.isin(wanted).to_numpy(dtype=bool)
