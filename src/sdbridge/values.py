"""Column-wise value helpers shared by the mapping engine and the rules: what counts as
blank, how multi-valued cells are held, how dates and booleans are read.

Multi-valued fields (Jira's repeated `Labels` columns, split text, JSON arrays) are held as
Python lists in an object column; everything else is a pandas string, datetime, timedelta
or bool column. Every function here works on whole columns.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qsl, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import AfterValidator

from sdbridge.arrowtext import first_byte_in, value_bytes

DEFAULT_TENANT = "default"
TENANT_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
"""A tenant id: lower-case letters, digits, `_ . -`; it names files and Kubernetes objects."""


def valid_tenant(value: str) -> bool:
    """Whether `value` is a tenant id, the whole of it: `re.match` with `$` would let a
    trailing newline through (`"acme\n"`, a second tenant that looks like the first)."""
    return re.fullmatch(TENANT_PATTERN.removeprefix("^").removesuffix("$"), value) is not None


_OFFSET = r"(?:Z|[+-]\d\d:?\d\d)$"
_LETTER = r"[^\W\d_]"
_ISO_START = r"\d{4}-\d{2}-\d{2}"
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "x", "ja", "oui", "si", "sí"})


def check_timezone(value: str) -> str:
    """An IANA time zone name, or a ValueError that says what to write instead."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Oslo or UTC)") from None
    return value


TimeZoneName = Annotated[str, AfterValidator(check_timezone)]


def local_zone() -> str:
    """This machine's time zone as an IANA name: $TZ, else /etc/timezone, else the zone file
    /etc/localtime links to; UTC when none of them names a zone Python knows."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    with contextlib.suppress(OSError):
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            candidates.append(link.split("zoneinfo/", 1)[1])
    for name in candidates:
        if name and not name.startswith("/"):
            with contextlib.suppress(ValueError):
                return check_timezone(name)
    return "UTC"


CREDENTIAL_PARAMETERS = {"token", "private_token", "access_token", "api_key", "apikey", "key", "password", "secret"}


def check_url(value: str) -> str:
    """A URL from the config may not carry credentials: they would be printed, stored and
    written into every report that names the source."""
    parts = urlsplit(value)
    if "@" in parts.netloc:
        raise ValueError(
            "the URL carries credentials (user:password@): remove them and give the token as "
            "`token: ${ENV_VARIABLE}` instead"
        )
    named = {k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)}
    if named & CREDENTIAL_PARAMETERS:
        raise ValueError(
            f"the URL carries a credential in its query ({', '.join(sorted(named & CREDENTIAL_PARAMETERS))}): "
            "remove it and give the token as `token: ${ENV_VARIABLE}` instead"
        )
    return value


DATABASE_SECRETS = {"password", "sslpassword"}
"""libpq connection parameters that carry a secret; a store URL may hold neither."""


def database_url_problem(url: str) -> str | None:
    """Why a store URL may not be used as it is: a password in it (`user:pw@` or a
    `password=`/`sslpassword=` parameter) would be printed, logged and written into reports.
    None when it carries none."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None  # unreadable: the store says so
    if "@" in parts.netloc and ":" in parts.netloc.rpartition("@")[0]:
        return "the store URL carries a password (user:password@)"
    named = {k.lower() for k, _ in parse_qsl(parts.query, keep_blank_values=True)} & DATABASE_SECRETS
    if named:
        return f"the store URL carries a password in its query ({', '.join(sorted(named))}=)"
    return None


def masked_url(url: str) -> str:
    """A URL as it may be shown anywhere: a password in its user part and the values of secret
    query parameters (tokens, passwords) replaced by `***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<a URL that cannot be read>"
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        netloc = f"{user}@{host}"
    secret = CREDENTIAL_PARAMETERS | DATABASE_SECRETS
    query = "&".join(
        f"{k}={'***' if k.lower() in secret else v}" for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


PlainURL = Annotated[str, AfterValidator(check_url)]
"""A URL of the config: never one with credentials in it."""
"""A config value naming a time zone; every `timezone:`/`tz:` of the config is one."""


def is_url(location: str | Path) -> bool:
    """A store given as a database URL (PostgreSQL) rather than a SQLite file."""
    return isinstance(location, str) and "://" in location


def is_list_column(series: pd.Series) -> bool:
    if series.dtype != object:
        return False
    first = series.dropna()
    return bool(len(first)) and isinstance(first.iloc[0], list)


_SPACE = r"[\s\x0b\x1c-\x1f\x85\p{Z}]"
"""What Arrow's `utf8_trim_whitespace` trims (ASCII whitespace, the separators \x1c-\x1f, NEL
and every Unicode space: NBSP, em space, ideographic space ...), as an RE2 class."""


@functools.lru_cache(maxsize=64)
def _blank_pattern(placeholders: frozenset[str]) -> str:
    """One RE2 pattern for "empty after trimming, or a placeholder": each placeholder's
    characters spelled as code points, so no character of it means anything to RE2."""
    spelled = ["".join(c if c.isalnum() else f"\\x{{{ord(c):x}}}" for c in p) for p in sorted(placeholders)]
    choice = f"(?:{'|'.join(spelled)})?" if spelled else ""
    return f"^{_SPACE}*{choice}{_SPACE}*$"


_TRIMMED_BYTES = np.zeros(256, dtype=bool)
_TRIMMED_BYTES[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20]] = True
_TRIMMED_BYTES[0x80:] = True  # any byte of a multi-byte character: it may be a Unicode space
"""The bytes a value can begin or end with when `_SPACE` would trim it: a test at the ends of
each value (numpy) decides whether the regex or the trim need to run at all."""


@functools.lru_cache(maxsize=64)
def _may_start_blank(placeholders: frozenset[str]) -> np.ndarray:
    """The first bytes a blank value can have: whitespace, the separators, any byte of a
    multi-byte character (a Unicode space, or a letter that folds to ASCII), and the first
    letter of each placeholder in either case."""
    table = _TRIMMED_BYTES.copy()
    for placeholder in placeholders:
        for letter in {placeholder[:1].lower(), placeholder[:1].upper()} - {""}:
            table[letter.encode("utf-8")[0]] = True
    return table


def chunks(array: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    """The pieces of an array as Arrow holds them (a CSV's columns come in one per block):
    read piece by piece rather than joined, which would copy every value."""
    return array.chunks if isinstance(array, pa.ChunkedArray) else [array]


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


_ISO_LAYOUT = np.frombuffer(b"0000-00-00T00:00:00Z", dtype=np.uint8)
_ISO_DIGITS: tuple[tuple[int, int, str], ...] = (
    (0, 1000, "Y"), (1, 100, "Y"), (2, 10, "Y"), (3, 1, "Y"), (5, 10, "M"), (6, 1, "M"), (8, 10, "D"), (9, 1, "D"),
    (11, 10, "h"), (12, 1, "h"), (14, 10, "m"), (15, 1, "m"), (17, 10, "s"), (18, 1, "s"),
)  # fmt: skip
"""Where each digit of `_ISO_LAYOUT` comes from: (position, place value, part)."""


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
        if _TRIMMED_BYTES[raw[ends]].any():
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


@functools.lru_cache(maxsize=64)
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
