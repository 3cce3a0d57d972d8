"""Rules: item checks per record, requirement status per P01–P17, and the `Assessment`
that every report reads. Rules never touch the network or the files: they read WP tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sdbridge.assessment import (
    FINDING_COLUMNS,
    FINDING_SCHEMA,
    Assessment,
    Conformance,
    GapCount,
    ItemCoverage,
    ProcessCheck,
    ProcessResult,
    RejectionEntry,
    RequirementResult,
    RequirementStatus,
    SourceStatus,
    SourceSummary,
    Summary,
    WorkProductResult,
)
from sdbridge.mapping.engine import OWNER, RECORD_ID, ROW_COL, SOURCE, URL, SourceOutcome, WorkProductTable
from sdbridge.profile import Catalogue, Item, Requirement, WorkProduct
from sdbridge.rules.fixfirst import fix_first
from sdbridge.rules.items import (
    INVALID,
    ItemCheck,
    ItemStatus,
    check_items,
    check_work_product_items,
    is_gap,
)
from sdbridge.rules.process import ProcessSettings, freshness, run_process_checks
from sdbridge.values import as_text, is_list_column
from sdbridge.words import plural

__all__ = ["ItemStatus", "check_items", "assess", "CheckInput", "finding_message"]

MAX_REJECTIONS_LISTED = 200


@dataclass
class CheckInput:
    """Everything a check needs, all already pulled and mapped."""

    tables: dict[str, WorkProductTable]
    outcomes: list[SourceOutcome]
    fed_by: dict[str, list[str]]
    """WP id -> names of the sources whose mapping feeds it (even if they gave no records)."""
    evidence: dict[str, list[str]] = field(default_factory=dict)
    """Item id -> declarations for work-product-level items."""
    process: ProcessSettings = field(default_factory=ProcessSettings)


NOT_IN_EXPORT = "not in this export"


def finding_message(
    item: Item, status: str, wp: WorkProduct | None = None, parts: str | None = None, unsourced: bool = False
) -> str:
    """The plain sentence shown in reports and pushed comments. It names the item (and, for
    an item of several fields, the absent part), never a value of the record, so it can be
    shown anywhere."""
    name = f"{item.label} ({item.display})"
    if status == ItemStatus.INVALID:
        kinds = {wp.field(f).type.value for f in item.fields} if wp else set()
        if list(item.fields) == ["id"]:
            text = f"{name} is not unique: another record of the export has the same one"
        elif "duration" in kinds:
            text = f"{name} is unusable: the end is before the start, or it is not a number of hours"
        elif "datetime" in kinds:
            text = (
                f"{name} is filled in but is not a date sdbridge can read (the source's notes name the formats tried)"
            )
        else:
            text = f"{name} is filled in but unusable"
    elif item.scope == "work_product":
        text = f"{name} is not evidenced — declare it under `evidence:` of a source or map a record that shows it"
    else:
        text = f"{name} is missing"
    if parts:
        text += f" ({parts})"
    if unsourced:
        text += f": {NOT_IN_EXPORT}"
    if item.condition:
        text += f" — {item.condition}"
    return text


def _severity(item: Item) -> str:
    return "high" if item.audit_focus else "medium"


def _text(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A column as Arrow text (zero-copy for Arrow-backed text; lists joined)."""
    if is_list_column(series):
        series = as_text(series)
    return pc.cast(pa.array(series.astype("str").array), pa.large_string())  # chunks kept


def _dictionary(codes: np.ndarray, values: list[str]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(values, pa.string()))


