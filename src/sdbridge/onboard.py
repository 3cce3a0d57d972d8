"""`sdbridge init --from FILE...`: a working config from a team's own exports, with no
hand-written mapping.

Each export is read with the same reader a check uses (encoding, delimiter, blank rows,
workbooks), then:
- the preset is the one whose columns the file has most of (headers matched as a check
  matches them: any case, any spelling of `headers.yaml`, any language of
  `mapping/languages`), so the choice is data, not a list of file names;
- the flavour (Jira Cloud / Data Center / JSM, GitLab's column order, ServiceNow, GLPI) and
  the UI language are named from the headers, for the user to confirm;
- date formats are the ones that read the file's own date values (month names in the
  export's language included);
- `where:` is proposed from the values the file has: when none of a preset's issue types is
  present, the values that name an incident or a change in any of our languages are used;
  a work product with no such value is switched off, with a comment saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from sdbridge.connectors.base import RawTable
from sdbridge.dates import parse_datetimes
from sdbridge.errors import ConfigError
from sdbridge.locales import detect_language, header_key, value_key
from sdbridge.mapping.columns import ColumnResolver
from sdbridge.mapping.recognise import Recognition, recognise
from sdbridge.mapping.transforms import wanted_values
from sdbridge.values import blank_mask, is_list_column
from sdbridge.zones import local_zone

FILE_PRESETS = (
    "jira-csv",
    "gitlab-csv",
    "glpi-csv",
    "servicenow-incident",
    "servicenow-change",
    "servicenow-problem",
    "generic-tickets",
    "generic-cmdb",
    "generic-feedback",
    "roles-list",
    "service-catalogue",
    "agreements-register",
)
"""Presets that read an export file (the others read an API or a documents folder)."""

GENERIC_WEIGHT = 0.9
"""A generic preset (`generic: true`) yields to a product's own preset that fits as well."""

