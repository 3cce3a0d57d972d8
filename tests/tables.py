"""Build WP tables from canonical values, as the mapping engine would: shared by the item-rule
and process-check case tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sdbridge.config import DEFAULT_PLACEHOLDERS
from sdbridge.dates import parse_datetimes
from sdbridge.mapping.table import INVALID_PREFIX, RECORD_ID, ROW_COL, SOURCE, URL, WorkProductTable
from sdbridge.profile import FieldType, load_catalogue
from sdbridge.values import parse_bools


def table_of(wp_id: str, records: list[dict], unsourced: dict[str, list[str]] | None = None) -> WorkProductTable:
    """A WP table as the mapping engine would build it from these canonical values. A record's
    `_from` names its source (default `fixture`); `unsourced` maps a source to the fields its
    export cannot provide."""
    wp = load_catalogue().work_product(wp_id)
    frame = pd.DataFrame(records)
    for f in wp.fields:
        if f.name not in frame:
            continue
        if f.type == FieldType.DATETIME:
            frame[f.name], bad = parse_datetimes(frame[f.name].astype("str"))
            if bad.any():
                frame[INVALID_PREFIX + f.name] = bad
        elif f.type == FieldType.BOOL:
            frame[f.name] = parse_bools(frame[f.name].map(lambda v: "yes" if v is True else "no" if v is False else v))
        else:
            frame[f.name] = frame[f.name].astype("str")
    if {"started_at", "ended_at"} <= set(frame) and "time_to_resolve" in wp.field_names:
        span = frame["ended_at"] - frame["started_at"]
        negative = (span < pd.Timedelta(0)).fillna(False).to_numpy(dtype=bool)
        frame["time_to_resolve"] = span.where(~negative, pd.NaT)
        if negative.any():
            frame[INVALID_PREFIX + "time_to_resolve"] = negative
    frame[SOURCE] = frame.pop("_from") if "_from" in frame else "fixture"
    frame[ROW_COL] = np.arange(2, len(frame) + 2)
    ids = frame["id"] if "id" in frame else pd.Series([None] * len(frame))
    frame[RECORD_ID] = [i if isinstance(i, str) and i else f"row {r}" for i, r in zip(ids, frame[ROW_COL])]
    frame[URL] = None
    return WorkProductTable(
        work_product=wp,
        frame=frame,
        placeholders=tuple(DEFAULT_PLACEHOLDERS),
        unsourced={k: set(v) for k, v in (unsourced or {}).items()},
    )
