"""The report formats sdbridge writes (a light module: the command line reads it at start-up)."""

from __future__ import annotations

REPORT_FORMATS = ("json", "md", "csv", "parquet", "html", "xlsx", "junit")
DEFAULT_FORMATS = ("json", "md", "csv", "html")
