"""What a process check is, and the one rule every check follows before it may say `met`.

A process check is a small declared unit (as sqlfluff declares its rules): a class with a
stable `id`, the `requirement` it serves, the work-product fields it reads (`needs`), the
settings it reads (`settings`) and a docstring in the user's words. Its `evaluate` returns
an `Evaluation` — which records it looked at, which of them lack an input, which failed —
and `judge` turns that into a status the same way for every check:

- `not_evidenced` when the work product is not fed, has no records, a needed field is not
  mapped by any source, no record is in the population (no closed incident, no deployed
  change), or not one record of the population carries every input;
- `gap` when a record failed, or when some records lack an input (they are counted and
  named, never treated as passing);
- `met` only when at least one record was evaluated and every record was.

Every reason says how many records were evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sdbridge.assessment import ProcessCheck, RequirementStatus
from sdbridge.mapping.table import RECORD_ID, SOURCE, WorkProductTable
from sdbridge.values import blank_mask, parse_bools
from sdbridge.zones import TimeZoneName

MAX_LISTED = 50
"""Records listed under a check; the reason always gives the full count."""


class ProcessSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    """The `process:` settings the checks read (P04-P17): declared here, where they are read,
    and part of the config as they are."""

    reporting_period: Literal["monthly", "quarterly"] = "quarterly"
    reporting_periods: int = Field(default=4, ge=1, le=120)
    """How many past, complete periods must each have a service performance report (WP.19)."""
    max_open_days: int = Field(default=30, ge=1, le=36_500)
    review_months: int = Field(default=12, ge=1, le=1_200)
    warn_days: int = Field(default=30, ge=0, le=3_650)
    """Warn this many days before evidence passes its review date."""
    freshness: dict[str, int] = Field(default_factory=dict)
    """WP id -> days its evidence stays valid (document WPs default to 365)."""
    timezone: TimeZoneName = "UTC"
    """Dates in the process checks' reasons are shown in this zone."""

    @field_validator("freshness")
    @classmethod
    def _freshness(cls, value: dict[str, int]) -> dict[str, int]:
        from sdbridge.profile import load_catalogue

        catalogue = load_catalogue()
        problems = []
        for wp_id, days in value.items():
            try:
                catalogue.work_product(str(wp_id))
            except KeyError:
                problems.append(f"{wp_id} is not a work product of 29110-4-3 (WP.01 ... WP.21)")
            if not 1 <= days <= 36_500:
                problems.append(f"{wp_id}: {days} days is no validity period (1 to 36500 days)")
        if problems:
            raise ValueError("; ".join(problems))
        return value


_ZONE: ContextVar[str] = ContextVar("sdbridge_display_zone", default="UTC")
"""The zone dates are shown in, for the checks running now."""


def fmt_time(value: object) -> str:
    """A timestamp as people read it: in the configured zone."""
    if value is None or pd.isna(value):
        return "—"
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert(_ZONE.get())
    return stamp.strftime("%Y-%m-%d %H:%M")


def fmt_day(value: object) -> str:
    return fmt_time(value)[:10]


class Listed(list[str]):
    """Records behind a check: the first MAX_LISTED described, with the total count."""

    def __init__(self, items: list[str] | None = None, total: int | None = None) -> None:
        super().__init__((items or [])[:MAX_LISTED])
        self.total = len(items or []) if total is None else total

    def plus(self, other: Listed) -> Listed:
        return Listed([*self, *other][:MAX_LISTED], self.total + other.total)


