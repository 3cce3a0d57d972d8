from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO_CONFIG = REPO / "config" / "demo.yaml"


@pytest.fixture
def write(tmp_path: Path):
    """Write a text (dedented) or bytes file under tmp_path and return its path."""

    def _write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding=encoding, newline="")
        return path

    return _write


@pytest.fixture
def demo_workspace(tmp_path: Path) -> Path:
    """The demo's exports and config copied into a folder of their own (the store goes beside
    them); returns the config file."""
    demo = REPO / "src" / "sdbridge" / "demo"
    shutil.copytree(demo / "data", tmp_path / "data")
    shutil.copy(demo / "demo.yaml", tmp_path / "sdbridge.yaml")
    return tmp_path / "sdbridge.yaml"
