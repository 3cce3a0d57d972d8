"""Process checks, driven by the YAML cases in tests/fixtures/process/ (one file per check,
one generic test), plus the registry that `sdbridge profile --checks` and the README list."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from sdbridge.rules.process import REGISTRY, ProcessSettings, run_process_checks
from tests.tables import table_of

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "process"
REQUIRED_KINDS = {"met", "gap", "not_evidenced_zero_records", "not_evidenced_input_absent", "boundary"}


def _documents():
    for path in sorted(FIXTURES.glob("*.yml")):
        yield path, yaml.safe_load(path.read_text(encoding="utf-8"))


def load_cases():
    for path, document in _documents():
        for case in document["cases"]:
            yield pytest.param(document, case, id=f"{path.stem}:{case['name']}")


@pytest.mark.parametrize(("document", "case"), list(load_cases()))
def test_process_case(document, case):
    settings = ProcessSettings(**{**document.get("settings", {}), **case.get("settings", {})})
    now = datetime.fromisoformat(str(case.get("now", document["now"])).replace("Z", "+00:00"))
    tables = {wp: table_of(wp, records, case.get("unsourced", {}).get(wp)) for wp, records in case["tables"].items()}
    result = next(r for r in run_process_checks(tables, settings, now) if r.id == document["check"])
    expected = case["expect"]
    assert result.status == expected["status"], result.reason
    for fragment in expected.get("reason", []):
        assert fragment in result.reason, result.reason
    if "records" in expected:
        assert result.records == expected["records"]
    if result.status != "not_evidenced" or result.population:
        assert "evaluated" in result.reason  # every reason says how many records were evaluated


def test_every_declared_check_has_a_case_file_covering_the_five_kinds():
    files = {document["check"]: document for _, document in _documents()}
    assert set(files) == set(REGISTRY)
    for check_id, document in files.items():
        kinds = {case["kind"] for case in document["cases"]}
        assert REQUIRED_KINDS <= kinds, f"{check_id} lacks {REQUIRED_KINDS - kinds}"


def test_each_check_declares_what_it_reads_and_says_it_in_words():
    settings = set(ProcessSettings.model_fields)
    for check_id, rule in REGISTRY.items():
        assert check_id.startswith(rule.requirement + ".")
        assert rule.needs and all(wp.startswith("WP.") for wp in rule.needs)
        assert set(rule.settings) <= settings
        assert len(rule.description()) > 40


def test_the_documented_table_is_generated_from_the_declarations():
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts" / "make_readme_checks.py"
    spec = importlib.util.spec_from_file_location("make_readme_checks", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.README.read_text(encoding="utf-8")
    assert module.render(text) == text, "the checks page is stale: run `python scripts/make_readme_checks.py`"
    for check_id in REGISTRY:
        assert f"`{check_id}`" in text