class Population:
    """One work product's records the check applies to, with the helpers every check uses.
    Columns a source never provides are absent from the frame (or blank on that source's
    rows); `provides` tells them apart from a blank value."""

    def __init__(self, table: WorkProductTable, mask: np.ndarray | None = None) -> None:
        self.table = table
        self.frame = table.frame
        self.mask = np.ones(len(self.frame), dtype=bool) if mask is None else mask

    @property
    def wp(self) -> str:
        return self.table.work_product.id

    def maps(self, name: str) -> bool:
        """Some source maps this field for the work product."""
        return name in self.frame

    def present(self, name: str) -> np.ndarray:
        if name not in self.frame:
            return np.zeros(len(self.frame), dtype=bool)
        return ~self.table.blank(name) & ~self.table.invalid(name)

    def flag(self, name: str, default: bool = False) -> np.ndarray:
        if name not in self.frame:
            return np.full(len(self.frame), default)
        return parse_bools(self.frame[name]).to_numpy(dtype=bool)

    def provides(self, name: str) -> np.ndarray:
        """Rows whose source can provide the field at all (its export has a column for it)."""
        if name not in self.frame:
            return np.zeros(len(self.frame), dtype=bool)
        lacking = [s for s, fields in self.table.unsourced.items() if name in fields]
        if not lacking:
            return np.ones(len(self.frame), dtype=bool)
        return ~self.frame[SOURCE].isin(lacking).to_numpy(dtype=bool)

    def where(self, mask: np.ndarray) -> Population:
        return Population(self.table, self.mask & mask)

    def count(self, mask: np.ndarray | None = None) -> int:
        return int((self.mask if mask is None else self.mask & mask).sum())

    def listed(self, mask: np.ndarray, describe: Callable[[pd.Series], str] | None = None) -> Listed:
        positions = np.flatnonzero(self.mask & mask)
        rows = self.frame.iloc[positions[:MAX_LISTED]]  # only the rows shown are copied
        if describe is None:
            return Listed(rows[RECORD_ID].astype(str).tolist(), len(positions))
        return Listed([f"{row[RECORD_ID]}: {describe(row)}" for _, row in rows.iterrows()], len(positions))


@dataclass
class Evaluation:
    """What a check looked at. `population` counts what it applies to; `lacking` the part of
    it that misses an input (with what is missing); `failed` the evaluated part that does not
    hold. Amounts are records unless `noun` says otherwise."""

    noun: str
    """What the population is, plural: "closed incidents", "deployed changes"."""
    population: int
    failed: Listed = field(default_factory=Listed)
    failed_reason: str = ""
    """How the failures are described: "{n} lack restoration steps"."""
    lacking: Listed = field(default_factory=Listed)
    lacking_what: str = ""
    """What the lacking records miss: "a start date (started_at)"."""
    holds: str = ""
    """What holds when nothing failed: "each documents restoration steps"."""
    unevaluable: str | None = None
    """Set when the check could not run at all: the reason (the field is not mapped ...)."""


@dataclass
class Context:
    tables: dict[str, WorkProductTable]
    settings: ProcessSettings
    now: datetime

    def population(self, wp: str) -> Population | str:
        """The records of a work product, or the reason there are none to check."""
        table = self.tables.get(wp)
        if table is None:
            return f"no source feeds {wp}"
        if not len(table.frame):
            return f"{wp} has no records"
        return Population(table)

    def records(self, wp: str, noun: str, *fields: str) -> Population | Evaluation:
        """The records of a work product with these fields mapped, or the `Evaluation` that
        says why the check cannot run (not fed, no records, a field no source maps)."""
        found = self.population(wp)
        if isinstance(found, str):
            return Evaluation(noun, 0, unevaluable=found)
        if reason := unmapped(found, *fields):
            return Evaluation(noun, 0, unevaluable=reason)
        return found


