"""Many client teams on one PostgreSQL store: runs of two tenants in parallel, a team's
SQLite history moved into the shared store without losing anything, and the portfolio page
across tenants (in Chromium, like the report)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sdbridge.store import Store
from tests.commands import sdbridge as run_sdbridge
from tests.pages import ARTIFACTS, ON_SCREEN

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "src" / "sdbridge" / "demo"


def sdbridge(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_sdbridge(*args, cwd=cwd, env=env, timeout=180, script=True)


def tenant_folder(root: Path, tenant: str | None, **config: object) -> Path:
    """The demo's exports and config as one client team's folder (`tenant:` set)."""
    folder = root / (tenant or "default")
    shutil.copytree(DEMO / "data", folder / "data")
    loaded = yaml.safe_load((DEMO / "demo.yaml").read_text(encoding="utf-8"))
    if tenant:
        loaded["tenant"] = tenant
    loaded.update(config)
    (folder / "sdbridge.yaml").write_text(yaml.safe_dump(loaded), encoding="utf-8")
    return folder


@pytest.fixture
def shared(postgres_server):
    """(URL, environment that points sdbridge at it, opener of a tenant's view)."""
    url = postgres_server.new_database()
    env = {"SDBRIDGE_STORE_URL": url, "SDBRIDGE_STORE_PASSWORD": postgres_server.password}
    return url, env, lambda tenant: Store(url, tenant=tenant, password=postgres_server.password)


def report_findings(folder: Path) -> list[dict]:
    findings = json.loads((folder / "report.json").read_text(encoding="utf-8"))["findings"]
    return [{k: v for k, v in f.items() if k not in ("first_seen", "age_days")} for f in findings]


def test_two_tenants_run_in_parallel_on_one_store_and_see_only_their_own(tmp_path, shared):
    url, env, opened = shared
    acme = tenant_folder(tmp_path, "acme")
    globex = tenant_folder(tmp_path, "globex", profile={"variation": "operational"})
    exe = str(Path(sys.executable).with_name("sdbridge"))
    running = [
        subprocess.Popen(
            [exe, "run", "-c", "sdbridge.yaml", "--out", "r"],
            cwd=folder,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for folder in (acme, globex)
    ]
    results = [(p.wait(timeout=180), p.communicate()) for p in running]
    for code, (_, stderr) in results:
        assert code == 0, stderr  # neither waited for nor was refused by the other's lock
    assert not (acme / ".sdbridge").exists()  # the store is the server, not a file beside
    with opened("acme") as a, opened("globex") as g:
        assert len(a.runs()) == len(g.runs()) == 1
        assert a.assessment(a.latest_assessed_run()).variation == "full"
        assert g.assessment(g.latest_assessed_run()).variation == "operational"
        assert sorted(a.tenants()) == ["acme", "globex"]
    history = sdbridge("history", "-c", "sdbridge.yaml", "-f", "json", cwd=globex, env=env)
    assert history.returncode == 0, history.stderr
    assert len(json.loads(history.stdout)) == 1


def test_a_teams_sqlite_history_moves_into_the_shared_store_whole(tmp_path, shared, postgres_server):
    url, env, opened = shared
    team = tenant_folder(tmp_path, None)  # an existing team: no tenant in its config yet
    for out in ("r1", "r2"):
        assert sdbridge("run", "-c", "sdbridge.yaml", "--out", out, cwd=team).returncode == 0
    sqlite = team / ".sdbridge" / "state.db"
    with Store(sqlite) as before:
        before.save_push_state("jira", "OPS-7", "10001", "fp-1", labelled=True)
    password_file = tmp_path / "pg-password"
    password_file.write_text(postgres_server.password + "\n")
    moved = sdbridge(
        "store", "migrate", "-c", "sdbridge.yaml", "--to", url, "--tenant", "nordlys",
        "--password-file", str(password_file), cwd=team,
    )  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    assert "as tenant nordlys" in moved.stdout and postgres_server.password not in moved.stdout
    with Store(sqlite) as old, opened("nordlys") as new:
        assert old.runs() == new.runs()
        for run in old.runs():
            assert old.run(run.id) == new.run(run.id)
            pd_old, pd_new = old.findings(run.id), new.findings(run.id)
            assert pd_old.astype(object).where(pd_old.notna(), None).values.tolist() == (
                pd_new.astype(object).where(pd_new.notna(), None).values.tolist()
            )
            assert old.assessment(run.id).model_dump(mode="json") == new.assessment(run.id).model_dump(mode="json")
        assert old.push_state("jira") == new.push_state("jira")
        assert old.cursors() == new.cursors()
        for source in old.cursors():
            snapshot_old, snapshot_new = old.table(source), new.table(source)
            if snapshot_old is not None:
                assert snapshot_old.id == snapshot_new.id and snapshot_old.raw.frame.equals(snapshot_new.raw.frame)
        assert old.open_since().sort_index().equals(new.open_since().sort_index())
        assert old.size_of_findings() == new.size_of_findings() > 0
    again = sdbridge("store", "migrate", "-c", "sdbridge.yaml", "--to", url, "--tenant", "nordlys", cwd=team, env=env)
    assert again.returncode == 2 and "already holds tenant 'nordlys'" in again.stderr
    # the team goes on in the shared store, where its history continues
    config = yaml.safe_load((team / "sdbridge.yaml").read_text())
    (team / "sdbridge.yaml").write_text(yaml.safe_dump({**config, "tenant": "nordlys"}))
    assert sdbridge("run", "-c", "sdbridge.yaml", "--out", "r3", cwd=team, env=env).returncode == 0
    with opened("nordlys") as new:
        assert len(new.runs()) == 3 and len(new.trend()) == 3


def test_the_portfolio_shows_every_tenant_with_its_conformance(tmp_path, shared, browser):
    url, env, opened = shared
    for tenant, variation in (("acme", "full"), ("globex", "operational")):
        folder = tenant_folder(tmp_path, tenant, profile={"variation": variation})
        for _ in range(2 if tenant == "acme" else 1):
            assert sdbridge("run", "-c", "sdbridge.yaml", "--out", "r", cwd=folder, env=env).returncode == 0
    made = sdbridge("portfolio", "--out", "p", cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    assert "2 tenants;" in made.stdout
    data = json.loads((tmp_path / "p" / "portfolio.json").read_text())
    by_tenant = {t["tenant"]: t for t in data["tenants"]}
    assert set(by_tenant) == {"acme", "globex"}
    with opened("acme") as acme:
        stored = acme.assessment(acme.latest_assessed_run()).conformance
    assert (by_tenant["acme"]["met"], by_tenant["acme"]["requirements"]) == (stored.met, stored.requirements)
    assert by_tenant["acme"]["requirements"] > by_tenant["globex"]["requirements"]  # operational scope is smaller
    assert len(by_tenant["acme"]["gaps_trend"]) == 2 and by_tenant["acme"]["gaps_change"] == 0
    assert by_tenant["globex"]["gaps_change"] is None and by_tenant["acme"]["data_age_hours"] is not None
    rows = list(csv.DictReader(io.StringIO((tmp_path / "p" / "portfolio.csv").read_text(encoding="utf-8"))))
    assert [r["tenant"] for r in rows] == [t["tenant"] for t in data["tenants"]]
    errors: list[str] = []
    for width in (390, 1400):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((tmp_path / "p" / "portfolio.html").as_uri())
        assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0
        assert page.locator("#tenants tbody tr").count() == 2
        # every column of a tenant on screen, "Last run" and "Failed sources" included
        assert page.evaluate(ON_SCREEN, ["tenants", list(range(1, 12))]) == []
        if width == 1400:  # on a phone the table is cards, without headings to click
            page.locator("#tenants thead th", has_text="Tenant").click()
            assert page.locator("#tenants tbody tr td:first-child").all_inner_texts() == ["acme", "globex"]
            page.locator("#tenants thead th", has_text="Tenant").click()
            assert page.locator("#tenants tbody tr td:first-child").all_inner_texts() == ["globex", "acme"]
        assert page.locator("#processes tbody tr").count() == 2 and not errors
        processes = page.locator("#processes thead th").all_inner_texts()[1:]
        assert processes == ["GO", "CO", "RE", "IN"]  # the profile's order, as in the report
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"portfolio-{width}px.png", full_page=False)
        page.close()
