"""Report formats: the HTML page in a real headless Chromium, the workbook, JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from sdbridge.cli import app
from tests.pages import ARTIFACTS, ON_SCREEN

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "config" / "demo.yaml"

runner = CliRunner()


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    result = runner.invoke(
        app, ["check", "-c", str(DEMO_CONFIG), "--out", str(out), "--format", "json,html,xlsx,junit"]
    )
    assert result.exit_code == 0, result.output
    return out


def open_page(browser, path: Path):
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    return page, errors


def test_the_html_report_loads_without_errors_and_the_filter_narrows_the_table(browser, reports):
    page, errors = open_page(browser, reports / "report.html")
    rows = page.locator("#findings tbody tr")
    total = rows.count()
    assert total > 0
    page.select_option("#f-status", "invalid")
    visible = page.locator("#findings tbody tr:not([hidden])")
    invalid = visible.count()
    assert 0 < invalid < total
    assert all(status == "invalid" for status in visible.evaluate_all("rows => rows.map(r => r.dataset.status)"))
    page.select_option("#f-status", "")
    page.select_option("#f-wp", "WP.02")
    assert page.locator("#findings tbody tr:not([hidden])").count() < total
    assert page.locator("#f-count").inner_text().endswith(f"of {total} shown")
    assert errors == []
    assert "Requirements P01" in page.content()
    page.close()


def test_a_title_with_a_script_tag_shows_as_text(browser, tmp_path):
    (tmp_path / "t.csv").write_text(
        'Key,Summary,Priority,Link\nSD-1,"<script>window.pwned=1</script>",,"javascript:window.pwned=2"\n',
        encoding="utf-8",
    )
    (tmp_path / "c.yaml").write_text(
        "sources:\n  - {name: t, type: csv, path: t.csv, map: {WP.18: {fields: {id: Key, title: Summary,"
        " priority: Priority, url: Link}}}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["check", "-c", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "r"), "--format", "html"]
    )
    assert result.exit_code == 0, result.output
    page, errors = open_page(browser, tmp_path / "r" / "report.html")
    assert page.evaluate("window.pwned === undefined")
    assert "<script>window.pwned=1</script>" in page.locator("#findings tbody").inner_text()
    assert page.locator("#findings a[href^='javascript']").count() == 0  # a script URL is never a link
    assert errors == []
    page.close()


def test_the_html_report_is_self_contained(reports):
    html = (reports / "report.html").read_text(encoding="utf-8")
    assert "http://" not in html.split('<table id="findings"')[0]
    assert "<script src" not in html and '<link rel="stylesheet"' not in html


def test_the_workbook_has_a_sheet_per_fed_work_product(reports):
    book = load_workbook(reports / "report.xlsx")
    import json

    report = json.loads((reports / "report.json").read_text())
    fed = [wp for wp, w in report["work_products"].items() if w["fed"] and w["records"]]
    assert book.sheetnames == ["Summary", "Fix first", "Sources", "Work products", *fed, "Findings", "Owners"]
    summary = book["Summary"]
    assert summary.auto_filter.ref.startswith("A4:F") and summary.freeze_panes == "A5"
    in_scope = [r for r in report["requirements"] if r["in_variation"]]
    assert [row[0].value for row in summary.iter_rows(min_row=5)] == [r["id"] for r in in_scope]
    fix = [[c.value for c in row] for row in book["Fix first"].iter_rows()]
    assert fix[0][:4] == ["Requirement", "Process", "Status", "Work"]
    assert [(r[0], r[3], r[6]) for r in fix[1:]] == [
        (e["requirement"], e["work"], e["summary"]) for e in report["fix_first"]
    ]
    wp18 = book["WP.18"]
    header = [c.value for c in wp18[1]]
    assert header[:3] == ["Record", "Source", "Title"] and "WP.18.h" in header
    labels = [c.value for c in wp18[2]]  # what each item id means, under it
    assert labels[header.index("WP.18.h")] == "Root cause and solution for incidents with significant impact"
    statuses = {c.value for row in wp18.iter_rows(min_row=3, min_col=4) for c in row}
    assert {"present", "missing", "pending", "not_applicable"} <= statuses
    assert wp18.freeze_panes == "A3" and wp18.auto_filter.ref.startswith("A2:")  # a table people can filter
    missing = next(c for row in wp18.iter_rows(min_row=3, min_col=4) for c in row if c.value == "missing")
    assert missing.fill.start_color.rgb.endswith("FFC7CE")  # statuses keep their colours
    record = wp18["A3"]
    assert record.hyperlink is not None and record.hyperlink.target.startswith("https://")  # to the ticket
    findings = book["Findings"]
    assert findings.auto_filter.ref.startswith("A1:L") and findings.freeze_panes == "A2"
    header = [c.value for c in findings[1]]
    assert header[:4] == ["Finding id", "Work product", "Item", "Record"] and header[-2:] == ["Owner", "Open (days)"]
    titles = [row[8].value for row in findings.iter_rows(min_row=2)]
    assert any(str(t).startswith("'=HYPERLINK") for t in titles)
    assert not any(str(t).startswith("=") for t in titles if t)
    linked = [row[9] for row in findings.iter_rows(min_row=2) if row[9].value]
    assert linked and all(c.hyperlink.target == c.value for c in linked)
    assert findings.cell(row=2, column=8).alignment.wrap_text  # the message wraps
    owners = [[c.value for c in row] for row in book["Owners"].iter_rows()]
    assert (
        owners[0] == ["Owner", "Gaps", "Oldest (days)"] and sum(r[1] for r in owners[1:]) == report["summary"]["gaps"]
    )
    assert all(book[name].freeze_panes for name in book.sheetnames)
    book.close()


def test_junit_lists_the_records_missing_each_item(reports):
    import json

    tree = ET.parse(reports / "junit.xml")
    report = json.loads((reports / "report.json").read_text())
    case = tree.find(".//testcase[@classname='sdbridge.WP.18']/failure/..[@name]")
    assert case is not None
    h = next(c for c in tree.iter("testcase") if c.get("name", "").startswith("WP.18.h "))
    failure = h.find("failure")
    expected = sorted(f["record_id"] for f in report["findings"] if f["item"] == "WP.18.h")
    assert sorted(failure.text.splitlines()) == expected
    root = tree.getroot()
    assert int(root.get("failures")) == sum(1 for c in root.iter("testcase") if c.find("failure") is not None)
    assert any(c.get("name", "").startswith("P10.approved-before-deploy") for c in root.iter("testcase"))


@pytest.mark.parametrize("width", [390, 1400])
def test_the_page_never_scrolls_sideways_and_opens_with_fix_first(browser, reports, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto((reports / "report.html").as_uri())
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow} px of sideways scroll at {width} px"
    headings = page.locator("h2").all_inner_texts()
    assert headings[0] == "Fix first" and "Sources" in headings
    assert page.locator("#fix tbody tr").count() == 10  # ten requirements, the nearest first
    assert page.locator("#fix tbody tr td:first-child").first.inner_text().startswith("P11")
    page.close()


def test_owners_are_ranked_and_reconcile_with_the_findings():
    from sdbridge.config import load_config
    from sdbridge.pipeline import check

    assessment = check(load_config(DEMO_CONFIG)).assessment
    owners = assessment.owners(3)
    assert owners[0]["gaps"] >= owners[-1]["gaps"] and sum(o["gaps"] for o in assessment.owners(1000)) == len(
        assessment.findings
    )


def test_a_click_on_a_heading_sorts_and_the_owner_filter_narrows(browser, reports):
    page, errors = open_page(browser, reports / "report.html")
    items = lambda: page.locator("#findings tbody tr td:nth-child(2)").all_inner_texts()  # noqa: E731
    before = items()
    assert before != sorted(before)  # the report's own order is not by item text
    page.click("#findings thead th:nth-child(2)")
    assert items() == sorted(before)
    page.click("#findings thead th:nth-child(2)")
    assert items() == sorted(before, reverse=True)
    owners = page.locator("#f-owner option").all_inner_texts()[1:]
    assert owners
    page.select_option("#f-owner", owners[0])
    shown = page.locator("#findings tbody tr:not([hidden]) td:nth-child(8)").all_inner_texts()
    assert shown and set(shown) == {owners[0]}
    assert errors == []
    page.close()


def test_work_products_no_source_feeds_are_named_not_dropped(tmp_path):
    from sdbridge.config import load_config
    from sdbridge.pipeline import check
    from sdbridge.reports.html import render_html

    (tmp_path / "c.csv").write_text("CI ID,Name\nCI-1,web01\n", encoding="utf-8")
    (tmp_path / "c.yaml").write_text("sources:\n  - {name: c, type: csv, path: c.csv, preset: generic-cmdb}\n")
    assessment = check(load_config(tmp_path / "c.yaml")).assessment
    html = render_html(assessment)
    unfed = [wp for wp, w in assessment.work_products.items() if not w.fed]
    assert "WP.18" in unfed and "WP.02" not in unfed
    listed = html[html.index("Work products no source feeds") :]
    assert all(f"<li>{wp} " in listed for wp in unfed)
    result = runner.invoke(
        app, ["check", "-c", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "r")], env={"COLUMNS": "200"}
    )
    line = next(line for line in result.output.splitlines() if "WP.18" in line and "Service incident record" in line)
    assert "no source" in line  # the console keeps them too


@pytest.mark.parametrize("width", [390, 1400])
def test_no_key_column_is_off_screen_and_the_page_is_kept_as_a_screenshot(browser, reports, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto((reports / "report.html").as_uri())
    # a finding's record, status, owner and text; each Fix first entry whole; a source's counts
    assert page.evaluate(ON_SCREEN, ["findings", [3, 6, 8, 10]]) == []
    assert page.evaluate(ON_SCREEN, ["fix", [1, 2, 3, 4]]) == []
    assert page.evaluate(ON_SCREEN, ["sources", [1, 3, 4, 5, 6, 7]]) == []
    if width == 390:  # cards: each cell named by its column
        owner = page.locator("#findings tbody tr td:nth-child(8)").first
        assert (
            page.evaluate("cell => getComputedStyle(cell, '::before').content", owner.element_handle()) == '"Owner: "'
        )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"report-{width}px.png", full_page=False)
    page.close()


def test_the_demo_report_prints_on_fewer_than_twelve_a4_pages(browser, reports):
    import re

    page = browser.new_page()
    page.goto((reports / "report.html").as_uri())
    pdf = page.pdf(format="A4")
    page.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "report-a4.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
    assert 0 < pages < 12, f"{pages} A4 pages"
