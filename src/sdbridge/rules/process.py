"""Process checks: requirements that look across records, not at one record's fields.

Each check has a stable id (`P10.approved-before-deploy`), a one-line description in our
own words, a status — met, gap, or not_evidenced when the records it needs are not fed —
a reason, and the records behind it (with the dates that matter, never other values).
Freshness of evidence is checked too: a work product whose latest evidence is older than
its limit is a gap, and one that will pass the limit within `warn_days` is a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from sdbridge.mapping.engine import RECORD_ID, WorkProductTable
from sdbridge.values import blank_mask, parse_bools

MAX_LISTED = 50
DOCUMENT_LIMIT_DAYS = 365


@dataclass
class CheckResult:
    id: str
    requirement: str
    title: str
    status: str  # met | gap | not_evidenced
    reason: str
    records: list[str] = field(default_factory=list)


@dataclass
class ProcessSettings:
    reporting_period: str = "quarterly"
    reporting_periods: int = 4
    max_open_days: int = 30
    review_months: int = 12
    warn_days: int = 30
    freshness: dict[str, int] = field(default_factory=dict)
    timezone: str = "UTC"


_ZONE: ContextVar[str] = ContextVar("sdbridge_display_zone", default="UTC")
"""The zone dates are shown in, for the checks running now."""
_OWNERS: ContextVar[dict[int, WorkProductTable]] = ContextVar("sdbridge_frame_owners")
"""The table of each frame the running checks read (by id), to reuse its cached blank masks."""


def _fmt(value: object) -> str:
    """A timestamp as people read it: in the configured zone."""
    if pd.isna(value):
        return "—"
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(_ZONE.get())
    return stamp.strftime("%Y-%m-%d %H:%M")


class Listed(list):
    """Records behind a check: the first MAX_LISTED described, with the total count."""

    def __init__(self, items: list[str], total: int) -> None:
        super().__init__(items)
        self.total = total

    def __add__(self, other: list[str]) -> Listed:  # type: ignore[override]
        total = self.total + (other.total if isinstance(other, Listed) else len(other))
        return Listed([*self, *other][:MAX_LISTED], total)

    __iadd__ = __add__  # type: ignore[assignment]


def _listed(frame: pd.DataFrame, mask: np.ndarray, describe: Callable[[pd.Series], str] | None = None) -> Listed:
    positions = np.flatnonzero(mask)
    rows = frame.iloc[positions[:MAX_LISTED]]  # only the rows shown are copied
    if describe is None:
        return Listed(rows[RECORD_ID].astype(str).tolist(), len(positions))
    return Listed([f"{row[RECORD_ID]}: {describe(row)}" for _, row in rows.iterrows()], len(positions))


def _table(tables: dict[str, WorkProductTable], wp: str) -> pd.DataFrame | None:
    table = tables.get(wp)
    if table is None or not len(table.frame):
        return None
    owners = _OWNERS.get(None)
    if owners is not None:
        owners[id(table.frame)] = table
    return table.frame


def _dates(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    present = [frame[c] for c in columns if c in frame and pd.api.types.is_datetime64_any_dtype(frame[c])]
    return pd.concat(present).dropna() if present else pd.Series(dtype="datetime64[us, UTC]")


def _present(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.zeros(len(frame), dtype=bool)
    table = (_OWNERS.get(None) or {}).get(id(frame))
    if table is not None and table.frame is frame:
        return ~table.blank(name)  # computed once per field, shared with the item checks
    return ~blank_mask(frame[name])


def _bool(frame: pd.DataFrame, name: str, default: bool = False) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), default)
    return parse_bools(frame[name]).to_numpy(dtype=bool)


def _result(check_id: str, requirement: str, title: str, bad: list[str], ok_reason: str, gap_reason: str) -> CheckResult:
    total = bad.total if isinstance(bad, Listed) else len(bad)
    if total:
        more = f" (first {MAX_LISTED} listed)" if total > len(bad) else ""
        return CheckResult(check_id, requirement, title, "gap", gap_reason.format(n=total) + more, list(bad))
    return CheckResult(check_id, requirement, title, "met", ok_reason)


def _missing(check_id: str, requirement: str, title: str, needs: str) -> CheckResult:
    return CheckResult(check_id, requirement, title, "not_evidenced", f"no source feeds {needs}")


def change_checks(tables: dict[str, WorkProductTable]) -> list[CheckResult]:
    changes = _table(tables, "WP.11")
    approved_title = "Every completed change carries an approval decision"
    order_title = "Changes are approved, and tested where tests are recorded, before they are deployed"
    if changes is None:
        return [_missing("P07.change-approved", "P07", approved_title, "WP.11"),
                _missing("P10.approved-before-deploy", "P10", order_title, "WP.11")]
    done = _bool(changes, "done", default=True)
    unapproved = done & ~_present(changes, "approval")
    results = [_result("P07.change-approved", "P07", approved_title, _listed(changes, unapproved),
                       f"all {int(done.sum())} completed change(s) carry an approval",
                       "{n} completed change(s) have no approval recorded")]
    if "deployed_at" not in changes or not _present(changes, "deployed_at").any():
        results.append(CheckResult("P10.approved-before-deploy", "P10", order_title, "not_evidenced",
                                   "no deployment dates are mapped for WP.11 (map `deployed_at`)"))
        return results
    deployed = _present(changes, "deployed_at")
    approved_at = changes["approved_at"] if "approved_at" in changes else pd.Series(pd.NaT, index=changes.index, dtype="datetime64[us, UTC]")
    late = deployed & (approved_at.isna() | (approved_at > changes["deployed_at"])).to_numpy(dtype=bool)
    bad = _listed(changes, late, lambda r: f"deployed {_fmt(r['deployed_at'])}, approved {_fmt(r.get('approved_at'))}")
    if "test_result" in changes and _present(changes, "test_result").any():
        results_text = changes["test_result"].astype("str").str.lower()
        untested = deployed & (~_present(changes, "test_result") |
                               results_text.str.contains("fail", na=False).to_numpy(dtype=bool))
        bad += _listed(changes, untested & ~late, lambda r: f"deployed {_fmt(r['deployed_at'])} without a passed test")
    results.append(_result("P10.approved-before-deploy", "P10", order_title, bad,
                           f"all {int(deployed.sum())} deployed change(s) were approved before deployment",
                           "{n} deployed change(s) lack an approval (or a passed test) before their deployment"))
    return results


def period_start(moment: datetime, period: str) -> datetime:
    if period == "monthly":
        return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(month=3 * ((moment.month - 1) // 3) + 1, day=1, hour=0, minute=0, second=0, microsecond=0)


def _previous(start: datetime, period: str) -> datetime:
    months = 1 if period == "monthly" else 3
    month = start.month - months
    year = start.year + (month - 1) // 12
    return start.replace(year=year, month=(month - 1) % 12 + 1)


def _label(start: datetime, period: str) -> str:
    return f"{start:%Y-%m}" if period == "monthly" else f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def report_periods(tables: dict[str, WorkProductTable], settings: ProcessSettings, now: datetime) -> CheckResult:
    title = f"A service performance report exists for each {settings.reporting_period.removesuffix('ly')} period"
    reports = _table(tables, "WP.19")
    if reports is None:
        return _missing("P13.report-per-period", "P13", title, "WP.19")
    covered = set()
    for column in ("period_end", "period_start", "evidenced_on", "approved_on"):
        if column in reports:
            for value in reports[column].dropna():
                covered.add(_label(period_start(pd.Timestamp(value).to_pydatetime(), settings.reporting_period),
                                   settings.reporting_period))
            if covered:
                break
    start = _previous(period_start(now, settings.reporting_period), settings.reporting_period)
    wanted = []
    for _ in range(settings.reporting_periods):
        wanted.append(_label(start, settings.reporting_period))
        start = _previous(start, settings.reporting_period)
    missing = [f"no report for {label}" for label in reversed(wanted) if label not in covered]
    return _result("P13.report-per-period", "P13", title, missing,
                   f"reports cover {', '.join(reversed(wanted))}", "{n} reporting period(s) have no report")


def incident_checks(tables: dict[str, WorkProductTable], settings: ProcessSettings, now: datetime) -> list[CheckResult]:
    titles = {
        "P14.incidents-closed": f"Incidents are closed, or open for less than {settings.max_open_days} days",
        "P16.restoration-documented": "Closed incidents document the steps taken to restore service",
        "P17.root-cause": "Significant-impact incidents are investigated for root cause and a solution",
    }
    incidents = _table(tables, "WP.18")
    if incidents is None:
        return [_missing(cid, cid[:3], title, "WP.18") for cid, title in titles.items()]
    done = _bool(incidents, "done", default=True)
    started = incidents["started_at"] if "started_at" in incidents else pd.Series(pd.NaT, index=incidents.index, dtype="datetime64[us, UTC]")
    limit = pd.Timestamp(now) - pd.Timedelta(days=settings.max_open_days)
    stale = ~done & (started < limit).fillna(False).to_numpy(dtype=bool)
    results = [_result("P14.incidents-closed", "P14", titles["P14.incidents-closed"],
                       _listed(incidents, stale, lambda r: f"open since {_fmt(r['started_at'])}"),
                       "no incident is open past the limit", "{n} incident(s) open longer than the limit")]
    undocumented = done & ~_present(incidents, "restoration_steps")
    results.append(_result("P16.restoration-documented", "P16", titles["P16.restoration-documented"],
                           _listed(incidents, undocumented), f"all {int(done.sum())} closed incident(s) document them",
                           "{n} closed incident(s) do not document restoration steps"))
    significant = _bool(incidents, "significant")
    no_cause = significant & done & ~(_present(incidents, "root_cause") & _present(incidents, "solution"))
    bad = _listed(incidents, no_cause, lambda r: "no root cause and solution")
    if "links" in incidents and _present(incidents, "links").any():
        unlinked = significant & done & _present(incidents, "solution") & ~_present(incidents, "links")
        bad += _listed(incidents, unlinked & ~no_cause, lambda r: "solution not linked to a change or problem")
    results.append(_result("P17.root-cause", "P17", titles["P17.root-cause"], bad,
                           f"all {int((significant & done).sum())} closed significant incident(s) have them",
                           "{n} significant incident(s) lack root cause, solution or a linked change"))
    return results


def resolvers_trained(tables: dict[str, WorkProductTable]) -> CheckResult:
    title = "Incidents are resolved by people on the roles list with training recorded"
    incidents, roles = _table(tables, "WP.18"), _table(tables, "WP.08")
    if incidents is None or roles is None:
        return _missing("P15.resolvers-trained", "P15", title, "WP.18 and WP.08" if incidents is None else "WP.08")
    if "person" not in roles or "resolver" not in incidents:
        return CheckResult("P15.resolvers-trained", "P15", title, "not_evidenced",
                           "map `person` on WP.08 and `resolver` on WP.18")
    trained = {str(p).strip().casefold() for p, ok in zip(roles["person"], _present(roles, "training")) if ok}
    listed = {str(p).strip().casefold() for p in roles["person"].dropna()}
    resolvers = sorted({str(r).strip() for r in incidents["resolver"].dropna() if str(r).strip()})
    bad = [f"{name}: not on the roles list" if name.casefold() not in listed else f"{name}: no training recorded"
           for name in resolvers if name.casefold() not in trained]
    return _result("P15.resolvers-trained", "P15", title, bad,
                   f"all {len(resolvers)} resolver(s) are on the roles list with training",
                   "{n} resolver(s) are not on the roles list or have no training recorded")


def review_checks(tables: dict[str, WorkProductTable], settings: ProcessSettings, now: datetime) -> list[CheckResult]:
    results = []
    cutoff = pd.Timestamp(now) - pd.DateOffset(months=settings.review_months)
    for check_id, wp, what in (("P04.improvement-report-current", "WP.07", "improvement report"),
                               ("P05.policy-reviewed", "WP.14", "service delivery policy"),
                               ("P11.catalogue-reviewed", "WP.10", "service catalogue")):
        title = f"The {what} was reviewed within the last {settings.review_months} months"
        frame = _table(tables, wp)
        if frame is None:
            results.append(_missing(check_id, check_id[:3], title, wp))
            continue
        dates = _dates(frame, ("approved_on", "evidenced_on"))
        latest = dates.max() if len(dates) else pd.NaT
        if pd.isna(latest):
            results.append(CheckResult(check_id, check_id[:3], title, "gap", f"no review date on the {what} ({wp})"))
        elif latest < cutoff:
            results.append(CheckResult(check_id, check_id[:3], title, "gap",
                                       f"the {what} ({wp}) was last reviewed {_fmt(latest)[:10]}"))
        else:
            results.append(CheckResult(check_id, check_id[:3], title, "met", f"last reviewed {_fmt(latest)[:10]}"))
    title = "Agreements are within their review dates"
    frames = [f for f in (_table(tables, "WP.03"), _table(tables, "WP.21")) if f is not None]
    if not frames:
        results.append(_missing("P12.agreements-reviewed", "P12", title, "WP.03 or WP.21"))
    else:
        bad: list[str] = Listed([], 0)
        for frame in frames:
            if "review_on" in frame:
                overdue = (frame["review_on"] < pd.Timestamp(now)).fillna(False).to_numpy(dtype=bool)
                bad += _listed(frame, overdue, lambda r: f"review was due {_fmt(r['review_on'])[:10]}")
                bad += _listed(frame, frame["review_on"].isna().to_numpy(), lambda r: "no review date")
            else:
                bad += _listed(frame, np.ones(len(frame), dtype=bool), lambda r: "no review date")
        results.append(_result("P12.agreements-reviewed", "P12", title, bad, "every agreement is within its review date",
                               "{n} agreement(s) are past or lack their review date"))
    return results


@dataclass
class Freshness:
    work_product: str
    last_evidenced: str | None
    limit_days: int
    status: str  # ok | warning | expired | unknown
    detail: str


def freshness(tables: dict[str, WorkProductTable], settings: ProcessSettings, now: datetime,
              kinds: dict[str, str]) -> list[Freshness]:
    token = _ZONE.set(settings.timezone)
    try:
        return _freshness(tables, settings, now, kinds)
    finally:
        _ZONE.reset(token)


def _freshness(tables: dict[str, WorkProductTable], settings: ProcessSettings, now: datetime,
               kinds: dict[str, str]) -> list[Freshness]:
    results = []
    for wp, table in sorted(tables.items()):
        frame = table.frame
        limit = settings.freshness.get(wp, DOCUMENT_LIMIT_DAYS if kinds.get(wp) == "document" else 0)
        if not limit or not len(frame):
            continue
        dates = _dates(frame, ("evidenced_on", "approved_on"))
        latest = dates.max() if len(dates) else pd.NaT
        reviews = frame["next_review"].dropna() if "next_review" in frame else pd.Series(dtype="datetime64[us, UTC]")
        due = reviews.min() if len(reviews) else (latest + pd.Timedelta(days=limit) if pd.notna(latest) else pd.NaT)
        if pd.isna(latest) and pd.isna(due):
            results.append(Freshness(wp, None, limit, "unknown", "no approval or review date"))
            continue
        stamp = pd.Timestamp(now)
        if due < stamp:
            status, detail = "expired", f"review was due {_fmt(due)[:10]}"
        elif due < stamp + pd.Timedelta(days=settings.warn_days):
            status, detail = "warning", f"review due {_fmt(due)[:10]}, within {settings.warn_days} days"
        else:
            status, detail = "ok", f"next review {_fmt(due)[:10]}"
        results.append(Freshness(wp, _fmt(latest)[:10] if pd.notna(latest) else None, limit, status, detail))
    return results


def run_process_checks(tables: dict[str, WorkProductTable], settings: ProcessSettings, now: datetime) -> list[CheckResult]:
    zone, owners = _ZONE.set(settings.timezone), _OWNERS.set({})
    try:
        return [
            *change_checks(tables),
            report_periods(tables, settings, now),
            *incident_checks(tables, settings, now),
            resolvers_trained(tables),
            *review_checks(tables, settings, now),
        ]
    finally:
        _ZONE.reset(zone)
        _OWNERS.reset(owners)


__all__ = ["CheckResult", "ProcessSettings", "Freshness", "run_process_checks", "freshness", "timedelta"]
