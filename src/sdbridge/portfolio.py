"""`sdbridge portfolio`: every tenant of a shared store on one page — the page a consultant
who prepares many client teams for their audits opens every morning.

Per tenant, from its latest assessed run in the store (nothing is pulled or checked again):
conformance (requirements met of those in scope, and per process), gaps and their trend over
the last runs, how old the oldest source's data is, sources that failed in the latest run,
and evidence that is due for review or expired. Written as one self-contained HTML page, and
as JSON and CSV for people who load it elsewhere.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from sdbridge.assessment import FreshnessResult, ProcessResult
from sdbridge.files import atomic_write
from sdbridge.store import Store

TREND_RUNS = 14
"""Runs the gap trend looks back over."""
PORTFOLIO_FORMATS = ("html", "json", "csv")


class TenantStatus(BaseModel):
    """One tenant's line of the portfolio."""

    tenant: str
    last_run_id: str | None = None
    last_run_at: str | None = None
    last_run_status: str | None = None
    assessed_run_id: str | None = None
    assessed_at: datetime | None = None
    variation: str | None = None
    requirements: int = 0
    met: int = 0
    gap: int = 0
    not_evidenced: int = 0
    conformance: float | None = None
    """Share of the requirements in scope that are met (None before any assessed run)."""
    by_process: list[ProcessResult] = Field(default_factory=list)
    records: int = 0
    gaps: int = 0
    gaps_trend: list[int] = Field(default_factory=list)
    """Gaps in each of the last assessed runs, oldest first."""
    gaps_change: int | None = None
    """Gaps now minus gaps in the run before (None with a single run)."""
    data_age_hours: float | None = None
    """Age of the oldest source's last good pull."""
    stale_source: str | None = None
    failed_sources: list[str] = Field(default_factory=list)
    evidence_due: list[FreshnessResult] = Field(default_factory=list)
    """Evidence due for review soon (warning) or past its validity (expired)."""


class Portfolio(BaseModel):
    generated_at: datetime
    store: str
    tenants: list[TenantStatus]

    @property
    def processes(self) -> list[tuple[str, str]]:
        """(id, name) of every process any tenant reports, in profile order."""
        from sdbridge.profile import load_catalogue

        seen: dict[str, str] = {}
        for tenant in self.tenants:
            for process in tenant.by_process:
                seen.setdefault(process.id, process.name)
        order = {p.id: n for n, p in enumerate(load_catalogue().processes)}
        return sorted(seen.items(), key=lambda p: (order.get(p[0], len(order)), p[0]))


def tenant_status(store: Store, now: datetime) -> TenantStatus:
    status = TenantStatus(tenant=store.tenant)
    runs = store.runs(1)
    if runs:
        last = runs[0]
        status.last_run_id, status.last_run_at, status.last_run_status = last.id, last.started_at, last.status
        status.failed_sources = sorted(
            name for name, source in store.run(last.id).sources.items() if source.status in ("failed", "partial")
        )
    oldest: tuple[float, str] | None = None
    for name, cursor in store.cursors().items():
        if cursor.get("last_ok_at"):
            hours = (now - datetime.fromisoformat(cursor["last_ok_at"])).total_seconds() / 3600
            if oldest is None or hours > oldest[0]:
                oldest = (hours, name)
    if oldest is not None:
        status.data_age_hours, status.stale_source = round(max(oldest[0], 0.0), 1), oldest[1]
    assessed = store.latest_assessed_run()
    assessment = store.assessment(assessed) if assessed else None
    if assessment is None:
        return status
    conformance = assessment.conformance
    status.assessed_run_id, status.assessed_at, status.variation = (
        assessed,
        assessment.generated_at,
        conformance.variation,
    )
    status.requirements, status.met = conformance.requirements, conformance.met
    status.gap, status.not_evidenced = conformance.gap, conformance.not_evidenced
    status.conformance = round(conformance.met / conformance.requirements, 4) if conformance.requirements else None
    status.by_process = conformance.by_process
    status.records, status.gaps = assessment.summary.records, assessment.summary.gaps
    status.gaps_trend = [sum(run["by_work_product"].values()) for run in store.trend(TREND_RUNS)]
    if len(status.gaps_trend) >= 2:
        status.gaps_change = status.gaps_trend[-1] - status.gaps_trend[-2]
    status.evidence_due = [f for f in assessment.freshness if f.status in ("warning", "expired")]
    return status


def build(store: Store, now: datetime | None = None) -> Portfolio:
    """The portfolio of every tenant the store holds, most recently run first."""
    now = now or datetime.now(UTC)
    tenants = [tenant_status(store.as_tenant(tenant), now) for tenant in store.tenants()]
    return Portfolio(generated_at=now, store=store.where, tenants=tenants)


def csv_text(portfolio: Portfolio) -> str:
    """One row per tenant; per-process columns `P<id> met` / `P<id> requirements`. Text a
    spreadsheet would run (a source named `=...`) is made text, as in the reports; numbers
    stay numbers (a change of -3 gaps is not a formula)."""
    from sdbridge.arrowtext import neutralise

    processes = portfolio.processes
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "tenant",
            "last_run_at",
            "last_run_status",
            "conformance",
            "met",
            "requirements",
            "gap",
            "not_evidenced",
            "gaps",
            "gaps_change",
            "data_age_hours",
            "failed_sources",
            "evidence_due",
            *(f"{pid} met" for pid, _ in processes),
            *(f"{pid} requirements" for pid, _ in processes),
        ]
    )
    for t in portfolio.tenants:
        by_id = {p.id: p for p in t.by_process}
        cells = [
            t.tenant,
            t.last_run_at or "",
            t.last_run_status or "",
            "" if t.conformance is None else t.conformance,
            t.met,
            t.requirements,
            t.gap,
            t.not_evidenced,
            t.gaps,
            "" if t.gaps_change is None else t.gaps_change,
            "" if t.data_age_hours is None else t.data_age_hours,
            " ".join(t.failed_sources),
            " ".join(f"{f.work_product}:{f.status}" for f in t.evidence_due),
            *(by_id[pid].met if pid in by_id else "" for pid, _ in processes),
            *(
                by_id[pid].met + by_id[pid].gap + by_id[pid].not_evidenced if pid in by_id else ""
                for pid, _ in processes
            ),
        ]
        writer.writerow([neutralise(cell) for cell in cells])
    return buffer.getvalue()


def render_html(portfolio: Portfolio) -> str:
    from sdbridge.reports.common import environment

    return environment().get_template("portfolio.html.j2").render(p=portfolio, sparkline=_sparkline)


def _sparkline(values: list[int]) -> str:
    from sdbridge.history import sparkline

    return sparkline(values)


def write(portfolio: Portfolio, out: Path, formats: list[str]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    writers = {
        "html": ("portfolio.html", lambda: render_html(portfolio)),
        "json": ("portfolio.json", lambda: json.dumps(portfolio.model_dump(mode="json"), indent=2) + "\n"),
        "csv": ("portfolio.csv", lambda: csv_text(portfolio)),
    }
    written = []
    for name in formats:
        filename, render = writers[name]
        written.append(_write_text(out / filename, render()))
    return written


def _write_text(path: Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
