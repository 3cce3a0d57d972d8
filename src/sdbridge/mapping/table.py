"""`WorkProductTable`: the records of one work product, as the mapping makes them and the
rules read them — one column per canonical field, provenance columns, invalid-value masks —
with its blank masks computed once per field.

A table is changed only by making a new one (`with_placeholders`, `with_unsourced`): a mask
computed for one set of placeholders is never read with another.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from sdbridge.profile import Catalogue, WorkProduct
from sdbridge.values import blank_mask

# Provenance columns of a WorkProductTable.
SOURCE, RECORD_ID, URL, ROW_COL, OWNER = "_source", "_record_id", "_url", "_row", "_owner"
INVALID_PREFIX = "_invalid__"


@dataclass
class WorkProductTable:
    """The records of one work product from one or more sources: a DataFrame with one
    column per canonical field, provenance columns (`_source`, `_record_id`, `_row`, `_url`)
    and `_invalid__<field>` masks for values that were given but unusable."""

    work_product: WorkProduct
    frame: pd.DataFrame
    placeholders: tuple[str, ...] = ()
    _blank: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    unsourced: dict[str, set[str]] = field(default_factory=dict)
    """Source name -> the fields of this WP its export cannot provide (no column feeds them,
    or the text they are extracted from never holds them). Their blanks on that source's
    rows are "not in this export", never "pending"."""

    def unsourced_rows(self, field_name: str) -> np.ndarray:
        """Rows whose source cannot provide the field."""
        lacking = [s for s, names in self.unsourced.items() if field_name in names]
        if not lacking:
            return np.zeros(len(self.frame), dtype=bool)
        return self.frame[SOURCE].isin(lacking).to_numpy(dtype=bool)

    def blank(self, field_name: str) -> np.ndarray:
        """Where the field is blank or a placeholder; computed once per field."""
        if field_name not in self._blank:
            self._blank[field_name] = blank_mask(self.frame[field_name], self.placeholders)
        return self._blank[field_name]

    def invalid(self, field_name: str) -> np.ndarray:
        column = INVALID_PREFIX + field_name
        if column in self.frame:
            return self.frame[column].to_numpy(dtype=bool)
        return np.zeros(len(self.frame), dtype=bool)

    @property
    def records(self) -> int:
        return len(self.frame)

    def with_placeholders(self, placeholders: tuple[str, ...]) -> WorkProductTable:
        """The same records judged with other placeholders: a new table (its blanks are computed
        afresh), this one unchanged."""
        if tuple(placeholders) == tuple(self.placeholders):
            return self
        return replace(self, placeholders=tuple(placeholders), _blank={})

    def with_unsourced(self, unsourced: dict[str, set[str]]) -> WorkProductTable:
        """The same records with other facts about what their sources never provide."""
        return replace(self, unsourced={k: set(v) for k, v in unsourced.items()}, _blank=dict(self._blank))


def merge_tables(catalogue: Catalogue, parts: dict[str, list[WorkProductTable]]) -> dict[str, WorkProductTable]:
    """One table per WP from the tables of several sources."""
    merged = {}
    for wp_id, tables in parts.items():
        wp = catalogue.work_product(wp_id)
        frames = [t.frame for t in tables if len(t.frame)]
        if not frames:
            merged[wp_id] = WorkProductTable(
                wp, tables[0].frame if tables else pd.DataFrame(), tables[0].placeholders if tables else ()
            )
            continue
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        for column in frame.columns:
            if column.startswith(INVALID_PREFIX):
                frame[column] = frame[column].fillna(False).astype(bool)
        unsourced = {name: fields for t in tables for name, fields in t.unsourced.items()}
        merged[wp_id] = WorkProductTable(wp, frame, tables[0].placeholders, unsourced=unsourced)
        if len(frames) == 1:  # the one source's table: its blank masks hold as they are
            merged[wp_id]._blank = next(t._blank for t in tables if len(t.frame))
    return merged
