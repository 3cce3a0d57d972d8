"""Projects for the fake GitLab: the demo's GitLab issues export as API issues, plus merge
requests, environments and deployments, releases and pipelines with test reports."""

from __future__ import annotations

import copy
import csv
from datetime import datetime, timedelta
from pathlib import Path

from tests.fakes.gitlab_server import FakeProject

DEMO = Path(__file__).resolve().parents[2] / "src" / "sdbridge" / "demo" / "data"


def _iso(text: str) -> str | None:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%dT%H:%M:%S.000Z") if text else None


def _user(name: str, username: str) -> dict | None:
    if not name:
        return None
    return {
        "id": abs(hash(username)) % 1000,
        "name": name,
        "username": username,
        "state": "active",
        "email": f"{username}@example.invalid",
    }


def issues_from_csv(project: FakeProject, path: Path = DEMO / "gitlab-issues.csv") -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        for n, row in enumerate(csv.DictReader(handle), start=1):
            iid = int(row["Issue ID"])
            labels = [label for label in row["Labels"].split(",") if label]
            title = row["Title"][1:] if row["Title"].startswith("'=") else row["Title"]
            assignee = _user(row["Assignee"], row["Assignee Username"])
            project.issues.append(
                {
                    "id": 5000 + iid,
                    "iid": iid,
                    "project_id": project.id,
                    "title": title,
                    "description": row["Description"],
                    "state": "closed" if row["State"] == "closed" else "opened",
                    "created_at": _iso(row["Created At (UTC)"]),
                    "updated_at": _iso(row["Updated At (UTC)"]) or "",
                    "closed_at": _iso(row["Closed At (UTC)"]),
                    "labels": labels,
                    "issue_type": "incident" if "incident" in labels and n % 2 else "issue",
                    "author": _user(row["Author"], row["Author Username"]),
                    "assignee": assignee,
                    "assignees": [assignee] if assignee else [],
                    "web_url": row["URL"],
                    "references": {"short": f"#{iid}", "full": f"{project.path}#{iid}"},
                }
            )


def build_portal(project_id: int = 42, path: str = "nordlys/portal") -> FakeProject:
    project = FakeProject(id=project_id, path=path)
    issues_from_csv(project)
    start = datetime(2026, 3, 1, 9, 0)
    people = [("Ingrid Bakke", "ingrid"), ("Ola Nordmann", "ola"), ("Kari Hansen", "kari")]
    for i in range(1, 13):
        at = start + timedelta(days=7 * i)
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        author = _user(*people[i % 3])
        project.merge_requests.append(
            {
                "id": 9000 + i,
                "iid": i,
                "project_id": project_id,
                "title": f"Release 1.{i}",
                "description": f"Ship 1.{i}.\n## Impact\nShort restart of the portal." if i % 4 else f"Ship 1.{i}.",
                "state": "merged" if i < 12 else "opened",
                "labels": ["component::portal", f"priority::{1 + i % 3}"],
                "created_at": stamp,
                "updated_at": stamp,
                "author": author,
                "milestone": None,
                "web_url": f"https://gitlab.example.invalid/{path}/-/merge_requests/{i}",
                "references": {"full": f"{path}!{i}"},
            }
        )
        project.approvals[i] = {
            "approved": i % 5 != 0,
            "approved_by": [] if i % 5 == 0 else [{"user": _user(*people[(i + 1) % 3])}],
        }
        project.deployments.append(
            {
                "id": 7000 + i,
                "iid": i,
                "ref": f"v1.{i}",
                "sha": f"{i:040x}",
                "status": "success",
                "created_at": stamp,
                "updated_at": stamp,
                "user": author,
                "environment": {"id": 1, "name": "production"},
            }
        )
        project.releases.append(
            {
                "tag_name": f"v1.{i}",
                "name": f"Portal 1.{i}",
                "released_at": stamp,
                "created_at": stamp,
                "description": f"Portal 1.{i}." + ("\n## Deploy\nmake deploy ENV=production" if i % 3 else ""),
                "author": author,
                "assets": {
                    "count": 1,
                    "sources": [
                        {"format": "zip", "url": f"https://gitlab.example.invalid/{path}/-/archive/v1.{i}.zip"}
                    ],
                    "links": [],
                },
                "_links": {"self": f"https://gitlab.example.invalid/{path}/-/releases/v1.{i}"},
            }
        )
        project.pipelines.append(
            {
                "id": 100 + i,
                "iid": i,
                "project_id": project_id,
                "ref": "main",
                "sha": f"{i:040x}",
                "status": "success" if i % 6 else "failed",
                "source": "push",
                "created_at": stamp,
                "updated_at": stamp,
                "finished_at": stamp,
                "user": author,
                "web_url": f"https://gitlab.example.invalid/{path}/-/pipelines/{100 + i}",
            }
        )
        if i % 4:  # some pipelines produce no test report
            failed = 0 if i % 6 else 2
            project.test_reports[100 + i] = {
                "total": {
                    "time": 12.5,
                    "count": 40,
                    "success": 40 - failed,
                    "failed": failed,
                    "skipped": 0,
                    "error": 0,
                },
                "test_suites": [{"name": "unit", "total_count": 30}, {"name": "integration", "total_count": 10}],
            }
    project.environments.append(
        {
            "id": 1,
            "name": "production",
            "state": "available",
            "external_url": "https://portal.example.invalid",
            "updated_at": "2026-06-01T00:00:00Z",
        }
    )
    project.environments.append(
        {
            "id": 2,
            "name": "staging",
            "state": "available",
            "external_url": None,
            "description": "Maintenance: Tuesdays 06:00-07:00",
            "updated_at": "2026-06-01T00:00:00Z",
        }
    )
    return project


def many_issues(project: FakeProject, count: int) -> list[dict]:
    """`count` issues made from the project's own, renumbered (ids, iids, links, a second apart
    in `updated_at`), for pulls at scale; each copy keeps its template's notes."""
    template = list(project.issues)
    issues = []
    for number in range(count):
        source = template[number % len(template)]
        issue = copy.deepcopy(source)
        issue["iid"] = number + 1
        issue["id"] = 500_000 + number
        issue["web_url"] = issue["web_url"].rsplit("/", 1)[0] + f"/{number + 1}"
        issue["references"] = {"short": f"#{number + 1}", "full": f"{project.path}#{number + 1}"}
        # each copy a second apart, as real issues are: an increment finds only what changed
        updated = datetime.fromisoformat(source["updated_at"].replace("Z", "+00:00")) + timedelta(seconds=number)
        issue["updated_at"] = updated.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        issues.append(issue)
    notes = {i["iid"]: project.notes.get(t["iid"], []) for i, t in zip(issues, template * (count // len(template) + 1))}
    project.notes = {iid: [dict(n) for n in found] for iid, found in notes.items() if found}
    return issues
