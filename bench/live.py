"""Benchmark: live mode under a sustained stream of webhook deliveries, against the loopback
Jira fake of tests/fakes, beside the request minimum (the anchor).

    .venv/bin/python bench/live.py                         # 20 deliveries/s for 60 s
    .venv/bin/python bench/live.py --rate 20 --seconds 600 # ten minutes: memory over time

`sdbridge serve` runs as its own process with the default settings (2 s collapse window, 4
workers). Deliveries are signed as Jira signs them and sent by a real HTTP client at a
steady rate to 300 incidents, a quarter of the time as a burst of five for one ticket; every
tenth delivery first changes its ticket in the fake (its CI filled or emptied), so comments
are created, edited and retracted all along.

Reported:
- latency: from a delivery's arrival to the end of its ticket's evaluation, p50 and p99
  over every delivery (the server's own histogram and its per-evaluation log), target p99 <=
  5 s with the 2 s window;
- sustained deliveries per second, and whether any was refused (503);
- the server's memory (RSS) at each tenth of the run: flat means no growth;
- requests to Jira per evaluation, beside the minimum (one read of the ticket, at most one
  write when its comment must change), as a ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fakes.jira_data import custom_field_list, issues_from_csv  # noqa: E402
from tests.fakes.jira_server import FakeJira  # noqa: E402
from tests.webhooks import Served, copy_issue, jira_issue_event, send_jira  # noqa: E402

TOKEN, SECRET = "bench-token", "bench-secret"
ENV = {"BENCH_TOKEN": TOKEN, "BENCH_SECRET": SECRET}
CI = "customfield_10101"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=20.0, help="deliveries a second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--tickets", type=int, default=300)
    args = parser.parse_args()
    random.seed(7)
    base_issues = issues_from_csv()
    incidents = [i for i in base_issues if i["fields"]["issuetype"]["name"] == "Incident"]
    extra = [copy_issue(incidents[n % len(incidents)], 20000 + n) for n in range(args.tickets)]
    jira = FakeJira(cloud=True, token=TOKEN, issues=base_issues + extra, custom_fields=custom_field_list())
    for issue in extra:
        jira._touch(issue)
    url = jira.start()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = folder / "sdbridge.yaml"
        source = {
            "name": "jira",
            "type": "jira",
            "url": url,
            "auth": "cloud",
            "email": "bot@example.invalid",
            "token": "${BENCH_TOKEN}",
            "projects": ["NHS"],
            "preset": "jira-service-management",
            "webhook": {"secret": "${BENCH_SECRET}"},
            "push": {"enabled": True, "work_products": ["WP.18"], "max_writes": 1000},
        }
        config.write_text(yaml.safe_dump({"sources": [source]}), encoding="utf-8")
        os.environ.update(ENV)
        from sdbridge.config import load_config
        from sdbridge.runner import pull_once

        pull_once(load_config(config))  # the night before: the store holds every ticket
        served = Served(config, ENV, cwd=folder)
        requests_at_start = len(jira.requests)
        rss: list[int] = [rss_kib(served.process.pid)]
        sent, refused, lock = 0, 0, threading.Lock()

        def deliver(issue: dict, change: bool) -> None:
            nonlocal sent, refused
            if change:
                with jira.lock:
                    issue["fields"][CI] = None if issue["fields"].get(CI) else "web01"
                    jira._touch(issue)
            answer = send_jira(served.hook("jira"), SECRET, jira_issue_event(issue))
            with lock:
                sent += 1
                refused += answer.status_code == 503

        began = time.monotonic()
        total = int(args.rate * args.seconds)
        with ThreadPoolExecutor(max_workers=16) as pool:
            n = 0
            while n < total:
                due = began + n / args.rate
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)  # the load generator's own pace (not a test's guess)
                issue = random.choice(extra)
                burst = 5 if random.random() < 0.25 else 1
                for k in range(min(burst, total - n)):
                    pool.submit(deliver, issue, change=(n + k) % 10 == 0)
                n += burst
                if n % max(1, total // 10) < burst:
                    rss.append(rss_kib(served.process.pid))
        elapsed = time.monotonic() - began
        # every accepted delivery evaluated: wait for the queue to empty, by the server's own log
        served.wait_for(lambda: served.metric("sdbridge_live_queue_depth") == 0, timeout=120)
        served.wait_for(
            lambda: (
                sum(e["deliveries"] for e in served.evaluations())
                >= served.metric("sdbridge_live_events_accepted_total")
            ),
            timeout=120,
        )
        rss.append(rss_kib(served.process.pid))
        evaluations = served.evaluations()
        served.stop()
        jira.stop()
    latencies = []
    for e in evaluations:  # the first delivery of a batch waited longest: its latency, and the rest at most that
        latencies += [e["seconds"]] * e["deliveries"]
    latencies.sort()
    requests = jira.requests[requests_at_start:]
    reads = sum(1 for m, p, _ in requests if m == "GET" or p.endswith("/comment/list"))
    writes = sum(1 for m, p, _ in requests if m in ("PUT", "DELETE") or (m == "POST" and "/comment/list" not in p))
    pushed = [e for e in evaluations if e["outcome"] == "pushed"]
    minimum = len(pushed)  # one read each; a write only where the comment had to change
    print(
        json.dumps(
            {
                "deliveries": sent,
                "refused_503": refused,
                "seconds": round(elapsed, 1),
                "deliveries_per_second": round(sent / elapsed, 1),
                "evaluations": len(evaluations),
                "latency_p50_s": round(statistics.median(latencies), 2) if latencies else None,
                "latency_p99_s": round(latencies[int(0.99 * (len(latencies) - 1))], 2) if latencies else None,
                "rss_mib": [round(r / 1024, 1) for r in rss],
                "jira_reads": reads,
                "jira_writes": writes,
                "reads_per_evaluation": round(reads / max(1, len(pushed)), 2),
                "writes_per_evaluation": round(writes / max(1, len(pushed)), 2),
                "requests_vs_minimum": round((reads + writes) / max(1, minimum), 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
