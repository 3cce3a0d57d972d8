"""Each finding says who can fix it and how long it has been open: `age_days` grows night
after night, and starts again when a gap was closed and came back."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from sdbridge.config import load_config
from sdbridge.runner import run_once, store_path
from sdbridge.store import Store

CMDB = "CI ID,Name,Type,Status,In service since,Owner,Location\nCI-1,web01,HW,Live,2024-01-01,Kari Hansen,{where}\n"


def night(folder: Path, location: str) -> dict:
    (folder / "cmdb.csv").write_text(CMDB.format(where=location), encoding="utf-8")
    config = load_config(folder / "sdbridge.yaml")
    run_once(config, formats=["json"], out=folder / "r")
    with Store(store_path(config)) as store:  # the night passes: every run so far a day older
        for run_id, started in store.execute("SELECT id, started_at FROM runs"):
            older = (datetime.fromisoformat(started) - timedelta(days=1)).isoformat()
            store.execute("UPDATE runs SET started_at = :older WHERE id = :run_id", older=older, run_id=run_id)
    report = json.loads((folder / "r" / "report.json").read_text(encoding="utf-8"))
    return {f["item"]: f for f in report["findings"]}


def test_age_grows_night_by_night_and_restarts_after_a_fix(tmp_path):
    (tmp_path / "sdbridge.yaml").write_text(
        "sources:\n  - {name: cmdb, type: csv, path: cmdb.csv, preset: generic-cmdb}\n", encoding="utf-8"
    )
    first = night(tmp_path, "")["WP.02.g"]
    assert first["owner"] == "Kari Hansen" and first["age_days"] == 0.0
    second = night(tmp_path, "")["WP.02.g"]
    third = night(tmp_path, "")["WP.02.g"]
    assert second["first_seen"] == third["first_seen"] == first["first_seen"]
    assert 0.9 <= second["age_days"] <= 1.1 and 1.9 <= third["age_days"] <= 2.1
    assert "WP.02.g" not in night(tmp_path, "Oslo DC1")  # fixed
    back = night(tmp_path, "")["WP.02.g"]  # and back again: a new gap
    assert back["age_days"] == 0.0 and back["first_seen"] != first["first_seen"]
