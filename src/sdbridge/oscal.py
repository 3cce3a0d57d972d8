"""The assessment in NIST OSCAL, the exchange format of GRC and compliance-as-code tools:

- the profile as an OSCAL **catalog**: P01–P17 as controls grouped by process (our own words
  for each requirement, its clause and the work products it rests on), and every content item
  of WP.01–WP.21 as a control of its work product's group, with its item id and Table;
- a run as OSCAL **assessment-results**: one observation per work product (the records the
  run checked, pointing at their files in the audit package), one finding per requirement with
  its status as OSCAL's objective status (met: satisfied/pass; gap: not-satisfied/fail; not
  evidenced: not-satisfied/other), and the period assessed;
- the open gaps as an OSCAL **POA&M**: one item per item and owner, with the owner, when the
  gap was first seen and its age.

The documents are built with compliance-trestle's OSCAL models (`trestle.oscal`, OSCAL
`OSCAL_VERSION`), which validate every field; tests also validate the output against NIST's
published JSON schemas of that version. Ids are stable (UUID version 5 from the run and the
ids), so exporting one run twice gives the same documents.

compliance-trestle is the `oscal` extra: `pip install 'sdbridge[oscal]'`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sdbridge import __version__
from sdbridge.errors import SdbridgeError
from sdbridge.profile import Catalogue, load_catalogue
from sdbridge.words import plural

if TYPE_CHECKING:
    from sdbridge.assessment import Assessment

NAMESPACE = uuid.UUID("6f1d2c52-5c7e-4f1e-9a3b-29110e4b3d10")
"""Names the ids of sdbridge's OSCAL documents (UUID version 5 within it)."""
PROPS = "https://github.com/sdbridge/sdbridge/ns/oscal"
"""The namespace of sdbridge's own properties (owner, first seen, age, records)."""
MEMBERS = ("oscal/catalog.json", "oscal/assessment-results.json", "oscal/poam.json")
"""Where the documents sit in the audit package."""
POAM_RECORDS_LISTED = 50
"""Record ids a POA&M item lists in its remarks (the count is always whole)."""

STATUS = {
    "met": ("satisfied", "pass"),
    "gap": ("not-satisfied", "fail"),
    "not_evidenced": ("not-satisfied", "other"),
}
"""A requirement's status as OSCAL's objective status (state, reason)."""


class OscalUnavailable(SdbridgeError):
    """compliance-trestle is not installed."""


def _models() -> Any:
    try:
        from trestle.oscal import assessment_results, catalog, common, poam
    except ImportError:
        raise OscalUnavailable(
            "OSCAL output needs compliance-trestle, which is not installed",
            hint="pip install 'sdbridge[oscal]'",
        ) from None
    return catalog, assessment_results, poam, common


def _id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def _metadata(common: Any, title: str, when: datetime, remarks: str | None = None) -> Any:
    return common.Metadata(
        title=title,
        last_modified=when,
        version=__version__,
        oscal_version=common.OscalVersion(common.OSCAL_VERSION),
        remarks=remarks,
    )


def _prop(common: Any, name: str, value: object) -> Any:
    return common.Property(name=name, value=str(value), ns=PROPS)


