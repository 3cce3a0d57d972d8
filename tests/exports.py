"""Helpers for the export tests: read a fixture's rows as a user's spreadsheet shows them, run
`init --from` and `check` on it as a new user would, and read the findings back."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from sdbridge.cli import app

runner = CliRunner()
EXPORTS = Path(__file__).resolve().parent / "fixtures" / "exports"


def rows_of(name: str, *, delimiter: str = ",", encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    """The export's rows by header; a header repeated (Jira's `Components`, `Labels`) holds
    its non-empty values joined by spaces."""
    with (EXPORTS / name).open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader)
        rows = []
        for values in reader:
            row: dict[str, list[str]] = {}
            for column, value in zip(header, values):
                row.setdefault(column, []).append(value)
            rows.append({k: " ".join(v for v in vs if v) for k, vs in row.items()})
    return rows


def onboard(tmp_path: Path, *names: str) -> tuple[dict, str]:
    """Copy the exports beside a new config, `init --from` them, check; the JSON report and
    what init printed."""
    for name in names:
        shutil.copy(EXPORTS / name, tmp_path / name)
    config = tmp_path / "sdbridge.yaml"
    made = runner.invoke(
        app, ["init", "--from", *[str(tmp_path / n) for n in names], "--out", str(config), "--timezone", "UTC"]
    )
    assert made.exit_code == 0, made.output
    checked = runner.invoke(app, ["check", "-c", str(config), "--out", str(tmp_path / "r"), "-f", "json"])
    assert checked.exit_code == 0, checked.output
    return json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8")), made.output


def statuses(report: dict) -> dict[tuple[str, str], str]:
    """(record id, item) -> missing | invalid; an item with no finding is present or pending."""
    return {(f["record_id"], f["item"]): f["status"] for f in report["findings"]}


def onboard_files(tmp_path: Path, *names: str) -> tuple[dict, str]:
    """`init --from` files already in tmp_path, then check; the report and what init printed."""
    config = tmp_path / "sdbridge.yaml"
    made = runner.invoke(
        app, ["init", "--from", *[str(tmp_path / n) for n in names], "--out", str(config), "--timezone", "UTC"]
    )
    assert made.exit_code == 0, made.output
    checked = runner.invoke(app, ["check", "-c", str(config), "--out", str(tmp_path / "r"), "-f", "json,md"])
    assert checked.exit_code == 0, checked.output
    return json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8")), made.output
