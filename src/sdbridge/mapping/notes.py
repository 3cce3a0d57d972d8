"""What the mapping tells a user about an export, beside its records: values it could not
read, `where:` conditions that keep almost nothing, items no record can evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sdbridge.connectors.base import REJECTED, RawTable
from sdbridge.mapping.columns import ColumnResolver
from sdbridge.mapping.conditions import condition_mask
from sdbridge.mapping.spec import MappedSource, WorkProductMapping
from sdbridge.mapping.table import WorkProductTable
from sdbridge.profile import WorkProduct
from sdbridge.values import as_text, is_list_column, parse_bools


def unreadable(raw: RawTable) -> dict[int, str]:
    """Positions of items the connector pulled but could not read, with why."""
    if raw.kind != "json" or not len(raw.frame):
        return {}
    return {
        position: str(item[REJECTED])
        for position, item in enumerate(raw.frame["_item"])
        if isinstance(item, dict) and item.get(REJECTED)
    }


def unread_dates(label: str, bad: np.ndarray, parsed: pd.Series, text: pd.Series, source: MappedSource) -> list[str]:
    """A note for the values of a date field that could not be read: their shapes (digits as
    9, letters as a: no value of a record) and the formats tried. When under half were read,
    the formats are wrong for this export: the note shows an example and what to set."""
    unread = int(bad.sum())
    if not unread:
        return []
    read = int(parsed.notna().sum())
    values = text[bad]
    if is_list_column(values):
        values = values.map(lambda v: v[0] if isinstance(v, list) and v else "")
    values = values.astype("str").str.strip()
    formats = ", ".join(source.date_formats) or "ISO 8601"
    if read < (read + unread) / 2:
        return [
            f"{label}: {read} of {read + unread} values read as dates with {formats}; e.g. {values.iloc[0]!r} — "
            "set `date: {formats: [...]}` on the field, or `date_formats:` on the source"
        ]
    shapes = values.str.replace(r"\d", "9", regex=True).str.replace(r"[^\W\d_]", "a", regex=True).value_counts()
    shown = ", ".join(f"{shape!r} ({count})" for shape, count in shapes.head(3).items())
    return [f"{label}: {unread} of {read + unread} values are not dates sdbridge reads with {formats}: {shown}"]


def few_kept(
    wp_id: str, mapping: WorkProductMapping, resolver: ColumnResolver, readable: np.ndarray, where: np.ndarray
) -> list[str]:
    """When a WP's `where:` keeps no row, or under 1 % of them, say what each condition kept
    and which values its column does have, so the user can fix `where:` at a glance."""
    conditions = (*mapping.where, *mapping.where_any)
    total = int(readable.sum())
    kept = int(where.sum())
    if not conditions or not total or kept >= total / 100 and kept > 0:
        return []
    parts = []
    for condition in conditions:
        column = resolver.column(condition.from_)
        held = int((condition_mask(column, condition, ()) & readable).sum())
        values = column[readable].explode() if is_list_column(column) else column[readable]
        counts = values.dropna().astype("str").str.strip()
        counts = counts[counts != ""].value_counts()
        shown = ", ".join(f"{value} {count}" for value, count in counts.head(8).items()) or "all blank"
        more = f", {len(counts) - 8} more" if len(counts) > 8 else ""
        parts.append(f"{held} have {condition.describe()} (values: {shown}{more})")
    joined = "; ".join(parts) if len(parts) > 1 or not mapping.where_any else "any of: " + "; ".join(parts)
    return [f"{wp_id}: {kept} of {total} rows kept by `where:` — {joined} — set `map.{wp_id}.where`"]


def applies_somewhere(table: WorkProductTable, when: str | None) -> bool:
    """Whether an item's condition holds on some record (an item that applies to none is not
    applicable everywhere, not "never provided")."""
    if when is None:
        return True
    return when in table.frame and bool(parse_bools(table.frame[when]).any())


def never_true(wp: WorkProduct, name: str, series: pd.Series, text: list[pd.Series], origins: list[str]) -> list[str]:
    """A note when significant impact (WP.18) is read from columns the export has and holds on
    no record: the rule matches none of their values, so the items it governs are not
    applicable everywhere, which is rarely the truth (a chargeable service, by contrast,
    may well be none)."""
    governed = [i.id for i in wp.record_items if i.when == name]
    if name != "significant" or not governed or not len(series) or parse_bools(series).any():
        return []
    shown = []
    for origin, column in zip(origins, text):
        values = column.explode() if is_list_column(column) else column
        counts = values.dropna().astype("str").str.strip()
        counts = counts[counts != ""].value_counts()
        if len(counts):
            shown.append(f"{origin}: {', '.join(f'{v} {n}' for v, n in counts.head(5).items())}")
    if not shown:
        return []
    return [
        f"{wp.id}.{name}: no record counts as {name} — the rule matches none of the values ({'; '.join(shown)}), "
        f"so {', '.join(governed)} is not applicable on every record; set `map.{wp.id}.fields.{name}` if some do"
    ]


def comparable(series: pd.Series) -> pd.Series:
    """A column as text that compares equal when the values do (lists joined, dates as ISO)."""
    if is_list_column(series) or pd.api.types.is_datetime64_any_dtype(series):
        return as_text(series)
    return series.astype("str") if series.dtype != object else series.map(str)
