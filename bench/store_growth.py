"""Benchmark: how the store grows over nightly runs, findings kept as spans, against the
per-run copy the store used to keep (written side by side in the same run, as the anchor).

    .venv/bin/python bench/store_growth.py                      # 60 nights of 20,000 findings
    .venv/bin/python bench/store_growth.py --findings 200000 --nights 30 --change 0.01

Each night `--change` of the open findings are fixed and as many new ones appear (1 % by
default). Prints the store's size after the first night and after the last, the ratio
(target <= 2x), and the anchor's; exits 0 either way (a benchmark reports, it does not assert).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from sdbridge.assessment import STORED_FINDING_COLUMNS
from sdbridge.store import SQLITE_MIGRATIONS, Store


def findings_of(numbers: np.ndarray) -> pd.DataFrame:
    ids = pd.Series(numbers).astype(str)
    return pd.DataFrame(
        {
            "id": "jira:OPS-" + ids + ":WP.18.h",
            "work_product": "WP.18",
            "item": "WP.18.h",
            "record_id": "OPS-" + ids,
            "source": "jira",
            "status": "missing",
            "severity": "high",
            "url": "https://example.atlassian.net/browse/OPS-" + ids,
            "message": "Root cause and solution for incidents with significant impact (WP.18 h) is missing",
        },
        columns=STORED_FINDING_COLUMNS,
    )


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=20_000)
    parser.add_argument("--nights", type=int, default=60)
    parser.add_argument("--change", type=float, default=0.01)
    args = parser.parse_args()
    rng = np.random.default_rng(29110)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "state.db")
        anchor_path = Path(folder) / "copies.db"
        anchor = sqlite3.connect(anchor_path)
        anchor.executescript(SQLITE_MIGRATIONS[0])  # the per-run copy table the store used to have
        open_now = np.arange(args.findings)
        next_number = args.findings
        start = datetime(2026, 1, 1, 2, tzinfo=UTC)
        sizes, anchor_sizes, seconds = [], [], []
        for night in range(args.nights):
            changed = int(len(open_now) * args.change)
            if night:
                open_now = np.concatenate(
                    [
                        rng.choice(open_now, len(open_now) - changed, replace=False),
                        np.arange(next_number, next_number + changed),
                    ]
                )
                next_number += changed
            frame = findings_of(np.sort(open_now))
            run_id = f"run-{night:03d}"
            store.execute(
                "INSERT INTO runs (tenant, id, trigger, started_at, status) VALUES (:tenant, :id, 'schedule', :at, 'ok')",
                id=run_id,
                at=(start + timedelta(days=night)).isoformat(),
            )
            began = time.perf_counter()
            store.save_assessment(run_id, {"summary": {"by_work_product": {}}}, frame)
            seconds.append(time.perf_counter() - began)
            anchor.executemany(
                f"INSERT INTO findings (run_id, {', '.join(STORED_FINDING_COLUMNS)}) VALUES (?{', ?' * 9})",
                ((run_id, *row) for row in frame.itertuples(index=False)),
            )
            anchor.commit()
            with sqlite3.connect(store.path) as checkpoint:  # outside any transaction, as SQLite requires
                checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            checkpoint.close()
            sizes.append(size(store.path))
            anchor_sizes.append(size(anchor_path))
        rows = store.size_of_findings()
        store.close()
        anchor.close()
    mib = 2**20
    print(f"{args.nights} nights of {args.findings:,} findings, {args.change:.0%} changing a night")
    print(
        f"store (spans)     after night 1 {sizes[0] / mib:8.1f} MiB, after night {args.nights} {sizes[-1] / mib:8.1f} MiB"
    )
    print(f"                  {sizes[-1] / sizes[0]:.2f}x the first night (target <= 2x); {rows:,} span rows")
    print(
        f"anchor (copies)   after night 1 {anchor_sizes[0] / mib:8.1f} MiB, after night {args.nights} "
        f"{anchor_sizes[-1] / mib:8.1f} MiB ({anchor_sizes[-1] / anchor_sizes[0]:.1f}x)"
    )
    print(f"spans take {sizes[-1] / anchor_sizes[-1]:.1%} of the copies' size")
    print(f"saving a night: median {sorted(seconds)[len(seconds) // 2]:.2f} s, slowest {max(seconds):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
