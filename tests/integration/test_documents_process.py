"""Documents as evidence, and the process checks across records (P01-P17 on the demo)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sdbridge.cli import app
from sdbridge.config import load_config
from sdbridge.connectors.documents import normalise_heading, parse_document
from sdbridge.errors import InputError
from sdbridge.pipeline import check as run_check

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # the demo data was made for this day


def check(config):
    """Checks pinned to one day, so that review dates and reporting periods do not age."""
    return run_check(config, now=NOW)


REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "src" / "sdbridge" / "demo"
runner = CliRunner()


@pytest.fixture
def demo(demo_workspace: Path) -> Path:
    return demo_workspace


def statuses(config_path: Path) -> dict[str, object]:
    return {r.id: r for r in check(load_config(config_path)).assessment.requirements}


def test_every_requirement_of_the_demo_is_met_or_gap_with_a_reason(demo):
    requirements = statuses(demo)
    assert sorted(requirements) == [f"P{i:02d}" for i in range(1, 18)]
    for req in requirements.values():
        assert req.status in ("met", "gap"), (req.id, req.reason)
        assert req.reason


def test_removing_the_policy_turns_p02_into_a_gap_naming_wp14(demo):
    assert "WP.14" not in statuses(demo)["P02"].reason
    (demo.parent / "data" / "documents" / "service-delivery-policy.md").unlink()
    p02 = statuses(demo)["P02"]
    assert p02.status == "gap" and "WP.14 has no records" in p02.reason


def test_a_change_deployed_before_its_approval_is_named_with_both_dates(demo):
    result = check(load_config(demo)).assessment
    p10 = next(c for c in result.process_checks if c.id == "P10.approved-before-deploy")
    assert p10.status == "gap"
    late = [r for r in p10.records if "approved 20" in r]
    assert late, p10.records
    deployed, approved = late[0].split("deployed ")[1].split(", approved ")
    assert approved > deployed


def test_process_checks_name_their_records(demo):
    checks = {c.id: c for c in check(load_config(demo)).assessment.process_checks}
    assert checks["P13.report-per-period"].status == "gap"
    assert any("Q3" in r for r in checks["P13.report-per-period"].records)
    assert checks["P15.resolvers-trained"].status == "gap"
    assert any("Jonas Lie: no training recorded" == r for r in checks["P15.resolvers-trained"].records)
    assert checks["P12.agreements-reviewed"].records == ["AG-02: review was due 2026-05-02"]
    assert checks["P05.policy-reviewed"].status == "met"


def test_freshness_warns_before_evidence_expires(demo):
    fresh = {f.work_product: f for f in check(load_config(demo)).assessment.freshness}
    assert fresh["WP.14"].status == "ok"
    (demo.parent / "data" / "documents" / "business-goals.md").write_text(
        (demo.parent / "data" / "documents" / "business-goals.md")
        .read_text()
        .replace("next_review: 2027-01-15", "next_review: 2025-01-15")
    )
    fresh = {f.work_product: f for f in check(load_config(demo)).assessment.freshness}
    assert fresh["WP.01"].status == "expired" and "2025-01-15" in fresh["WP.01"].detail


def test_headings_are_matched_without_case_accents_or_numbering():
    assert normalise_heading("2.1 Prioritisation Matrix:") == "prioritisation matrix"
    assert normalise_heading("Schéma de priorité") == "schema de priorite"
    doc = parse_document(
        "---\nwork_product: wp14\nid: P-1\n---\n# Policy\n## 2. PRIORITY MATRIX\nImpact x urgency.\n"
        "## Change definitions\n\n## Information security\n<!-- guidance only -->\n",
        {
            "prioritization_matrix": ["Prioritization matrix", "Priority matrix"],
            "change_definitions": ["Change definitions"],
            "security_measures": ["Information security"],
        },
        "policy.md",
    )
    assert doc["wp"] == "WP.14"
    assert doc["evidence"]["prioritization_matrix"] == "Impact x urgency."
    assert doc["evidence"]["change_definitions"] is None  # an empty section evidences nothing
    assert doc["evidence"]["security_measures"] is None  # nor does a guidance comment


def test_broken_front_matter_names_the_file_and_line():
    with pytest.raises(InputError, match=r"policy\.md:3"):
        parse_document("---\nwork_product: WP.14\nid: [unclosed\n---\n# x\n", {}, "policy.md")


def test_templates_start_every_item_missing_and_are_recognised(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path / "c.yaml"), "--templates", str(tmp_path / "docs")])
    assert result.exit_code == 0, result.output
    (tmp_path / "c.yaml").write_text(
        "sources:\n  - {name: docs, type: documents, path: docs, preset: documents}\n", encoding="utf-8"
    )
    assessment = check(load_config(tmp_path / "c.yaml")).assessment
    wp14 = assessment.work_products["WP.14"]
    assert wp14.records == 1 and wp14.items["WP.14.b"].missing == 1
    policy = next((tmp_path / "docs").glob("WP-14-*.md"))
    policy.write_text(
        policy.read_text().replace(
            "## Prioritization matrix\n<!-- WP.14.b: A prioritization matrix for managing change and failure. -->\nTBD",
            "## Prioritization matrix\nImpact x urgency.",
        )
    )
    assessment = check(load_config(tmp_path / "c.yaml")).assessment
    assert assessment.work_products["WP.14"].items["WP.14.b"].present == 1


def test_documents_are_stored_and_skipped_when_unchanged(demo):
    first = runner.invoke(app, ["pull", "-c", str(demo)])
    second = runner.invoke(app, ["pull", "-c", str(demo)])
    assert first.exit_code == 0 and "documents: pulled 13 items" in first.output
    assert "documents: unchanged since the last pull" in second.output
    replay = runner.invoke(app, ["check", "-c", str(demo), "--out", str(demo.parent / "r")])
    assert replay.exit_code == 0
    assert "## Process checks" in (demo.parent / "r" / "report.md").read_text()
