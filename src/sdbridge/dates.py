"""Reading dates and times column-wise: ISO 8601 first, then the source's formats (in every
shipped language, month names from CLDR), local times to UTC in the source's zone; an
impossible date is invalid, never rolled into the next month. And writing them as ISO text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sdbridge.arrowtext import TRIMMED_BYTES, chunks, value_bytes
from sdbridge.values import is_list_column

_OFFSET = r"(?:Z|[+-]\d\d:?\d\d)$"


_LETTER = r"[^\W\d_]"


_ISO_START = r"\d{4}-\d{2}-\d{2}"


def epoch_ms(value: object) -> int | None:
    """One tracker timestamp as epoch milliseconds: ISO 8601 as Jira writes it
    (`2026-02-25T22:17:00.000+0100`), as GitLab's webhooks do (`2026-02-25 21:17:00 UTC`) or
    with `Z`; a number is taken as epoch milliseconds already; anything else is None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if not isinstance(value, str) or not value:
        return None
    text = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", value.strip().replace(" UTC", "+00:00").replace("Z", "+00:00"))
    try:
        return int(datetime.fromisoformat(text).timestamp() * 1000)
    except ValueError:
        return None


def parse_datetimes(
    series: pd.Series, formats: Iterable[str] = (), timezone: str | None = None
) -> tuple[pd.Series, np.ndarray]:
    """Parse text to UTC timestamps: ISO 8601, then each strptime format in order, then the
    formats again with month names and AM/PM of another language put in English.
    A timestamp without an offset is read in `timezone` (UTC if none). Returns the parsed
    column and a mask of values that were filled but could not be parsed (= invalid).

    In Arrow and numpy by position: each step reads only the values no earlier step read."""
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = series
        if parsed.dt.tz is None:
            parsed = parsed.dt.tz_localize(ZoneInfo(timezone or "UTC"), ambiguous="NaT", nonexistent="shift_forward")
        return parsed.dt.tz_convert("UTC"), np.zeros(len(series), dtype=bool)
    if series.dtype == object and is_list_column(series):
        series = series.map(lambda v: v[0] if isinstance(v, list) and v else None)
    text = _trimmed(_arrow_text(series))
    filled = pc.fill_null(pc.greater(pc.binary_length(text), 0), False).to_numpy(zero_copy_only=False)
    formats = tuple(formats)
    zone = ZoneInfo(timezone or "UTC")
    result = np.full(len(text), np.datetime64("NaT", "us"))  # UTC
    remaining = filled.copy()
    # ISO 8601 reads the same whatever the formats, so it goes first, cast by Arrow in one go
    # — unless a format puts the day where ISO has the month.
    if not any(f.startswith("%Y-%d") for f in formats):
        sample = text.take(pa.array(np.arange(0, len(text), max(1, len(text) // 1000)))).drop_null()
        if len(sample) and pc.all(pc.match_substring_regex(sample, f"^{_ISO_START}")).as_py():
            fast = _arrow_iso(pc.if_else(pa.array(filled), text, pa.scalar(None, text.type)), zone)
            if fast is not None:  # likely all ISO, and so it was: one cast
                return _utc(fast, series.index), np.zeros(len(series), dtype=bool)
        iso_like = np.flatnonzero(filled & _matches(text, f"^{_ISO_START}"))
        if len(iso_like):
            fast = _arrow_iso(text.take(pa.array(iso_like)), zone)
            if fast is not None:
                result[iso_like] = fast
                remaining[iso_like] = False
            else:
                _by_iso(text, iso_like, zone, result, remaining)
    _by_formats(text, np.arange(len(text)), formats, zone, result, remaining)
    if formats and remaining.any():
        # Month names and AM/PM in the export's language (`18/ago/26 9:10 a. m.`): read
        # again, in English words, with the same formats.
        rest = np.flatnonzero(remaining)
        worded = rest[_matches(text.take(pa.array(rest)), _LETTER)]
        if len(worded):
            from sdbridge.locales import english_dates

            _by_formats(english_dates(text.take(pa.array(worded))), worded, formats, zone, result, remaining)
    _by_iso(text, np.arange(len(text)), zone, result, remaining)  # other ISO shapes; all if day-first
    return _utc(result, series.index), filled & np.isnat(result)


def _arrow_text(series: pd.Series) -> pa.Array | pa.ChunkedArray:
    """A text column as Arrow large_string (no copy for Arrow-backed text, chunks kept)."""
    return pa.array(series.astype("str").array).cast(pa.large_string())


def _trimmed(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Whitespace trimmed at both ends; skipped (numpy over each value's first and last byte)
    when no value can have any."""
    for chunk in chunks(array):
        raw, offsets = value_bytes(chunk)
        filled = offsets[1:] > offsets[:-1]
        ends = np.concatenate([offsets[:-1][filled], offsets[1:][filled] - 1])
        if TRIMMED_BYTES[raw[ends]].any():
            return pc.utf8_trim_whitespace(array)
    return array


def _matches(array: pa.Array, pattern: str) -> np.ndarray:
    return pc.fill_null(pc.match_substring_regex(array, pattern), False).to_numpy(zero_copy_only=False)


def _utc(values: np.ndarray, index: pd.Index) -> pd.Series:
    """UTC instants (naive datetime64[us]) as a UTC column."""
    return pd.Series(values, index=index, dtype="datetime64[us]").dt.tz_localize("UTC")


def _local_to_utc(values: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """Wall-clock times in `zone` as UTC instants (NaT for a time the zone skips or repeats)."""
    if zone.key == "UTC":
        return values
    local = pd.DatetimeIndex(values).tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward")
    return local.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[us]")


def _by_iso(text: pa.Array, positions: np.ndarray, zone: ZoneInfo, result: np.ndarray, remaining: np.ndarray) -> None:
    """Parse the values of `text` at `positions` still `remaining` as ISO 8601 by pandas (an
    offset kept, none read in `zone`), into `result`."""
    todo = positions[remaining[positions]]
    if not len(todo):
        return
    rest = pd.Series(text.take(pa.array(todo)).to_numpy(zero_copy_only=False), dtype="str")
    with_offset = _matches(pa.array(rest.array), _OFFSET)
    aware = pd.to_datetime(rest[with_offset], format="ISO8601", errors="coerce", utc=True)
    naive = pd.to_datetime(rest[~with_offset], format="ISO8601", errors="coerce")
    if len(naive) and getattr(naive.dt, "tz", None) is not None:
        naive = naive.dt.tz_convert("UTC").dt.tz_localize(None)  # a shape pandas read with an offset
    elif len(naive):
        naive = pd.Series(_local_to_utc(naive.to_numpy().astype("datetime64[us]"), zone), index=naive.index)
    aware = aware.dt.tz_localize(None) if len(aware) else aware
    for part, at in ((aware, todo[with_offset]), (naive, todo[~with_offset])):
        values = part.to_numpy().astype("datetime64[us]")
        ok = ~np.isnat(values)
        result[at[ok]] = values[ok]
        remaining[at[ok]] = False


_PANDAS_ONLY = re.compile(r"%[zZfjUWcxX]")
"""Directives left to pandas' parser: Arrow's strptime gives a naive time or none for these."""


def _strptime(text: pa.Array, fmt: str, zone: ZoneInfo) -> np.ndarray:
    """`text` read with one strptime format as UTC instants (NaT where it does not fit; a
    time without an offset read in `zone`): by Arrow, about five times as fast as pandas,
    for the formats exports use."""
    if _PANDAS_ONLY.search(fmt):
        parsed = pd.to_datetime(
            pd.Series(text.to_numpy(zero_copy_only=False), dtype="str"), format=fmt, errors="coerce"
        )
        if getattr(parsed.dt, "tz", None) is not None:
            return parsed.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[us]")
        return _local_to_utc(parsed.to_numpy().astype("datetime64[us]"), zone)
    naive = pc.strptime(text, format=fmt, unit="us", error_is_null=True).to_numpy(zero_copy_only=False)
    naive = naive.astype("datetime64[us]")
    _refuse_rolled_days(text, fmt, naive)
    return _local_to_utc(naive, zone)


_DIRECTIVE_PATTERNS = {
    "d": r"(?P<day>\d{1,2})",
    "m": r"\d{1,2}",
    "Y": r"\d{4}",
    "y": r"\d{2}",
    "H": r"\d{1,2}",
    "I": r"\d{1,2}",
    "M": r"\d{1,2}",
    "S": r"\d{1,2}",
    "b": r"[^\W\d_]+\.?",
    "B": r"[^\W\d_]+",
    "a": r"[^\W\d_]+\.?",
    "A": r"[^\W\d_]+",
    "p": r"[AaPp]\.?\s?[Mm]\.?",
    "%": "%",
}


def _day_pattern(fmt: str) -> str | None:
    """A regular expression that reads the day of the month out of a text `fmt` reads; None
    when the format has no day or a directive this table does not know."""
    if "%d" not in fmt:
        return None
    parts = ["^\\s*"]
    position = 0
    while position < len(fmt):
        char = fmt[position]
        if char == "%" and position + 1 < len(fmt):
            directive = fmt[position + 1]
            if directive not in _DIRECTIVE_PATTERNS or (directive == "d" and "(?P<day>" in "".join(parts)):
                return None
            parts.append(_DIRECTIVE_PATTERNS[directive])
            position += 2
        elif char.isspace():
            parts.append("\\s*")
            position += 1
        else:
            parts.append(re.escape(char))
            position += 1
    return "".join(parts)


def _refuse_rolled_days(text: pa.Array, fmt: str, naive: np.ndarray) -> None:
    """Arrow's strptime rolls an impossible day over into the next month (`31.02.2025` reads
    as 3 March); an audit tool must call it unreadable. Such a value lands on day 1, 2 or 3,
    so only those are read again for the day the text gives, and set to NaT where it differs."""
    pattern = _day_pattern(fmt)
    if pattern is None or not len(naive):
        return
    day_of_month = (naive.astype("datetime64[D]") - naive.astype("datetime64[M]")).astype(np.int64) + 1
    suspect = np.flatnonzero(~np.isnat(naive) & (day_of_month <= 3))
    if not len(suspect):
        return
    extracted = pc.extract_regex(text.take(pa.array(suspect)), pattern)
    if isinstance(extracted, pa.ChunkedArray):
        extracted = extracted.combine_chunks()
    written = extracted.field("day")
    given = pc.cast(written, pa.int64(), safe=False).to_numpy(zero_copy_only=False)
    rolled = ~np.isnan(given.astype(float)) & (given != day_of_month[suspect])
    naive[suspect[rolled]] = np.datetime64("NaT")


def _by_formats(
    text: pa.Array,
    positions: np.ndarray,
    formats: Iterable[str],
    zone: ZoneInfo,
    result: np.ndarray,
    remaining: np.ndarray,
) -> None:
    """Parse the values of `text` (the rows at `positions`) still `remaining` with each format
    in turn, into `result`."""
    for fmt in formats:
        todo = np.flatnonzero(remaining[positions])
        if not len(todo):
            break
        parsed = _strptime(text.take(pa.array(todo)), fmt, zone)
        ok = ~np.isnat(parsed)
        result[positions[todo[ok]]] = parsed[ok]
        remaining[positions[todo[ok]]] = False


def _arrow_iso(text: pa.Array, zone: ZoneInfo) -> np.ndarray | None:
    """Fast path: text that is all ISO 8601 (all with offsets, or all without) is cast by
    Arrow in one go, to UTC instants. Returns None when any value needs the slow path."""
    try:
        return pc.cast(pc.cast(text, pa.timestamp("us", tz="UTC")), pa.timestamp("us")).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:
        naive = pc.cast(text, pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return _local_to_utc(naive.to_numpy(zero_copy_only=False).astype("datetime64[us]"), zone)