def build_catalog(catalogue: Catalogue, when: datetime) -> Any:
    """The profile as an OSCAL catalog."""
    catalog, _, _, common = _models()
    groups = []
    for process in catalogue.processes:
        controls = [
            catalog.Control(
                id=requirement.id,
                title=f"{requirement.id} ({process.name})",
                props=[
                    _prop(common, "work-products", " ".join(requirement.work_products)),
                    _prop(common, "guide-tasks", " ".join(requirement.guide_tasks)),
                ],
                parts=[common.Part(id=f"{requirement.id}_smt", name="statement", prose=requirement.statement)],
            )
            for requirement in catalogue.requirements
            if requirement.process == process.id
        ]
        groups.append(
            catalog.Group2(
                id=f"process-{process.id}",
                title=f"{process.name} (clause {process.clause})",
                parts=[common.Part(id=f"process-{process.id}_obj", name="overview", prose=process.purpose)],
                controls=controls,
            )
        )
    for wp in catalogue.work_products:
        controls = [
            catalog.Control(
                id=item.id,
                title=item.label,
                props=[
                    _prop(common, "item", item.display),
                    _prop(common, "scope", item.scope),
                    *([_prop(common, "applies-when", item.condition)] if item.condition else []),
                    *([_prop(common, "audit-focus", "yes")] if item.audit_focus else []),
                ],
                parts=[
                    common.Part(
                        id=f"{item.id}_smt",
                        name="statement",
                        prose=f"{wp.name} ({wp.id}) holds: {item.label}"
                        + (f", where {item.condition}" if item.condition else "")
                        + ".",
                    )
                ],
            )
            for item in wp.items
        ]
        groups.append(
            catalog.Group2(
                id=wp.id,
                title=f"{wp.id} {wp.name} (Table {wp.table})",
                props=[_prop(common, "process", wp.process), _prop(common, "kind", wp.kind)],
                controls=controls,
            )
        )
    return catalog.Catalog(
        uuid=_id("catalog", catalogue.profile),
        metadata=_metadata(
            common,
            f"{catalogue.profile} {catalogue.name}, as sdbridge checks it",
            when,
            "Requirements and items are stated in sdbridge's own words; ids and clauses are the standard's.",
        ),
        groups=groups,
    )


def build_assessment_results(assessment: Assessment, catalogue: Catalogue, period: str | None) -> Any:
    """One run as OSCAL assessment-results."""
    _, results, _, common = _models()
    when = assessment.generated_at.astimezone(UTC)
    run = assessment.run_id
    observations = []
    by_wp = {}
    for wp_id, wp in sorted(assessment.work_products.items()):
        if not wp.fed:
            continue
        observation = common.Observation(
            uuid=_id(run, "observation", wp_id),
            title=f"{wp_id} {wp.name}",
            description=(
                f"{plural(wp.records, 'record')} of {wp_id} from {', '.join(wp.sources) or 'no source'}: "
                f"{wp.records_with_gaps} with gaps, {plural(wp.gaps, 'gap')} in all."
            ),
            methods=["TEST" if wp.kind == "record" else "EXAMINE"],
            types=["control-objective"],
            relevant_evidence=[
                common.RelevantEvidence(
                    href=f"../{wp_id}/records.csv", description=f"the records of {wp_id} with their item statuses"
                )
            ]
            if wp.records
            else None,
            props=[_prop(common, "records", wp.records), _prop(common, "gaps", wp.gaps)],
            collected=when,
        )
        observations.append(observation)
        by_wp[wp_id] = observation.uuid
    findings = []
    for requirement in assessment.requirements:
        if not requirement.in_variation:
            continue
        state, reason = STATUS[requirement.status]
        findings.append(
            common.Finding(
                uuid=_id(run, "finding", requirement.id),
                title=f"{requirement.id}: {requirement.status.replace('_', ' ')}",
                description=requirement.reason or requirement.statement,
                props=[_prop(common, "sdbridge-status", requirement.status)],
                target=common.FindingTarget(
                    type="objective-id",
                    target_id=requirement.id,
                    status=common.ObjectiveStatus(state=state, reason=reason),
                ),
                related_observations=[
                    common.RelatedObservation(observation_uuid=by_wp[wp])
                    for wp in requirement.work_products
                    if wp in by_wp
                ]
                or None,
            )
        )
    start, end = _period(assessment, period)
    result = results.Result(
        uuid=_id(run, "result"),
        title=f"Run {run}",
        description=(
            f"sdbridge {__version__} checked {plural(assessment.summary.records, 'record')} against {assessment.profile} "
            f"(variation {assessment.variation}): {assessment.conformance.met} requirement(s) met, "
            f"{assessment.conformance.gap} with gaps, {assessment.conformance.not_evidenced} not evidenced."
        ),
        start=start,
        end=end,
        props=[_prop(common, "run-id", run), *([_prop(common, "period", period)] if period else [])],
        reviewed_controls=common.ReviewedControls(
            control_selections=[common.ControlSelectionsAll(include_all=common.IncludeAll())]
        ),
        observations=observations or None,
        findings=findings or None,
    )
    return results.AssessmentResults(
        uuid=_id(run, "assessment-results"),
        metadata=_metadata(common, f"{assessment.profile}: assessment results of run {run}", when),
        import_ap=results.ImportAp(
            href="catalog.json",
            remarks="sdbridge assesses every control of the catalog beside this file; it keeps no separate plan.",
        ),
        results=[result],
    )


