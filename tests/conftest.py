from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO_CONFIG = REPO / "config" / "demo.yaml"


@pytest.fixture(autouse=True)
def _no_shared_store_from_the_environment(monkeypatch):
    """A developer's own SDBRIDGE_STORE_URL never redirects a test's store: tests that use
    PostgreSQL say so themselves."""
    for name in ("SDBRIDGE_STORE_URL", "SDBRIDGE_STORE_PASSWORD", "SDBRIDGE_CONFIG"):
        monkeypatch.delenv(name, raising=False)


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


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for this test session (see tests/postgres.py)."""
    from tests.postgres import session

    yield from session()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the session's server (URL without its password)."""
    return postgres_server.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_at(request, tmp_path: Path):
    """Open a store on each backend: `store_at(tenant=...)` -> Store. SQLite: a file under
    tmp_path; PostgreSQL: a fresh database on the session's server."""
    from sdbridge.store import Store

    if request.param == "sqlite":
        location: str | Path = tmp_path / "state.db"
        password = None
    else:
        server = request.getfixturevalue("postgres_server")
        location, password = server.new_database(), server.password
    opened: list[Store] = []

    def _open(tenant: str = "default") -> Store:
        store = Store(location, tenant=tenant, password=password)
        opened.append(store)
        return store

    _open.backend = request.param  # type: ignore[attr-defined]
    _open.location = location  # type: ignore[attr-defined]
    yield _open
    for store in opened:
        store.close()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (`make test` installs it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()
