"""Issues and Assets objects for the fake Jira, made from the demo's own exports, so that a
pull from the fake and the CSV export describe the same service desk."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

DEMO = Path(__file__).resolve().parents[2] / "src" / "sdbridge" / "demo" / "data"
OSLO = ZoneInfo("Europe/Oslo")
CUSTOM = {
    "Custom field (Impact)": ("customfield_10100", "Impact"),
    "Custom field (Affected CI)": ("customfield_10101", "Affected CI"),
    "Custom field (Restoration steps)": ("customfield_10102", "Restoration steps"),
    "Custom field (Root cause)": ("customfield_10103", "Root cause"),
    "Custom field (Solution)": ("customfield_10104", "Solution"),
    "Custom field (Business impact)": ("customfield_10105", "Business impact"),
    "Custom field (Approvers)": ("customfield_10106", "Approvers"),
    "Custom field (Approved on)": ("customfield_10107", "Approved on"),
    "Custom field (Implemented on)": ("customfield_10108", "Implemented on"),
    "Custom field (Test result)": ("customfield_10109", "Test result"),
}
DATETIME_FIELDS = {"Custom field (Approved on)", "Custom field (Implemented on)"}
STATUS = {"Resolved": ("5", "done"), "In Progress": ("3", "indeterminate")}


def custom_field_list() -> list[dict]:
    return [
        {
            "id": fid,
            "name": name,
            "custom": True,
            "schema": {
                "type": "string",
                "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textarea",
                "customId": int(fid.removeprefix("customfield_")),
            },
        }
        for fid, name in CUSTOM.values()
    ]


def _stamp(text: str) -> datetime | None:
    return datetime.strptime(text, "%d/%b/%y %I:%M %p").replace(tzinfo=OSLO) if text else None


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000%z") if moment else None


def adf(text: str | None) -> dict | None:
    if not text:
        return None
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": line}]} for line in text.split("\n") if line
        ],
    }


def issues_from_csv(cloud: bool = True, path: Path = DEMO / "jira-export.csv") -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, seen, issues = rows[0], set(), []
    for row in rows[1:]:
        values: dict[str, list[str]] = {}
        for name, value in zip(header, row):
            values.setdefault(name, []).append(value)
        one = {k: v[0] for k, v in values.items()}
        if one["Issue key"] in seen:
            continue  # the export's repeated row is one issue
        seen.add(one["Issue key"])
        text = adf if cloud else (lambda t: t or None)
        created, resolved = _stamp(one["Created"]), _stamp(one["Resolved"])
        status_id, category = STATUS[one["Status"]]

        def user(name: str) -> dict | None:
            if not name:
                return None
            if cloud:
                return {"accountId": f"5b10:{abs(hash(name)) % 10**8}", "displayName": name}
            return {"name": name.split()[0].lower(), "displayName": name, "emailAddress": "hidden@example.invalid"}

        comments = []
        for cell in values.get("Comment", []):
            if cell:
                stamp, account, body = cell.split(";", 2)
                comments.append(
                    {
                        "id": str(len(comments) + 1),
                        "body": text(body),
                        "created": _iso(_stamp(stamp)),
                        "author": {"accountId": account},
                    }
                )
        due = _stamp(one["Due Date"]) if one["Due Date"] and one["Due Date"] != "ASAP" else None
        fields = {
            "summary": one["Summary"],
            "issuetype": {"name": one["Issue Type"]},
            "status": {"id": status_id, "name": one["Status"], "statusCategory": {"key": category}},
            "priority": {"name": one["Priority"]} if one["Priority"] else None,
            "assignee": user(one["Assignee"]),
            "reporter": user(one["Reporter"]),
            "created": _iso(created),
            "updated": _iso(_stamp(one["Updated"])),
            "resolutiondate": _iso(resolved),
            "duedate": due.strftime("%Y-%m-%d") if due else None,
            "components": [{"name": c} for c in values["Component/s"] if c],
            "labels": [label for label in values["Labels"] if label],
            "description": text(one["Description"]),
            "comment": {"comments": comments, "total": len(comments), "maxResults": len(comments), "startAt": 0},
        }
        for column, (field_id, _) in CUSTOM.items():
            if column in DATETIME_FIELDS:
                fields[field_id] = _iso(_stamp(one[column]))
            else:
                fields[field_id] = (
                    text(one[column]) if column.endswith(("steps)", "cause)", "(Solution)")) else (one[column] or None)
                )
        changelog = []
        if resolved is not None:
            changelog.append(
                {
                    "id": "1",
                    "created": _iso(created),
                    "items": [
                        {
                            "field": "status",
                            "fieldId": "status",
                            "fromString": "Open",
                            "toString": "In Progress",
                            "from": "1",
                            "to": "3",
                        }
                    ],
                }
            )
            changelog.append(
                {
                    "id": "2",
                    "created": _iso(resolved),
                    "items": [
                        {
                            "field": "status",
                            "fieldId": "status",
                            "fromString": "In Progress",
                            "toString": "Resolved",
                            "from": "3",
                            "to": "5",
                        }
                    ],
                }
            )
        issues.append(
            {
                "id": one["Issue id"],
                "key": one["Issue key"],
                "fields": fields,
                "_changelog": changelog,
                "_updated_ms": int(_stamp(one["Updated"]).timestamp() * 1000),
            }
        )
    return issues


def many_issues(count: int, first_id: int = 100_000) -> list[dict]:
    """`count` issues cloned from the demo's, each with its own id, key and update time (for
    request-count tests and benchmarks)."""
    import copy

    demo = issues_from_csv()
    issues = []
    for number in range(count):
        issue = copy.deepcopy(demo[number % len(demo)])
        issue["id"], issue["key"] = str(first_id + number), f"NHS-{first_id + number}"
        issue["_updated_ms"] += number
        issues.append(issue)
    return issues


def assets_from_cmdb(path: Path = DEMO / "cmdb.xlsx") -> list[dict]:
    book = load_workbook(path, read_only=True)
    rows = list(book["CIs"].iter_rows(values_only=True))
    book.close()
    header, objects = rows[0], []
    for number, row in enumerate(rows[1:], start=1):
        record = dict(zip(header, row))
        attributes = []
        for name in ("Description", "Status", "In service since", "Owner", "Location"):
            value = record.get(name)
            if isinstance(value, datetime):
                value = value.strftime("%Y-%m-%d %H:%M:%S")
            values = [] if value in (None, "") else [{"value": str(value), "displayValue": str(value)}]
            attributes.append({"objectTypeAttribute": {"name": name}, "objectAttributeValues": values})
        objects.append(
            {
                "id": str(number),
                "objectKey": record["CI ID"],
                "label": record["Name"],
                "objectType": {"name": {"HW": "Hardware", "SW": "Software", "DOC": "Document"}[record["Type"]]},
                "attributes": attributes,
                "updated": "2026-11-01T10:00:00.000Z",
            }
        )
    return objects
