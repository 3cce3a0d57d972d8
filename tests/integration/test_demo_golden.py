"""The demo is a golden test: every number a user reads off it — records, per-item status
counts, requirement and process-check statuses, what each source pulled, mapped, excluded,
rejected and never provides — is compared exactly with `tests/golden/demo.json`.

A change to any of them fails here with the difference. When the change is intended, write
the file anew and say in the commit why the numbers moved:

    SDBRIDGE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/integration/test_demo_golden.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from sdbridge.cli import app

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden" / "demo.json"
STATUSES = ("present", "missing", "invalid", "pending", "not_applicable")


def figures(report: dict) -> dict:
    """What the golden file holds, taken from a report.json."""
    return {
        "sources": {
            s["name"]: {
                "items_pulled": s["items_pulled"],
                "mapped": s["mapped"],
                "excluded": s["excluded"],
                "rejected": s["rejected"],
                "records": s["records_by_work_product"],
                "never_provides": s.get("never_provides") or {},
            }
            for s in report["sources"]
        },
        "work_products": {
            wp_id: {
                "records": wp["records"],
                "items": {
                    item_id: {status: counts[status] for status in STATUSES if counts.get(status)}
                    for item_id, counts in wp["items"].items()
                },
            }
            for wp_id, wp in report["work_products"].items()
        },
        "requirements": {r["id"]: r["status"] for r in report["requirements"]},
        "process_checks": {c["id"]: c["status"] for c in report["process_checks"]},
        "gaps": report["summary"]["gaps"],
    }


def test_the_demo_gives_exactly_the_golden_figures(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    got = figures(json.loads((tmp_path / "report.json").read_text(encoding="utf-8")))
    if os.environ.get("SDBRIDGE_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    changed = {key: (expected_value, flat(got).get(key)) for key, expected_value in flat(expected).items()}
    changed = {key: pair for key, pair in changed.items() if pair[0] != pair[1]}
    changed |= {key: (None, value) for key, value in flat(got).items() if key not in flat(expected)}
    assert not changed, "the demo's figures changed (golden, got) — see this module's docstring: " + "; ".join(
        f"{key}: {was} -> {now}" for key, (was, now) in sorted(changed.items())
    )


def flat(tree: dict, prefix: str = "") -> dict[str, object]:
    """`{"a": {"b": 1}}` -> `{"a.b": 1}`, so a difference names its place."""
    out: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            out |= flat(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out
