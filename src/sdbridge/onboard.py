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
from sdbridge.errors import ConfigError
from sdbridge.locales import detect_language, header_key
from sdbridge.mapping.engine import ColumnResolver
from sdbridge.values import blank_mask, is_list_column, parse_datetimes

FILE_PRESETS = (
    "jira-csv",
    "gitlab-csv",
    "glpi-csv",
    "generic-cmdb",
    "generic-feedback",
    "roles-list",
    "service-catalogue",
    "agreements-register",
)
"""Presets that read an export file (the others read an API or a documents folder)."""

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
    """The share of a preset's fields whose column the file has; 0 without an id column or
    without the columns its `where:` needs."""
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
    return sum(has) / len(has)


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
    if preset == "generic-cmdb" and ({"sys_id", "sys_class_name", "install_status"} & keys):
        return "ServiceNow CMDB list export (cmdb_ci)"
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


def _where(resolver: ColumnResolver, preset: dict[str, Any], proposal: Proposal) -> None:
    """Keep a preset's `where:` when the file has its values; else propose the file's own
    values that name the same kind of record, or switch the work product off."""
    for wp_id, mapping in (preset.get("map") or {}).items():
        conditions = (mapping or {}).get("where") or []
        for condition in conditions:
            wanted = condition.get("in")
            if wanted is None or not resolver.has(condition["from"]):
                continue
            column = resolver.column(condition["from"])
            values = column.explode() if is_list_column(column) else column
            counts = values.dropna().astype("str").str.strip().value_counts()
            present = {header_key(v) for v in counts.index}
            if present & {header_key(str(w)) for w in wanted}:
                continue
            words = KIND_WORDS.get(wp_id, ())
            own = [v for v in counts.index if any(w in header_key(v) for w in words)]
            seen = ", ".join(f"{v} {n}" for v, n in counts.head(6).items()) or "none"
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
        scores = {preset: _score(resolver, spec) for preset, spec in presets.items()}
        best = max(scores, key=lambda p: scores[p])
        chosen = best if scores[best] > 0 else None
        language = detect_language(headers)
        proposal = Proposal(
            path=path,
            name=name,
            type=kind,
            rows=raw.items,
            preset=chosen,
            score=scores[best],
            flavour=_flavour(chosen, resolver, headers, language),
            language=language,
        )
        if chosen is not None:
            preset = presets[chosen]
            zone = timezone or (preset.get("options") or {}).get("timezone")
            proposal.date_formats = _date_formats(resolver, preset, zone)
            _where(resolver, preset, proposal)
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
        if p.map:
            source["map"] = p.map
        elif not p.preset:
            source["map"] = {}
        lines.append(f"  # {where}: {p.flavour}; {p.rows} row(s)")
        lines.extend(f"  # {c}" for c in p.comments)
        if not timezone:
            lines.append("  # timezone: Europe/Oslo   # the zone of the user who exported it (default UTC)")
        body = yaml.safe_dump([source], sort_keys=False, allow_unicode=True, width=100)
        lines.extend(f"  {line}" for line in body.rstrip("\n").split("\n"))
    return "\n".join(lines) + "\n"


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
