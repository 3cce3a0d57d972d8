"""Process checks over incidents (WP.18) and the people who resolve them: P14–P17."""

from __future__ import annotations

import pandas as pd

from sdbridge.rules.process.base import (
    Context,
    Evaluation,
    Listed,
    ProcessRule,
    ProcessSettings,
    each_has,
    fmt_time,
    register,
)


@register
class IncidentsClosed(ProcessRule):
    """Incidents are closed, or have been open for less than `max_open_days`.

    Evaluates every incident of WP.18: a closed one holds; an open one needs its start date
    (`started_at`) and fails when it started more than `max_open_days` before the check. An
    open incident without a start date is counted as lacking it, never as fresh. Not
    evidenced when no source maps whether an incident is done."""

    id = "P14.incidents-closed"
    requirement = "P14"
    needs = {"WP.18": ("done", "started_at")}
    settings = ("max_open_days",)

    def title(self, settings: ProcessSettings) -> str:
        return f"Incidents are closed, or open for less than {settings.max_open_days} days"

    def evaluate(self, ctx: Context) -> Evaluation:
        noun = "incidents"
        incidents = ctx.records("WP.18", noun, "done")
        if isinstance(incidents, Evaluation):
            return incidents
        open_ = ~incidents.flag("done")
        started = incidents.present("started_at")
        limit = pd.Timestamp(ctx.now) - pd.Timedelta(days=ctx.settings.max_open_days)
        stale = open_ & started
        if incidents.maps("started_at"):
            stale &= (incidents.frame["started_at"] < limit).fillna(False).to_numpy(dtype=bool)
        return Evaluation(
            noun,
            incidents.count(),
            failed=incidents.listed(stale, lambda r: f"open since {fmt_time(r['started_at'])}"),
            failed_reason=f"{{n}} open longer than {ctx.settings.max_open_days} days",
            lacking=incidents.listed(open_ & ~started),
            lacking_what="a start date (open, `started_at` blank or not mapped)",
            holds=f"none is open longer than {ctx.settings.max_open_days} days",
        )


@register
class RestorationDocumented(ProcessRule):
    """Closed incidents document the steps taken to restore the service.

    Evaluates the closed incidents of WP.18; one with blank `restoration_steps` fails. An
    incident from a source whose export has no column for the steps is counted as lacking
    them. Not evidenced when no incident is closed or no source maps the field."""

    id = "P16.restoration-documented"
    requirement = "P16"
    needs = {"WP.18": ("done", "restoration_steps")}

    def title(self, settings: ProcessSettings) -> str:
        return "Closed incidents document the steps taken to restore service"

    def evaluate(self, ctx: Context) -> Evaluation:
        noun = "closed incidents"
        incidents = ctx.records("WP.18", noun, "done", "restoration_steps")
        if isinstance(incidents, Evaluation):
            return incidents
        closed = incidents.where(incidents.flag("done"))
        return each_has(
            closed,
            noun,
            "restoration_steps",
            failed_reason="{n} do not document restoration steps",
            lacking_what="a restoration-steps field in their source's export",
            holds="each documents its restoration steps",
        )


@register
class RootCause(ProcessRule):
    """Closed incidents with significant impact record a root cause and a solution (linked to
    a change or problem, where links are mapped).

    Evaluates the closed, significant incidents of WP.18 (significance as mapped, e.g.
    priority High or Highest). Not evidenced when no source maps `significant`, `root_cause`
    or `solution`, or when no significant incident is closed."""

    id = "P17.root-cause"
    requirement = "P17"
    needs = {"WP.18": ("done", "significant", "root_cause", "solution", "links")}

    def title(self, settings: ProcessSettings) -> str:
        return "Significant-impact incidents are investigated for root cause and a solution"

    def evaluate(self, ctx: Context) -> Evaluation:
        noun = "closed significant incidents"
        incidents = ctx.records("WP.18", noun, "done", "significant", "root_cause", "solution")
        if isinstance(incidents, Evaluation):
            return incidents
        p = incidents.where(incidents.flag("done") & incidents.flag("significant"))
        provides = p.provides("root_cause") & p.provides("solution")
        answered = p.present("root_cause") & p.present("solution")
        failed = p.listed(provides & ~answered, lambda r: "no root cause and solution")
        if p.maps("links") and p.present("links").any():
            unlinked = provides & answered & ~p.present("links")
            failed = failed.plus(p.listed(unlinked, lambda r: "solution not linked to a change or problem"))
        return Evaluation(
            noun,
            p.count(),
            failed=failed,
            failed_reason="{n} lack a root cause, a solution or a linked change",
            lacking=p.listed(~provides),
            lacking_what="root-cause and solution fields in their source's export",
            holds="each records a root cause and a solution",
        )


@register
class ResolversTrained(ProcessRule):
    """Incidents are resolved by people on the roles list (WP.08) with training recorded.

    Evaluates every distinct resolver named on an incident of WP.18; one who is not on the
    roles list, or whose training is blank there, fails. Not evidenced when no incident names
    a resolver or the roles list is not fed."""

    id = "P15.resolvers-trained"
    requirement = "P15"
    needs = {"WP.18": ("resolver",), "WP.08": ("person", "training")}

    def title(self, settings: ProcessSettings) -> str:
        return "Incidents are resolved by people on the roles list with training recorded"

    def evaluate(self, ctx: Context) -> Evaluation:
        noun = "resolvers"
        incidents = ctx.records("WP.18", noun, "resolver")
        if isinstance(incidents, Evaluation):
            return incidents
        roles = ctx.records("WP.08", noun, "person", "training")
        if isinstance(roles, Evaluation):
            return roles
        people = roles.frame["person"].astype("str").str.strip().str.casefold()
        trained = set(people[roles.present("training")].dropna())
        listed = set(people.dropna())
        names = incidents.frame["resolver"][incidents.present("resolver")]
        resolvers = sorted({str(n).strip() for n in names if str(n).strip()})
        bad = [
            f"{name}: not on the roles list" if name.casefold() not in listed else f"{name}: no training recorded"
            for name in resolvers
            if name.casefold() not in trained
        ]
        return Evaluation(
            noun,
            len(resolvers),
            failed=Listed(bad),
            failed_reason="{n} are not on the roles list or have no training recorded",
            holds="each is on the roles list with training recorded",
        )
