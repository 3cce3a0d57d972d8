"""Third-party packages made and installed for a test as pip installs them (a wheel built from a
pyproject, `pip install --target`), and sdbridge run in a process that sees them: plugins are
found through installed entry points, so nothing less shows that one works."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.commands import sdbridge as run_sdbridge

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "src" / "sdbridge" / "demo"


def install_plugin(folder: Path, name: str, entry_points: dict[str, dict[str, str]], modules: dict[str, str]) -> Path:
    """Build and install the package `name` (its entry points by group, its modules by name)
    into a site folder of its own; returns that folder."""
    plugin = folder / "plugin"
    plugin.mkdir(parents=True)
    groups = "\n".join(
        f'[project.entry-points."{group}"]\n' + "\n".join(f'{key} = "{target}"' for key, target in names.items())
        for group, names in entry_points.items()
    )
    (plugin / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=77"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "0.1.0"\n\n{groups}\n',
        encoding="utf-8",
    )
    for module, source in modules.items():
        (plugin / module).mkdir()
        (plugin / module / "__init__.py").write_text(source, encoding="utf-8")
    site = folder / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", site, plugin],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    assert list(site.glob(f"{name.replace('-', '_')}-*.dist-info/entry_points.txt"))  # as pip installs
    return site


def demo_workspace(folder: Path) -> tuple[Path, dict]:
    """A copy of the bundled demo's data and its config (returned to be changed and written
    as `sdbridge.yaml`)."""
    work = folder / "work"
    shutil.copytree(DEMO / "data", work / "data")
    return work, yaml.safe_load((DEMO / "demo.yaml").read_text(encoding="utf-8"))


def sdbridge(*args: str, cwd: Path, site: Path | None) -> subprocess.CompletedProcess[str]:
    """`python -m sdbridge ARGS` in `cwd`, seeing the packages of `site` when given."""
    return run_sdbridge(*args, cwd=cwd, env={"PYTHONPATH": str(site)} if site is not None else None)
