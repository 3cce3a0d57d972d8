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
    ("CI-001", "web01", "HW"),
    ("CI-002", "web02", "HW"),
    ("CI-003", "db01", "HW"),
    ("CI-004", "db02", "HW"),
    ("CI-005", "lb01", "HW"),
    ("CI-006", "mail01", "HW"),
    ("CI-007", "dns01", "HW"),
    ("CI-008", "backup01", "HW"),
    ("CI-009", "PostgreSQL 16", "SW"),
    ("CI-010", "nginx", "SW"),
    ("CI-011", "Postfix", "SW"),
    ("CI-012", "Customer portal", "SW"),
    ("CI-013", "Monitoring (Zabbix)", "SW"),
    ("CI-014", "WordPress cluster", "SW"),
    ("CI-015", "Backup runbook", "DOC"),
    ("CI-016", "Network diagram", "DOC"),
    ("CI-017", "DR plan", "DOC"),
    ("CI-018", "fw01", "HW"),
    ("CI-019", "vpn01", "HW"),
    ("CI-020", "Object storage", "SW"),
]
COMPONENTS = ["Web hosting", "Managed databases", "E-mail", "DNS", "Backup", "Network"]
INCIDENT_KINDS = [
    ("Website down for {c}", "HTTP 502 from the load balancer for all sites of {c}."),
    (
        "Slow database queries",
        "Query latency on the shared PostgreSQL cluster went above 2 s.\nCustomers see timeouts.",
    ),
    ("Mail not delivered", "Outgoing mail queue stuck; {c} reports bounces."),
    ("DNS resolution failing", "Resolver returns SERVFAIL for a subset of zones."),
    ("Backup job failed", "Nightly backup of {c} did not complete."),
    ("Certificate expired", "TLS certificate of {c}'s shop expired; browsers show a warning."),
    ("Disk full on web node", "Root file system at 100 %, PHP sessions cannot be written."),
    ("VPN tunnel flapping", "Site-to-site VPN to {c} drops every few minutes."),
]
CHANGE_KINDS = [
    "Upgrade PostgreSQL minor version",
    "Replace disk in backup01",
    "Rotate TLS certificates",
    "Add web03 to the load balancer",
    "Patch Postfix (security)",
    "Move DNS to anycast",
    "Enable 2FA on customer portal",
    "Decommission mail02",
]


def jira_date(value: datetime) -> str:
    return value.strftime("%d/%b/%y %I:%M %p")


