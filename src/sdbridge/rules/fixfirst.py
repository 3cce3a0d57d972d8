"""Fix first: for every requirement in scope that is not met, all the work that still blocks
it, so that the list can promise what its heading says — resolve an entry's blockers and that
requirement is met.

A requirement is met only when each work product it relies on is fed, has records and has no
gap, and each process check behind it is met (`rules._requirement`). So the blockers are
exactly those: the gap findings of its work products (fixed on the records), the records a
failing process check names, and the set-up steps no record edit can do — a work product no
source feeds, one without records, items an export can never provide, a check with nothing
to evaluate. Requirements that need only record edits come first, the least work first;
those that also need set-up follow, as their work cannot be counted in records.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from sdbridge.assessment import FINDING_COLUMNS, Assessment, Blocker, FixFirst, ProcessCheck, RequirementResult, is_in
from sdbridge.words import days, plural, record_label

FIRST = 3
"""Findings shown under each entry as the place to start."""


def fix_first(assessment: Assessment) -> list[FixFirst]:
    findings = _Findings(assessment)
    checks = {c.id: c for c in assessment.process_checks}
    entries = []
    for requirement in assessment.requirements:
        if not requirement.in_variation or requirement.status == "met":
            continue
        blockers = [
            *_gap_blockers(findings, requirement),
            *_setup_blockers(assessment, requirement),
            *_check_blockers(checks[c] for c in requirement.checks if c in checks),
        ]
        if not blockers:  # cannot happen for a requirement that is not met; never hide one
            blockers = [Blocker(kind="not_evaluated", text=requirement.reason, setup=True)]
        gaps = sum(b.count for b in blockers if b.kind == "gaps")
        entries.append(
            FixFirst(
                requirement=requirement.id,
                process=requirement.process,
                status=requirement.status,
                work=sum(b.count for b in blockers),
                gaps=gaps,
                setup=sum(b.setup for b in blockers),
                summary=summary(blockers),
                blockers=blockers,
                first=findings.first(requirement.work_products) if gaps else [],
            )
        )
    return sorted(entries, key=lambda e: (e.setup > 0, e.work, e.requirement))


class _Findings:
    """The fixable findings (those an export can provide) by work product, read once: a
    million findings are a few array passes, not one per requirement."""

    def __init__(self, assessment: Assessment) -> None:
        frame = assessment.findings
        self.frame = frame
        fixable = ~assessment.unsourced_mask() if len(frame) else np.zeros(0, dtype=bool)
        codes, names = pd.factorize(frame["work_product"]) if len(frame) else (np.zeros(0, dtype=np.intp), [])
        self.codes = np.where(fixable, codes, -1)
        self.index = {str(name): n for n, name in enumerate(names)}
        self.counts = np.bincount(self.codes[self.codes >= 0], minlength=len(self.index))
        if len(frame):
            high = is_in(frame["severity"], ["high"])
            age = frame["age_days"].fillna(0).to_numpy(dtype=float) if "age_days" in frame else np.zeros(len(frame))
            # one key: high severity before any medium one, then the older first
            self.rank = np.where(high, 1e9, 0.0) + age

    def count(self, wp: str) -> int:
        at = self.index.get(wp)
        return int(self.counts[at]) if at is not None else 0

    def first(self, work_products: list[str]) -> list[dict[str, Any]]:
        """The first findings to fix among these work products: high severity, then the
        oldest; ties keep the findings' order. Only these rows become Python objects."""
        wanted = [self.index[w] for w in work_products if w in self.index]
        at = np.flatnonzero(np.isin(self.codes, wanted))
        if not len(at):
            return []
        rank = self.rank[at]
        if len(at) > FIRST:  # the FIRST largest keys, in O(n): all above the cut, then ties in order
            cut = np.partition(rank, len(rank) - FIRST)[len(rank) - FIRST]
            above = np.flatnonzero(rank > cut)
            ties = np.flatnonzero(rank == cut)[: FIRST - len(above)]
            keep = np.concatenate([above, ties])
            at, rank = at[keep], rank[keep]
        order = np.lexsort((at, -rank))[:FIRST]
        return [
            {c: plain(getattr(row, c, None)) for c in FINDING_COLUMNS}
            for row in self.frame.iloc[at[order]].itertuples()
        ]


