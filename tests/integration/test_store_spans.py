"""Findings are stored by change (spans), not copied per run: every past run's findings are
reproduced exactly, the store grows with what changes, and a store of the previous schema
(one copy per run) converts without losing a run."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from sdbridge.assessment import STORED_FINDING_COLUMNS
from sdbridge.store import SCHEMA_VERSION, SQLITE_MIGRATIONS, Store, StoreError

REPORT = {"summary": {"by_work_product": {}}}


def finding(number: int, message: str = "Root cause (WP.18 h) is missing", url: str | None = None) -> dict:
    return {
        "id": f"jira:OPS-{number}:WP.18.h",
        "work_product": "WP.18",
        "item": "WP.18.h",
        "record_id": f"OPS-{number}",
        "source": "jira" if number % 5 else None,
        "status": "missing",
        "severity": "high",
        "url": url,
        "message": message,
    }


def history_of_ten_runs() -> list[pd.DataFrame]:
    """Ten nights: some gaps stay, some close, one closes and reopens, messages change."""
    rng = random.Random(29110)
    open_now = set(range(1, 301))
    nights = []
    for night in range(10):
        open_now -= set(rng.sample(sorted(open_now - {5}), 10))  # fixed
        if night == 1:
            open_now.discard(5)
        open_now |= set(range(1000 + night * 7, 1000 + night * 7 + 7))  # new ones
        if night == 6:
            open_now.add(5)  # a gap fixed on the first night comes back
        rows = [
            finding(
                n, "Root cause changed wording" if night >= 4 and n % 50 == 0 else "Root cause (WP.18 h) is missing"
            )
            for n in sorted(open_now)
        ]
        nights.append(pd.DataFrame(rows, columns=STORED_FINDING_COLUMNS))
    return nights


def by_id(frame: pd.DataFrame) -> list[tuple]:
    plain = frame.astype(object).where(frame.notna(), None)
    return sorted(plain.itertuples(index=False, name=None))


@pytest.fixture
def stored(store_at):
    store = store_at()
    nights = history_of_ten_runs()
    start = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    for night, frame in enumerate(nights):
        run_id = f"run-{night:02d}"
        store.execute(
            "INSERT INTO runs (tenant, id, trigger, started_at, status) VALUES (:tenant, :id, 'schedule', :at, 'ok')",
            id=run_id,
            at=(start + timedelta(days=night)).isoformat(),
        )
        store.save_assessment(run_id, REPORT, frame)
    yield store, nights


def test_every_past_run_is_replayed_exactly_from_the_spans(stored):
    store, nights = stored
    for night, expected in enumerate(nights):
        run_id = f"run-{night:02d}"
        assert by_id(store.findings(run_id)) == by_id(expected), run_id
        assert store.finding_ids(run_id) == set(expected["id"])
        only_jira = expected[expected["source"] == "jira"]
        assert by_id(store.findings(run_id, "jira")) == by_id(only_jira)


def test_the_store_grows_by_what_changes(stored):
    store, nights = stored
    copies = sum(len(n) for n in nights)
    spans = store.size_of_findings()
    assert spans < copies / 4  # 300 first-night gaps, then ~10 changes a night
    assert spans == len(nights[0]) + sum(
        len(set(map(tuple, b.values.tolist())) - set(map(tuple, a.values.tolist()))) for a, b in zip(nights, nights[1:])
    )


def test_a_gap_that_closes_and_reopens_shows_both_in_its_history(stored):
    store, nights = stored
    timeline = [present for _, _, present in store.finding_history("jira:OPS-5:WP.18.h")]
    assert timeline == [("jira:OPS-5:WP.18.h" in set(n["id"])) for n in nights]
    assert timeline[0] and not any(timeline[1:6]) and all(timeline[6:])


def test_saving_the_latest_run_again_replaces_it_and_an_older_one_is_refused(stored):
    store, nights = stored
    store.save_assessment("run-09", REPORT, nights[8])
    assert by_id(store.findings("run-09")) == by_id(nights[8])
    assert by_id(store.findings("run-08")) == by_id(nights[8])
    with pytest.raises(StoreError, match="not the latest assessed run"):
        store.save_assessment("run-03", REPORT, nights[3])


def test_a_store_of_the_previous_schema_is_converted_run_for_run(tmp_path):
    path = tmp_path / "state.db"
    db = sqlite3.connect(path)
    for number, migration in enumerate(SQLITE_MIGRATIONS[:2]):
        db.executescript(migration)
        db.execute(f"PRAGMA user_version = {number + 1}")
    nights = history_of_ten_runs()[:5]
    for night, frame in enumerate(nights):
        run_id = f"run-{night:02d}"
        db.execute(
            "INSERT INTO runs (id, trigger, started_at, status) VALUES (?, 'cli', ?, 'ok')",
            (run_id, f"2026-11-0{night + 1}T02:00:00+00:00"),
        )
        db.execute("INSERT INTO assessments (run_id, report) VALUES (?, '{}')", (run_id,))
        db.executemany(
            f"INSERT INTO findings (run_id, {', '.join(STORED_FINDING_COLUMNS)}) VALUES (?{', ?' * 9})",
            [(run_id, *row) for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False)],
        )
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert ("findings",) not in store.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        for night, expected in enumerate(nights):
            assert by_id(store.findings(f"run-{night:02d}")) == by_id(expected)
        store.execute(
            "INSERT INTO runs (tenant, id, trigger, started_at, status) VALUES (:tenant, 'run-05', 'cli', :at, 'ok')",
            at="2026-11-06T02:00:00+00:00",
        )
        store.save_assessment("run-05", REPORT, nights[4])  # the next night after the conversion
        assert by_id(store.findings("run-05")) == by_id(nights[4])
        assert by_id(store.findings("run-02")) == by_id(nights[2])
