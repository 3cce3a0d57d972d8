"""Fix first tells the truth: an entry lists all the work that blocks its requirement, so that
doing exactly that work (replayed here on a copy of the demo's data) makes it met; set-up
work (a work product no source feeds) is named and ranked after record edits; every format
shows the same list."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from sdbridge.assessment import is_in
from sdbridge.cli import app
from sdbridge.config import load_config
from sdbridge.mapping.table import INVALID_PREFIX, RECORD_ID, WorkProductTable
from sdbridge.pipeline import CheckResult, check, tables_placeholders
from sdbridge.profile import load_catalogue
from sdbridge.rules import assess

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "config" / "demo.yaml"


@pytest.fixture(scope="module")
def demo() -> CheckResult:
    return check(load_config(DEMO_CONFIG))


def status_of(assessment, requirement: str) -> str:
    return next(r.status for r in assessment.requirements if r.id == requirement)


def resolve(result: CheckResult, requirement: str, skip: int = 0):
    """The demo re-checked after filling, on a copy of its records, each gap that the Fix
    first entry of `requirement` counts (all but the last `skip` of them), each with a value
    another record already evidences the item with."""
    catalogue = load_catalogue()
    assessment = result.assessment
    entry = next(e for e in assessment.fix_first if e.requirement == requirement)
    wps = next(r.work_products for r in assessment.requirements if r.id == requirement)
    findings = assessment.findings
    listed = findings[is_in(findings["work_product"], wps) & ~assessment.unsourced_mask()]
    assert len(listed) == entry.gaps  # the entry counts exactly these gaps
    listed = listed.iloc[: len(listed) - skip]
    tables = dict(result.tables)
    for wp, group in listed.groupby("work_product", observed=True):
        table = tables[wp]
        frame = table.frame.copy()
        for finding in group.itertuples():
            item = catalogue.item(finding.item)
            assert item.scope == "record", "this replay fills record items only"
            at = frame.index[frame[RECORD_ID] == finding.record_id]
            for name in item.fields:
                usable = ~table.blank(name) & ~table.invalid(name)
                frame.loc[at, name] = frame.loc[usable, name].iloc[0]
                if INVALID_PREFIX + name in frame:
                    frame.loc[at, INVALID_PREFIX + name] = False
        tables[wp] = WorkProductTable(table.work_product, frame, table.placeholders, unsourced=table.unsourced)
    return result.restricted(tables).assessment


def test_doing_exactly_the_top_entrys_work_makes_its_requirement_met(demo):
    top = demo.assessment.fix_first[0]
    assert top.requirement == "P11" and top.status == "gap"
    assert all(b.kind == "gaps" for b in top.blockers), "the demo's nearest requirement needs record edits only"
    assert top.work == top.gaps == 2 and top.summary == "2 gaps"
    assert status_of(resolve(demo, top.requirement), top.requirement) == "met"
    # and nothing it lists is superfluous: leave one gap open and the requirement is not met
    assert status_of(resolve(demo, top.requirement, skip=1), top.requirement) == "gap"


def test_an_entry_counts_failing_checks_beside_the_gaps(demo):
    by_requirement = {e.requirement: e for e in demo.assessment.fix_first}
    p13 = by_requirement["P13"]
    assert p13.summary == "4 gaps + P13.report-per-period: no report for 2026-Q3"
    assert p13.work == 5 and [b.kind for b in p13.blockers] == ["gaps", "gaps", "check"]
    p15 = by_requirement["P15"]  # no gap at all: only its check blocks it, and it says who
    assert p15.gaps == 0 and p15.work == 2
    assert p15.blockers[0].records == ["Emil Dahl: not on the roles list", "Jonas Lie: no training recorded"]
    # whatever is not met is listed; what is met is not
    not_met = {r.id for r in demo.assessment.requirements if r.in_variation and r.status != "met"}
    assert set(by_requirement) == not_met


def test_work_products_without_a_source_are_named_and_ranked_after_record_edits(demo):
    """The workspace of the issue: WP.03, WP.06 and WP.07 have no source. P02 relies on all
    three: it used to read "P02 (4 left)"; now it says what else it takes, and comes after
    every requirement that record edits alone can bring to met."""
    unfed = ("WP.03", "WP.06", "WP.07")
    data = demo.input
    narrowed = replace(
        data,
        tables={wp: t for wp, t in data.tables.items() if wp not in unfed},
        fed_by={wp: s for wp, s in data.fed_by.items() if wp not in unfed},
    )
    a = demo.assessment
    assessment = assess(
        load_catalogue(),
        narrowed,
        variation=a.variation,
        placeholders=tables_placeholders(narrowed.tables),
        run_id=a.run_id,
        generated_at=a.generated_at,
    )
    entries = assessment.fix_first
    p02 = next(e for e in entries if e.requirement == "P02")
    assert p02.summary.endswith("no source feeds WP.03, WP.06, WP.07") and p02.setup == 3
    assert p02.work == p02.gaps + 3
    setups = [e.setup > 0 for e in entries]
    assert setups == sorted(setups)  # every entry that needs set-up after every one that does not
    works = [e.work for e in entries if not e.setup]
    assert works == sorted(works)


def test_console_markdown_html_workbook_and_json_give_the_same_fix_first(tmp_path, browser):
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["check", "-c", str(DEMO_CONFIG), "--out", str(tmp_path), "--format", "json,md,html,xlsx"],
        env={"COLUMNS": "80"},
    )
    assert result.exit_code == 0, result.output
    expected = [(e["requirement"], e["work"]) for e in json.loads((tmp_path / "report.json").read_text())["fix_first"]]
    console = re.findall(r"^│ (P\d\d) +│ +(\d+) │", result.output, flags=re.MULTILINE)
    assert [(r, int(w)) for r, w in console] == expected[:5]
    markdown = re.findall(r"^\| (P\d\d) \(\w\w\) \| (\d+) \|", (tmp_path / "report.md").read_text(), re.MULTILINE)
    assert [(r, int(w)) for r, w in markdown] == expected[:10]
    page = browser.new_page()
    page.goto((tmp_path / "report.html").as_uri())
    cells = page.locator("#fix tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].textContent.trim().slice(0, 3), Number(r.cells[1].textContent)])"
    )
    page.close()
    assert [tuple(c) for c in cells] == expected[:10]
    book = load_workbook(tmp_path / "report.xlsx", read_only=True)
    rows = list(book["Fix first"].iter_rows(min_row=2, values_only=True))
    book.close()
    assert [(r[0], r[3]) for r in rows] == expected


def test_the_console_fits_80_columns_and_a_row_is_one_line(tmp_path):
    result = CliRunner().invoke(
        app, ["check", "-c", str(DEMO_CONFIG), "--out", str(tmp_path), "--format", "json"], env={"COLUMNS": "80"}
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    tables = [line for line in lines if line[:1] in "┏┃┡│└"]
    assert len(tables) > 40 and max(len(line) for line in tables) <= 80
    start = next(n for n, line in enumerate(lines) if line.startswith("Fix first"))
    body = lines[start + 4 : start + 9]  # title, top rule, heading, rule, then the five rows
    assert all(re.match(r"^│ P\d\d ", line) for line in body), "\n".join(lines[start : start + 12])
    work_products = [line for line in lines if re.match(r"^│ WP\.\d\d ", line)]
    assert len(work_products) == 21  # one line each, long names cut, never wrapped
