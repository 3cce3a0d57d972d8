"""Findings: each gap of a record (or of a work product as a whole) as a row, built as Arrow
columns with the few distinct values (work product, item, status, severity, message) as
dictionaries, and the words of each finding's message."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sdbridge.assessment import (
    FINDING_COLUMNS,
    FINDING_SCHEMA,
)
from sdbridge.mapping.table import OWNER, RECORD_ID, ROW_COL, SOURCE, URL, WorkProductTable
from sdbridge.profile import Item, WorkProduct
from sdbridge.rules.items import (
    INVALID,
    ItemCheck,
    ItemStatus,
    is_gap,
)
from sdbridge.values import as_text, is_list_column

NOT_IN_EXPORT = "not in this export"


def finding_message(
    item: Item, status: str, wp: WorkProduct | None = None, parts: str | None = None, unsourced: bool = False
) -> str:
    """The plain sentence shown in reports and pushed comments. It names the item (and, for
    an item of several fields, the absent part), never a value of the record, so it can be
    shown anywhere."""
    name = f"{item.label} ({item.display})"
    if status == ItemStatus.INVALID:
        kinds = {wp.field(f).type.value for f in item.fields} if wp else set()
        if list(item.fields) == ["id"]:
            text = f"{name} is not unique: another record of the export has the same one"
        elif "duration" in kinds:
            text = f"{name} is unusable: the end is before the start, or it is not a number of hours"
        elif "datetime" in kinds:
            text = (
                f"{name} is filled in but is not a date sdbridge can read (the source's notes name the formats tried)"
            )
        else:
            text = f"{name} is filled in but unusable"
    elif item.scope == "work_product":
        text = f"{name} is not evidenced — declare it under `evidence:` of a source or map a record that shows it"
    else:
        text = f"{name} is missing"
    if parts:
        text += f" ({parts})"
    if unsourced:
        text += f": {NOT_IN_EXPORT}"
    if item.condition:
        text += f" — {item.condition}"
    return text


def _severity(item: Item) -> str:
    return "high" if item.audit_focus else "medium"


def _text(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A column as Arrow text (zero-copy for Arrow-backed text; lists joined)."""
    if is_list_column(series):
        series = as_text(series)
    return pc.cast(pa.array(series.astype("str").array), pa.large_string())  # chunks kept


def _dictionary(codes: np.ndarray, values: list[str]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(values, pa.string()))


