"""Item rules, driven by the YAML cases in tests/fixtures/rules/ (one generic test), plus
the work-product-level items and the requirement status."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from sdbridge.config import DEFAULT_PLACEHOLDERS
from sdbridge.mapping.table import RECORD_ID
from sdbridge.profile import load_catalogue
from sdbridge.rules import CheckInput, assess
from sdbridge.rules.items import STATUS_OF_CODE, check_items, check_work_product_items
from tests.tables import table_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"


def load_cases():
    for path in sorted(FIXTURES.glob("*.yml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            for case in document["cases"]:
                yield pytest.param(document["work_product"], case, id=f"{path.stem}:{case['name']}")


@pytest.mark.parametrize(("wp_id", "case"), list(load_cases()))
def test_rule_case(wp_id, case):
    table = table_of(wp_id, case["records"])
    check = check_items(table, DEFAULT_PLACEHOLDERS)
    column_of = {item.id: i for i, item in enumerate(check.items)}
    ids = table.frame[RECORD_ID].tolist()
    for record_id, expected in case["expect"].items():
        row = ids.index(record_id)
        got = {item: STATUS_OF_CODE[int(check.codes[row, column_of[item]])].value for item in expected}
        assert got == expected, f"{record_id}: {got} != {expected}"


def test_work_product_items_need_a_declaration_or_a_record():
    catalogue = load_catalogue()
    wp06 = catalogue.work_product("WP.06")
    statuses = check_work_product_items(wp06, None, {"WP.06.a": ["feedback: CI-021"]}, DEFAULT_PLACEHOLDERS)
    assert statuses["WP.06.a"][0].value == "present"
    assert statuses["WP.06.b"][0].value == "missing"
    wp08 = catalogue.work_product("WP.08")
    roles = table_of("WP.08", [{"id": "R-2", "role": "Engineer", "service_manager": False}])
    assert check_work_product_items(wp08, roles, {}, DEFAULT_PLACEHOLDERS)["WP.08.a"][0].value == "missing"
    roles = table_of("WP.08", [{"id": "R-1", "role": "Service Manager", "service_manager": True}])
    assert check_work_product_items(wp08, roles, {}, DEFAULT_PLACEHOLDERS)["WP.08.a"][0].value == "present"


def _assess(tables, fed_by, variation="full"):
    return assess(
        load_catalogue(),
        CheckInput(tables=tables, outcomes=[], fed_by=fed_by),
        variation=variation,
        placeholders=DEFAULT_PLACEHOLDERS,
        run_id="test",
        generated_at=datetime(2026, 11, 27, tzinfo=UTC),
    )


def test_requirements_not_evidenced_met_and_gap():
    complete = table_of(
        "WP.18",
        [
            {
                "id": "IN-1",
                "done": True,
                "significant": False,
                "reporter": "Ann",
                "resolver": "Ops",
                "description": "d",
                "impact": "i",
                "ci": "c",
                "priority": "p",
                "restoration_steps": "s",
                "started_at": "2026-03-01T10:00:00Z",
                "ended_at": "2026-03-01T11:00:00Z",
            }
        ],
    )
    roles = table_of(
        "WP.08",
        [
            {
                "id": "R-1",
                "role": "Service Manager",
                "person": "Ops",
                "service_manager": True,
                "training": "ITIL 4",
                "competence": "29110 course",
            }
        ],
    )
    gappy = table_of("WP.18", [{"id": "IN-2", "done": True}])
    only_incidents = {r.id: r for r in _assess({"WP.18": complete}, {"WP.18": ["jira"]}).requirements}
    assert only_incidents["P15"].status == "not_evidenced"  # WP.08 only
    assert "no source feeds WP.08" in only_incidents["P15"].reason
    # WP.18 complete, but WP.11 has no evidence at all and no significant incident was closed:
    # nothing is a gap, and nothing may be called met.
    assert only_incidents["P17"].status == "not_evidenced"
    assert "no source feeds WP.11" in only_incidents["P17"].reason
    assert "no source maps `root_cause`, `solution` for WP.18" in only_incidents["P17"].reason
    both = {
        r.id: r
        for r in _assess({"WP.18": complete, "WP.08": roles}, {"WP.18": ["jira"], "WP.08": ["roles"]}).requirements
    }
    assert both["P15"].status == "met" and "P15.resolvers-trained met" in both["P15"].reason
    gap = {r.id: r for r in _assess({"WP.18": gappy}, {"WP.18": ["jira"]}).requirements}
    assert gap["P16"].status == "gap" and "WP.18 has" in gap["P16"].reason
    empty = {r.id: r for r in _assess({}, {"WP.18": ["jira"]}).requirements}
    assert empty["P17"].status == "not_evidenced" and "WP.18 has no records" in empty["P17"].reason


def test_a_requirement_is_met_only_when_its_checks_evaluated_records():
    open_only = table_of(
        "WP.18",
        [
            {
                "id": "IN-1",
                "done": False,
                "significant": True,
                "reporter": "Ann",
                "description": "d",
                "impact": "i",
                "ci": "c",
                "priority": "p",
                "started_at": "2026-11-20T10:00:00Z",
                "restoration_steps": "",
                "root_cause": "",
                "solution": "",
            }
        ],
    )
    requirements = {r.id: r for r in _assess({"WP.18": open_only}, {"WP.18": ["jira"]}).requirements}
    assert requirements["P16"].status == "not_evidenced"  # WP.18 has no gap, but no incident is closed
    assert "no closed incidents to evaluate" in requirements["P16"].reason


def test_variation_limits_the_conformance_summary():
    a = _assess({}, {}, variation="governance")
    assert a.conformance.requirements == 5
    assert [p.id for p in a.conformance.by_process] == ["GO"]
    assert a.conformance.not_evidenced == 5


def test_process_checks_count_every_record_and_list_the_first_fifty():
    incidents = table_of("WP.18", [{"id": f"IN-{n}", "done": True, "restoration_steps": ""} for n in range(60)])
    checks = {c.id: c for c in _assess({"WP.18": incidents}, {"WP.18": ["jira"]}).process_checks}
    p16 = checks["P16.restoration-documented"]
    assert p16.status == "gap"
    assert p16.reason.startswith("60 of 60 closed incidents evaluated; 60 do not document")
    assert "(first 50 listed)" in p16.reason
    assert len(p16.records) == 50 and p16.records[0] == "IN-0"


def test_a_gap_belongs_to_the_first_filled_owner_field_and_a_placeholder_is_no_owner():
    """WP.18: the resolver owns a record's gaps, else the reporter; "N/A" or spaces in the
    resolver's field name no one, so the reporter is asked; trimmed; none at all is None."""
    records = [
        {"id": "IN-1", "resolver": "  Ops team ", "reporter": "Ann"},
        {"id": "IN-2", "resolver": "N/A", "reporter": "Bo"},
        {"id": "IN-3", "resolver": "   ", "reporter": "Cy"},
        {"id": "IN-4", "resolver": None, "reporter": "unknown"},
    ]
    findings = _assess({"WP.18": table_of("WP.18", records)}, {"WP.18": ["t"]}).findings
    owners = findings.drop_duplicates("record_id").set_index("record_id")["owner"]
    assert owners["IN-1"] == "Ops team"
    assert owners["IN-2"] == "Bo"
    assert owners["IN-3"] == "Cy"
    assert owners.isna()["IN-4"]
    assert len(findings) == findings["id"].nunique()
    assert set(findings["work_product"].astype(str)) == {"WP.18"}
