"""Text in Arrow, byte by byte: the few places where sdbridge reads an Arrow text array's
bytes with numpy instead of asking Arrow or Python value by value.

Why: a check and its reports handle up to millions of values; a pass of Python per value
costs seconds, a regex pass of Arrow over every value costs tenths. Most values need nothing
(a ticket id holds no quote, a title rarely starts a formula), so a cheap numpy look at the
raw bytes decides which arrays need the exact (regex) treatment at all. Every helper here
answers "might this need work?" cheaply and exactly what the work is; a false alarm only
costs the exact pass.

- `value_bytes`, `first_byte_in`: the bytes of a text array's values, and a test of each
  value's first byte (blank detection, formula detection);
- JSON: `json_lines` encodes a table as one JSON object per row, column-wise, escaping text
  only where a value may need it;
- spreadsheets: `neutralise` (a cell) and `neutralised` (a column) put a quote before text a
  spreadsheet would run as a formula; `arrow_table` turns a frame of findings or records
  into Arrow with that applied.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def chunks(array: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    """The pieces of an array as Arrow holds them (a CSV's columns come in one per block):
    read piece by piece rather than joined, which would copy every value."""
    return array.chunks if isinstance(array, pa.ChunkedArray) else [array]


def first_byte_in(array: pa.Array, table: np.ndarray, *, empty: bool) -> np.ndarray:
    """Where a value's first byte is one `table` (256 flags) marks, and `empty` where it has
    none: numpy over the values' first bytes, no pass of Arrow."""
    raw, offsets = value_bytes(array)
    filled = offsets[1:] > offsets[:-1]
    hit = np.full(len(filled), empty)
    hit[filled] = table[raw[offsets[:-1][filled]]]
    return hit


def value_bytes(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of a text array's own values (a slice's only, not its parent's) as
    numpy, and where each value starts in them (one more entry: the end)."""
    if not len(array) or array.buffers()[2] is None:
        return np.zeros(0, dtype=np.uint8), np.zeros(len(array) + 1, dtype=np.int64)
    offsets_buffer, data = array.buffers()[1:3]
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=width)[array.offset : array.offset + len(array) + 1].astype(np.int64)
    return np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]], offsets - offsets[0]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may run as a formula at the start of a cell."""


LINE_FORMULA = r"([\r\n])([=+\-@\t])"
"""A formula at the start of a line inside a cell: a reader that takes a bare CR as the end of
a row would start a new row with it. (One pattern for the cell-wise and the Arrow neutraliser.)"""
CELL_FORMULA = r"^[=+\-@\t\r]"
"""`FORMULA_START` as a pattern."""
_LINE_FORMULA = re.compile(LINE_FORMULA)


def neutralise(value: object) -> object:
    """One cell: text a spreadsheet would run as a formula gets a leading quote, at the start
    of the cell and at the start of every line in it (`neutralised` does a whole column)."""
    if not isinstance(value, str):
        return value
    value = _LINE_FORMULA.sub(r"\1'\2", value)
    return "'" + value if value.startswith(FORMULA_START) else value


_JSON_ESCAPES = [
    ("\\", "\\\\"),
    ('"', '\\"'),
    ("\n", "\\n"),
    ("\r", "\\r"),
    ("\t", "\\t"),
    ("\b", "\\b"),
    ("\f", "\\f"),
]
_OTHER_CONTROL = r"[\x00-\x07\x0b\x0e-\x1f]"
_NEEDS_ESCAPE = r"[\x00-\x1f\"\\\\]"


def may_need_escape(array: pa.Array) -> bool:
    """Whether any value might hold a quote, a backslash or a control character: one pass of
    numpy over the bytes of the text (a false alarm only costs the exact regex test)."""
    raw, _ = value_bytes(array)
    return bool((raw < 0x20).any() or (raw == 0x22).any() or (raw == 0x5C).any())


def json_escaped(array: pa.Array) -> pa.Array | None:
    """Each value of a text column escaped for a JSON string (without its quotes; null stays
    null); None when a value holds a control character with no short escape (the caller
    encodes that batch slowly)."""
    if pa.types.is_dictionary(array.type):
        escaped = json_escaped(array.dictionary)
        return None if escaped is None else pc.take(escaped, array.indices)
    array = pc.cast(array, pa.large_string())
    if may_need_escape(array) and pc.any(pc.match_substring_regex(array, _NEEDS_ESCAPE)).as_py():
        if pc.any(pc.match_substring_regex(array, _OTHER_CONTROL)).as_py():
            return None
        for raw, escaped in _JSON_ESCAPES:
            array = pc.replace_substring(array, raw, escaped)
    return array


def one_json_value(column: pa.Array) -> str | None:
    """The JSON of the one value a column holds in every row, when that is known without a
    pass over it: all null, or a dictionary column whose rows all point at one entry."""
    if len(column) and column.null_count == len(column):
        return "null"
    if pa.types.is_dictionary(column.type) and len(column) and not column.null_count:
        low, high = pc.min_max(column.indices).values()
        if low == high:
            return json.dumps(column.dictionary[low.as_py()].as_py(), ensure_ascii=False)
    return None


def json_lines(table: pa.Table, tail: str) -> pa.Array | None:
    """One JSON object per finding, each followed by `tail`, built column-wise in Arrow: a
    text column without nulls takes its quotes from the literal text around it (no pass of
    its own); one with nulls is quoted value by value, `null` where missing."""
    empty = pa.scalar("", pa.large_string())
    quote = pa.scalar('"', pa.large_string())
    parts: list[pa.Array | pa.Scalar] = []
    literal = "{"
    for at, name in enumerate(table.column_names):
        literal += ("," if at else "") + json.dumps(name) + ":"
        column = table.column(name).combine_chunks()
        quoted = False
        same = one_json_value(column)
        if same is not None:  # one value throughout: part of the literal text, not a column to join
            literal += same
            continue
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            encoded = pc.fill_null(pc.cast(column, pa.large_string()), "null")
        else:
            text = json_escaped(column)
            if text is None:
                return None
            if text.null_count == 0:
                encoded, quoted = pc.cast(text, pa.large_string()), True
            else:
                encoded = pc.fill_null(pc.binary_join_element_wise(quote, text, quote, empty), "null")
        parts += [pa.scalar(literal + ('"' if quoted else ""), pa.large_string()), encoded]
        literal = '"' if quoted else ""
    parts.append(pa.scalar(literal + "}" + tail, pa.large_string()))
    return pc.binary_join_element_wise(*parts, empty)


_RISKY = f"{CELL_FORMULA}|{LINE_FORMULA}"


_FORMULA_BYTES = np.zeros(256, dtype=bool)
_FORMULA_BYTES[np.frombuffer("".join(FORMULA_START).encode(), dtype=np.uint8)] = True


def may_be_risky(array: pa.Array) -> bool:
    """Whether any value might start a formula: numpy over the first byte of each value, and
    over all the text for a line break (a false alarm only costs the exact regex test)."""
    raw, _ = value_bytes(array)
    if (raw == 0x0A).any() or (raw == 0x0D).any():
        return True
    return bool(first_byte_in(array, _FORMULA_BYTES, empty=False).any())


def neutralised(array: pa.Array) -> pa.Array:
    """`neutralise` for a whole Arrow column: a quote before a formula at the start of the
    cell and after every line break; a dictionary column fixes only its dictionary."""
    if pa.types.is_dictionary(array.type):
        return pa.DictionaryArray.from_arrays(array.indices, neutralised(array.dictionary))
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return array
    if not may_be_risky(array) or not pc.any(pc.match_substring_regex(array, _RISKY)).as_py():
        return array  # the common case: nothing to do
    fixed = pc.replace_substring_regex(array, LINE_FORMULA, r"\1'\2")
    quote = pa.scalar("'", array.type)
    prefixed = pc.binary_join_element_wise(quote, fixed, pa.scalar("", array.type))
    return pc.if_else(pc.match_substring_regex(fixed, CELL_FORMULA), prefixed, fixed)


def arrow_table(findings: pd.DataFrame, *, for_spreadsheets: bool = True) -> pa.Table:
    """A frame of findings or records as an Arrow table (categories as dictionary columns,
    `row` a nullable integer, text as text), neutralised when a spreadsheet may open it.
    Column-wise in Arrow throughout."""
    columns = {}
    for name in findings.columns:
        column = findings[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes = column.cat.codes.to_numpy()
            categories = pa.array(column.cat.categories.astype(str).tolist(), pa.string())
            array: pa.Array = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), categories)
        elif name == "row":
            array = pa.array(column.astype("Int64").array, pa.int64())
        elif pd.api.types.is_float_dtype(column.dtype):
            array = pa.array(column.to_numpy(), from_pandas=True)  # NaN is null
        else:
            array = pa.array(column.astype("str").array)
            if isinstance(array, pa.ChunkedArray):
                array = array.combine_chunks()
        columns[name] = neutralised(array) if for_spreadsheets else array
    return pa.table(columns)


TRIMMED_BYTES = np.zeros(256, dtype=bool)


TRIMMED_BYTES[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20]] = True


