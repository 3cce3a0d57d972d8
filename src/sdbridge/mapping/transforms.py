"""Column-wise operations of the mapping spec: `where` conditions, named transforms, and
"first non-empty of" several references. Each works on a whole column; only multi-valued
(list) cells are handled value by value."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from sdbridge.errors import MappingError
from sdbridge.mapping.spec import Condition, Transform
from sdbridge.values import blank_mask, is_list_column, parse_datetimes

_JIRA_COMMENT = re.compile(r"^\s*\d{1,2}/\w{3}/\d{2,4} \d{1,2}:\d{2}(?: [AP]M)?;[^;]*;", re.IGNORECASE)


def _regex_mask(series: pd.Series, pattern: str) -> pd.Series:
    """Case-insensitive regex search over a text column (groups in the pattern are fine)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression")
        return series.astype("str").str.contains(pattern, regex=True, flags=re.IGNORECASE)


# --- where -----------------------------------------------------------------------------------


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
        wanted = {v.lower() for v in (condition.in_ or condition.not_in or (condition.equals,))}
        hit = lowered.map(lambda values: bool(wanted.intersection(values))).to_numpy(dtype=bool)
        return ~hit if condition.not_in is not None else hit
    text = series.astype("str").str.strip().str.lower()
    if condition.contains is not None:
        mask = text.str.contains(condition.contains.lower(), regex=False)
    elif condition.matches is not None:
        mask = _regex_mask(text, condition.matches)
    elif condition.equals is not None:
        mask = text == condition.equals.lower()
    elif condition.in_ is not None:
        mask = text.isin([v.lower() for v in condition.in_])
    else:
        mask = ~text.isin([v.lower() for v in condition.not_in or ()])
        return mask.fillna(True).to_numpy(dtype=bool)
    return mask.fillna(False).to_numpy(dtype=bool)


# --- transforms ------------------------------------------------------------------------------


def _each(series: pd.Series, fn: Any) -> pd.Series:
    """Apply a text function to every value, element-wise inside lists."""
    if is_list_column(series):
        return series.map(lambda v: [fn(x) for x in v] if isinstance(v, list) else v)
    return series.map(lambda v: fn(v) if isinstance(v, str) else v).astype("str")


def apply_transform(
    series: pd.Series, transform: Transform, invalid: np.ndarray, source: Any
) -> tuple[pd.Series, np.ndarray]:
    name, arg = transform.name, transform.arg
    listy = is_list_column(series)
    if name in ("strip", "lower", "upper") and not listy:
        return getattr(series.astype("str").str, name)(), invalid
    if name == "strip":
        return _each(series, str.strip), invalid
    if name == "lower":
        return _each(series, str.lower), invalid
    if name == "upper":
        return _each(series, str.upper), invalid
    if name == "first":
        return (series.map(lambda v: v[0] if isinstance(v, list) and v else (None if isinstance(v, list) else v)).astype("str"), invalid)
    if name == "join":
        if not listy:
            return series, invalid
        return series.map(lambda v: arg.join(str(x) for x in v) if isinstance(v, list) and v else None).astype("str"), invalid
    if name == "split":
        text = series if not listy else series.map(lambda v: arg.join(v) if isinstance(v, list) else v)
        return (
            text.map(lambda v: [p.strip() for p in v.split(arg) if p.strip()] if isinstance(v, str) else []).astype(object),
            invalid,
        )
    if name == "map":
        values = arg.get("values", arg) if isinstance(arg.get("values"), dict) else arg
        default = arg.get("default") if isinstance(arg.get("values"), dict) else None
        lookup = {str(k).strip().lower(): v for k, v in values.items()}

        def mapped(v: str) -> Any:
            key = v.strip().lower()
            if key in lookup:
                return lookup[key]
            return default if default is not None else v

        return _each(series, mapped), invalid
    if name == "in":
        wanted = {str(v).strip().lower() for v in arg}
        if listy:
            return series.map(lambda v: any(str(x).strip().lower() in wanted for x in v) if isinstance(v, list) else False).astype(bool), invalid
        return series.astype("str").str.strip().str.lower().isin(wanted).fillna(False).astype(bool), invalid
    if name == "matches":
        if listy:
            pattern = re.compile(arg, re.IGNORECASE)
            return series.map(lambda v: any(pattern.search(str(x)) for x in v) if isinstance(v, list) else False).astype(bool), invalid
        return _regex_mask(series, arg).fillna(False).astype(bool), invalid
    if name == "extract":
        pattern = re.compile(arg)

        def extract(v: str) -> str | None:
            found = pattern.search(v)
            return found.group(1) if found else None

        if listy:
            return series.map(
                lambda v: [x for x in (extract(str(e)) for e in v) if x] if isinstance(v, list) else v
            ), invalid
        return _each(series, extract), invalid
    if name == "replace":
        pattern = re.compile(arg["pattern"])
        return _each(series, lambda v: pattern.sub(arg["with"], v)), invalid
    if name == "default":
        blank = blank_mask(series)
        out = series.astype(object).copy()
        out[blank] = arg
        return (out if isinstance(arg, bool) else out.astype("str")), invalid
    if name == "jira_comment_body":
        return _each(series, lambda v: _JIRA_COMMENT.sub("", v, count=1)), invalid
    if name == "unquote_formula":
        return _each(series, lambda v: v[1:] if v[:2] in ("'=", "'+", "'-", "'@") else v), invalid
    if name == "date":
        formats = arg.get("formats") or ([arg["format"]] if arg.get("format") else list(source.date_formats))
        parsed, bad = parse_datetimes(series, formats, arg.get("tz") or source.timezone)
        return parsed, invalid | bad
    raise MappingError(f"transform {name!r} is not implemented")  # guarded by spec validation


def _as_lists(series: pd.Series) -> pd.Series:
    if is_list_column(series):
        return series
    return series.map(lambda v: [v] if isinstance(v, str) and v.strip() else []).astype(object)


def first_non_empty(columns: list[pd.Series], placeholders: tuple[str, ...]) -> pd.Series:
    """Per row, the value of the first column that is not blank. If any column is
    multi-valued, the result is multi-valued (a text becomes a one-value list)."""
    if len(columns) == 1:
        return columns[0]
    if any(is_list_column(c) for c in columns):
        columns = [_as_lists(c) for c in columns]
    result = columns[0].copy()
    for other in columns[1:]:
        blank = blank_mask(result, placeholders)
        if not blank.any():
            break
        result = result.where(~blank, other)
    return result
