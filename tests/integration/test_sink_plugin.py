"""A report format from a third-party package, installed by pip, is chosen and written like a
built-in: with `--format`, and in the config's `reports.formats` (both validated against the
formats the installed plugins provide)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "src" / "sdbridge" / "demo"

PYPROJECT = """
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "sdbridge-shout"
version = "0.1.0"

[project.entry-points."sdbridge.sinks"]
shout = "shout_sink:write_shout"
"""

SINK = """
from pathlib import Path


def write_shout(assessment, out: Path) -> Path:
    path = out / "shout.txt"
    path.write_text(f"{assessment.summary.gaps} GAPS IN {assessment.summary.records} RECORDS", encoding="utf-8")
    return path
"""


def sdbridge(*args: str, cwd: Path, site: Path | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return subprocess.run(
        [sys.executable, "-m", "sdbridge", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_a_report_format_installed_by_pip_is_written_like_a_built_in(tmp_path):
    plugin = tmp_path / "plugin"
    (plugin / "shout_sink").mkdir(parents=True)
    (plugin / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (plugin / "shout_sink" / "__init__.py").write_text(SINK, encoding="utf-8")
    site = tmp_path / "site"
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            site,
            plugin,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    assert list(site.glob("sdbridge_shout-*.dist-info/entry_points.txt"))  # installed as pip installs
    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    for file in (DEMO / "data").iterdir():
        target = work / "data" / file.name
        if file.is_dir():
            import shutil

            shutil.copytree(file, target)
        else:
            target.write_bytes(file.read_bytes())
    config = yaml.safe_load((DEMO / "demo.yaml").read_text(encoding="utf-8"))
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