class ProcessRule:
    """A process check. Subclasses declare the class attributes and `evaluate`; their
    docstring's first paragraph is the description `sdbridge profile --checks` shows."""

    id: ClassVar[str]
    requirement: ClassVar[str]
    needs: ClassVar[dict[str, tuple[str, ...]]] = {}
    """Work product -> the fields the check reads."""
    settings: ClassVar[tuple[str, ...]] = ()
    """Names of the `process:` settings it reads (defaults in `ProcessSettings`)."""

    def title(self, settings: ProcessSettings) -> str:
        raise NotImplementedError

    def evaluate(self, ctx: Context) -> Evaluation:
        raise NotImplementedError

    @classmethod
    def description(cls) -> str:
        """The docstring's first paragraph: what the check wants."""
        return " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split())

    @classmethod
    def details(cls) -> str:
        """The rest of the docstring: what it evaluates and when it is not evidenced."""
        return " ".join(" ".join((cls.__doc__ or "").strip().split("\n\n")[1:]).split())

    def run(self, ctx: Context) -> ProcessCheck:
        return judge(self.id, self.requirement, self.title(ctx.settings), self.evaluate(ctx))


def judge(check_id: str, requirement: str, title: str, result: Evaluation) -> ProcessCheck:
    """The evidence rule, the same for every check (see the module docstring)."""

    def make(status: RequirementStatus, reason: str, records: Listed | None = None, evaluated: int = 0) -> ProcessCheck:
        return ProcessCheck(
            id=check_id,
            requirement=requirement,
            title=title,
            status=status,
            reason=reason,
            records=list(records or []),
            failing=records.total if records is not None else 0,
            evaluated=evaluated,
            population=result.population,
        )

    if result.unevaluable is not None:
        return make("not_evidenced", result.unevaluable)
    if result.population == 0:
        return make("not_evidenced", f"no {result.noun} to evaluate")
    lacking = result.lacking.total
    evaluated = result.population - lacking
    counted = f"{evaluated} of {result.population} {result.noun} evaluated"
    if lacking:
        counted += f"; {lacking} lack {result.lacking_what}"
    if evaluated == 0:
        return make("not_evidenced", counted, result.lacking)
    failed = result.failed.total
    if failed or lacking:
        listed = result.failed.plus(
            Listed([f"{r}: lacks {result.lacking_what}" for r in result.lacking], result.lacking.total)
        )
        text = counted + (f"; {result.failed_reason.format(n=failed)}" if failed else "")
        if listed.total > len(listed):
            text += f" (first {MAX_LISTED} listed)"
        return make("gap", text, listed, evaluated)
    return make("met", f"all {result.population} {result.noun} evaluated; {result.holds}", evaluated=evaluated)


def each_has(
    population: Population, noun: str, name: str, *, failed_reason: str, lacking_what: str, holds: str
) -> Evaluation:
    """The common check "every record of the population has `name`": a blank value fails; a
    record whose source cannot provide the field lacks it (counted, never passing)."""
    provides = population.provides(name)
    return Evaluation(
        noun,
        population.count(),
        failed=population.listed(provides & ~population.present(name)),
        failed_reason=failed_reason,
        lacking=population.listed(~provides),
        lacking_what=lacking_what,
        holds=holds,
    )


def unmapped(population: Population, *names: str) -> str | None:
    """The reason a check cannot run when no source maps one of these fields, else None."""
    absent = [n for n in names if not population.maps(n)]
    if absent:
        return f"no source maps {', '.join(f'`{n}`' for n in absent)} for {population.wp}"
    return None


REGISTRY: dict[str, type[ProcessRule]] = {}


def register(rule: type[ProcessRule]) -> type[ProcessRule]:
    if rule.id in REGISTRY:
        raise ValueError(f"process check {rule.id} is declared twice")
    REGISTRY[rule.id] = rule
    return rule


def rules() -> Iterator[ProcessRule]:
    """Every declared check, in requirement order."""
    for rule in sorted(REGISTRY.values(), key=lambda r: (r.requirement, r.id)):
        yield rule()


__all__ = [
    "each_has",
    "Context",
    "Evaluation",
    "Listed",
    "Population",
    "ProcessRule",
    "ProcessSettings",
    "REGISTRY",
    "blank_mask",
    "fmt_day",
    "fmt_time",
    "judge",
    "register",
    "rules",
    "unmapped",
    "_ZONE",
]