COMMON_DATE_FORMATS = (
    "%d/%b/%y %I:%M %p",
    "%d/%b/%y %H:%M",
    "%d/%b/%y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
"""Formats tried on a file's date values when its preset's own do not read them."""

KIND_WORDS = {
    "WP.18": ("incident", "incidente", "incidencia", "vorfall", "storung", "hendelse", "panne", "outage"),
    "WP.11": ("change", "cambio", "changement", "anderung", "mudanca", "modifica", "wijziging", "endring"),
}
"""Words (header keys: no case, no accents) that name an incident or a change in a value."""

SAMPLE_ROWS = 2000


@dataclass
class Proposal:
    """What `init --from` found in one export and will write for it."""

    path: Path
    name: str
    type: str
    rows: int
    preset: str | None
    score: float
    flavour: str
    language: str | None
    date_formats: tuple[str, ...] = ()
    map: dict[str, Any] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    recognition: Recognition | None = None
    """What the file was taken for, and by which signals."""
    doubts: list[str] = field(default_factory=list)
    """What the proposal is unsure of, for the user to check."""
    event_log: dict[str, str] | None = None
    notes: list[str] = field(default_factory=list)
    """What reading the file said (rows skipped above the header, blank rows)."""

    @property
    def unsure(self) -> list[str]:
        return [*(self.recognition.doubts if self.recognition else []), *self.doubts]


def _read(path: Path, name: str) -> tuple[str, RawTable]:
    from sdbridge.connectors.tables import EXCEL_SUFFIXES, TableFileConnector
    from sdbridge.sources import TableSourceConfig

    kind: Literal["csv", "xlsx"] = "xlsx" if path.suffix.lower() in EXCEL_SUFFIXES else "csv"
    source = TableSourceConfig(name=name, type=kind, path=path)
    return kind, TableFileConnector(source, resolve=lambda p: p).pull()


def _preset_fields(preset: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(WP, field, references) of a preset."""
    from sdbridge.mapping.spec import FieldSpec

    found = []
    for wp_id, mapping in (preset.get("map") or {}).items():
        for name, spec in ((mapping or {}).get("fields") or {}).items():
            refs = FieldSpec.model_validate(spec).references()
            if refs:
                found.append((wp_id, name, refs))
    return found


def _score(resolver: ColumnResolver, preset: dict[str, Any]) -> float:
    """The share of a preset's fields whose column the file has, plus what its `recognise:`
    marks add (a GLPI `item - field` header, ServiceNow `INC` numbers: half a point each);
    0 without an id column or without the columns its `where:` needs."""
    fields = _preset_fields(preset)
    if not fields:
        return 0.0
    has = [any(resolver.has(r) for r in refs) for _, _, refs in fields]
    if not any(ok for (_, name, _), ok in zip(fields, has) if name == "id"):
        return 0.0
    for mapping in (preset.get("map") or {}).values():
        for condition in [*((mapping or {}).get("where") or []), *((mapping or {}).get("where_any") or [])]:
            if not resolver.has(condition["from"]):
                return 0.0
    score = sum(has) / len(has)
    marks = preset.get("recognise") or {}
    if any(resolver.has(h) for h in marks.get("headers") or ()):
        score += 0.5
    for column, pattern in (marks.get("values") or {}).items():
        if resolver.has(column):
            sample = _sample(resolver, [column])
            if sample is not None and sample.astype("str").str.match(pattern).mean() >= 0.5:
                score += 0.5
    return score * (GENERIC_WEIGHT if preset.get("generic") else 1.0)


def _flavour(preset: str | None, resolver: ColumnResolver, headers: list[str], language: str | None) -> str:
    keys = {header_key(h) for h in headers}
    spoken = f", {language} UI" if language else ""
    if preset == "jira-csv":
        if resolver.has("Request Type") or resolver.has("Approvals") or any("request type" in k for k in keys):
            product = "Jira Service Management"
        else:
            product = "Jira"
        if "component/s" in keys or "fix version/s" in keys:
            deployment = "Data Center/Server headers"
        elif "components" in keys or "status category" in keys or "fix versions" in keys:
            deployment = "Cloud headers"
        else:
            deployment = "headers of either deployment"
        return f"{product} CSV export ({deployment}{spoken})"
    if preset == "gitlab-csv":
        order = "newer column order (Title first)" if header_key(headers[0]) == "title" else "older column order"
        return f"GitLab issues CSV ({order})"
    if preset == "glpi-csv":
        return f"GLPI ticket list{spoken}"
    style = "field names" if any("_" in h for h in headers) else "labels"
    if preset is not None and preset.startswith("servicenow-"):
        table = preset.removeprefix("servicenow-").replace("change", "change_request")
        return f"ServiceNow {table} list export ({style} as headers)"
    servicenow = {"sys id", "sys class name", "install status", "sys updated on", "sys created on"}
    if preset == "generic-cmdb" and servicenow & keys:
        return f"ServiceNow CMDB list export (cmdb_ci, {style} as headers)"
    if preset == "generic-tickets" and any(k.startswith("u ") for k in keys):
        return "ServiceNow custom table export (u_ fields read by meaning)"
    return preset or "not recognised"


def _sample(resolver: ColumnResolver, refs: list[str]) -> pd.Series | None:
    for ref in refs:
        if resolver.has(ref):
            column = resolver.column(ref).head(SAMPLE_ROWS)
            if is_list_column(column):
                column = column.map(lambda v: v[0] if isinstance(v, list) and v else None).astype("str")
            filled = column[~blank_mask(column)]
            if len(filled):
                return filled
    return None


def _date_formats(resolver: ColumnResolver, preset: dict[str, Any], timezone: str | None) -> tuple[str, ...]:
    """The formats that read this file's date values, most used first; () when the preset's
    own formats already read nearly all of them."""
    from sdbridge.profile import FieldType, load_catalogue

    catalogue = load_catalogue()
    samples = []
    for wp_id, name, refs in _preset_fields(preset):
        wp = catalogue.work_product(wp_id)
        if name in wp.field_names and wp.field(name).type == FieldType.DATETIME:
            values = _sample(resolver, refs)
            if values is not None:
                samples.append(values.astype("str").str.strip())
    if not samples:
        return ()
    values = pd.concat(samples, ignore_index=True).drop_duplicates().head(SAMPLE_ROWS)
    own = tuple((preset.get("options") or {}).get("date_formats") or ())
    if own:
        _, bad = parse_datetimes(values, own, timezone)
        if bad.mean() <= 0.05:
            return ()
    hits: dict[str, int] = {}
    for fmt in dict.fromkeys((*own, *COMMON_DATE_FORMATS)):
        parsed, _ = parse_datetimes(values, (fmt,), timezone)
        # ISO values are read whatever the format: count what this format alone adds
        alone = int(parsed.notna().sum())
        if alone:
            hits[fmt] = alone
    return tuple(sorted(hits, key=lambda f: -hits[f]))


NOT_INCIDENTS = (
    "Change", "Change Request", "Normal Change", "Standard Change", "Emergency Change", "Problem", "Task",
    "Sub-task", "Subtask", "Epic", "Post-incident review",
)  # fmt: skip
"""Issue types of a service desk project that are not its incidents and requests."""

UPDATE_COLUMNS = (
    "Updated", "Last update", "Updated at", "Updated At (UTC)", "sys_updated_on", "Last updated", "Modified",
    "Last modified", "Changed", "Timestamp",
)  # fmt: skip
"""Columns that give each row's update time: an export with one row per update is an event log."""


def _counts(resolver: ColumnResolver, reference: str) -> pd.Series:
    column = resolver.column(reference)
    values = column.explode() if is_list_column(column) else column
    return values.dropna().astype("str").str.strip().replace("", None).dropna().value_counts()


def _where(resolver: ColumnResolver, preset: dict[str, Any], proposal: Proposal) -> None:
    """Keep a preset's `where:` when the file has its values (in any shipped language); else
    take a service desk project's requests as incidents, or propose the file's own values
    that name the same kind of record, or switch the work product off."""
    for wp_id, mapping in (preset.get("map") or {}).items():
        conditions = (mapping or {}).get("where") or []
        for condition in conditions:
            wanted = condition.get("in")
            if wanted is None or not resolver.has(condition["from"]):
                continue
            counts = _counts(resolver, condition["from"])
            if any(value_key(v) in wanted_values(wanted) for v in counts.index):
                continue
            seen = ", ".join(f"{v} {n}" for v, n in counts.head(6).items()) or "none"
            if wp_id == "WP.18" and _service_desk(resolver, condition["from"], counts, proposal):
                continue
            words = KIND_WORDS.get(wp_id, ())
            own = [v for v in counts.index if any(w in header_key(v) for w in words)]
            if own:
                proposal.map[wp_id] = {"where": [{"from": condition["from"], "in": own}]}
                proposal.comments.append(
                    f"{wp_id}: {condition['from']} values {', '.join(own)} taken as the preset's {wanted[0]}"
                )
            else:
                proposal.map[wp_id] = None
                proposal.comments.append(
                    f"{wp_id} off: no {condition['from']} value names one (values: {seen}); "
                    f"set map.{wp_id}.where to switch it on"
                )


def _service_desk(resolver: ColumnResolver, type_column: str, counts: pd.Series, proposal: Proposal) -> bool:
    """A Jira Service Management project whose request types name no incident: its requests
    (an account locked, a VPN down) are incidents and service requests, both WP.18 (clause
    10.31), all but the types that name changes, problems or tasks."""
    if not resolver.has("Project type"):
        return False
    projects = _counts(resolver, "Project type")
    if "service_desk" not in {value_key(v) for v in projects.index}:
        return False
    others = [v for v in counts.index if value_key(v) in wanted_values(NOT_INCIDENTS)]
    requests = [f"{v} {n}" for v, n in counts.items() if v not in others]
    if not requests:
        return False
    where: list[dict[str, Any]] = [{"from": "Project type", "in": ["service_desk"]}]
    if others:
        where.append({"from": type_column, "not_in": others})
    proposal.map["WP.18"] = {"where": where}
    proposal.comments.append(
        f"WP.18: a service desk project's requests ({', '.join(requests[:6])}) name no incident type: they are "
        "its incidents and service requests, both service incident records (clause 10.31)"
        + (f"; {', '.join(others)} are left out" if others else "")
    )
    return True


def _event_log(resolver: ColumnResolver, preset: dict[str, Any], proposal: Proposal) -> None:
    """An export with one row per update of a ticket (an audit or event log): the id repeats
    on many rows and an update time tells them apart. Proposes `event_log:` so a check keeps
    the latest row of each ticket, with its earliest opened time."""
    fields = {name: refs for _, name, refs in _preset_fields(preset)}
    key = next((r for r in fields.get("id", []) if resolver.has(r)), None)
    updated = next((r for r in UPDATE_COLUMNS if resolver.has(r)), None)
    if key is None or updated is None or is_list_column(resolver.column(key)):
        return
    ids = resolver.column(key).astype("str").str.strip()
    ids = ids[~blank_mask(ids)]
    tickets = ids.nunique()
    if not len(ids) or len(ids) - tickets < max(2, len(ids) // 10):
        return
    times = resolver.column(updated).astype("str")[ids.index]
    repeated = ids.duplicated(keep=False)
    if times[repeated].groupby(ids[repeated]).nunique().min() < 2:
        return  # the same ticket twice, not its updates
    opened = next((r for r in fields.get("started_at", []) if resolver.has(r)), None)
    log: dict[str, str] = {"key": str(resolver.resolve(key)), "updated": str(resolver.resolve(updated))}
    if opened is not None:
        log["opened"] = str(resolver.resolve(opened))
    proposal.event_log = log
    proposal.comments.append(
        f"one row per update (an event log): {len(ids):,} rows -> {tickets:,} tickets by {log['key']}; a check keeps "
        f"the latest row of each by {log['updated']}" + (f", with its earliest {log['opened']}" if opened else "")
    )


def _slug(path: Path, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-.") or "export"
    if not base[0].isalnum():
        base = f"x{base}"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def propose(paths: list[Path], *, timezone: str | None = None) -> list[Proposal]:
    """One proposal per export; a file that cannot be read raises its `InputError`."""
    from sdbridge.config import load_preset

    presets = {name: load_preset(name) for name in FILE_PRESETS}
    taken: set[str] = set()
    proposals = []
    for path in paths:
        name = _slug(path, taken)
        if path.is_dir():  # policies, procedures, reports: a documents folder
            documents = sorted(path.rglob("*.md"))
            proposals.append(
                Proposal(path, name, "documents", len(documents), "documents", 1.0, "documents folder (Markdown)", None)
            )
            if not documents:
                proposals[-1].comments.append("no Markdown document (*.md) in it yet: see `sdbridge init --templates`")
            continue
        kind, raw = _read(path, name)
        resolver = ColumnResolver(raw)
        headers = list(raw.columns)
        recognition = recognise(resolver)
        # Only the presets of the file's kind are weighed: a ticket list never becomes a
        # CMDB or a feedback log, a CI list never becomes tickets.
        weighed = {p: spec for p, spec in presets.items() if recognition.kind in (None, spec.get("kind"))}
        scores = {preset: _score(resolver, spec) for preset, spec in weighed.items()}
        best = max(scores, key=lambda p: scores[p]) if scores else None
        chosen = best if best is not None and scores[best] > 0 else None
        language = detect_language(headers)
        proposal = Proposal(
            path=path,
            name=name,
            type=kind,
            rows=raw.items,
            preset=chosen,
            score=scores[best] if best is not None else 0.0,
            flavour=_flavour(chosen, resolver, headers, language),
            language=language,
            recognition=recognition,
        )
        proposal.notes.extend(raw.notes)
        if chosen is not None:
            preset = presets[chosen]
            zone = timezone or (preset.get("options") or {}).get("timezone")
            proposal.date_formats = _date_formats(resolver, preset, zone)
            _where(resolver, preset, proposal)
            if recognition.kind == "tickets":
                _event_log(resolver, preset, proposal)
            if proposal.score < 0.35:
                proposal.doubts.append(
                    f"few of the {chosen} preset's columns are in the file ({proposal.score:.0%}): check the mapping "
                    "with `sdbridge mapping`"
                )
        elif recognition.kind is not None:
            proposal.comments.append(
                f"it is {recognition.label}, but no preset of that kind fits its columns: map them under `map:` "
                "(see `sdbridge profile` for the fields)"
            )
        else:
            proposal.comments.append(
                "no preset fits its columns: map them under `map:` (see `sdbridge profile` for the fields)"
            )
        proposals.append(proposal)
    return proposals


def render(proposals: list[Proposal], out: Path, *, timezone: str | None = None) -> str:
    """The config text: one commented source per export, paths relative to the config."""
    import yaml

    lines = [
        f"# Written by `sdbridge init --from` on {datetime.now(UTC):%Y-%m-%d} from {len(proposals)} export(s).",
        f"# Check it with:  sdbridge check -c {out.name}",
        "version: 1",
        "profile:",
        "  variation: full   # governance, operational or full",
        "sources:",
    ]
    base = out.resolve().parent
    for p in proposals:
        try:
            where = p.path.resolve().relative_to(base).as_posix()
        except ValueError:
            where = p.path.resolve().as_posix()
        source: dict[str, Any] = {"name": p.name, "type": p.type, "path": where}
        if p.preset:
            source["preset"] = p.preset
        if timezone:
            source["timezone"] = timezone
        if p.date_formats:
            source["date_formats"] = list(p.date_formats)
        if p.event_log:
            source["event_log"] = p.event_log
        if p.map:
            source["map"] = p.map
        elif not p.preset:
            source["map"] = {}
        lines.append(f"  # {_comment(where)}: {p.flavour}; {p.rows} row(s)")
        if p.recognition is not None and p.recognition.kind is not None:
            lines.append(f"  # {_comment(p.recognition.said())}")
        lines.extend(f"  # {_comment(c)}" for c in p.comments)
        lines.extend(f"  # unsure: {_comment(d)}" for d in p.unsure)
        if not timezone:
            lines.append(f"  # timezone: {local_zone()}   # the zone of the user who exported it (default UTC)")
        body = yaml.safe_dump([source], sort_keys=False, allow_unicode=True, width=100)
        lines.extend(f"  {line}" for line in body.rstrip("\n").split("\n"))
    return "\n".join(lines) + "\n"


def _comment(text: str) -> str:
    """Text from the exports (a file name, a header, a value) as a YAML comment: control
    characters (an ESC in a file name) shown escaped, so the config reads back."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def write(paths: list[Path], out: Path, *, force: bool = False, timezone: str | None = None) -> list[Proposal]:
    if out.exists() and not force:
        raise ConfigError(f"{out} exists; use --force to overwrite it")
    if not paths:
        raise ConfigError("give at least one export after --from")
    proposals = propose(paths, timezone=timezone)
    from sdbridge.files import atomic_write

    text = render(proposals, out, timezone=timezone)
    atomic_write(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return proposals
