"""Freshness of evidence: a work product whose latest evidence is older than its limit is
expired, and one that passes the limit within `warn_days` is a warning."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from sdbridge.assessment import FreshnessResult as Freshness
from sdbridge.assessment import FreshnessStatus
from sdbridge.mapping.table import WorkProductTable
from sdbridge.rules.process.base import _ZONE, ProcessSettings, fmt_day

DOCUMENT_LIMIT_DAYS = 365


def _dates(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    present = [frame[c] for c in columns if c in frame and pd.api.types.is_datetime64_any_dtype(frame[c])]
    return pd.concat(present).dropna() if present else pd.Series(dtype="datetime64[us, UTC]")


def freshness(
    tables: dict[str, WorkProductTable], settings: ProcessSettings, now: datetime, kinds: dict[str, str]
) -> list[Freshness]:
    token = _ZONE.set(settings.timezone)
    try:
        return [
            f
            for wp, table in sorted(tables.items())
            if (f := _one(wp, table.frame, settings, now, kinds.get(wp))) is not None
        ]
    finally:
        _ZONE.reset(token)


def _one(wp: str, frame: pd.DataFrame, settings: ProcessSettings, now: datetime, kind: str | None) -> Freshness | None:
    limit = settings.freshness.get(wp, DOCUMENT_LIMIT_DAYS if kind == "document" else 0)
    if not limit or not len(frame):
        return None
    dates = _dates(frame, ("evidenced_on", "approved_on"))
    latest = dates.max() if len(dates) else pd.NaT
    reviews = frame["next_review"].dropna() if "next_review" in frame else pd.Series(dtype="datetime64[us, UTC]")
    due = reviews.min() if len(reviews) else (latest + pd.Timedelta(days=limit) if pd.notna(latest) else pd.NaT)
    if pd.isna(latest) and pd.isna(due):
        return Freshness(
            work_product=wp,
            last_evidenced=None,
            limit_days=limit,
            status="unknown",
            detail="no approval or review date",
        )
    stamp = pd.Timestamp(now)
    status: FreshnessStatus
    if due < stamp:
        status, detail = "expired", f"review was due {fmt_day(due)}"
    elif due < stamp + pd.Timedelta(days=settings.warn_days):
        status, detail = "warning", f"review due {fmt_day(due)}, within {settings.warn_days} days"
    else:
        status, detail = "ok", f"next review {fmt_day(due)}"
    return Freshness(
        work_product=wp,
        last_evidenced=fmt_day(latest) if pd.notna(latest) else None,
        limit_days=limit,
        status=status,
        detail=detail,
    )
