"""Process checks over change requests (WP.11): P07 and P10."""

from __future__ import annotations

from sdbridge.rules.process.base import (
    Context,
    Evaluation,
    ProcessRule,
    ProcessSettings,
    each_has,
    fmt_time,
    register,
    unmapped,
)


@register
class ChangeApproved(ProcessRule):
    """Every completed change request carries an approval decision.

    Evaluates the completed changes of WP.11 (all changes when no completion status is
    mapped); a change whose approval field is blank, or a placeholder such as an empty JSM
    approvals value, fails. Not evidenced when no source maps `approval`."""

    id = "P07.change-approved"
    requirement = "P07"
    needs = {"WP.11": ("approval", "done")}

    def title(self, settings: ProcessSettings) -> str:
        return "Every completed change carries an approval decision"

    def evaluate(self, ctx: Context) -> Evaluation:
        changes = ctx.records("WP.11", "completed changes")
        if isinstance(changes, Evaluation):
            return changes
        noun = "completed changes" if changes.maps("done") else "changes (no completion status mapped: all counted)"
        if reason := unmapped(changes, "approval"):
            return Evaluation(noun, 0, unevaluable=reason)
        done = changes.where(changes.flag("done", default=True))
        return each_has(
            done,
            noun,
            "approval",
            failed_reason="{n} have no approval recorded",
            lacking_what="an approval field in their source's export",
            holds="each carries an approval",
        )


@register
class ApprovedBeforeDeploy(ProcessRule):
    """Changes are approved — and pass their tests, where test results are recorded — before
    they are deployed.

    Evaluates the changes of WP.11 with a deployment date; each needs an approval date no
    later than its deployment. A deployed change without an approval date is counted as
    lacking it. Where `test_result` is mapped, a deployed change with no result or a failed
    one fails."""

    id = "P10.approved-before-deploy"
    requirement = "P10"
    needs = {"WP.11": ("deployed_at", "approved_at", "test_result")}

    def title(self, settings: ProcessSettings) -> str:
        return "Changes are approved, and tested where tests are recorded, before they are deployed"

    def evaluate(self, ctx: Context) -> Evaluation:
        noun = "deployed changes"
        changes = ctx.records("WP.11", noun, "deployed_at", "approved_at")
        if isinstance(changes, Evaluation):
            return changes
        frame = changes.frame
        deployed = changes.where(changes.present("deployed_at"))
        dated = changes.present("approved_at")
        late = dated & (frame["approved_at"] > frame["deployed_at"]).fillna(False).to_numpy(dtype=bool)
        failed = deployed.listed(
            late, lambda r: f"deployed {fmt_time(r['deployed_at'])}, approved {fmt_time(r['approved_at'])}"
        )
        if changes.maps("test_result") and changes.present("test_result").any():
            text = frame["test_result"].astype("str").str.lower()
            failing = text.str.contains("fail", na=False).to_numpy(dtype=bool)
            untested = dated & ~late & (~changes.present("test_result") | failing)
            failed = failed.plus(
                deployed.listed(untested, lambda r: f"deployed {fmt_time(r['deployed_at'])} without a passed test")
            )
        return Evaluation(
            noun,
            deployed.count(),
            failed=failed,
            failed_reason="{n} were deployed before their approval (or without a passed test)",
            lacking=deployed.listed(~dated),
            lacking_what="an approval date (approved_at)",
            holds="each was approved before its deployment",
        )