TRIMMED_BYTES[0x80:] = True  # any byte of a multi-byte character: it may be a Unicode space


_ISO_DIGITS: tuple[tuple[int, int, str], ...] = (
    (0, 1000, "Y"), (1, 100, "Y"), (2, 10, "Y"), (3, 1, "Y"), (5, 10, "M"), (6, 1, "M"), (8, 10, "D"), (9, 1, "D"),
    (11, 10, "h"), (12, 1, "h"), (14, 10, "m"), (15, 1, "m"), (17, 10, "s"), (18, 1, "s"),
)  # fmt: skip
"""Where each digit of `_ISO_LAYOUT` comes from: (position, place value, part)."""


_ISO_LAYOUT = np.frombuffer(b"0000-00-00T00:00:00Z", dtype=np.uint8)


def iso_seconds(stamps: np.ndarray) -> pa.Array:
    """UTC timestamps (naive datetime64) as ISO 8601 text to the second with a `Z`, null for
    NaT: the digits computed by numpy into one fixed-width buffer that becomes Arrow text as
    it is (ten times as fast as numpy's, pandas' or Arrow's own formatting)."""
    seconds = stamps.astype("datetime64[s]")
    missing = np.isnat(seconds)
    seconds = np.where(missing, np.datetime64(0, "s"), seconds)
    days = seconds.astype("datetime64[D]")
    months = seconds.astype("datetime64[M]")
    clock = (seconds - days).astype(np.int64)
    parts = {
        "Y": (months.astype(np.int64) // 12 + 1970).astype(np.int32),
        "M": (months.astype(np.int64) % 12 + 1).astype(np.int32),
        "D": ((days - months.astype("datetime64[D]")).astype(np.int64) + 1).astype(np.int32),
        "h": (clock // 3600).astype(np.int32),
        "m": (clock // 60 % 60).astype(np.int32),
        "s": (clock % 60).astype(np.int32),
    }
    width = len(_ISO_LAYOUT)
    # position by position (each a contiguous row), then one transpose into value order
    text = np.repeat(_ISO_LAYOUT[:, None], len(seconds), axis=1)
    for column, unit, part in _ISO_DIGITS:
        text[column] += (parts[part] // unit % 10).astype(np.uint8)
    text = np.ascontiguousarray(text.T)
    offsets = np.arange(0, width * (len(seconds) + 1), width, dtype=np.int32)
    valid = pa.py_buffer(np.packbits(~missing, bitorder="little")) if missing.any() else None
    return pa.Array.from_buffers(
        pa.string(), len(seconds), [valid, pa.py_buffer(offsets), pa.py_buffer(text)], null_count=int(missing.sum())
    )
