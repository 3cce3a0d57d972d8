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


# --- ServiceNow task tables ------------------------------------------------------------------
# The incident, change_request and problem tables as a list export writes them: field names
# (`number, short_description, ...`) or the list's labels (`Number, Short description, ...`),
# display values (`1 - Critical`, `Resolved`), dates `2026-02-03 08:40:00`, an empty reference
# as nothing or `(empty)`.

SN_INCIDENT = [  # (field name, label)
    ("number", "Number"), ("short_description", "Short description"), ("caller_id", "Caller"),
    ("priority", "Priority"), ("impact", "Impact"), ("state", "State"), ("assigned_to", "Assigned to"),
    ("cmdb_ci", "Configuration item"), ("description", "Description"), ("opened_at", "Opened"),
    ("resolved_at", "Resolved"), ("close_notes", "Resolution notes"), ("sys_updated_on", "Updated"),
]  # fmt: skip
SN_PRIORITIES = ["1 - Critical", "2 - High", "3 - Moderate", "4 - Low"]


def sn_time(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M:%S}"


def sn_incidents(rng: random.Random, count: int = 24) -> list[dict[str, str]]:
    rows = []
    for n, t in enumerate(tickets(rng, count), start=1):
        state = ["Resolved", "Closed", "In Progress", "On Hold", "New", "Canceled"][n % 6]
        done = state in ("Resolved", "Closed", "Canceled")
        resolved = t["created"] + timedelta(hours=3 + n)
        rows.append(
            {
                "number": f"INC00{10000 + n}",
                "short_description": t["summary"],
                "caller_id": t["reporter"],
                "priority": SN_PRIORITIES[n % 4],
                "impact": ["1 - High", "2 - Medium", "3 - Low"][n % 3],
                "state": state,
                "assigned_to": t["assignee"] if n % 5 else "(empty)",
                "cmdb_ci": t["component"] and f"{t['component'].lower()}-prod",
                "description": f"Users report: {t['summary']}" if n % 4 else "",
                "opened_at": sn_time(t["created"]),
                "resolved_at": sn_time(resolved) if done else "",
                "close_notes": "Restarted the service and verified" if done and n % 3 else "",
                "sys_updated_on": sn_time(resolved if done else t["created"]),
            }
        )
    return rows


def servicenow_incidents(rng: random.Random) -> None:
    rows = sn_incidents(rng)
    for style, name in (("field", "servicenow-incident-fields.csv"), ("label", "servicenow-incident-labels.csv")):
        header = [f if style == "field" else label for f, label in SN_INCIDENT]
        write(name, header, [[row[f] for f, _ in SN_INCIDENT] for row in rows])


def servicenow_incident_events(rng: random.Random) -> None:
    """An incident report with one row per update (an event log): the same number on each
    update, the state and update time moving on, `Opened` the same on every row."""
    rows = []
    for incident in sn_incidents(rng, 12):
        opened = datetime.strptime(incident["opened_at"], "%Y-%m-%d %H:%M:%S")
        steps = ["New", "In Progress", incident["state"]] if incident["state"] not in ("New",) else ["New"]
        for step, state in enumerate(steps):
            row = dict(incident, state=state, sys_updated_on=sn_time(opened + timedelta(hours=step)))
            if state not in ("Resolved", "Closed", "Canceled"):
                row.update(resolved_at="", close_notes="")
            rows.append(row)
    rng.shuffle(rows)  # exports come in the report's sort order, not the ticket's
    header = [label for _, label in SN_INCIDENT]
    write("servicenow-incident-events.csv", header, [[row[f] for f, _ in SN_INCIDENT] for row in rows])