def _gap_blockers(findings: _Findings, requirement: RequirementResult) -> list[Blocker]:
    blockers = []
    for wp in requirement.work_products:
        count = findings.count(wp)
        if count:
            blockers.append(Blocker(kind="gaps", text=f"{plural(count, 'gap')} in {wp}", count=count, work_product=wp))
    return blockers


def _setup_blockers(assessment: Assessment, requirement: RequirementResult) -> list[Blocker]:
    blockers = []
    for wp in requirement.work_products:
        result = assessment.work_products[wp]
        if not result.fed:
            blockers.append(Blocker(kind="no_source", text=f"no source feeds {wp}", setup=True, work_product=wp))
        elif result.records == 0 and not result.gaps:
            blockers.append(Blocker(kind="no_records", text=f"{wp} has no records", setup=True, work_product=wp))
    for source in assessment.sources:
        for wp, items in source.never_provides.items():
            if wp in requirement.work_products:
                letters = ", ".join(_letters(i) or i for i in items)
                blockers.append(
                    Blocker(
                        kind="not_in_export",
                        text=f"{source.name} never provides {wp} {letters}",
                        setup=True,
                        work_product=wp,
                        source=source.name,
                    )
                )
    return blockers


def _check_blockers(checks: Iterable[ProcessCheck]) -> list[Blocker]:
    blockers = []
    for check in checks:
        if check.status == "not_evidenced":
            blockers.append(
                Blocker(kind="not_evaluated", text=f"{check.id}: {check.reason}", setup=True, check=check.id)
            )
        elif check.status == "gap":
            count = max(check.failing, len(check.records), 1)
            text = f"{check.id}: {check.records[0]}" if count == 1 and check.records else f"{check.id} fails on {count}"
            blockers.append(
                Blocker(kind="check", text=text, count=count, check=check.id, records=check.records[:FIRST])
            )
    return blockers


def summary(blockers: list[Blocker]) -> str:
    """The blockers in one line, gaps first: "4 gaps + P13.report-per-period: no report for
    2026-Q3"; set-up steps of one kind share a part ("no source feeds WP.13, WP.20")."""
    parts = []
    gaps = sum(b.count for b in blockers if b.kind == "gaps")
    if gaps:
        parts.append(plural(gaps, "gap"))
    parts += [b.text for b in blockers if b.kind == "check"]
    unfed = [b.work_product for b in blockers if b.kind == "no_source"]
    if unfed:
        parts.append(f"no source feeds {', '.join(str(w) for w in unfed)}")
    empty = [b.work_product for b in blockers if b.kind == "no_records"]
    if empty:
        parts.append(f"no records in {', '.join(str(w) for w in empty)}")
    parts += [b.text for b in blockers if b.kind in ("not_in_export", "not_evaluated")]
    return " + ".join(parts)


def start_with(entry: FixFirst, n: int = FIRST) -> str:
    """Where to start, in words: its first findings ("S-03 WP.10 e (Sofie Berg, 12 days)"),
    else the first records its failing check names, else its first set-up step."""
    if entry.first:
        return "; ".join(place(f) for f in entry.first[:n])
    failing = next((b.records for b in entry.blockers if b.records), None)
    if failing:
        return "; ".join(failing[:n])
    return next((b.text for b in entry.blockers), "")


def place(finding: dict[str, Any]) -> str:
    """One finding as a place to work: its record, item and who can fix it since when."""
    item = str(finding["item"])
    where = f"{record_label(finding)} {finding['work_product']} {_letters(item)}".rstrip()
    who = [str(finding["owner"])] if finding.get("owner") else []
    if finding.get("age_days") is not None:
        who.append(days(finding["age_days"]))
    return where + (f" ({', '.join(who)})" if who else "")


def _letters(item: str) -> str:
    """An item id's letters within its work product (`WP.16.c.7` -> `c.7`); "" for a WP id."""
    return item.split(".", 2)[2] if item.count(".") >= 2 else ""


def plain(value: Any) -> Any:
    """A value of a findings row as JSON gives it: NaN and NA are None, numpy numbers Python's."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
