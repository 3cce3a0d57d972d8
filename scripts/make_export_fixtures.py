"""Write the realistic export fixtures of tests/fixtures/exports (deterministic).

Each file imitates one product's export as a user gets it; tests/fixtures/exports/README.md
says which product and version, and where its shape comes from. The data is invented (a
fictional hosting team); only the shapes are real: header spellings, repeated columns,
date renderings, delimiters, encodings and the empty renderings each product writes.

    python scripts/make_export_fixtures.py
"""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "exports"
START = datetime(2026, 2, 2, 8, 0)
SPANISH_MONTHS = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"]


def jira_date(when: datetime, months: list[str] | None = None) -> str:
    """Jira's CSV rendering `25/Feb/26 10:17 PM` (in the exporting user's language)."""
    month = (months or [f"{datetime(2000, m, 1):%b}" for m in range(1, 13)])[when.month - 1]
    hour = when.hour % 12 or 12
    return f"{when.day:02d}/{month}/{when:%y} {hour}:{when:%M} {'AM' if when.hour < 12 else 'PM'}"


def write(name: str, header: list[str], rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8"):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    (OUT / name).write_bytes(buffer.getvalue().encode(encoding))


def tickets(rng: random.Random, count: int) -> list[dict]:
    """Invented tickets: a type, times, a component on most, a due date on changes."""
    kinds = ["Incident"] * 5 + ["Change"] * 3 + ["Task"] * 2
    items = []
    for n in range(1, count + 1):
        created = START + timedelta(hours=rng.randint(0, 24 * 200), minutes=rng.choice([0, 10, 25, 40]))
        kind = kinds[n % len(kinds)]
        resolved = created + timedelta(hours=rng.randint(1, 72)) if n % 4 else None
        items.append(
            {
                "key": f"OPS-{100 + n}",
                "id": str(10000 + n),
                "kind": kind,
                "summary": f"{kind} {n}: {rng.choice(['mail relay', 'VPN', 'backup job', 'DNS', 'web cluster'])}",
                "created": created,
                "resolved": resolved,
                "done": resolved is not None,
                "priority": rng.choice(["Highest", "High", "Medium", "Low"]),
                "component": rng.choice(["Mail", "Network", "Backup", ""]) if n % 5 else "",
                "due": (created + timedelta(days=7)) if kind == "Change" else None,
                "assignee": rng.choice(["kari.nordmann", "ola.hansen", ""]),
                "reporter": rng.choice(["lise.berg", "per.olsen"]),
            }
        )
    return items


def jira_cloud(rng: random.Random) -> None:
    header = (
        ["Summary", "Issue key", "Issue id", "Issue Type", "Status", "Status Category", "Project key", "Priority"]
        + ["Resolution", "Assignee", "Reporter", "Creator", "Created", "Updated", "Resolved", "Due date"]
        + ["Components", "Components", "Labels", "Labels", "Description", "Custom field (Root cause)", "Comment"]
    )
    rows = []
    for t in tickets(rng, 30):
        second = "Monitoring" if t["component"] == "Network" else ""
        rows.append(
            [t["summary"], t["key"], t["id"], t["kind"], "Done" if t["done"] else "In Progress"]
            + ["Done" if t["done"] else "In Progress", "OPS", t["priority"], "Done" if t["done"] else ""]
            + [t["assignee"], t["reporter"], t["reporter"], jira_date(t["created"]), jira_date(t["created"])]
            + [jira_date(t["resolved"]) if t["resolved"] else "", jira_date(t["due"]) if t["due"] else ""]
            + [t["component"], second, "ops", "", f"Reported by monitoring: {t['summary']}", "", ""]
        )
    write("jira-cloud.csv", header, rows)


def jira_data_center(rng: random.Random) -> None:
    header = (
        ["Summary", "Issue key", "Issue id", "Issue Type", "Status", "Project key", "Priority", "Resolution"]
        + ["Assignee", "Reporter", "Creator", "Created", "Updated", "Resolved", "Due Date", "Component/s"]
        + ["Fix Version/s", "Labels", "Description", "Comment", "Comment"]
    )
    rows = []
    for t in tickets(rng, 30):
        status = "Verified - UAT" if t["done"] else "Open"  # a custom workflow: only Resolution says done
        comment = f"{jira_date(t['created'])};{t['assignee'] or 'admin'};Restarted the service;;;"
        rows.append(
            [t["summary"], t["key"], t["id"], t["kind"], status, "OPS", t["priority"]]
            + ["Fixed" if t["done"] else "Unresolved", t["assignee"], t["reporter"], t["reporter"]]
            + [jira_date(t["created"]), jira_date(t["created"]), jira_date(t["resolved"]) if t["resolved"] else ""]
            + [jira_date(t["due"]) if t["due"] else "", t["component"], "", "", f"Summary: {t['summary']}"]
            + [comment, ""]
        )
    write("jira-datacenter.csv", header, rows)


def jsm_spanish(rng: random.Random) -> None:
    header = (
        ["Resumen", "Clave de incidencia", "Id. de la incidencia", "Tipo de Incidencia", "Estado"]
        + ["Categoría de estado", "Prioridad", "Resolución", "Responsable", "Informador", "Creada", "Resuelta"]
        + ["Fecha de vencimiento", "Componentes", "Descripción", "Campo personalizado (Approvals)"]
        + ["Campo personalizado (Business impact)"]
    )
    rows = []
    kinds = {"Incident": "Incidente", "Change": "Cambio", "Task": "Tarea"}
    for t in tickets(rng, 30):
        approvals = "ApprovalsCFValue{approvals=[]}"  # JSM's rendering of "no approval"
        rows.append(
            [t["summary"], t["key"], t["id"], kinds[t["kind"]], "Cerrada" if t["done"] else "En curso"]
            + ["Listo" if t["done"] else "En curso", t["priority"], "Listo" if t["done"] else "Sin resolver"]
            + [t["assignee"], t["reporter"], jira_date(t["created"], SPANISH_MONTHS)]
            + [jira_date(t["resolved"], SPANISH_MONTHS) if t["resolved"] else ""]
            + [jira_date(t["due"], SPANISH_MONTHS) if t["due"] else "", t["component"], t["summary"]]
            + [approvals if t["kind"] == "Change" else "", "Medio" if t["kind"] == "Change" else ""]
        )
    write("jsm-es.csv", header, rows)


def jira_server_excel(rng: random.Random) -> None:
    """A Jira Server 8 export opened and re-saved by Excel (Windows, "CSV (comma delimited)"):
    cp1252, dates re-rendered by Excel as 16/02/2017 15:26, and hundreds of rows of bare
    commas where Excel kept the formatted range."""
    header = ["Issue key", "Summary", "Issue Type", "Status", "Priority", "Created", "Resolved", "Component/s"]
    header += ["Description"]
    rows = [
        ["SRV-1", "Störung: Mailserver nicht erreichbar", "Incident", "Closed", "High", "16/02/2017 15:26"]
        + ["17/02/2017 09:05", "Mail", "Café network — résumé"]
    ]
    rows += [[""] * len(header) for _ in range(739)]
    write("jira-server-excel.csv", header, rows, encoding="cp1252")


def gitlab(rng: random.Random, newer: bool) -> None:
    older = ["Issue ID", "URL", "Title", "State", "Description", "Author", "Author Username", "Assignee"]
    older += ["Assignee Username", "Confidential", "Locked", "Due Date", "Created At (UTC)", "Updated At (UTC)"]
    older += ["Closed At (UTC)", "Milestone", "Weight", "Labels", "Time Estimate", "Time Spent"]
    header = (
        ["Title", "Description", "Issue ID", "IID", "URL", "State", "Author", "Author Username", "Assignee"]
        + ["Assignee Username", "Confidential", "Locked", "Due Date", "Created At (UTC)", "Updated At (UTC)"]
        + ["Closed At (UTC)", "Milestone", "Weight", "Labels", "Time Estimate", "Time Spent", "Epic ID", "Epic Title"]
        if newer
        else older
    )
    rows = []
    for n, t in enumerate(tickets(rng, 20), start=1):
        labels = {"Incident": "Incident,priority::1" if n % 2 else "type::incident", "Change": "change"}.get(
            t["kind"], "feature"
        )
        values = {
            "Title": t["summary"],
            "Description": f"## Impact\nCustomers could not log in\n## Root cause\nExpired certificate {n}",
            "Issue ID": str(5000 + n),
            "IID": str(n),
            "URL": f"https://gitlab.example.com/nordlys/portal/-/issues/{n}",
            "State": "closed" if t["done"] else "opened",
            "Author": "Lise Berg",
            "Author Username": "lise.berg",
            "Assignee": "Ola Hansen" if t["assignee"] else "",
            "Assignee Username": "ola.hansen" if t["assignee"] else "",
            "Confidential": "No",
            "Locked": "No",
            "Due Date": "",
            "Created At (UTC)": f"{t['created']:%Y-%m-%d %H:%M:%S}",
            "Updated At (UTC)": f"{t['created']:%Y-%m-%d %H:%M:%S}",
            "Closed At (UTC)": f"{t['resolved']:%Y-%m-%d %H:%M:%S}" if t["resolved"] else "",
            "Labels": labels,
        }
        rows.append([values.get(column, "") for column in header])
    write("gitlab-16.csv" if newer else "gitlab-13.csv", header, rows)


def servicenow_cmdb(rng: random.Random) -> None:
    header = ["sys_id", "name", "sys_class_name", "install_status", "location", "owned_by", "install_date"]
    header += ["short_description"]
    rows = []
    for n in range(1, 21):
        rows.append(
            [f"{n:032x}", f"srv-{n:03d}", rng.choice(["Server", "Application", "Linux Server"])]
            + [rng.choice(["Installed", "In Maintenance", "Retired"]), rng.choice(["Oslo DC1", "Bergen DC2", ""])]
            + [rng.choice(["Kari Nordmann", ""]), f"2024-0{1 + n % 9}-1{n % 10} 08:00:00", f"Host {n}"]
        )
    write("servicenow-cmdb_ci.csv", header, rows)


def glpi_french(rng: random.Random) -> None:
    header = ["ID", "Titre", "Statut", "Date d'ouverture", "Dernière modification", "Priorité"]
    header += ["Demandeur - Demandeur", "Attribué à - Technicien", "Catégorie", "Type", "Date de résolution"]
    rows = []
    for n, t in enumerate(tickets(rng, 25), start=1):
        kind = "Incident" if t["kind"] == "Incident" else "Demande"
        rows.append(
            [str(n), f"Panne {t['summary']}", "Résolu" if t["done"] else "En cours (Attribué)"]
            + [f"{t['created']:%Y-%m-%d %H:%M}", f"{t['created']:%Y-%m-%d %H:%M}", "Haute" if n % 3 else "Moyenne"]
            + ["Lise Berg", "Ola Hansen" if t["assignee"] else "", "Réseau", kind]
            + [f"{t['resolved']:%Y-%m-%d %H:%M}" if t["resolved"] else ""]
        )
    write("glpi-fr.csv", header, rows, delimiter=";", encoding="utf-8-sig")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for make in (jira_cloud, jira_data_center, jsm_spanish, jira_server_excel, servicenow_cmdb, glpi_french):
        make(random.Random(29110))
    gitlab(random.Random(29110), newer=False)
    gitlab(random.Random(29110), newer=True)
    print(f"wrote {len(list(OUT.glob('*.csv')))} exports to {OUT}")


if __name__ == "__main__":
    main()