def servicenow_changes(rng: random.Random) -> None:
    header = ["Number", "Short description", "Type", "State", "Priority", "Risk", "Requested by", "Approval"]
    header += ["Configuration item", "Justification", "Planned start date", "Actual end", "Opened"]
    rows = []
    for n, t in enumerate(tickets(rng, 15), start=1):
        approval = ["Approved", "Requested", "Not Yet Requested", "Approved"][n % 4]
        state = ["Closed", "Implement", "Assess", "Scheduled", "Review"][n % 5]
        rows.append(
            [f"CHG00{30000 + n}", t["summary"], ["Normal", "Standard", "Emergency"][n % 3], state]
            + [SN_PRIORITIES[n % 4], "Moderate", t["reporter"], approval]
            + [t["component"] and f"{t['component'].lower()}-prod", f"Needed for {t['summary']}" if n % 3 else ""]
            + [sn_time(t["created"] + timedelta(days=2)) if n % 4 else "", sn_time(t["created"] + timedelta(days=3))]
            + [sn_time(t["created"])]
        )
    write("servicenow-change-labels.csv", header, rows)


def servicenow_problems(rng: random.Random) -> None:
    header = ["number", "short_description", "state", "priority", "opened_by", "assigned_to", "cmdb_ci"]
    header += ["description", "cause_notes", "fix_notes", "workaround", "opened_at", "resolved_at"]
    rows = []
    for n, t in enumerate(tickets(rng, 10), start=1):
        state = ["Resolved", "Root Cause Analysis", "Fix in Progress", "Closed", "Assess"][n % 5]
        done = state in ("Resolved", "Closed")
        rows.append(
            [f"PRB00{40000 + n}", f"Recurring: {t['summary']}", state, SN_PRIORITIES[n % 4], t["reporter"]]
            + [t["assignee"], t["component"] and f"{t['component'].lower()}-prod", f"Seen on {n + 2} incidents"]
            + ["Certificate expired unnoticed" if n % 3 else "", "Monitoring of expiry added" if done and n % 2 else ""]
            + ["Restart the proxy", sn_time(t["created"]), sn_time(t["created"] + timedelta(days=5)) if done else ""]
        )
    write("servicenow-problem-fields.csv", header, rows)


def servicenow_custom_table(rng: random.Random) -> None:
    """A custom ServiceNow table (`u_it_ticket`) whose fields all carry the `u_` prefix."""
    header = ["u_number", "u_short_description", "u_state", "u_priority", "u_requester", "u_assigned_to"]
    header += ["u_opened", "u_closed", "u_resolution_notes"]
    rows = []
    for n, t in enumerate(tickets(rng, 12), start=1):
        done = n % 3 != 0
        rows.append(
            [f"UIT{5000 + n}", t["summary"], "Closed" if done else "Open", t["priority"], t["reporter"]]
            + [t["assignee"], sn_time(t["created"]), sn_time(t["created"] + timedelta(hours=9)) if done else ""]
            + ["Rebooted the switch" if done and n % 2 else ""]
        )
    write("servicenow-u-table.csv", header, rows)


# --- GLPI in other languages, no Type column ---------------------------------------------------
# GLPI 10's ticket list as exported with the columns the user chose (no Type), in the UI
# language; column names, statuses and priorities as GLPI's own translation files write them
# (locales/<lang>.po of glpi-project/glpi). Portuguese: ids with a thousands separator
# (`2 553`), several technicians joined by `<br>`.

GLPI_LANGUAGES = {
    "pt": {
        "header": ["ID", "Título", "Status", "Data de abertura", "Última atualização", "Prioridade"]
        + ["Requerente - Requerente", "Atribuído - Técnico", "Categoria"],
        "open": "Em atendimento (atribuído)", "done": ["Solucionado", "Fechado"],
        "priorities": ["Muito alta", "Alta", "Média", "Baixa"],
    },
    "es": {
        "header": ["ID", "Título", "Estado", "Fecha de apertura", "Última actualización", "Prioridad"]
        + ["Solicitante - Solicitante", "Asignado a - Técnico", "Categoría"],
        "open": "En curso (asignada)", "done": ["Resuelto", "Cerrado"],
        "priorities": ["Muy urgente", "Urgente", "Mediana", "Baja"],
    },
    "de": {
        "header": ["ID", "Titel", "Status", "Erstellungsdatum", "Letzte Aktualisierung", "Priorität"]
        + ["Anforderer - Anforderer", "zugewiesen zu - Techniker", "Kategorie"],
        "open": "in Bearbeitung (zugewiesen)", "done": ["Gelöst", "Geschlossen"],
        "priorities": ["Sehr hoch", "Hoch", "Mittel", "Niedrig"],
    },
}  # fmt: skip


