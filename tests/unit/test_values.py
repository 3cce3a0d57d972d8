"""Blank values: what only looks filled is empty, whatever the text around it, and the fast
path (only values whose first byte can begin a blank are matched) finds exactly what one
match over every value finds."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given
from hypothesis import strategies as st

from sdbridge.config import DEFAULT_PLACEHOLDERS
from sdbridge.dates import parse_datetimes
from sdbridge.values import _blank_pattern, as_text, blank_mask

PLACEHOLDERS = frozenset(p.strip().lower() for p in DEFAULT_PLACEHOLDERS)
PIECES = st.sampled_from(
    [" ", "\t", "\n", "\x0b", "\x1c", "\x85", "\xa0", "\u2003", "\u3000", "N/A", "n/a", "TBD", "-", "None",
     "UNKNOWN", "[]", "{}", "ſ", "K", "Ops", "SD-12", "2026-01-01", "é", "x"]
)  # fmt: skip


def every_value(values: list[str | None]) -> np.ndarray:
    """The reference: the blank pattern matched against every value."""
    array = pa.array(values, pa.large_string())
    found = pc.match_substring_regex(array, _blank_pattern(PLACEHOLDERS), ignore_case=True)
    return pc.fill_null(found, True).to_numpy(zero_copy_only=False)


@given(
    st.lists(st.none() | st.lists(PIECES, max_size=4).map("".join) | st.text(max_size=12), max_size=60),
    st.integers(1, 9),
)
def test_the_fast_blank_mask_finds_what_matching_every_value_finds(values, piece):
    """Whole, and in the pieces a CSV read gives (one per block), read piece by piece."""
    series = pd.Series(values, dtype="str")
    expected = every_value(values).tolist()
    assert blank_mask(series, DEFAULT_PLACEHOLDERS).tolist() == expected
    pieces = [pa.array(values[at : at + piece], pa.large_string()) for at in range(0, len(values), piece)]
    chunked = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(pieces, pa.large_string())))
    assert blank_mask(chunked, DEFAULT_PLACEHOLDERS).tolist() == expected


def test_dates_read_the_same_from_one_piece_or_many():
    values = ["2026-01-01T10:00:00Z", None, " 18/ago/26 9:10 a. m.", "\u00a02026-01-02T10:00:00+02:00", "bad", ""] * 5
    whole, whole_bad = parse_datetimes(pd.Series(values, dtype="str"), ["%d/%b/%y %I:%M %p"])
    pieces = [pa.array(values[at : at + 4], pa.large_string()) for at in range(0, len(values), 4)]
    chunked = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array(pieces)))
    parsed, bad = parse_datetimes(chunked, ["%d/%b/%y %I:%M %p"])
    assert parsed.equals(whole) and bad.tolist() == whole_bad.tolist()
    assert [str(t) for t in whole[:6]] == [
        "2026-01-01 10:00:00+00:00", "NaT", "2026-08-18 09:10:00+00:00", "2026-01-02 08:00:00+00:00", "NaT", "NaT"
    ]  # fmt: skip
    assert whole_bad[:6].tolist() == [False, False, False, False, True, False]


def test_padded_placeholders_and_unicode_spaces_are_blank_and_text_is_not():
    values = ["  N/A ", "\u00a0tbd\u3000", "\x85", "", None, "Ops", "SD-1", "n/a x", "Unassigned", "-1"]
    got = blank_mask(pd.Series(values, dtype="str"), DEFAULT_PLACEHOLDERS).tolist()
    assert got == [True, True, True, True, True, False, False, False, True, False]
    sliced = pd.Series(values * 3, dtype="str").iloc[7:19]  # a slice of a longer column
    assert blank_mask(sliced, DEFAULT_PLACEHOLDERS).tolist() == (got * 3)[7:19]


@given(st.lists(st.none() | st.integers(-(10**9), 10**10), max_size=40))
def test_durations_read_as_hours_the_way_python_writes_them(seconds):
    """`62.3`, `1.0`, `-2.0`: hours rounded to two places (by numpy), as Python writes that float; a
    missing duration stays missing."""
    durations = pd.Series(pd.to_timedelta(pd.array(seconds, dtype="Int64"), unit="s"))
    expected = [None if s is None else str(float(np.round(s / 3600, 2))) for s in seconds]
    got = as_text(durations)
    assert [None if pd.isna(v) else v for v in got] == expected


IMPOSSIBLE = ["31.02.2025", "30.02.2024", "29.02.2023", "31.04.2025", "31.06.2026", "31.09.2026", "31.11.2026"]


def test_an_impossible_day_is_unreadable_not_rolled_into_the_next_month():
    real = ["29.02.2024", "28.02.2025", "01.03.2025", "31.03.2025", "03.05.2025", "30.04.2025"]
    parsed, bad = parse_datetimes(pd.Series(IMPOSSIBLE + real, dtype="str"), ["%d.%m.%Y"])
    assert bad.tolist() == [True] * len(IMPOSSIBLE) + [False] * len(real)
    assert parsed[len(IMPOSSIBLE) :].dt.strftime("%d.%m.%Y").tolist() == real


@given(
    st.dates(date(1970, 1, 1), date(2068, 12, 31)),
    st.sampled_from(["%d.%m.%Y", "%d/%b/%y %I:%M %p", "%m/%d/%Y %H:%M", "%d-%m-%Y %H:%M"]),
)
def test_every_real_date_reads_back_as_itself_in_every_format(day, fmt):
    text = pd.Timestamp(day).replace(hour=15, minute=7).strftime(fmt)
    parsed, bad = parse_datetimes(pd.Series([text], dtype="str"), [fmt])
    assert not bad[0] and parsed[0].date() == day


def test_an_impossible_day_with_a_month_name_in_another_language_is_unreadable():
    parsed, bad = parse_datetimes(
        pd.Series(["31/sept/26 9:10 a. m.", "30/sept/26 9:10 a. m.", "31/Apr/26 3:00 PM"], dtype="str"),
        ["%d/%b/%y %I:%M %p"],
    )
    assert bad.tolist() == [True, False, True]
    assert parsed[1] == pd.Timestamp("2026-09-30 09:10", tz="UTC")


def test_an_impossible_day_is_found_in_a_column_read_in_pieces():
    text = pa.chunked_array([["31.02.2025", "01.03.2025"], ["30.02.2024", "29.02.2024"]], pa.large_string())
    series = pd.Series(pd.arrays.ArrowStringArray(text), dtype="str")
    _, bad = parse_datetimes(series, ["%d.%m.%Y"])
    assert bad.tolist() == [True, False, True, False]