def write_jira(path: Path) -> None:
    header = [
        "Summary",
        "Issue key",
        "Issue id",
        "Issue Type",
        "Status",
        "Status Category",
        "Project key",
        "Priority",
        "Resolution",
        "Assignee",
        "Reporter",
        "Creator",
        "Created",
        "Updated",
        "Resolved",
        "Due Date",
        "Component/s",
        "Component/s",
        "Labels",
        "Labels",
        "Labels",
        "Description",
        "Custom field (Impact)",
        "Custom field (Affected CI)",
        "Custom field (Restoration steps)",
        "Custom field (Root cause)",
        "Custom field (Solution)",
        "Custom field (Business impact)",
        "Custom field (Approvers)",
        "Comment",
        "Comment",
        "Comment",
        "Watchers",
        "Watchers",
        "Custom field (Approved on)",
        "Custom field (Implemented on)",
        "Custom field (Test result)",
    ]
    rows = []
    start = datetime(2026, 1, 5, 8, 0)
    key = 100
    asap_written = False
    late_written = False
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
        status, category = ("In Progress", "In Progress") if open_ else ("Resolved", "Done")
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
            restoration = (
                ""
                if open_
                else rng.choice(
                    [
                        "Restarted the service and verified with synthetic checks.",
                        "Failed over to the standby node; customer confirmed.",
                        "Freed disk space, rotated logs, monitored for an hour.",
                        "",
                        "",
                    ]
                )
            )
            significant = priority in ("Highest", "High")
            root_cause = ""
            solution = ""
            if significant and not open_:
                root_cause = rng.choice(
                    [
                        "Log rotation misconfigured after the last upgrade.",
                        "Expired intermediate certificate.",
                        "Connection pool exhausted by a runaway cron job.",
                        "TBD",
                        "",
                        "",
                    ]
                )
                solution = (
                    ""
                    if not root_cause or root_cause == "TBD"
                    else rng.choice(
                        [
                            "Fixed config in Ansible role; change raised.",
                            "Automated renewal via ACME.",
                            "Added pool limits.",
                        ]
                    )
                )
            comments = []
            if not open_ and not restoration and rng.random() < 0.35:
                comments.append(
                    f"{jira_date(created + timedelta(hours=2))};557058:{rng.randint(10**6, 10**7)};"
                    "Rolled back the deployment, service restored."
                )
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
            if not open_:
                approved_at = created + timedelta(hours=20)
                implemented = created + timedelta(days=2, hours=3)
                if not late_written and approvers:
                    approved_at, late_written = implemented + timedelta(hours=5), True  # approved after the fact
                row.update(
                    {
                        34: jira_date(approved_at) if approvers else "",
                        35: jira_date(implemented),
                        36: "Passed" if n % 7 else "",
                    }
                )
        else:
            summary = rng.choice(["New mailbox for Bergen Bakeri", "Quote for extra storage", "Update invoice address"])
            row.update({21: "Routine request."})
        if n == 12:
            summary = '=HYPERLINK("http://example.invalid","click")'  # a formula a spreadsheet must not run
        if n == 44:
            summary = "Tjenesten på Tromsø-noden svarer tregt (æøå)"
        row.update(
            {
                0: summary,
                1: f"NHS-{key}",
                2: str(10000 + key),
                3: issue_type,
                4: status,
                5: category,
                6: "NHS",
                7: priority,
                8: "" if open_ else "Done",
                9: assignee,
                10: reporter,
                11: reporter,
                12: jira_date(created),
                13: jira_date(created + timedelta(days=1)),
                14: resolved,
                16: comp[0] if comp else "",
                17: comp[1] if len(comp) > 1 else "",
                18: labels[0] if labels else "",
                19: labels[1] if len(labels) > 1 else "",
                20: labels[2] if len(labels) > 2 else "",
                32: rng.choice(PEOPLE),
                33: rng.choice(PEOPLE),
                34: row[34],
                35: row[35],
                36: row[36],
            }
        )
        rows.append([row[i] for i in range(len(header))])
    rows.insert(60, list(rows[59]))  # Jira exports sometimes repeat a row when an issue moved during export
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_gitlab(path: Path) -> None:
    header = [
        "Issue ID",
        "URL",
        "Title",
        "State",
        "Description",
        "Author",
        "Author Username",
        "Assignee",
        "Assignee Username",
        "Confidential",
        "Locked",
        "Due Date",
        "Created At (UTC)",
        "Updated At (UTC)",
        "Closed At (UTC)",
        "Milestone",
        "Weight",
        "Labels",
        "Time Estimate",
        "Time Spent",
    ]
    rows = []
    for iid in range(1, 31):
        created = datetime(2026, 2, 1, 9) + timedelta(hours=rng.randint(0, 24 * 280))
        closed = (
            "" if rng.random() < 0.2 else (created + timedelta(hours=rng.randint(1, 48))).strftime("%Y-%m-%d %H:%M:%S")
        )
        incident = rng.random() < 0.6
        labels = ["incident"] if incident else ["feature"]
        if incident:
            labels.append(rng.choice(["priority::1", "priority::2", "priority::3", "priority::4"]))
            if rng.random() > 0.25:
                labels.append(f"component::{rng.choice(['portal', 'api', 'billing'])}")
        title = rng.choice(
            ["Portal login fails", "API returns 500 on /invoices", "Billing export empty"]
            if incident
            else ["Add dark mode", "Improve search", "Export invoices as PDF"]
        )
        if iid == 7:
            title = "'=SUM(A1:A9) shown on invoice page"
        sections = ["## Summary", f"{title}."]
        if incident:
            sections += ["## Impact", rng.choice(["Customers cannot log in.", "Invoices not visible.", ""])]
            if closed and rng.random() > 0.3:
                sections += ["## Restoration steps", "Rolled back release; cleared cache."]
            if closed and "priority::1" in labels and rng.random() > 0.4:
                sections += [
                    "## Root cause",
                    "Session store ran out of memory.",
                    "## Solution",
                    "Raised limits; alert added.",
                ]
        author = rng.choice(PEOPLE)
        assignee = rng.choice(PEOPLE) if rng.random() > 0.15 else ""
        rows.append(
            [
                str(iid),
                f"https://gitlab.example.invalid/nordlys/portal/-/issues/{iid}",
                title,
                "closed" if closed else "opened",
                "\n".join(s for s in sections if s),
                author,
                author.split()[0].lower(),
                assignee,
                assignee.split()[0].lower() if assignee else "",
                "No",
                "No",
                "",
                created.strftime("%Y-%m-%d %H:%M:%S"),
                created.strftime("%Y-%m-%d %H:%M:%S"),
                closed,
                "",
                "",
                ",".join(labels),
                "0",
                "0",
            ]
        )
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
        sheet.append(
            [
                ci_id,
                name,
                f"{name} ({'server' if kind == 'HW' else 'service' if kind == 'SW' else 'document'})",
                kind,
                rng.choice(["In service", "In service", "Change planned", "Incident open"]),
                in_service if rng.random() > 0.1 else None,
                owner,
                location if rng.random() > 0.1 else "",
            ]
        )
    book.save(path)


