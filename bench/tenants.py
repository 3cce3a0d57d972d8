"""Benchmark: many tenants' nightly runs on one PostgreSQL store, with 1 and 2 parallel
workers, next to the same runs on one SQLite file per tenant (the anchor).

    .venv/bin/python bench/tenants.py                          # 100 tenants x 2,000 records
    .venv/bin/python bench/tenants.py --tenants 20 --records 5000
    .venv/bin/python bench/tenants.py --store-url postgresql://user@host/db   # a server of yours

Each run is `sdbridge run` as a schedule does it (pull the tenant's CSV export into the store,
check, write report.json, keep the assessment and its findings), called in worker processes.
Without --store-url a throw-away PostgreSQL cluster is started (tests/postgres.py). Prints
runs per minute and the bytes the runs added to the store (PostgreSQL: the database's size
beyond its empty schema; SQLite: the files) per backend and worker count; exits 0 either way (a
benchmark reports, it does not assert).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from check_1m import CONFIG, generate  # noqa: E402


def one_run(config_path: str) -> float:
    from sdbridge.config import load_config
    from sdbridge.runner import run_once

    start = time.perf_counter()
    outcome = run_once(load_config(config_path), trigger="schedule", formats=["json"])
    if outcome.status != "ok":
        raise RuntimeError(f"{config_path}: the run was {outcome.status}")
    return time.perf_counter() - start


def configs(folder: Path, csv_path: Path, tenants: int, label: str) -> list[str]:
    paths = []
    for n in range(tenants):
        tenant = f"t{n:03d}"
        home = folder / label / tenant
        home.mkdir(parents=True)
        text = f"tenant: {tenant}\n" + CONFIG.format(path=csv_path) + "reports:\n  out: reports\n"
        (home / "sdbridge.yaml").write_text(text, encoding="utf-8")
        paths.append(str(home / "sdbridge.yaml"))
    return paths


def measure(paths: list[str], workers: int, env: dict[str, str]) -> tuple[float, float]:
    """(runs per minute, median seconds per run) for one run of every tenant."""
    os.environ.update(env)
    try:
        start = time.perf_counter()
        with ProcessPoolExecutor(max_workers=workers) as pool:
            seconds = sorted(pool.map(one_run, paths))
        elapsed = time.perf_counter() - start
    finally:
        for key in env:
            os.environ.pop(key, None)
    return len(paths) / elapsed * 60, seconds[len(seconds) // 2]


def postgres_size(url: str, password: str | None) -> int:
    import sqlalchemy as sa

    from sdbridge.store import Store

    with Store(url, password=password) as store, store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar_one())


def sqlite_size(paths: list[str]) -> int:
    return sum(f.stat().st_size for p in paths for f in (Path(p).parent / ".sdbridge").glob("state.db*"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--records", type=int, default=2_000)
    parser.add_argument("--store-url", help="an empty PostgreSQL database to use (default: a throw-away cluster)")
    args = parser.parse_args()
    server = None
    if args.store_url:
        url, password = args.store_url, os.environ.get("SDBRIDGE_STORE_PASSWORD")
    else:
        from tests.postgres import start

        server = start()
        url, password = "", server.password
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            csv_path = folder / "incidents.csv"
            generate(csv_path, args.records)
            print(
                f"{args.tenants} tenants x {args.records:,} records ({csv_path.stat().st_size / 1e6:.1f} MB CSV each)"
            )
            for workers in (1, 2):
                database = url or server.new_database()  # type: ignore[union-attr]
                env = {"SDBRIDGE_STORE_URL": database}
                if password:
                    env["SDBRIDGE_STORE_PASSWORD"] = password
                paths = configs(folder, csv_path, args.tenants, f"pg{workers}")
                empty = postgres_size(database, password)  # the database with the store's schema, no rows
                per_minute, median = measure(paths, workers, env)
                rows.append(("PostgreSQL", workers, per_minute, median, postgres_size(database, password) - empty))
                paths = configs(folder, csv_path, args.tenants, f"sqlite{workers}")
                per_minute, median = measure(paths, workers, {})
                rows.append(("SQLite files", workers, per_minute, median, sqlite_size(paths)))
    finally:
        if server is not None:
            server.stop()
    print(f"{'store':<14}{'workers':>8}{'runs/min':>10}{'s/run (median)':>16}{'data stored':>14}")
    for backend, workers, per_minute, median, size in rows:
        print(f"{backend:<14}{workers:>8}{per_minute:>10.1f}{median:>16.2f}{size / 2**20:>11.1f} MiB")
    by = {(b, w): p for b, w, p, _, _ in rows}
    for workers in (1, 2):
        print(
            f"{workers} worker(s): PostgreSQL runs at {by['PostgreSQL', workers] / by['SQLite files', workers]:.2f}x "
            "the SQLite files' rate"
        )
    print(f"2 workers vs 1 on PostgreSQL: {by['PostgreSQL', 2] / by['PostgreSQL', 1]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