def glpi_languages(rng: random.Random) -> None:
    for code, words in GLPI_LANGUAGES.items():
        rows = []
        for n, t in enumerate(tickets(rng, 14), start=1):
            number = 2540 + n
            ident = f"{number // 1000} {number % 1000:03d}" if code == "pt" else str(number)
            technicians = "Ola Hansen<br>Kari Nordmann" if code == "pt" and n % 4 == 0 else "Ola Hansen"
            status = words["done"][n % 2] if t["done"] else words["open"]
            rows.append(
                [ident, t["summary"], status, f"{t['created']:%Y-%m-%d %H:%M}", f"{t['created']:%Y-%m-%d %H:%M}"]
                + [words["priorities"][n % 4], "Lise Berg", technicians if t["assignee"] else "", ""]
            )
        write(f"glpi-{code}.csv", words["header"], rows, delimiter=";", encoding="utf-8-sig")


# --- Jira in German, values translated ---------------------------------------------------------


def jira_german(rng: random.Random) -> None:
    """Jira Cloud with a German UI: headers, issue types, statuses, status categories and
    priorities as that UI writes them (Vorfall, Offen / Wieder geöffnet / Fertig, Höchste ...)."""
    header = ["Zusammenfassung", "Vorgangsschlüssel", "Vorgangstyp", "Status", "Priorität", "Lösung"]
    header += ["Bearbeiter", "Autor", "Erstellt", "Erledigt", "Komponenten", "Beschreibung"]
    priorities = ["Höchste", "Hoch", "Mittel", "Niedrig"]
    kinds = {"Incident": "Vorfall", "Change": "Änderung", "Task": "Aufgabe"}
    rows = []
    for n, t in enumerate(tickets(rng, 24), start=1):
        status = "Fertig" if t["done"] else ("Wieder geöffnet" if n % 8 == 0 else "Offen")
        resolution = "Fertig" if t["done"] or status == "Wieder geöffnet" else "Nicht erledigt"  # left set on reopening
        rows.append(
            [t["summary"], f"DE-{n}", kinds[t["kind"]], status, priorities[n % 4], resolution]
            + [t["assignee"], t["reporter"], jira_date(t["created"], GERMAN_MONTHS)]
            + [jira_date(t["resolved"], GERMAN_MONTHS) if t["resolved"] else "", t["component"], t["summary"]]
        )
    write("jira-de.csv", header, rows)


GERMAN_MONTHS = ["Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"]


# --- a hand-kept workbook with a title ---------------------------------------------------------


def titled_workbook(rng: random.Random) -> None:
    """A CMDB kept by hand in Excel: a title line, the date it was last checked, a blank row,
    then the header and the CIs."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "CMDB"
    sheet.append(["Configuration register — Nordlys Hosting AS"])
    sheet.append(["Last checked 2026-03-01 by Kari"])
    sheet.append([])
    sheet.append(["CI ID", "Name", "Description", "Type", "Status", "In service since", "Owner", "Location"])
    for n in range(1, 16):
        sheet.append(
            [f"CI-{n:03d}", f"srv-{n:02d}", f"Host {n}" if n % 4 else None, rng.choice(["Server", "Software"])]
            + ["In service", f"2024-0{1 + n % 9}-15", rng.choice(["Kari Nordmann", None]), "Oslo DC1"]
        )
    book.save(OUT / "cmdb-titled.xlsx")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for make in (jira_cloud, jira_data_center, jsm_spanish, jira_server_excel, servicenow_cmdb, glpi_french):
        make(random.Random(29110))
    gitlab(random.Random(29110), newer=False)
    gitlab(random.Random(29110), newer=True)
    for make in (
        servicenow_incidents,
        servicenow_incident_events,
        servicenow_changes,
        servicenow_problems,
        servicenow_custom_table,
        glpi_languages,
        jira_german,
        titled_workbook,
    ):
        make(random.Random(29110))
    print(f"wrote {len(list(OUT.glob('*.csv')) + list(OUT.glob('*.xlsx')))} exports to {OUT}")


if __name__ == "__main__":
    main()