def write_feedback(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Feedback"
    sheet.append(
        [
            "ID",
            "Received",
            "Type",
            "Customer",
            "Email",
            "Phone",
            "Comment",
            "Status",
            "Outcome",
            "Signed off by",
            "Signed off on",
        ]
    )
    for n in range(1, 26):
        received = datetime(2026, 1, 10, 10) + timedelta(days=rng.randint(0, 300), hours=rng.randint(0, 8))
        customer = rng.choice(CUSTOMERS)
        closed = rng.random() > 0.2
        signed = closed and rng.random() > 0.25
        sheet.append(
            [
                f"FB-{n:03d}",
                received,
                rng.choice(["Complaint", "Compliment", "Comment"]),
                f"Contact at {customer}",
                f"support@{customer.split()[0].lower()}.example" if rng.random() > 0.15 else "",
                "+47 555 00 000" if rng.random() > 0.5 else "",
                rng.choice(
                    ["Slow response on ticket", "Great help with migration", "Invoice unclear", "Downtime too long"]
                ),
                "Closed" if closed else "Open",
                rng.choice(
                    ["Explained invoice; credit note issued", "Shared RCA with customer", "Thanked the team", ""]
                )
                if closed
                else "",
                rng.choice(PEOPLE[:2]) if signed else "",
                received + timedelta(days=rng.randint(1, 10)) if signed else None,
            ]
        )
    book.save(path)


DOCUMENTS = {
    "business-goals.md": """---
work_product: WP.01
id: DOC-001
version: "2.0"
owner: Ingrid Bakke
approved_by: Board of Nordlys Hosting AS
approved_on: 2026-01-15
next_review: 2027-01-15
---
# Business goals and objectives 2026

## Business goals and objectives
Grow managed hosting revenue by 15 %, keep 99.9 % availability for every customer, and keep the
net promoter score above 40. Set by the board in January 2026.
""",
    "customer-experience.md": """---
work_product: WP.04
id: DOC-004
version: "1.2"
owner: Kari Hansen
approved_by: Ingrid Bakke
approved_on: 2026-03-01
next_review: 2027-03-01
---
# Customer experience approach

## Feedback log
Every compliment, complaint and comment is logged in the feedback log (CI-021) within one
working day, investigated, answered and signed off by the service manager.
""",
    "document-management.md": """---
work_product: WP.05
id: DOC-005
version: "1.0"
owner: Jonas Lie
approved_by: Ingrid Bakke
approved_on: 2025-12-10
next_review: 2026-12-10
---
# Data and document management procedure

## Unique identifier
Documents are numbered DOC-nnn; records carry the id of the tool that holds them.

## Version
Every document carries a version in its front matter; Git keeps the history.

## Change controls
Changes go through merge requests reviewed by a second person; main is protected.

## Storage location
Documents live in the `service-docs` repository; records stay in Jira, GitLab and the CMDB.
""",
    "improvement-report-2026.md": """---
work_product: WP.07
id: IMP-2026
version: "1.0"
owner: Ingrid Bakke
approved_by: Managing director
approved_on: 2026-06-20
next_review: 2027-06-20
---
# Improvement report 2026

## Customer perspective
Customers value quick answers; two of five asked for clearer maintenance notices.

## Results of service goals
Availability 99.93 % against 99.9 %; NPS 44.

## Customer issues
Maintenance notices came late twice.

## Provider perspective
The change procedure is followed; the incident template is used for most incidents.

## Current vs agreed performance
Response times met the SLA in 97 % of tickets against 95 % agreed.

## Provider issues

## Improvement actions
Send maintenance notices five days ahead; add root-cause fields to the incident form.

## Review schedule
Reviewed every June by management.
""",
    "secure-components.md": """---
work_product: WP.09
id: DOC-009
version: "1.1"
owner: Jonas Lie
approved_by: Ingrid Bakke
approved_on: 2026-02-01
next_review: 2027-02-01
---
# Secure component procedure

## Only tested components
Only images built by CI from a tagged release and passing the test suite enter the registry.

## Component changes
Add, move, modify or remove components through a change request and an Ansible merge request.

## Authorisation
The control manager (Ingrid Bakke) authorises changes to the production registry.
""",
    "change-schedule.md": """---
work_product: WP.12
id: DOC-012
version: "2026.11"
owner: Ingrid Bakke
approved_on: 2026-11-02
next_review: 2026-12-01
---
# Service change schedule

## Change schedule
Changes are deployed on Tuesdays and Thursdays; the Jira change calendar lists each one.

## Maintenance schedule
Maintenance window: Tuesdays 06:00-07:00 CET.

## Key business events
Freeze from 20 December to 3 January (customers' year-end trade).
""",
    "service-delivery-policy.md": """---
work_product: WP.14
id: POL-001
version: "3.1"
owner: Ingrid Bakke
approved_by: Managing director
approved_on: 2026-02-01
next_review: 2027-02-01
---
# Service delivery policy, objectives and plan

## Service catalogue
We keep one service catalogue, reviewed every year and published on the customer portal.

## Prioritisation matrix
Priority follows impact (many / some / one customer) and urgency (down / degraded / question).

## Change definitions
Pre-approved (standard), normal (CAB) and emergency changes, as in the change procedure.

## Communication practices
Customers hear from us by e-mail and on the status page.

## Standard communications
Templates for incident start, update and resolution, change notices and monthly status.

## Information security
Security follows our ISMS; access is least-privilege and reviewed quarterly.

## Confidentiality, integrity and availability
Encryption at rest and in transit, backups tested monthly, two data centres.

## Review schedule
Reviewed every February.
""",
    "scope.md": """---
work_product: WP.15
id: DOC-015
version: "1.0"
owner: Ingrid Bakke
approved_by: Board of Nordlys Hosting AS
approved_on: 2026-01-15
next_review: 2027-01-15
---
# Service delivery scope

## Services offered
Web hosting, managed databases, e-mail, DNS and backup for small businesses in Norway.

## Boundaries
Customers in Norway; data centres in Oslo and Bergen; no application development.

## Technology used
Linux servers, PostgreSQL, nginx, Postfix, Ansible, GitLab CI, Jira Service Management.
""",
    "design-managed-db.md": """---
work_product: WP.16
id: DES-007
version: "0.9"
status: approved
owner: Ola Nordmann
approved_on: 2026-04-04
next_review: 2027-04-04
---
# Service design: managed PostgreSQL

## Approval authority
Ingrid Bakke, control manager.

## Tools and methods
Terraform and Ansible; failover tested with chaos drills.

## Resources
Two engineers, db01/db02, backup01.

## Responsibilities
Senior responsible owner: Ingrid Bakke; service owner: Ola Nordmann.

## Risks
Single region for backups; mitigated by weekly off-site copies.

## Quality measures
RPO 15 minutes, RTO 1 hour, tested quarterly.
""",
    "procedures.md": """---
work_product: WP.17
id: DOC-017
version: "2.3"
owner: Jonas Lie
approved_by: Ingrid Bakke
approved_on: 2026-05-05
next_review: 2027-05-05
---
# Service design, build, test and deployment procedures

## Creating a change request
Open a Change in Jira with purpose, impact, date needed and the affected CIs.

## Updating the change schedule
The control manager puts approved changes on the change calendar.

## Emergency changes
Call the control manager; approve by phone; document within one working day.

## Decommissioning
Remove the service from the catalogue, archive its data, retire its CIs.
""",
}
for quarter, (start, end, approved) in {
    "2025-q4": ("2025-10-01", "2025-12-31", "2026-01-10"),
    "2026-q1": ("2026-01-01", "2026-03-31", "2026-04-08"),
    "2026-q2": ("2026-04-01", "2026-06-30", "2026-07-09"),
}.items():
    DOCUMENTS[f"performance-{quarter}.md"] = f"""---
work_product: WP.19
id: PERF-{quarter.upper()}
period_start: {start}
period_end: {end}
owner: Ingrid Bakke
approved_on: {approved}
---
# Service performance report {quarter.upper()}

## Performance of the period
Availability 99.9 % or better for every service; 2 major incidents.

## Status of previous actions
Maintenance notices now go out five days ahead (done).

## Proposed actions
Add a second DNS provider by the end of next quarter.
"""

ROLES = [
    ["ID", "Role", "Person", "Training", "Competence"],
    [
        "R-01",
        "Service Manager",
        "Ingrid Bakke",
        "ITIL 4 Foundation (2024)",
        "ISO/IEC 29110 service delivery course (2025)",
    ],
    ["R-02", "Control Manager", "Ingrid Bakke", "ITIL 4 Foundation (2024)", ""],
    ["R-03", "Incident Manager", "Ola Nordmann", "Incident handling workshop (2025)", ""],
    ["R-04", "Engineer", "Kari Hansen", "Linux admin (2023)", ""],
    ["R-05", "Engineer", "Jonas Lie", "", ""],
    ["R-06", "Relationship Manager", "Sofie Berg", "Customer service (2024)", ""],
]
CATALOGUE = [
    [
        "Service ID",
        "Service",
        "Description",
        "Service hours",
        "Quality measures",
        "How to use",
        "Chargeable",
        "Costs",
        "Dependencies",
        "Applicable standards",
        "Approved on",
    ],
    [
        "S-01",
        "Web hosting",
        "Managed web hosting",
        "24/7",
        "99.9 % availability",
        "Order in the portal",
        "yes",
        "from NOK 300/month",
        "Network, DNS",
        "ISO 27001 controls",
        "2026-03-15",
    ],
    [
        "S-02",
        "Managed databases",
        "PostgreSQL as a service",
        "24/7",
        "99.95 %, RPO 15 min",
        "Order in the portal",
        "yes",
        "from NOK 900/month",
        "Backup, Network",
        "ISO 27001 controls",
        "2026-03-15",
    ],
    [
        "S-03",
        "E-mail",
        "Business e-mail",
        "24/7",
        "99.9 %",
        "Ask the service desk",
        "yes",
        "",
        "DNS",
        "GDPR",
        "2026-03-15",
    ],
    [
        "S-04",
        "DNS",
        "Authoritative DNS",
        "24/7",
        "100 % of queries answered",
        "Portal",
        "no",
        "",
        "",
        "RFC 1035",
        "2026-03-15",
    ],
    [
        "S-05",
        "Backup",
        "Nightly backups kept 30 days",
        "business hours",
        "Restore tested monthly",
        "Included with hosting",
        "no",
        "",
        "Object storage",
        "ISO 27001 controls",
        "2026-03-15",
    ],
]
AGREEMENTS = [
    [
        "ID",
        "Type",
        "Agreement",
        "Approval",
        "Scope",
        "Start",
        "Review",
        "End",
        "Our owner",
        "Counterpart owner",
        "Legal requirements",
        "Signed on",
    ],
    [
        "AG-01",
        "Customer",
        "SLA Fjord Fisk AS",
        "Signed 2025-01-10",
        "Web hosting, e-mail",
        "2025-01-10",
        "2027-01-10",
        "2028-01-09",
        "Sofie Berg",
        "IT lead, Fjord Fisk",
        "",
        "2025-01-10",
    ],
    [
        "AG-02",
        "Customer",
        "SLA Bergen Bakeri",
        "Signed 2024-05-02",
        "Web hosting",
        "2024-05-02",
        "2026-05-02",
        "2027-05-01",
        "Sofie Berg",
        "Owner, Bergen Bakeri",
        "",
        "2024-05-02",
    ],
    [
        "AG-03",
        "Customer",
        "SLA Oslo Legal DA",
        "",
        "Managed databases, backup",
        "2025-09-01",
        "2027-09-01",
        "2028-08-31",
        "Sofie Berg",
        "",
        "",
        "",
    ],
    [
        "AG-04",
        "Supplier",
        "Colocation Oslo DC1",
        "Signed 2023-02-01",
        "Rack space, power, network",
        "2023-02-01",
        "2027-02-01",
        "2028-01-31",
        "Ingrid Bakke",
        "Account manager, DC1",
        "GDPR processor terms",
        "2023-02-01",
    ],
    [
        "AG-05",
        "Supplier",
        "Object storage",
        "Accepted online 2025-06-01",
        "Backup storage",
        "2025-06-01",
        "2026-12-10",
        "",
        "Jonas Lie",
        "Vendor support",
        "",
        "2025-06-01",
    ],
]


def write_documents(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in DOCUMENTS.items():
        (folder / name).write_text(text, encoding="utf-8")


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    write_jira(OUT / "jira-export.csv")
    write_gitlab(OUT / "gitlab-issues.csv")
    write_cmdb(OUT / "cmdb.xlsx")
    write_feedback(OUT / "feedback-log.xlsx")
    write_documents(OUT / "documents")
    write_rows(OUT / "roles.csv", ROLES)
    write_rows(OUT / "service-catalogue.csv", CATALOGUE)
    write_rows(OUT / "agreements.csv", AGREEMENTS)
    print(f"wrote demo data to {OUT}")


if __name__ == "__main__":
    main()
