"""Item checks: for every record of a work product and every content item of Clause 7, a
status — present, missing, invalid, pending or not_applicable — computed column-wise.

The rule for each item comes from the catalogue (the fields that evidence it, its
condition, whether it may be pending), so there is one generic check, not one per item:
  - `not_applicable` where the item's condition (`when`) is false, e.g. WP.18.h for an
    incident without significant impact;
  - `invalid` where a field was filled but is unusable (an unparseable date);
  - `missing` where a field is blank or a placeholder ("N/A", "TBD", ...);
  - `pending` where that blank field may wait until the record is done (the end date of an
    open incident);
  - `present` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import pandas as pd

from sdbridge.mapping.table import RECORD_ID, SOURCE, URL, WorkProductTable
from sdbridge.profile import Item, WorkProduct
from sdbridge.values import blank_mask, is_list_column, parse_bools


class ItemStatus(str, Enum):
    PRESENT = "present"
    PENDING = "pending"
    MISSING = "missing"
    INVALID = "invalid"
    NOT_APPLICABLE = "not_applicable"


# Codes, ordered so that combining the fields of one item is a maximum.
PRESENT, PENDING, MISSING, INVALID, NOT_APPLICABLE = 0, 1, 2, 3, 4
STATUS_OF_CODE = {
    PRESENT: ItemStatus.PRESENT,
    PENDING: ItemStatus.PENDING,
    MISSING: ItemStatus.MISSING,
    INVALID: ItemStatus.INVALID,
    NOT_APPLICABLE: ItemStatus.NOT_APPLICABLE,
}
GAP_CODES = (MISSING, INVALID)


def is_gap(codes: np.ndarray) -> np.ndarray:
    """Where a status code is a gap (missing or invalid): one comparison, the two codes being
    neighbours."""
    return (codes.astype(np.int8, copy=False) - MISSING).view(np.uint8) <= INVALID - MISSING


@dataclass
class ItemCheck:
    """The statuses of one work product's record items: `codes[r, i]` is the status code of
    record r for item `items[i]`. `unevaluated` lists items whose condition field no source
    maps (so they are treated as not applicable) — the report says so."""

    table: WorkProductTable
    items: list[Item]
    codes: np.ndarray
    unevaluated: list[str]
    parts: dict[str, dict[str, np.ndarray]]
    """For items evidenced by several fields (WP.18.i start and end): each field's codes,
    so a finding can say which part is missing."""
    unsourced: dict[str, np.ndarray] = field(default_factory=dict)
    """Item id -> rows whose source cannot provide any field of the item ("not in this
    export"): missing, never pending."""

    def counts(self, column: int) -> dict[str, int]:
        values = np.bincount(self.codes[:, column], minlength=5) if len(self.codes) else np.zeros(5, int)
        return {STATUS_OF_CODE[code].value: int(values[code]) for code in STATUS_OF_CODE}

    @property
    def gap_mask(self) -> np.ndarray:
        return is_gap(self.codes)

    def status_frame(self) -> pd.DataFrame:
        """One row per record (record id, source, title, url) and one column per item holding
        its status (present, missing, ...): for workbooks and the audit package."""
        frame = self.table.frame
        names = [STATUS_OF_CODE[c].value for c in range(len(STATUS_OF_CODE))]
        titled = "title" in frame and not is_list_column(frame["title"])
        out = pd.DataFrame(
            {
                "record_id": frame[RECORD_ID].to_numpy(),
                "source": frame[SOURCE].to_numpy(),
                "title": frame["title"].astype("str").to_numpy() if titled else None,
                "url": frame[URL].to_numpy(),
            }
        )
        for column, item in enumerate(self.items):
            out[item.id] = pd.Categorical.from_codes(self.codes[:, column], names)
        return out


def _bool_column(frame: pd.DataFrame, name: str) -> np.ndarray | None:
    if name not in frame:
        return None
    return parse_bools(frame[name]).to_numpy(dtype=bool)


def _field_codes(
    table: WorkProductTable, wp: WorkProduct, name: str, item: Item, placeholders: tuple[str, ...]
) -> np.ndarray:
    frame = table.frame
    n = len(frame)
    if name not in frame:
        codes = np.full(n, MISSING, dtype=np.int8)
        blank = np.ones(n, dtype=bool)
    else:
        blank = table.blank(name)
        codes = np.where(blank, MISSING, PRESENT).astype(np.int8)
        invalid = table.invalid(name)
        codes[invalid] = INVALID
        blank = blank & ~invalid
    pending_until = wp.field(name).pending_until or item.pending_until
    if pending_until:
        done = _bool_column(frame, pending_until)
        if done is not None:
            codes[blank & ~done] = PENDING
    return codes


def check_items(table: WorkProductTable, placeholders: tuple[str, ...]) -> ItemCheck:
    table = table.with_placeholders(placeholders)
    wp = table.work_product
    items = wp.record_items
    n = len(table.frame)
    codes = np.zeros((n, len(items)), dtype=np.int8)
    unevaluated = []
    parts: dict[str, dict[str, np.ndarray]] = {}
    unsourced: dict[str, np.ndarray] = {}
    for column, item in enumerate(items):
        item_codes = np.zeros(n, dtype=np.int8)
        for name in item.fields:
            field_codes = _field_codes(table, wp, name, item, placeholders)
            if len(item.fields) > 1:
                parts.setdefault(item.id, {})[name] = field_codes
            item_codes = np.maximum(item_codes, field_codes)
        if item.fields:
            never = np.logical_and.reduce([table.unsourced_rows(name) for name in item.fields])
            if never.any():
                item_codes[never & (item_codes == PENDING)] = MISSING
                unsourced[item.id] = never
        if item.when:
            applies = _bool_column(table.frame, item.when)
            if applies is None:
                unevaluated.append(item.id)
                applies = np.zeros(n, dtype=bool)
            item_codes = np.where(applies, item_codes, NOT_APPLICABLE).astype(np.int8)
        codes[:, column] = item_codes
    return ItemCheck(table=table, items=items, codes=codes, unevaluated=unevaluated, parts=parts, unsourced=unsourced)


def check_work_product_items(
    wp: WorkProduct, table: WorkProductTable | None, evidence: dict[str, list[str]], placeholders: tuple[str, ...]
) -> dict[str, tuple[ItemStatus, str]]:
    """Items about the work product as a whole (WP.06.a "stored as a CI", WP.08.a "Service
    Manager"): evidenced by a source's `evidence:` declaration, or — when the item names a
    field — by any record where that field holds."""
    results: dict[str, tuple[ItemStatus, str]] = {}
    for item in wp.work_product_items:
        declared = evidence.get(item.id)
        if declared:
            results[item.id] = (ItemStatus.PRESENT, "; ".join(declared))
            continue
        if item.fields and table is not None and len(table.frame):
            name = item.fields[0]
            column = _bool_column(table.frame, name) if wp.field(name).type.value == "bool" else None
            if column is None and name in table.frame:
                column = ~blank_mask(table.frame[name], placeholders)
            if column is not None and column.any():
                records = table.frame.loc[column, "_record_id"].astype(str).head(3).tolist()
                results[item.id] = (ItemStatus.PRESENT, f"record(s) {', '.join(records)}")
                continue
        results[item.id] = (ItemStatus.MISSING, "not evidenced by any record or `evidence:` declaration")
    return results
