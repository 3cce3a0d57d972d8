"""Process checks over reviews and reporting periods: P04, P05, P11, P12 and P13."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from sdbridge.rules.process.base import (
    Context,
    Evaluation,
    Listed,
    Population,
    ProcessRule,
    ProcessSettings,
    fmt_day,
    register,
)

REVIEW_DATES = ("approved_on", "evidenced_on")


def _latest_date(population: Population, columns: tuple[str, ...]) -> tuple[pd.Series, np.ndarray]:
    """Per record, the latest of the date columns that are mapped, and where one exists."""
    present = [
        population.frame[c]
        for c in columns
        if c in population.frame and pd.api.types.is_datetime64_any_dtype(population.frame[c])
    ]
    if not present:
        return pd.Series(pd.NaT, index=population.frame.index), np.zeros(len(population.frame), dtype=bool)
    latest = pd.concat(present, axis=1).max(axis=1)
    return latest, latest.notna().to_numpy(dtype=bool)


class _Reviewed(ProcessRule):
    """Base of the three "reviewed within `review_months`" checks."""

    work_product: str
    what: str
    settings = ("review_months",)

    def title(self, settings: ProcessSettings) -> str:
        return f"The {self.what} was reviewed within the last {settings.review_months} months"

    def evaluate(self, ctx: Context) -> Evaluation:
        noun = f"{self.what} records"
        found = ctx.records(self.work_product, noun)
        if isinstance(found, Evaluation):
            return found
        latest, dated = _latest_date(found, REVIEW_DATES)
        if not dated.any():
            return Evaluation(
                noun, found.count(), lacking=found.listed(~dated), lacking_what="a review date (approved_on)"
            )
        cutoff = pd.Timestamp(ctx.now) - pd.DateOffset(months=ctx.settings.review_months)
        last = latest.max()
        # One current review is the evidence; older versions of the same record are history.
        stale = Listed([f"last reviewed {fmt_day(last)}"]) if last < cutoff else Listed()
        return Evaluation(
            noun,
            found.count(),
            failed=stale,
            failed_reason=f"the {self.what} ({self.work_product}) was last reviewed {fmt_day(last)}",
            lacking=found.listed(~dated),
            lacking_what="a review date (approved_on)",
            holds=f"last reviewed {fmt_day(last)}",
        )


@register
class ImprovementReportCurrent(_Reviewed):
    """The improvement report (WP.07) was reviewed within `review_months`.

    Reads `approved_on` or `evidenced_on` of each WP.07 record; the latest must fall within
    the period. A record without either date is counted as lacking it."""

    id = "P04.improvement-report-current"
    requirement = "P04"
    work_product, what = "WP.07", "improvement report"
    needs = {"WP.07": REVIEW_DATES}


@register
class PolicyReviewed(_Reviewed):
    """The service delivery policy (WP.14) was reviewed within `review_months`.

    Reads `approved_on` or `evidenced_on` of the policy; the latest must fall within the
    period. A policy record without either date is counted as lacking it."""

    id = "P05.policy-reviewed"
    requirement = "P05"
    work_product, what = "WP.14", "service delivery policy"
    needs = {"WP.14": REVIEW_DATES}


@register
class CatalogueReviewed(_Reviewed):
    """The service catalogue (WP.10) was reviewed within `review_months`.

    Reads `approved_on` or `evidenced_on` of the catalogue's entries; the latest must fall
    within the period. An entry without either date is counted as lacking it."""

    id = "P11.catalogue-reviewed"
    requirement = "P11"
    work_product, what = "WP.10", "service catalogue"
    needs = {"WP.10": REVIEW_DATES}


@register
class AgreementsReviewed(ProcessRule):
    """Customer and supplier agreements (WP.03, WP.21) are within their review dates.

    Evaluates every agreement; one whose `review_on` date has passed fails, one without a
    review date is counted as lacking it. Not evidenced when no source maps `review_on`."""

    id = "P12.agreements-reviewed"
    requirement = "P12"
    needs = {"WP.03": ("review_on",), "WP.21": ("review_on",)}

    def title(self, settings: ProcessSettings) -> str:
        return "Agreements are within their review dates"

    def evaluate(self, ctx: Context) -> Evaluation:
        noun = "agreements"
        found = [ctx.population(wp) for wp in ("WP.03", "WP.21")]
        populations = [p for p in found if isinstance(p, Population)]
        if not populations:
            return Evaluation(noun, 0, unevaluable=f"{found[0]}; {found[1]}")
        if not any(p.maps("review_on") for p in populations):
            return Evaluation(noun, 0, unevaluable="no source maps `review_on` for WP.03 or WP.21")
        failed, lacking = Listed(), Listed()
        now = pd.Timestamp(ctx.now)
        for p in populations:
            dated = p.present("review_on")
            if p.maps("review_on"):
                overdue = dated & (p.frame["review_on"] < now).fillna(False).to_numpy(dtype=bool)
                failed = failed.plus(p.listed(overdue, lambda r: f"review was due {fmt_day(r['review_on'])}"))
            lacking = lacking.plus(p.listed(~dated))
        return Evaluation(
            noun,
            sum(p.count() for p in populations),
            failed=failed,
            failed_reason="{n} are past their review date",
            lacking=lacking,
            lacking_what="a review date (review_on)",
            holds="each is within its review date",
        )


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


@register
class ReportPerPeriod(ProcessRule):
    """A service performance report (WP.19) exists for each of the last `reporting_periods`
    complete periods (`reporting_period`: monthly or quarterly).

    A report counts for the period its `period_end` (else `period_start`, `evidenced_on`,
    `approved_on`) falls in. Reports without any of these dates are counted as lacking one;
    every period without a report fails."""

    id = "P13.report-per-period"
    requirement = "P13"
    needs = {"WP.19": ("period_end", "period_start", "evidenced_on", "approved_on")}
    settings = ("reporting_period", "reporting_periods")

    def title(self, settings: ProcessSettings) -> str:
        return f"A service performance report exists for each {settings.reporting_period.removesuffix('ly')} period"

    def evaluate(self, ctx: Context) -> Evaluation:
        noun = "reports"
        reports = ctx.records("WP.19", noun)
        if isinstance(reports, Evaluation):
            return reports
        period = ctx.settings.reporting_period
        columns = self.needs["WP.19"]
        dates = [
            reports.frame[c]
            for c in columns
            if c in reports.frame and pd.api.types.is_datetime64_any_dtype(reports.frame[c])
        ]
        first = (
            pd.concat(dates, axis=1).bfill(axis=1).iloc[:, 0] if dates else pd.Series(pd.NaT, index=reports.frame.index)
        )
        dated = first.notna().to_numpy(dtype=bool)
        covered = {_label(period_start(pd.Timestamp(v).to_pydatetime(), period), period) for v in first.dropna()}
        start = _previous(period_start(ctx.now, period), period)
        wanted = []
        for _ in range(ctx.settings.reporting_periods):
            wanted.append(_label(start, period))
            start = _previous(start, period)
        wanted.reverse()
        missing = [f"no report for {label}" for label in wanted if label not in covered]
        return Evaluation(
            noun,
            reports.count(),
            failed=Listed(missing),
            failed_reason=f"{{n}} of the last {len(wanted)} {period} period(s) have no report",
            lacking=reports.listed(~dated),
            lacking_what="a period or approval date",
            holds=f"reports cover {', '.join(wanted)}",
        )