def _period(assessment: Assessment, period: str | None) -> tuple[datetime, datetime]:
    """The period assessed: the export's `--period`, else the run's moment."""
    when = assessment.generated_at.astimezone(UTC)
    if period:
        first, _, last = period.partition("..")
        start = datetime.fromisoformat(first).replace(tzinfo=UTC)
        end = datetime.fromisoformat(last).replace(tzinfo=UTC, hour=23, minute=59, second=59)
        return start, end
    return when, when


def build_poam(assessment: Assessment) -> Any:
    """The open gaps as an OSCAL plan of action and milestones: one item per item and owner."""
    _, _, poam, common = _models()
    when = assessment.generated_at.astimezone(UTC)
    run = assessment.run_id
    items = []
    for (item_id, owner), group in _gap_groups(assessment):
        records = [str(r) for r in group["record_id"].tolist() if isinstance(r, str) and r]
        seen = [v for v in group["first_seen"].tolist() if isinstance(v, str) and v] if "first_seen" in group else []
        first_seen = min(seen) if seen else None
        ages = [float(a) for a in group["age_days"].tolist() if a == a and a is not None] if "age_days" in group else []
        listed = ", ".join(records[:POAM_RECORDS_LISTED])
        more = f" and {len(records) - POAM_RECORDS_LISTED} more" if len(records) > POAM_RECORDS_LISTED else ""
        items.append(
            poam.PoamItem(
                uuid=_id(run, "poam", item_id, owner),
                title=(
                    f"{item_id} on {plural(len(records), 'record')}"
                    if records
                    else f"{item_id} (the work product as a whole)"
                )
                + (f", owner {owner}" if owner else ""),
                description=str(group["message"].iloc[0]),
                props=[
                    _prop(common, "item", item_id),
                    _prop(common, "records", len(records)),
                    *([_prop(common, "owner", owner)] if owner else []),
                    *([_prop(common, "first-seen", first_seen)] if first_seen else []),
                    *([_prop(common, "age-days", int(max(ages)))] if len(ages) else []),
                ],
                remarks=f"Records: {listed}{more}." if records else None,
            )
        )
    return poam.PlanOfActionAndMilestones(
        uuid=_id(run, "poam"),
        metadata=_metadata(common, f"{assessment.profile}: open gaps of run {run}", when),
        system_id=common.SystemId(identifier_type="https://ietf.org/rfc/rfc4122", id=_id("system", assessment.config)),
        poam_items=items,
    )


def _gap_groups(assessment: Assessment) -> Iterator[tuple[tuple[str, str], Any]]:
    findings = assessment.findings
    if findings.empty:
        return
    frame = findings.assign(owner=findings["owner"].astype("str").fillna("")) if "owner" in findings else findings
    if "owner" not in frame:
        frame = frame.assign(owner="")
    frame = frame.assign(owner=frame["owner"].fillna("").astype("str"))
    for key, group in frame.groupby(["item", "owner"], sort=True, observed=True):
        yield (str(key[0]), str(key[1])), group


def documents(assessment: Assessment, period: str | None) -> list[tuple[str, bytes]]:
    """The three OSCAL documents as package members (name, JSON bytes)."""
    catalogue = load_catalogue()
    built = {
        "catalog": build_catalog(catalogue, assessment.generated_at.astimezone(UTC)),
        "assessment-results": build_assessment_results(assessment, catalogue, period),
        "plan-of-action-and-milestones": build_poam(assessment),
    }
    return [(name, _json(root, model)) for name, (root, model) in zip(MEMBERS, built.items())]


def _json(root: str, model: Any) -> bytes:
    body = json.loads(model.model_dump_json(by_alias=True, exclude_none=True))
    return json.dumps({root: body}, indent=2, ensure_ascii=False).encode("utf-8")
