"""Nightly scheduling: cron across DST changes, and a real scheduler that fires and stops."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sdbridge.config import ScheduleJob, load_config
from sdbridge.errors import ConfigError
from sdbridge.pipeline import check
from sdbridge.scheduler import build_scheduler, trigger_for
from sdbridge.store import Store

OSLO = ZoneInfo("Europe/Oslo")
REPO = Path(__file__).resolve().parents[2]


def fire_times(cron: str, start: datetime, count: int) -> list[datetime]:
    trigger = trigger_for(ScheduleJob(cron=cron), OSLO)
    times, previous, now = [], None, start
    for _ in range(count):
        nxt = trigger.get_next_fire_time(previous, now)
        times.append(nxt)
        previous = now = nxt
    return times


def test_nightly_run_across_the_spring_dst_change():
    times = fire_times("0 2 * * *", datetime(2026, 3, 27, 12, tzinfo=OSLO), 4)
    utc = [t.astimezone(ZoneInfo("UTC")).strftime("%m-%d %H:%M") for t in times]
    # 02:00 does not exist on 29 March: the run happens once, at 03:00 CEST (01:00 UTC).
    assert utc == ["03-28 01:00", "03-29 01:00", "03-30 00:00", "03-31 00:00"]


def test_nightly_run_across_the_autumn_dst_change_fires_once():
    times = fire_times("0 2 * * *", datetime(2026, 10, 23, 12, tzinfo=OSLO), 4)
    local = [t.astimezone(OSLO).strftime("%m-%d %H:%M %Z") for t in times]
    # 02:00 happens twice on 25 October; the nightly run must not.
    assert local == ["10-24 02:00 CEST", "10-25 02:00 CEST", "10-26 02:00 CET", "10-27 02:00 CET"]


def test_weekly_job_keeps_its_local_time():
    times = fire_times("30 3 * * 0", datetime(2026, 10, 20, tzinfo=OSLO), 2)
    assert [t.astimezone(OSLO).strftime("%a %H:%M") for t in times] == ["Sun 03:30", "Sun 03:30"]


def test_schedule_config_shorthand_and_validation(write):
    write("a.csv", "x\n1\n")
    config = load_config(write("c.yaml", 'schedule: {cron: "0 2 * * *", timezone: Europe/Oslo}\n'))
    assert [(j.name, j.cron) for j in config.schedule.jobs] == [("nightly", "0 2 * * *")]
    scheduler = build_scheduler(config)
    job = scheduler.get_jobs()[0]
    assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, 3600)
    with pytest.raises(ConfigError, match="needs five fields"):
        load_config(write("bad.yaml", 'schedule: {cron: "every night"}\n'))
    with pytest.raises(ConfigError, match="not a valid five-field crontab"):
        load_config(write("bad2.yaml", 'schedule: {jobs: [{name: n, cron: "0 25 * * *"}]}\n'))
    with pytest.raises(ConfigError, match="no schedule"):
        build_scheduler(load_config(write("none.yaml", "sources: []\n")))


def test_a_real_scheduler_fires_a_run_and_stops_cleanly_on_sigterm(tmp_path):
    shutil.copytree(REPO / "src" / "sdbridge" / "demo" / "data", tmp_path / "data")
    config = (REPO / "src" / "sdbridge" / "demo" / "demo.yaml").read_text(encoding="utf-8")
    config += "schedule:\n  timezone: Europe/Oslo\n  jobs:\n    - {name: quick, interval_seconds: 1}\n"
    (tmp_path / "sdbridge.yaml").write_text(config, encoding="utf-8")
    exe = Path(sys.executable).with_name("sdbridge")
    service = subprocess.Popen(
        [str(exe), "schedule", "-c", "sdbridge.yaml"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ},
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = service.stdout.readline()
            lines.append(line)
            if '"event": "run"' in line:
                break
        else:
            pytest.fail("no run within 60 s:\n" + "".join(lines))
        service.send_signal(signal.SIGTERM)
        rest, _ = service.communicate(timeout=60)
        lines.append(rest)
    finally:
        if service.poll() is None:
            service.kill()
            service.communicate()
    log = "".join(lines)
    assert service.returncode == 0, log
    run_line = next(json.loads(line.split(" ", 4)[-1]) for line in log.splitlines() if '"event": "run"' in line)
    expected = check(load_config(tmp_path / "sdbridge.yaml")).assessment.summary.records
    assert run_line["status"] == "ok" and run_line["records"] == expected
    assert '"event": "stopped"' in log
    with Store(tmp_path / ".sdbridge" / "state.db") as store:
        runs = store.runs()
        assert runs and all(r.status == "ok" for r in runs)  # no run was left half-done
        assert runs[-1].trigger == "schedule:quick"


@pytest.mark.parametrize(
    ("crontab", "names"),
    [
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0,6", "sun,sat"),
        ("0-2", "sun,mon,tue"),
        ("*", "*"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("*/2", "sun,tue,thu,sat"),
        ("0-6/2", "sun,tue,thu,sat"),
        ("1-5/2", "mon,wed,fri"),
    ],
)
def test_crontab_days_of_week_count_from_sunday(crontab, names):
    from sdbridge.cron import crontab_day_of_week

    assert crontab_day_of_week(crontab) == names


def test_a_step_over_the_week_fires_on_the_days_crontab_means():
    zone = ZoneInfo("UTC")
    trigger = trigger_for(ScheduleJob(cron="0 2 * * */2"), zone)
    fired, previous, now = [], None, datetime(2026, 11, 29, 0, 0, tzinfo=zone)  # a Sunday
    for _ in range(8):
        previous = trigger.get_next_fire_time(previous, now)
        fired.append(previous.strftime("%a"))
        now = previous
    assert fired == ["Sun", "Tue", "Thu", "Sat", "Sun", "Tue", "Thu", "Sat"]
