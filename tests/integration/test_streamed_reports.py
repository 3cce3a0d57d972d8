"""Reports at any size are streamed; what they say is what the assessment says. On the demo
(with titles holding quotes, slashes, backslashes, line breaks and formulas) the streamed
`report.json` parses to exactly the assessment plus its findings, `findings.csv` reads back
as the findings (neutralised), and `findings.parquet` as the findings themselves."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from sdbridge.arrowtext import FORMULA_START
from sdbridge.config import load_config
from sdbridge.pipeline import check
from sdbridge.reports.json_report import JSON_BATCH, report_dict, write_json
from sdbridge.reports.tables import write_csv, write_parquet

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
AWKWARD = ['say "hi"', "a/b\\c", "line\nbreak", "=2+2", "ok\r=1", "ünï/cødé", "\\/", None]


@pytest.fixture(scope="module")
def assessment():
    result = check(load_config(DEMO_CONFIG))
    findings = result.assessment.findings
    titles = findings["title"].astype("object").to_numpy().copy()
    for at, text in enumerate(AWKWARD):
        titles[at] = text
    result.assessment.findings = findings.assign(title=pd.array(titles, dtype="str"))
    return result.assessment


def test_the_streamed_json_is_the_assessment_and_every_finding(assessment, tmp_path):
    path = write_json(assessment, tmp_path)
    streamed = json.loads(path.read_text(encoding="utf-8"))
    assert streamed == report_dict(assessment)
    assert [f["title"] for f in streamed["findings"][: len(AWKWARD)]] == AWKWARD


def test_the_json_is_streamed_in_batches_that_join_up(assessment, tmp_path, monkeypatch):
    from sdbridge.reports import json_report as reports

    monkeypatch.setattr(reports, "JSON_BATCH", 7)  # many batches, a last one part-full
    assert len(assessment.findings) % 7 and JSON_BATCH > 7
    streamed = json.loads(write_json(assessment, tmp_path).read_text(encoding="utf-8"))
    assert streamed["findings"] == report_dict(assessment)["findings"]


def test_a_rare_control_character_is_escaped_too(assessment, tmp_path, monkeypatch):
    from sdbridge.reports import json_report as reports

    monkeypatch.setattr(reports, "JSON_BATCH", 50)  # only the last batch holds it
    odd = assessment.model_copy()
    titles = assessment.findings["title"].astype("object").to_numpy().copy()
    titles[-1] = "bell\x07 and nul\x00"
    odd.findings = assessment.findings.assign(title=pd.array(titles, dtype="str"))
    streamed = json.loads(write_json(odd, tmp_path).read_text(encoding="utf-8"))
    assert streamed == report_dict(odd) and streamed["findings"][-1]["title"] == "bell\x07 and nul\x00"


def test_no_findings_is_an_empty_list(assessment, tmp_path):
    empty = assessment.model_copy()
    empty.findings = assessment.findings.iloc[:0]
    assert json.loads(write_json(empty, tmp_path).read_text(encoding="utf-8"))["findings"] == []


def test_the_csv_reads_back_as_the_findings_with_formulas_neutralised(assessment, tmp_path):
    back = pd.read_csv(write_csv(assessment, tmp_path), dtype=str, keep_default_na=False)
    assert list(back.columns) == list(assessment.findings.columns)
    assert len(back) == len(assessment.findings)
    titles = back["title"].tolist()[: len(AWKWARD)]
    assert titles[0] == 'say "hi"' and titles[1] == "a/b\\c" and titles[2] == "line\nbreak"
    assert titles[3] == "'=2+2" and titles[4] == "ok\r'=1"  # a formula never starts a cell or a line
    assert not any(t.startswith(FORMULA_START) for t in back["title"])
    assert back["id"].tolist() == assessment.findings["id"].astype(str).tolist()


def test_parquet_holds_the_findings_typed(assessment, tmp_path):
    back = pq.read_table(write_parquet(assessment, tmp_path))
    assert back.column("id").to_pylist() == assessment.findings["id"].astype(str).tolist()
    assert back.column("title").to_pylist()[: len(AWKWARD)] == AWKWARD  # as written: not neutralised
    assert str(back.schema.field("row").type) == "int64"
    assert back.column("row").to_pylist() == [None if pd.isna(r) else int(r) for r in assessment.findings["row"]]


def test_a_full_disk_while_report_json_is_written_leaves_the_old_report(assessment, tmp_path, monkeypatch):
    """The findings are written from a writer thread; its failure reaches the caller, and
    the report already there is left as it was (no half-written report.json)."""
    from sdbridge.reports import json_report as reports

    monkeypatch.setattr(reports, "JSON_BATCH", 7)
    (tmp_path / "report.json").write_text('{"old": true}', encoding="utf-8")
    writes = 0

    class FullDisk:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            nonlocal writes
            writes += 1
            if writes > 3:
                raise OSError(28, "No space left on device")
            return self.handle.write(data)

    original = reports.dump_json
    monkeypatch.setattr(reports, "dump_json", lambda a, handle: original(a, FullDisk(handle)))
    with pytest.raises(OSError, match="No space left"):
        write_json(assessment, tmp_path)
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8")) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]