def _messages(check: ItemCheck, column: int, item: Item, gap: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """The message of each gap of one item, as codes into its distinct texts, each text built
    once per distinct case: missing or invalid, and — for an item of several fields — which
    of its fields are absent."""
    wp = check.table.work_product
    invalid = check.codes[gap, column] == INVALID
    fields = list(check.parts.get(item.id, {}).items())
    pattern = np.zeros(int(gap.sum()), dtype=np.int64)
    for bit, (_, codes) in enumerate(fields):
        pattern |= is_gap(codes[gap]).astype(np.int64) << bit
    never = check.unsourced.get(item.id)
    unsourced = never[gap] if never is not None else np.zeros(len(pattern), dtype=bool)
    key = (pattern * 2 + invalid) * 2 + unsourced
    full = (1 << len(fields)) - 1
    texts = {}
    for k in np.unique(key).tolist():
        rest, is_unsourced = divmod(k, 2)
        bits, is_invalid = divmod(rest, 2)
        absent = [name for bit, (name, _) in enumerate(fields) if bits >> bit & 1]
        parts = ", ".join(a.replace("_", " ") for a in absent) if fields and bits != full else None
        status = ItemStatus.INVALID if is_invalid else ItemStatus.MISSING
        texts[k] = finding_message(item, status, wp, parts, unsourced=bool(is_unsourced))
    categories = list(dict.fromkeys(texts.values()))
    code_of = np.array([categories.index(texts[k]) if k in texts else 0 for k in range(max(texts) + 1)])
    return code_of[key], categories


OWNER_FIELDS = {
    "WP.18": ("resolver", "reporter"),
    "WP.11": ("contact",),
    "WP.02": ("owner",),
    "WP.03": ("owner_vse",),
    "WP.21": ("owner_vse",),
    "WP.06": ("signed_by",),
}
"""Who can fix a record's gaps when no `owner` is mapped: the first filled of these fields."""


def _owners(table: WorkProductTable) -> pa.Array | pa.ChunkedArray:
    """Each record's owner: the mapped `owner` (`_owner`), else the first filled of the WP's
    owner fields (a placeholder such as "N/A" is no owner); trimmed; null for none."""
    frame = table.frame
    names = [OWNER] if OWNER in frame else []
    names += [f for f in OWNER_FIELDS.get(table.work_product.id, ()) if f in frame]
    owner = pa.nulls(len(frame), pa.large_string())
    unset = np.ones(len(frame), dtype=bool)
    for name in names:
        filled = unset & ~table.blank(name)
        if filled.any():
            owner = pc.if_else(filled, _text(frame[name]), owner)
            unset &= ~filled
    return pc.utf8_trim_whitespace(owner)


def record_findings(check: ItemCheck) -> pa.Table | None:
    """One finding per gap, for every item of one WP at once: the gaps' (item, record)
    positions, then one Arrow `take` per column (no Python object per finding)."""
    gaps = is_gap(check.codes)
    columns, rows = np.nonzero(gaps.T)  # item by item, records in order
    if not len(rows):
        return None
    frame = check.table.frame
    wp = check.table.work_product
    at = pa.array(rows, pa.int64())
    record_ids = _text(frame[RECORD_ID]).take(at)
    sources = _text(frame[SOURCE]).take(at)
    item_ids = [item.id for item in check.items]
    titles = _text(frame["title"]) if "title" in frame else pa.nulls(len(frame), pa.large_string())
    severities = ["high", "medium"]
    message_codes: list[np.ndarray] = []
    messages: dict[str, int] = {}
    for column in np.unique(columns).tolist():
        item = check.items[column]
        codes, texts = _messages(check, column, item, gaps[:, column])
        offsets = np.array([messages.setdefault(text, len(messages)) for text in texts])
        message_codes.append(offsets[codes])
    count = len(rows)
    return pa.table(
        {
            "id": pc.binary_join_element_wise(
                sources,
                record_ids,
                pa.array(item_ids, pa.large_string()).take(columns),
                pa.scalar(":", pa.large_string()),
            ),
            "work_product": _dictionary(np.zeros(count, dtype=np.int32), [wp.id]),
            "item": _dictionary(columns, item_ids),
            "record_id": record_ids,
            "source": sources,
            "status": _dictionary((check.codes[rows, columns] == INVALID).astype(np.int32), ["missing", "invalid"]),
            "severity": _dictionary(
                np.array([severities.index(_severity(item)) for item in check.items])[columns], severities
            ),
            "url": _text(frame[URL]).take(at),
            "message": _dictionary(np.concatenate(message_codes), list(messages)),
            "title": titles.take(at),
            "row": pa.array(frame[ROW_COL].to_numpy(dtype=np.int64)).take(at),
            "owner": _owners(check.table).take(at),
            "first_seen": pa.nulls(count, pa.large_string()),
            "age_days": pa.array(np.full(count, np.nan)),
        },
        schema=FINDING_SCHEMA,
    )


def work_product_finding(wp: WorkProduct, item: Item, sources: list[str]) -> pa.Table:
    """The finding of a work-product item that no record or declaration evidences."""
    return pa.Table.from_pylist(
        [
            {
                "id": f"{wp.id}:{item.id}",
                "work_product": wp.id,
                "item": item.id,
                "record_id": None,
                "source": ", ".join(sources),
                "status": "missing",
                "severity": _severity(item),
                "url": None,
                "message": finding_message(item, ItemStatus.MISSING, wp),
                "title": wp.name,
                "row": None,
                "owner": None,
                "first_seen": None,
                "age_days": np.nan,
            }
        ],
        schema=FINDING_SCHEMA,
    )


def findings_frame(parts: list[pa.Table]) -> pd.DataFrame:
    """The findings of every WP as one frame: Arrow text shared with pandas (no copy),
    dictionaries as categories; `row` is a nullable integer when a finding has none."""
    if not parts:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    table = pa.concat_tables(parts).unify_dictionaries().combine_chunks()
    frame = table.to_pandas()
    if table.column("row").null_count:
        frame["row"] = pd.array(table.column("row"), dtype="Int64")
    return frame