def _messages(check: ItemCheck, column: int, item: Item, gap: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """The message of each gap of one item, as codes into its distinct texts, each text built
    once per distinct case: missing or invalid, and — for an item of several fields — which
    of its fields are absent."""
    wp = check.table.work_product
    invalid = check.codes[gap, column] == INVALID
    fields = list(check.parts.get(item.id, {}).items())
    pattern = np.zeros(int(gap.sum()), dtype=np.int64)
    for bit, (_, codes) in enumerate(fields):
        pattern |= is_gap(codes[gap]).astype(np.int64) << bit
    never = check.unsourced.get(item.id)
    unsourced = never[gap] if never is not None else np.zeros(len(pattern), dtype=bool)
    key = (pattern * 2 + invalid) * 2 + unsourced
    full = (1 << len(fields)) - 1
    texts = {}
    for k in np.unique(key).tolist():
        rest, is_unsourced = divmod(k, 2)
        bits, is_invalid = divmod(rest, 2)
        absent = [name for bit, (name, _) in enumerate(fields) if bits >> bit & 1]
        parts = ", ".join(a.replace("_", " ") for a in absent) if fields and bits != full else None
        status = ItemStatus.INVALID if is_invalid else ItemStatus.MISSING
        texts[k] = finding_message(item, status, wp, parts, unsourced=bool(is_unsourced))
    categories = list(dict.fromkeys(texts.values()))
    code_of = np.array([categories.index(texts[k]) if k in texts else 0 for k in range(max(texts) + 1)])
    return code_of[key], categories


OWNER_FIELDS = {
    "WP.18": ("resolver", "reporter"),
    "WP.11": ("contact",),
    "WP.02": ("owner",),
    "WP.03": ("owner_vse",),
    "WP.21": ("owner_vse",),
    "WP.06": ("signed_by",),
}
"""Who can fix a record's gaps when no `owner` is mapped: the first filled of these fields."""


def _owners(table: WorkProductTable) -> pa.Array | pa.ChunkedArray:
    """Each record's owner: the mapped `owner` (`_owner`), else the first filled of the WP's
    owner fields (a placeholder such as "N/A" is no owner); trimmed; null for none."""
    frame = table.frame
    names = [OWNER] if OWNER in frame else []
    names += [f for f in OWNER_FIELDS.get(table.work_product.id, ()) if f in frame]
    owner = pa.nulls(len(frame), pa.large_string())
    unset = np.ones(len(frame), dtype=bool)
    for name in names:
        filled = unset & ~table.blank(name)
        if filled.any():
            owner = pc.if_else(filled, _text(frame[name]), owner)
            unset &= ~filled
    return pc.utf8_trim_whitespace(owner)


def _record_findings(check: ItemCheck) -> pa.Table | None:
    """One finding per gap, for every item of one WP at once: the gaps' (item, record)
    positions, then one Arrow `take` per column (no Python object per finding)."""
    gaps = is_gap(check.codes)
    columns, rows = np.nonzero(gaps.T)  # item by item, records in order
    if not len(rows):
        return None
    frame = check.table.frame
    wp = check.table.work_product
    at = pa.array(rows, pa.int64())
    record_ids = _text(frame[RECORD_ID]).take(at)
    sources = _text(frame[SOURCE]).take(at)
    item_ids = [item.id for item in check.items]
    titles = _text(frame["title"]) if "title" in frame else pa.nulls(len(frame), pa.large_string())
    severities = ["high", "medium"]
    message_codes: list[np.ndarray] = []
    messages: dict[str, int] = {}
    for column in np.unique(columns).tolist():
        item = check.items[column]
        codes, texts = _messages(check, column, item, gaps[:, column])
        offsets = np.array([messages.setdefault(text, len(messages)) for text in texts])
        message_codes.append(offsets[codes])
    count = len(rows)
    return pa.table(
        {
            "id": pc.binary_join_element_wise(
                sources,
                record_ids,
                pa.array(item_ids, pa.large_string()).take(columns),
                pa.scalar(":", pa.large_string()),
            ),
            "work_product": _dictionary(np.zeros(count, dtype=np.int32), [wp.id]),
            "item": _dictionary(columns, item_ids),
            "record_id": record_ids,
            "source": sources,
            "status": _dictionary((check.codes[rows, columns] == INVALID).astype(np.int32), ["missing", "invalid"]),
            "severity": _dictionary(
                np.array([severities.index(_severity(item)) for item in check.items])[columns], severities
            ),
            "url": _text(frame[URL]).take(at),
            "message": _dictionary(np.concatenate(message_codes), list(messages)),
            "title": titles.take(at),
            "row": pa.array(frame[ROW_COL].to_numpy(dtype=np.int64)).take(at),
            "owner": _owners(check.table).take(at),
            "first_seen": pa.nulls(count, pa.large_string()),
            "age_days": pa.array(np.full(count, np.nan)),
        },
        schema=FINDING_SCHEMA,
    )


def _work_product_finding(wp: WorkProduct, item: Item, sources: list[str]) -> pa.Table:
    """The finding of a work-product item that no record or declaration evidences."""
    return pa.Table.from_pylist(
        [
            {
                "id": f"{wp.id}:{item.id}",
                "work_product": wp.id,
                "item": item.id,
                "record_id": None,
                "source": ", ".join(sources),
                "status": "missing",
                "severity": _severity(item),
                "url": None,
                "message": finding_message(item, ItemStatus.MISSING, wp),
                "title": wp.name,
                "row": None,
                "owner": None,
                "first_seen": None,
                "age_days": np.nan,
            }
        ],
        schema=FINDING_SCHEMA,
    )


def _findings_frame(parts: list[pa.Table]) -> pd.DataFrame:
    """The findings of every WP as one frame: Arrow text shared with pandas (no copy),
    dictionaries as categories; `row` is a nullable integer when a finding has none."""
    if not parts:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    table = pa.concat_tables(parts).unify_dictionaries().combine_chunks()
    frame = table.to_pandas()
    if table.column("row").null_count:
        frame["row"] = pd.array(table.column("row"), dtype="Int64")
    return frame


def _coverage(item: Item, counts: dict[str, int]) -> ItemCoverage:
    due = counts["present"] + counts["missing"] + counts["invalid"]
    return ItemCoverage(
        label=item.label,
        coverage=round(counts["present"] / due, 4) if due else None,
        present=counts["present"],
        missing=counts["missing"],
        invalid=counts["invalid"],
        pending=counts["pending"],
        not_applicable=counts["not_applicable"],
    )


def _requirement(
    requirement: Requirement, results: dict[str, WorkProductResult], checks: list[ProcessCheck], in_variation: bool
) -> RequirementResult:
    """Met only when every work product it relies on has records and no gap, and every
    process check behind it is met on evaluated evidence. A gap when anything it relies on
    has a gap; otherwise not evidenced, naming what lacks evidence."""
    wps = list(requirement.work_products)
    own = [c for c in checks if c.requirement == requirement.id]
    gaps: list[str] = []
    unknown: list[str] = []
    for w in wps:
        result = results[w]
        if not result.fed:
            unknown.append(f"no source feeds {w}")
        elif result.records == 0 and not result.gaps:
            unknown.append(f"{w} has no records")
        elif result.gaps:
            gaps.append(
                f"{w} has {plural(result.gaps, 'gap')} in {result.records_with_gaps} of "
                f"{plural(result.records, 'record')}"
            )
    gaps += [f"{c.id}: {c.reason}" for c in own if c.status == "gap"]
    unknown += [f"{c.id}: {c.reason}" for c in own if c.status == "not_evidenced"]
    status: RequirementStatus
    if gaps:
        status, reason = "gap", "; ".join(gaps + unknown)
    elif unknown:
        status, reason = "not_evidenced", "; ".join(unknown)
    else:
        status = "met"
        reason = f"{', '.join(wps)} complete" + (f"; {', '.join(c.id for c in own)} met" if own else "")
    return RequirementResult(
        id=requirement.id,
        process=requirement.process,
        statement=requirement.statement,
        status=status,
        reason=reason,
        work_products=wps,
        guide_tasks=list(requirement.guide_tasks),
        in_variation=in_variation,
        checks=[c.id for c in own],
    )


def _source_status(outcome: SourceOutcome) -> SourceStatus:
    """ok (records mapped), empty (read fine, no data rows), unmapped (rows, but not one
    record), not_pulled, partial or failed."""
    if outcome.status != "ok":
        return cast(SourceStatus, outcome.status)
    if outcome.items == 0:
        return "empty"
    return "unmapped" if outcome.mapped == 0 and outcome.records else "ok"


def _unmapped_error(outcome: SourceOutcome) -> str:
    if outcome.rejected == outcome.items:
        return (
            f"source {outcome.name!r}: every one of its {outcome.items} row(s) was rejected, not one is a record "
            "— see its rejections"
        )
    return (
        f"source {outcome.name!r}: none of its {outcome.items} row(s) became a record — no `where:` of "
        f"{', '.join(outcome.records)} kept a row; see its notes for the values the export has"
    )


def _source_summaries(outcomes: Iterable[SourceOutcome]) -> list[SourceSummary]:
    return [
        SourceSummary(
            name=o.name,
            type=o.type,
            location=o.location,
            status=_source_status(o),
            error=o.error if _source_status(o) != "unmapped" else _unmapped_error(o),
            items_pulled=o.items,
            mapped=o.mapped,
            excluded=o.excluded,
            rejected=o.rejected,
            records_by_work_product=o.records,
            never_provides=o.never_provides,
            rejections=[
                RejectionEntry(row=r.row, work_product=r.work_product, reason=r.reason)
                for r in o.rejections[:MAX_REJECTIONS_LISTED]
            ],
            notes=o.notes
            + (
                ["the export was read but holds no data rows: the work products it feeds have no evidence from it"]
                if _source_status(o) == "empty"
                else []
            )
            + (
                [f"{len(o.rejections) - MAX_REJECTIONS_LISTED} more rejection(s) not listed"]
                if len(o.rejections) > MAX_REJECTIONS_LISTED
                else []
            ),
        )
        for o in outcomes
    ]


def assess(
    catalogue: Catalogue,
    data: CheckInput,
    *,
    variation: str,
    placeholders: tuple[str, ...],
    run_id: str,
    generated_at: datetime,
    config_path: str | None = None,
) -> Assessment:
    results: dict[str, WorkProductResult] = {}
    finding_parts: list[pa.Table] = []
    item_checks: dict[str, ItemCheck] = {}
    for wp in catalogue.work_products:
        table = data.tables.get(wp.id)
        sources = data.fed_by.get(wp.id, [])
        result = WorkProductResult(name=wp.name, process=wp.process, kind=wp.kind, fed=bool(sources), sources=sources)
        records_with_gaps: np.ndarray = np.zeros(0, dtype=bool)
        gaps = 0
        if table is not None and len(table.frame):
            check = check_items(table, placeholders)
            gap_mask = check.gap_mask
            records_with_gaps = np.asarray(gap_mask.any(axis=1))
            gaps = int(gap_mask.sum())
            result.records = table.records
            for column, item in enumerate(check.items):
                coverage = _coverage(item, check.counts(column))
                if item.id in check.unevaluated:
                    coverage.note = f"condition field `{item.when}` is not mapped; treated as not applicable"
                result.items[item.id] = coverage
            if (part := _record_findings(check)) is not None:
                finding_parts.append(part)
            item_checks[wp.id] = check
        else:
            for item in wp.record_items:
                result.items[item.id] = ItemCoverage(label=item.label)
        result.records_with_gaps = int(records_with_gaps.sum())
        has_records = table is not None and len(table.frame) > 0
        if result.fed and (has_records or any(i.id in data.evidence for i in wp.work_product_items)):
            for item_id, (status, detail) in check_work_product_items(wp, table, data.evidence, placeholders).items():
                item = catalogue.item(item_id)
                coverage = ItemCoverage(label=item.label, scope="work_product", note=detail)
                setattr(coverage, status.value, 1)
                coverage.coverage = 1.0 if status == ItemStatus.PRESENT else 0.0
                result.items[item_id] = coverage
                if status == ItemStatus.MISSING:
                    gaps += 1
                    finding_parts.append(_work_product_finding(wp, item, sources))
        else:
            for item in wp.work_product_items:
                result.items[item.id] = ItemCoverage(label=item.label, scope="work_product")
        result.gaps = gaps
        result.status = (
            "not_fed"
            if not result.fed
            else "no_evidence"
            if not result.records and not gaps
            else "gaps"
            if gaps
            else "complete"
        )
        results[wp.id] = result

    findings = _findings_frame(finding_parts)
    checks = run_process_checks(data.tables, data.process, generated_at)
    fresh = freshness(data.tables, data.process, generated_at, {wp.id: wp.kind for wp in catalogue.work_products})
    in_variation = {r.id for r in catalogue.requirements_in(variation)}
    requirements = [_requirement(r, results, checks, r.id in in_variation) for r in catalogue.requirements]
    by_process = []
    for process_id in catalogue.variation(variation).processes:
        process = catalogue.process(process_id)
        entry = ProcessResult(id=process.id, name=process.name)
        for r in requirements:
            if r.process == process_id:
                setattr(entry, r.status, getattr(entry, r.status) + 1)
        by_process.append(entry)
    scoped = [r for r in requirements if r.in_variation]
    conformance = Conformance(
        variation=variation,
        requirements=len(scoped),
        met=sum(r.status == "met" for r in scoped),
        gap=sum(r.status == "gap" for r in scoped),
        not_evidenced=sum(r.status == "not_evidenced" for r in scoped),
        by_process=by_process,
    )
    summary = Summary(
        records=sum(r.records for r in results.values()),
        records_with_gaps=sum(r.records_with_gaps for r in results.values()),
        gaps=len(findings),
        by_work_product={
            wp_id: GapCount(records=r.records, records_with_gaps=r.records_with_gaps, gaps=r.gaps)
            for wp_id, r in results.items()
            if r.fed
        },
    )
    assessment = Assessment(
        profile=catalogue.profile,
        variation=variation,
        generated_at=generated_at,
        run_id=run_id,
        config=config_path,
        sources=_source_summaries(data.outcomes),
        summary=summary,
        conformance=conformance,
        work_products=results,
        requirements=requirements,
        process_checks=checks,
        freshness=fresh,
        findings=findings,
        item_checks=item_checks,
    )
    assessment.fix_first = fix_first(assessment)
    return assessment
