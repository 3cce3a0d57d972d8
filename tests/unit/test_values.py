"""Blank values: what only looks filled is empty, whatever the text around it, and the fast
path (only values whose first byte can begin a blank are matched) finds exactly what one
match over every value finds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given
from hypothesis import strategies as st

from sdbridge.config import DEFAULT_PLACEHOLDERS
from sdbridge.values import _blank_pattern, blank_mask

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


@given(st.lists(st.none() | st.lists(PIECES, max_size=4).map("".join) | st.text(max_size=12), max_size=60))
def test_the_fast_blank_mask_finds_what_matching_every_value_finds(values):
    series = pd.Series(values, dtype="str")
    assert blank_mask(series, DEFAULT_PLACEHOLDERS).tolist() == every_value(values).tolist()


def test_padded_placeholders_and_unicode_spaces_are_blank_and_text_is_not():
    values = ["  N/A ", "\u00a0tbd\u3000", "\x85", "", None, "Ops", "SD-1", "n/a x", "Unassigned", "-1"]
    got = blank_mask(pd.Series(values, dtype="str"), DEFAULT_PLACEHOLDERS).tolist()
    assert got == [True, True, True, True, True, False, False, False, True, False]
    sliced = pd.Series(values * 3, dtype="str").iloc[7:19]  # a slice of a longer column
    assert blank_mask(sliced, DEFAULT_PLACEHOLDERS).tolist() == (got * 3)[7:19]
