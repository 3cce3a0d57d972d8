"""`where` conditions: which raw items form a work product's records. Column-wise; only
multi-valued (list) cells are handled value by value."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from sdbridge.locales import value_key
from sdbridge.mapping.spec import Condition
from sdbridge.mapping.transforms import regex_mask, value_keys, wanted_values
from sdbridge.values import blank_mask, is_list_column


def condition_mask(series: pd.Series, condition: Condition, placeholders: tuple[str, ...]) -> np.ndarray:
    if condition.present is not None:
        present = ~blank_mask(series, placeholders)
        return present if condition.present else ~present
    if is_list_column(series):
        lowered = series.map(lambda v: [str(x).strip().lower() for x in v] if isinstance(v, list) else [])
        if condition.contains is not None:
            needle = condition.contains.lower()
            return lowered.map(lambda values: needle in values).to_numpy(dtype=bool)
        if condition.matches is not None:
            pattern = re.compile(condition.matches, re.IGNORECASE)
            return lowered.map(lambda values: any(pattern.search(v) for v in values)).to_numpy(dtype=bool)
        wanted = wanted_values(condition.in_ or condition.not_in or (condition.equals or "",))
        keyed = series.map(lambda v: [value_key(str(x)) for x in v] if isinstance(v, list) else [])
        hit = keyed.map(lambda values: bool(wanted.intersection(values))).to_numpy(dtype=bool)
        return ~hit if condition.not_in is not None else hit
    text = series.astype("str").str.strip().str.lower()
    if condition.contains is not None:
        mask = text.str.contains(condition.contains.lower(), regex=False)
    elif condition.matches is not None:
        mask = regex_mask(text, condition.matches)
    elif condition.equals is not None:
        mask = value_keys(series).isin(wanted_values([condition.equals]))
    elif condition.in_ is not None:
        mask = value_keys(series).isin(wanted_values(condition.in_))
    else:
        mask = ~value_keys(series).isin(wanted_values(condition.not_in or ()))
        return mask.fillna(True).to_numpy(dtype=bool)
    return mask.fillna(False).to_numpy(dtype=bool)
