"""A report format from a third-party package, installed by pip, is chosen and written like a
built-in: with `--format`, and in the config's `reports.formats` (both validated against the
formats the installed plugins provide)."""

from __future__ import annotations

import yaml

from tests.plugin_packages import demo_workspace, install_plugin, sdbridge

SINK = """
from pathlib import Path


def write_shout(assessment, out: Path) -> Path:
    path = out / "shout.txt"
    path.write_text(f"{assessment.summary.gaps} GAPS IN {assessment.summary.records} RECORDS", encoding="utf-8")
    return path
"""


def test_a_report_format_installed_by_pip_is_written_like_a_built_in(tmp_path):
    site = install_plugin(
        tmp_path, "sdbridge-shout", {"sdbridge.sinks": {"shout": "shout_sink:write_shout"}}, {"shout_sink": SINK}
    )
    work, config = demo_workspace(tmp_path)
    (work / "sdbridge.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")

    chosen = sdbridge("check", "-q", "--out", "r1", "--format", "json,shout", cwd=work, site=site)
    assert chosen.returncode == 0, chosen.stderr
    assert (work / "r1" / "shout.txt").read_text(encoding="utf-8") == "160 GAPS IN 234 RECORDS"
    assert (work / "r1" / "report.json").is_file()

    config["reports"] = {"out": "r2", "formats": ["md", "shout"]}
    (work / "sdbridge.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    configured = sdbridge("check", "-q", cwd=work, site=site)
    assert configured.returncode == 0, configured.stderr
    assert {p.name for p in (work / "r2").iterdir()} == {"report.md", "shout.txt"}

    # without the plugin on the path, the format is unknown: one line naming the known ones
    gone = sdbridge("check", "-q", cwd=work, site=None)
    assert gone.returncode == 2 and "shout" in gone.stderr and "json" in gone.stderr
    assert "Traceback" not in gone.stderr
