"""Report formats: which sink writes which format. A built-in is named as a plugin is — a
`module:attribute` string — and found by the same loader (`sdbridge.plugins`); third-party
sinks register under the entry-point group `sdbridge.sinks` (name = format, value = a
callable `(assessment, out_dir) -> Path`).

This face is light (the command line and the config read the format names at start-up): the
sinks live in `json_report`, `markdown`, `tables`, `html`, `xlsx`, `junit`; writing a run's
set is `writing.write_reports`.
"""

from __future__ import annotations

from typing import Any

from sdbridge import plugins
from sdbridge.errors import ConfigError

SINKS = "sdbridge.sinks"
"""The entry-point group of report formats."""

BUILTIN_SINKS: dict[str, str] = {
    "json": "sdbridge.reports.json_report:write_json",
    "md": "sdbridge.reports.markdown:write_md",
    "csv": "sdbridge.reports.tables:write_csv",
    "parquet": "sdbridge.reports.tables:write_parquet",
    "html": "sdbridge.reports.html:write_html",
    "xlsx": "sdbridge.reports.xlsx:write_xlsx",
    "junit": "sdbridge.reports.junit:write_junit",
}
"""The formats sdbridge ships: format -> its sink, as an entry point would name it."""

DEFAULT_FORMATS = ("json", "md", "csv", "html")


def sink_names() -> tuple[str, ...]:
    """Every report format: the built-ins, then those of installed plugins."""
    return plugins.names(SINKS, BUILTIN_SINKS)


def sink(name: str) -> Any:
    """The writer of a report format (built-in or plugin); a ConfigError for an unknown one."""
    found = plugins.find(SINKS, name, BUILTIN_SINKS)
    if found is None:
        raise ConfigError(f"unknown report format {name!r}; known formats: {', '.join(sink_names())}")
    return found
