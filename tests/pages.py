"""Helpers for tests that look at a page in Chromium (the report, the portfolio)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "build" / "test-artifacts"
"""Screenshots and the printed PDF of the demo report, kept for people to look at."""

ON_SCREEN = """([table, columns]) => Array.from(document.querySelectorAll(`#${table} tbody tr`)).slice(0, 40)
  .flatMap(row => columns.map(n => row.cells[n - 1]))
  .filter(cell => cell.textContent.trim() !== "")
  .map(cell => { const box = cell.getBoundingClientRect();
                 return [cell.textContent.trim().slice(0, 20), box.width > 0 && box.left >= 0 && box.right <= innerWidth]; })
  .filter(([, shown]) => !shown)"""
"""The cells of these columns, in a table's first 40 rows, that are not wholly on screen."""
