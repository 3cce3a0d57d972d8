"""Column-wise value helpers shared by the mapping engine and the rules: what counts as
blank, how multi-valued cells are held, how values become text and booleans.

Multi-valued fields (Jira's repeated `Labels` columns, split text, JSON arrays) are held as
Python lists in an object column; everything else is a pandas string, datetime, timedelta
or bool column. Every function here works on whole columns. Dates are `sdbridge.dates`;
URLs, time zones and tenant ids have modules of their own.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sdbridge.arrowtext import TRIMMED_BYTES, chunks, first_byte_in, iso_seconds

TRUE_WORDS = frozenset({"true", "yes", "y", "1", "x", "ja", "oui", "si", "sí"})


def is_list_column(series: pd.Series) -> bool:
    if series.dtype != object:
        return False
    first = series.dropna()
    return bool(len(first)) and isinstance(first.iloc[0], list)


_SPACE = r"[\s\x0b\x1c-\x1f\x85\p{Z}]"
"""What Arrow's `utf8_trim_whitespace` trims (ASCII whitespace, the separators \x1c-\x1f, NEL
and every Unicode space: NBSP, em space, ideographic space ...), as an RE2 class."""


def _blank_pattern(placeholders: frozenset[str]) -> str:
    """One RE2 pattern for "empty after trimming, or a placeholder": each placeholder's
    characters spelled as code points, so no character of it means anything to RE2."""
    spelled = ["".join(c if c.isalnum() else f"\\x{{{ord(c):x}}}" for c in p) for p in sorted(placeholders)]
    choice = f"(?:{'|'.join(spelled)})?" if spelled else ""
    return f"^{_SPACE}*{choice}{_SPACE}*$"


"""The bytes a value can begin or end with when `_SPACE` would trim it: a test at the ends of
each value (numpy) decides whether the regex or the trim need to run at all."""


def _may_start_blank(placeholders: frozenset[str]) -> np.ndarray:
    """The first bytes a blank value can have: whitespace, the separators, any byte of a
    multi-byte character (a Unicode space, or a letter that folds to ASCII), and the first
    letter of each placeholder in either case."""
    table = TRIMMED_BYTES.copy()
    for placeholder in placeholders:
        for letter in {placeholder[:1].lower(), placeholder[:1].upper()} - {""}:
            table[letter.encode("utf-8")[0]] = True
    return table


def _blank_text(series: pd.Series, placeholders: frozenset[str]) -> np.ndarray:
    """Vectorised: null, empty after trimming, or a placeholder (case-insensitive). Only
    values whose first byte could begin a blank one (numpy, over each value's first byte)
    go through the one regex pass in Arrow; an ID, a date, a name never do."""
    if series.dtype != "str" or getattr(series.dtype, "storage", None) != "pyarrow":
        series = series.astype("str")
    array = pa.array(series.array)  # zero-copy for Arrow-backed strings, chunks as they are
    starts = _may_start_blank(placeholders)
    maybe = np.concatenate(
        [first_byte_in(chunk, starts, empty=True) for chunk in chunks(array)] or [np.zeros(0, dtype=bool)]
    )
    if array.null_count:
        maybe |= array.is_null().to_numpy(zero_copy_only=False)
    at = np.flatnonzero(maybe)
    blank = np.zeros(len(array), dtype=bool)
    if len(at):
        subset = array if len(at) == len(array) else array.take(pa.array(at))
        found = pc.match_substring_regex(subset, _blank_pattern(placeholders), ignore_case=True)
        blank[at] = pc.fill_null(found, True).to_numpy(zero_copy_only=False)
    return blank


def blank_mask(series: pd.Series, placeholders: Iterable[str] = ()) -> np.ndarray:
    """True where a value is absent: null, empty, whitespace only, or a placeholder such as
    "N/A" (compared case-insensitively). A list is blank when none of its values is filled."""
    lowered = frozenset(p.strip().lower() for p in placeholders)
    if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_timedelta64_dtype(series):
        return series.isna().to_numpy()
    if pd.api.types.is_bool_dtype(series):
        return series.isna().to_numpy() if series.dtype == object else np.zeros(len(series), dtype=bool)
    if series.dtype == object:  # lists, or a mix of lists and text
        return np.fromiter((not _list_has_value(v, lowered) for v in series), dtype=bool, count=len(series))
    return _blank_text(series, lowered)


def _list_has_value(value: object, placeholders: frozenset[str]) -> bool:
    if isinstance(value, list):
        return any(_list_has_value(v, placeholders) for v in value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    text = str(value).strip().lower()
    return bool(text) and text not in placeholders


def as_text(series: pd.Series, separator: str = "; ") -> pd.Series:
    """A column as displayable text: lists joined, dates in ISO 8601 (UTC)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        naive = series.dt.tz_convert("UTC").dt.tz_localize(None) if series.dt.tz is not None else series
        return pd.Series(iso_seconds(naive.to_numpy()), dtype="str", index=series.index)
    if pd.api.types.is_timedelta64_dtype(series):
        hours = (series.dt.total_seconds() / 3600).round(2).to_numpy()
        # Arrow writes a float as Python does, but a whole one without its `.0` (`62` for 62.0)
        # (durations are far below where either switches to an exponent)
        text = pc.cast(pa.array(hours, from_pandas=True), pa.string())
        whole = np.isfinite(hours) & (np.floor(hours) == hours)
        if whole.any():
            text = pc.if_else(pa.array(whole), pc.binary_join_element_wise(text, ".0", ""), text)
        return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([text])), index=series.index).astype("str")
    if series.dtype == object and is_list_column(series):
        return series.map(
            lambda v: (
                separator.join(str(x) for x in v if x is not None and str(x).strip()) if isinstance(v, list) else v
            )
        ).astype("str")
    return series.astype("str")


def parse_bools(series: pd.Series) -> pd.Series:
    """Read yes/no style text as booleans; blank is False."""
    if pd.api.types.is_bool_dtype(series) and series.dtype != object:
        return series
    if series.dtype == object and is_list_column(series):
        return series.map(lambda v: bool(v) if isinstance(v, list) else False).astype(bool)
    if series.dtype == object:
        return series.map(
            lambda v: v if isinstance(v, bool) else str(v).strip().lower() in TRUE_WORDS if v is not None else False
        ).astype(bool)
    text = series.astype("str").str.strip().str.lower()
    return text.isin(TRUE_WORDS).fillna(False).astype(bool)
