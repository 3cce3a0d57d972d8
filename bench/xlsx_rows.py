"""Workbook writing time against the number of records (reported, never asserted).

Builds an assessment of N incidents from a generated CSV, then times `report.xlsx` side by
side with its anchor `findings.csv` (the same findings, written by pandas) in one process.
Target: the workbook within 2x the CSV's time, growing linearly.

    .venv/bin/python bench/xlsx_rows.py [--rows 10000 40000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sdbridge.config import load_config
from sdbridge.pipeline import check
from sdbridge.reports.tables import write_csv
from sdbridge.reports.xlsx import write_xlsx

CONFIG = """
sources:
  - name: jira
    type: csv
    path: incidents.csv
    map:
      WP.18:
        fields: {id: Key, title: Summary, priority: Priority, started_at: Created, done: {from: Status, transforms: [{in: [Done]}]}}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 40_000])
    for rows in parser.parse_args().rows:
        with tempfile.TemporaryDirectory() as folder:
            base = Path(folder)
            lines = ["Key,Summary,Priority,Created,Status"]
            lines += [
                f"OPS-{n},Incident {n},{'High' if n % 3 else ''},2026-11-01 10:00,{'Done' if n % 2 else 'Open'}"
                for n in range(rows)
            ]
            (base / "incidents.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
            (base / "c.yaml").write_text(CONFIG, encoding="utf-8")
            assessment = check(load_config(base / "c.yaml")).assessment
            started = time.perf_counter()
            write_csv(assessment, base)
            csv_seconds = time.perf_counter() - started
            started = time.perf_counter()
            write_xlsx(assessment, base)
            xlsx_seconds = time.perf_counter() - started
            print(
                f"{rows:>9,} records, {len(assessment.findings):>9,} findings: findings.csv {csv_seconds:6.2f} s "
                f"(anchor), report.xlsx {xlsx_seconds:6.2f} s ({xlsx_seconds / csv_seconds:4.1f}x the CSV)"
            )


if __name__ == "__main__":
    main()
