"""Generate the demo exports of Nordlys Hosting AS, a fictional 12-person hosting company.

Run once; the output is committed under src/sdbridge/demo/data/ so the demo never depends on
this script. Deterministic (fixed seed): running it again gives the same files.

The data has deliberate, realistic gaps: incidents without an affected CI, significant
incidents without a root cause (or with "TBD"), closed incidents nobody wrote restoration
steps for, a change without approvers, a change whose due date is "ASAP", a duplicated row
in the Jira export, CIs without owner, feedback never signed off.

    python scripts/make_demo_data.py
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import Workbook

OUT = Path(__file__).resolve().parent.parent / "src" / "sdbridge" / "demo" / "data"
rng = random.Random(29110)

PEOPLE = ["Ingrid Bakke", "Ola Nordmann", "Kari Hansen", "Jonas Lie", "Sofie Berg", "Emil Dahl"]
CUSTOMERS = ["Fjord Fisk AS", "Bergen Bakeri", "Tromsø Tours", "Oslo Legal DA", "Vestland Kommune IT"]
CIS = [
    ("CI-001", "web01", "HW"), ("CI-002", "web02", "HW"), ("CI-003", "db01", "HW"), ("CI-004", "db02", "HW"),
    ("CI-005", "lb01", "HW"), ("CI-006", "mail01", "HW"), ("CI-007", "dns01", "HW"), ("CI-008", "backup01", "HW"),
    ("CI-009", "PostgreSQL 16", "SW"), ("CI-010", "nginx", "SW"), ("CI-011", "Postfix", "SW"),
    ("CI-012", "Customer portal", "SW"), ("CI-013", "Monitoring (Zabbix)", "SW"), ("CI-014", "WordPress cluster", "SW"),
    ("CI-015", "Backup runbook", "DOC"), ("CI-016", "Network diagram", "DOC"), ("CI-017", "DR plan", "DOC"),
    ("CI-018", "fw01", "HW"), ("CI-019", "vpn01", "HW"), ("CI-020", "Object storage", "SW"),
]
COMPONENTS = ["Web hosting", "Managed databases", "E-mail", "DNS", "Backup", "Network"]
INCIDENT_KINDS = [
    ("Website down for {c}", "HTTP 502 from the load balancer for all sites of {c}."),
    ("Slow database queries", "Query latency on the shared PostgreSQL cluster went above 2 s.\nCustomers see timeouts."),
    ("Mail not delivered", "Outgoing mail queue stuck; {c} reports bounces."),
    ("DNS resolution failing", "Resolver returns SERVFAIL for a subset of zones."),
    ("Backup job failed", "Nightly backup of {c} did not complete."),
    ("Certificate expired", "TLS certificate of {c}'s shop expired; browsers show a warning."),
    ("Disk full on web node", "Root file system at 100 %, PHP sessions cannot be written."),
    ("VPN tunnel flapping", "Site-to-site VPN to {c} drops every few minutes."),
]
CHANGE_KINDS = [
    "Upgrade PostgreSQL minor version", "Replace disk in backup01", "Rotate TLS certificates",
    "Add web03 to the load balancer", "Patch Postfix (security)", "Move DNS to anycast",
    "Enable 2FA on customer portal", "Decommission mail02",
]


def jira_date(value: datetime) -> str:
    return value.strftime("%d/%b/%y %I:%M %p")


def write_jira(path: Path) -> None:
    header = (
        ["Summary", "Issue key", "Issue id", "Issue Type", "Status", "Status Category", "Project key", "Priority",
         "Resolution", "Assignee", "Reporter", "Creator", "Created", "Updated", "Resolved", "Due Date",
         "Component/s", "Component/s", "Labels", "Labels", "Labels", "Description",
         "Custom field (Impact)", "Custom field (Affected CI)", "Custom field (Restoration steps)",
         "Custom field (Root cause)", "Custom field (Solution)", "Custom field (Business impact)",
         "Custom field (Approvers)", "Comment", "Comment", "Comment", "Watchers", "Watchers"]
    )
    rows = []
    start = datetime(2026, 1, 5, 8, 0)
    key = 100
    asap_written = False
    for n in range(150):
        key += 1
        created = start + timedelta(hours=rng.randint(0, 24 * 320), minutes=rng.randint(0, 59))
        customer = rng.choice(CUSTOMERS)
        kind = rng.random()
        if kind < 0.72:
            issue_type = "Incident"
        elif kind < 0.92:
            issue_type = "Change"
        else:
            issue_type = rng.choice(["Service Request", "Task"])
        priority = rng.choices(["Highest", "High", "Medium", "Low"], weights=[1, 3, 6, 3])[0]
        open_ = created > datetime(2026, 11, 10) or rng.random() < 0.08
        status, category = (("In Progress", "In Progress") if open_ else ("Resolved", "Done"))
        resolved = "" if open_ else jira_date(created + timedelta(hours=rng.randint(1, 72), minutes=rng.randint(0, 59)))
        assignee = rng.choice(PEOPLE)
        reporter = f"{customer} service desk" if rng.random() < 0.6 else rng.choice(PEOPLE)
        comp = rng.sample(COMPONENTS, rng.choice([0, 1, 1, 2]))
        labels = rng.sample(["customer-facing", "sla", "night", "monitoring", "security"], rng.choice([0, 1, 2, 3]))
        ci_id, ci_name, _ = rng.choice(CIS)
        row = dict.fromkeys(range(len(header)), "")
        if issue_type == "Incident":
            summary, desc = rng.choice(INCIDENT_KINDS)
            summary, desc = summary.format(c=customer), desc.format(c=customer)
            impact = rng.choice(["All customers on web01/web02", f"{customer} only", "Degraded performance", ""])
            affected = f"{ci_id} {ci_name}" if rng.random() > 0.18 else ""
            if not affected and comp and rng.random() < 0.4:
                affected = ""  # the component still names the service
            restoration = "" if open_ else rng.choice(
                ["Restarted the service and verified with synthetic checks.",
                 "Failed over to the standby node; customer confirmed.",
                 "Freed disk space, rotated logs, monitored for an hour.", "", ""]
            )
            significant = priority in ("Highest", "High")
            root_cause = ""
            solution = ""
            if significant and not open_:
                root_cause = rng.choice(
                    ["Log rotation misconfigured after the last upgrade.", "Expired intermediate certificate.",
                     "Connection pool exhausted by a runaway cron job.", "TBD", "", ""]
                )
                solution = "" if not root_cause or root_cause == "TBD" else rng.choice(
                    ["Fixed config in Ansible role; change raised.", "Automated renewal via ACME.", "Added pool limits."]
                )
            comments = []
            if not open_ and not restoration and rng.random() < 0.35:
                comments.append(f"{jira_date(created + timedelta(hours=2))};557058:{rng.randint(10**6, 10**7)};"
                                "Rolled back the deployment, service restored.")
            row.update({21: desc, 22: impact, 23: affected, 24: restoration, 25: root_cause, 26: solution})
            for i, c in enumerate(comments[:3]):
                row[29 + i] = c
        elif issue_type == "Change":
            summary = rng.choice(CHANGE_KINDS)
            desc = f"{summary}.\nReason: keep the platform supported and secure."
            due_day = (created + timedelta(days=rng.randint(2, 20))).replace(hour=0, minute=0)
            due = jira_date(due_day) if rng.random() > 0.1 else ""  # a date field: midnight
            if n >= 30 and not asap_written:
                due, asap_written = "ASAP", True  # typed by hand into a date field: invalid
            approvers = ", ".join(rng.sample(PEOPLE[:3], rng.choice([1, 2]))) if rng.random() > 0.2 else ""
            business = rng.choice(["Short maintenance window, customers notified", "No customer impact expected", ""])
            row.update({15: due, 21: desc, 23: f"{ci_id} {ci_name}", 27: business, 28: approvers})
        else:
            summary = rng.choice(["New mailbox for Bergen Bakeri", "Quote for extra storage", "Update invoice address"])
            row.update({21: "Routine request."})
        if n == 12:
            summary = "=HYPERLINK(\"http://example.invalid\",\"click\")"  # a formula a spreadsheet must not run
        if n == 44:
            summary = "Tjenesten på Tromsø-noden svarer tregt (æøå)"
        row.update({
            0: summary, 1: f"NHS-{key}", 2: str(10000 + key), 3: issue_type, 4: status, 5: category, 6: "NHS",
            7: priority, 8: "" if open_ else "Done", 9: assignee, 10: reporter, 11: reporter,
            12: jira_date(created), 13: jira_date(created + timedelta(days=1)), 14: resolved,
            16: comp[0] if comp else "", 17: comp[1] if len(comp) > 1 else "",
            18: labels[0] if labels else "", 19: labels[1] if len(labels) > 1 else "",
            20: labels[2] if len(labels) > 2 else "",
            32: rng.choice(PEOPLE), 33: rng.choice(PEOPLE),
        })
        rows.append([row[i] for i in range(len(header))])
    rows.insert(60, list(rows[59]))  # Jira exports sometimes repeat a row when an issue moved during export
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_gitlab(path: Path) -> None:
    header = ["Issue ID", "URL", "Title", "State", "Description", "Author", "Author Username", "Assignee",
              "Assignee Username", "Confidential", "Locked", "Due Date", "Created At (UTC)", "Updated At (UTC)",
              "Closed At (UTC)", "Milestone", "Weight", "Labels", "Time Estimate", "Time Spent"]
    rows = []
    for iid in range(1, 31):
        created = datetime(2026, 2, 1, 9) + timedelta(hours=rng.randint(0, 24 * 280))
        closed = "" if rng.random() < 0.2 else (created + timedelta(hours=rng.randint(1, 48))).strftime("%Y-%m-%d %H:%M:%S")
        incident = rng.random() < 0.6
        labels = ["incident"] if incident else ["feature"]
        if incident:
            labels.append(rng.choice(["priority::1", "priority::2", "priority::3", "priority::4"]))
            if rng.random() > 0.25:
                labels.append(f"component::{rng.choice(['portal', 'api', 'billing'])}")
        title = rng.choice(["Portal login fails", "API returns 500 on /invoices", "Billing export empty"]
                           if incident else ["Add dark mode", "Improve search", "Export invoices as PDF"])
        if iid == 7:
            title = "'=SUM(A1:A9) shown on invoice page"
        sections = ["## Summary", f"{title}."]
        if incident:
            sections += ["## Impact", rng.choice(["Customers cannot log in.", "Invoices not visible.", ""])]
            if closed and rng.random() > 0.3:
                sections += ["## Restoration steps", "Rolled back release; cleared cache."]
            if closed and "priority::1" in labels and rng.random() > 0.4:
                sections += ["## Root cause", "Session store ran out of memory.", "## Solution", "Raised limits; alert added."]
        author = rng.choice(PEOPLE)
        assignee = rng.choice(PEOPLE) if rng.random() > 0.15 else ""
        rows.append([
            str(iid), f"https://gitlab.example.invalid/nordlys/portal/-/issues/{iid}", title,
            "closed" if closed else "opened", "\n".join(s for s in sections if s), author,
            author.split()[0].lower(), assignee, assignee.split()[0].lower() if assignee else "", "No", "No", "",
            created.strftime("%Y-%m-%d %H:%M:%S"), created.strftime("%Y-%m-%d %H:%M:%S"), closed, "", "",
            ",".join(labels), "0", "0",
        ])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_cmdb(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "CIs"
    sheet.append(["CI ID", "Name", "Description", "Type", "Status", "In service since", "Owner", "Location"])
    for ci_id, name, kind in CIS:
        owner = rng.choice(PEOPLE) if rng.random() > 0.15 else ""
        location = rng.choice(["Oslo DC1, rack 4", "Oslo DC1, rack 7", "Bergen DC2", "SharePoint/IT/Docs"])
        if kind == "DOC":
            location = "SharePoint/IT/Docs"
        in_service = datetime(2022, 1, 1) + timedelta(days=rng.randint(0, 1400))
        sheet.append([
            ci_id, name, f"{name} ({'server' if kind == 'HW' else 'service' if kind == 'SW' else 'document'})",
            kind, rng.choice(["In service", "In service", "Change planned", "Incident open"]),
            in_service if rng.random() > 0.1 else None, owner, location if rng.random() > 0.1 else "",
        ])
    book.save(path)


def write_feedback(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Feedback"
    sheet.append(["ID", "Received", "Type", "Customer", "Email", "Phone", "Comment", "Status", "Outcome",
                  "Signed off by", "Signed off on"])
    for n in range(1, 26):
        received = datetime(2026, 1, 10, 10) + timedelta(days=rng.randint(0, 300), hours=rng.randint(0, 8))
        customer = rng.choice(CUSTOMERS)
        closed = rng.random() > 0.2
        signed = closed and rng.random() > 0.25
        sheet.append([
            f"FB-{n:03d}", received, rng.choice(["Complaint", "Compliment", "Comment"]), f"Contact at {customer}",
            f"support@{customer.split()[0].lower()}.example" if rng.random() > 0.15 else "",
            "+47 555 00 000" if rng.random() > 0.5 else "",
            rng.choice(["Slow response on ticket", "Great help with migration", "Invoice unclear", "Downtime too long"]),
            "Closed" if closed else "Open",
            rng.choice(["Explained invoice; credit note issued", "Shared RCA with customer", "Thanked the team", ""])
            if closed else "",
            rng.choice(PEOPLE[:2]) if signed else "",
            received + timedelta(days=rng.randint(1, 10)) if signed else None,
        ])
    book.save(path)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    write_jira(OUT / "jira-export.csv")
    write_gitlab(OUT / "gitlab-issues.csv")
    write_cmdb(OUT / "cmdb.xlsx")
    write_feedback(OUT / "feedback-log.xlsx")
    print(f"wrote demo data to {OUT}")


if __name__ == "__main__":
    main()
