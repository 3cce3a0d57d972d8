"""The assessment: item checks per record, work products, requirement status per P01–P17,
the process checks and freshness, Fix first — the `Assessment` that every report reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import numpy as np
import pyarrow as pa

from sdbridge.assessment import (
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
from sdbridge.mapping.engine import SourceOutcome
from sdbridge.mapping.table import WorkProductTable
from sdbridge.profile import Catalogue, Item, Requirement
from sdbridge.rules.findings import findings_frame, record_findings, work_product_finding
from sdbridge.rules.fixfirst import fix_first
from sdbridge.rules.items import (
    ItemCheck,
    ItemStatus,
    check_items,
    check_work_product_items,
)
from sdbridge.rules.process import ProcessSettings, freshness, run_process_checks
from sdbridge.words import plural

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
            if (part := record_findings(check)) is not None:
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
                    finding_parts.append(work_product_finding(wp, item, sources))
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

    findings = findings_frame(finding_parts)
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
