"""Benchmark: how many requests a full and an incremental pull make, against the loopback
fakes of tests/fakes (which answer as the vendors' specifications give), beside the request
minimum of the same pull (the anchor).

    .venv/bin/python bench/pull_requests.py                  # 10,000 issues
    .venv/bin/python bench/pull_requests.py --issues 50000

Minimum, Jira Cloud: ceil(N / 100) searches + ceil(N / 1000) bulk changelog requests + the
set-up reads (server info, statuses, fields). GitLab: the project read + ceil(N / 100) issue pages
(GraphQL brings each issue's notes with it) + a page of each other listing; the REST path
(`graphql: false`) reads each issue's notes with a request of its own. Prints each pull's count and its ratio to the minimum (target <= 1.2x); exits 0.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fakes.gitlab_data import build_portal  # noqa: E402
from tests.fakes.gitlab_data import many_issues as gitlab_issues  # noqa: E402
from tests.fakes.gitlab_server import FakeGitLab  # noqa: E402
from tests.fakes.jira_data import custom_field_list, many_issues  # noqa: E402
from tests.fakes.jira_server import FakeJira  # noqa: E402

TOKEN = "bench-token"


def pull(config: Path) -> float:
    from sdbridge.config import load_config
    from sdbridge.runner import pull_once

    began = time.perf_counter()
    _, pulls, status = pull_once(load_config(config))
    if status != "ok":
        raise SystemExit(f"the pull failed: {[p.error for p in pulls]}")
    return time.perf_counter() - began


def jira(n: int, folder: Path) -> list[tuple[str, int, int, float]]:
    issues = many_issues(n)
    server = FakeJira(cloud=True, token=TOKEN, issues=issues, custom_fields=custom_field_list(), assets=[])
    base = server.start()
    config = folder / "jira.yaml"
    source = {
        "name": "jira",
        "type": "jira",
        "url": base,
        "auth": "cloud",
        "email": "bot@example.invalid",
        "token": "${BENCH_TOKEN}",
        "projects": ["NHS"],
        "preset": "jira-service-management",
        "approvals": False,
        "page_size": 100,
        "overlap_minutes": 0,
    }
    config.write_text(yaml.safe_dump({"sources": [source], "store": {"path": str(folder / "jira.db")}}))
    minimum = math.ceil(n / 100) + math.ceil(n / 1000) + 3
    try:
        seconds = pull(config)
        full = len(server.requests)
        newest = max(i["_updated_ms"] for i in issues)
        for offset, issue in enumerate(issues[:10], start=1):
            issue["_updated_ms"] = newest + offset * 60_000
            issue["fields"]["updated"] = time.strftime(
                "%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime(issue["_updated_ms"] / 1000)
            )
        server.requests.clear()
        again = pull(config)
        incremental = len(server.requests)
    finally:
        server.stop()
    return [
        ("Jira Cloud, full", full, minimum, seconds),
        ("Jira Cloud, 10 changed", incremental, 1 + 1 + 3, again),
    ]


def gitlab(n: int, folder: Path) -> list[tuple[str, int, int, float]]:
    """A full pull by GraphQL (issues with their notes 100 a request) and by REST (the
    `graphql: false` path, a request per issue for its notes), then 10 changed issues."""
    rows = []
    for mode, graphql in (("GraphQL", True), ("REST", False)):
        project = build_portal()
        project.issues = gitlab_issues(project, n)
        project.deployments, project.releases, project.pipelines = [], [], []  # merge requests stay (12)
        server = FakeGitLab(token=TOKEN, projects=[project])
        server.start()
        config = folder / f"gitlab-{mode}.yaml"
        source = {
            "name": "gitlab",
            "type": "gitlab",
            "url": server.base,
            "token": "${BENCH_TOKEN}",
            "projects": [project.path],
            "preset": "gitlab",
            "per_page": 100,
            "graphql": graphql,
            "overlap_minutes": 0,
        }
        store = folder / f"gitlab-{mode}.db"
        config.write_text(yaml.safe_dump({"sources": [source], "store": {"path": str(store)}}))
        # the project read, the issue pages, one page of each other listing (merge requests,
        # deployments, environments, releases, pipelines) and each environment's deployments
        # (its change schedule): none can be skipped
        # (its change schedule): none can be skipped; by GraphQL, also the server's schema, read
        # once a pull so the queries ask only the fields that server has
        fixed = 5 + len(project.environments) + (1 if graphql else 0)
        minimum = 1 + math.ceil(n / 100) + fixed
        try:
            seconds = pull(config)
            full = len(server.requests)
            for issue in project.issues[:10]:
                issue["updated_at"] = "2099-01-01T00:00:00.000Z"
            server.requests.clear()
            again = pull(config)
            incremental = len(server.requests)
        finally:
            server.stop()
        rows.append((f"GitLab, full ({mode})", full, minimum, seconds))
        rows.append((f"GitLab, 10 changed ({mode})", incremental, 1 + 1 + fixed, again))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=10_000)
    args = parser.parse_args()
    os.environ["BENCH_TOKEN"] = TOKEN
    with tempfile.TemporaryDirectory() as folder:
        rows = jira(args.issues, Path(folder)) + gitlab(args.issues, Path(folder))
    print(f"{args.issues:,} issues")
    for name, made, minimum, seconds in rows:
        print(
            f"{name:<26} {made:7,} requests   minimum {minimum:6,}   {made / minimum:6.2f}x (target <= 1.2x)   {seconds:6.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
