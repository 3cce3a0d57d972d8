"""Report sinks: each writes one file from an `Assessment`, atomically (a crash never
leaves a half-written report). Built-ins are listed here; third-party sinks register
through the entry-point group `sdbridge.sinks` (name = format, value = a callable
`(assessment, out_dir) -> Path`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from sdbridge.assessment import Assessment
from sdbridge.errors import ConfigError
from sdbridge.files import atomic_write
from sdbridge.profile import load_catalogue

Sink = Callable[[Assessment, Path], Path]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may run as a formula at the start of a cell."""


def web_link(url: object) -> str | None:
    """Only http(s) links become links: a `javascript:` URL in an export must never run."""
    text = str(url or "").strip()
    return text if text.lower().startswith(("https://", "http://")) else None


_LINE_FORMULA = re.compile(r"([\r\n])([=+\-@\t])")
"""A formula at the start of a line inside a cell: a reader that takes a bare CR as the end of
a row would start a new row with it."""
_LINE_START = re.compile(r"[\r\n][=+\-@\t]")


def neutralise(value: object) -> object:
    """One cell: text a spreadsheet would run as a formula gets a leading quote, at the start
    of the cell and at the start of every line in it."""
    if not isinstance(value, str):
        return value
    value = _LINE_FORMULA.sub(r"\1'\2", value)
    return "'" + value if value.startswith(FORMULA_START) else value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix cells that a spreadsheet would run as a formula with a quote, so a ticket
    title like `=HYPERLINK(...)` (or `ok\r=2+2`) stays text when an auditor opens the CSV."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            text = out[column].astype("str")
            risky = (text.str.startswith(FORMULA_START) | text.str.contains(_LINE_START, regex=True)).fillna(False)
            if risky.any():
                fixed = text[risky].str.replace(_LINE_FORMULA, r"\1'\2", regex=True)
                fixed = fixed.where(~fixed.str.startswith(FORMULA_START), "'" + fixed)
                out[column] = text.where(~risky, fixed)
    return out


def never_provided(assessment: Assessment) -> tuple[list[dict], np.ndarray]:
    """Per source and WP, the items its export can never evidence, with how many findings
    that makes; and a mask of those findings, which the human-readable reports show grouped
    under their source instead of one line per record."""
    catalogue = load_catalogue()
    findings = assessment.findings
    mask = np.zeros(len(findings), dtype=bool)
    groups = []
    for source in assessment.sources:
        for wp_id, items in source.never_provides.items():
            hit = np.zeros(len(findings), dtype=bool)
            if len(findings):
                hit = (
                    (findings["source"].astype("str") == source.name) & findings["item"].astype("str").isin(items)
                ).to_numpy(dtype=bool)
            mask |= hit
            groups.append(
                {
                    "source": source.name,
                    "work_product": wp_id,
                    "findings": int(hit.sum()),
                    "entries": [(i, catalogue.item(i).label) for i in items],
                }
            )
    return groups, mask


def report_dict(assessment: Assessment) -> dict:
    """`report.json` as a dict: the assessment plus its findings."""
    data = assessment.model_dump(mode="json")
    findings = assessment.findings
    records = json.loads(findings.to_json(orient="records", force_ascii=False)) if len(findings) else []
    data["findings"] = records
    return data


def write_json(assessment: Assessment, out: Path) -> Path:
    def write(tmp: Path) -> None:
        tmp.write_text(json.dumps(report_dict(assessment), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    return atomic_write(out / "report.json", write)


def write_csv(assessment: Assessment, out: Path) -> Path:
    def write(tmp: Path) -> None:
        neutralise_formulas(assessment.findings).to_csv(tmp, index=False, encoding="utf-8")

    return atomic_write(out / "findings.csv", write)


def environment() -> Environment:
    """The one Jinja environment of the reports: HTML templates are autoescaped (an export's
    text is always shown as text), Markdown ones are not."""
    env = Environment(
        loader=PackageLoader("sdbridge", "reports/templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pct"] = lambda v: "—" if v is None else f"{v * 100:.0f}%"
    env.filters["md"] = lambda v: "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")
    env.filters["link"] = web_link
    return env


MAX_MD_FINDINGS_PER_WP = 200


def write_md(assessment: Assessment, out: Path) -> Path:
    catalogue = load_catalogue()
    never, unsourced = never_provided(assessment)
    findings = assessment.findings[~unsourced] if unsourced.any() else assessment.findings
    groups = []
    for wp_id, group in findings.groupby("work_product", sort=True, observed=True) if len(findings) else []:
        rows = group.sort_values(["record_id", "item"], na_position="first")
        groups.append(
            {
                "id": wp_id,
                "name": catalogue.work_product(wp_id).name,
                "count": len(rows),
                "rows": rows.head(MAX_MD_FINDINGS_PER_WP).to_dict(orient="records"),
                "more": max(0, len(rows) - MAX_MD_FINDINGS_PER_WP),
            }
        )
    text = (
        environment()
        .get_template("report.md.j2")
        .render(a=assessment, catalogue=catalogue, groups=groups, top=assessment.top_missing_items(5), never=never)
    )
    return atomic_write(out / "report.md", lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _lazy(module: str, name: str) -> Sink:
    def sink(assessment: Assessment, out: Path) -> Path:
        return getattr(__import__(f"sdbridge.reports.{module}", fromlist=[name]), name)(assessment, out)

    return sink


BUILTIN_SINKS: dict[str, Sink] = {
    "json": write_json,
    "md": write_md,
    "csv": write_csv,
    "html": _lazy("html", "write_html"),
    "xlsx": _lazy("xlsx", "write_xlsx"),
    "junit": _lazy("junit", "write_junit"),
}


def sink(name: str) -> Sink:
    if name in BUILTIN_SINKS:
        return BUILTIN_SINKS[name]
    for ep in entry_points(group="sdbridge.sinks"):
        if ep.name == name:
            return ep.load()
    known = sorted({*BUILTIN_SINKS, *(ep.name for ep in entry_points(group="sdbridge.sinks"))})
    raise ConfigError(f"unknown report format {name!r}; known formats: {', '.join(known)}")


def write_reports(assessment: Assessment, out: Path, formats: list[str] | tuple[str, ...]) -> list[Path]:
    sinks = [sink(name) for name in formats]  # fail on an unknown name before writing anything
    if out.exists() and not out.is_dir():
        raise ConfigError(f"the report folder {out} is a file", hint="give --out (or reports.out) a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot write reports to {out}: {exc.strerror or exc}",
            hint="give --out (or reports.out) a folder you can write to",
        ) from None
    return [write(assessment, out) for write in sinks]
