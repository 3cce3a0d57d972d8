"""The named transforms of the mapping spec, as one registry (`TRANSFORMS`: name, argument
type, vectorised function), and "first non-empty of" several references. Each works on a
whole column; only multi-valued (list) cells are handled value by value. A new transform is
one function and one entry here: the spec validates from the same table."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from sdbridge import plugins
from sdbridge.dates import parse_datetimes
from sdbridge.locales import state_words, value_key, value_meanings, value_spellings
from sdbridge.values import blank_mask, is_list_column
from sdbridge.zones import TimeZoneName

if TYPE_CHECKING:  # spec imports this module
    from sdbridge.mapping.spec import MappedSource

_JIRA_COMMENT = re.compile(r"^\s*\d{1,2}/\w{3,5}\.?/\d{2,4} \d{1,2}:\d{2}(?:\s?[ap]\.?\s?m\.?)?;[^;]*;", re.IGNORECASE)
"""`25/Feb/26 10:17 PM;user;` (or `18/ago/26 9:10 a. m.;user;` in Spanish) before a comment."""
_TRAILING_SEMICOLONS = re.compile(r"(?:\s*;)+\s*$")
"""Data Center pads some comment cells with `;;;`."""


def regex_mask(series: pd.Series, pattern: str) -> pd.Series:
    """Case-insensitive regex search over a text column (groups in the pattern are fine)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression")
        return series.astype("str").str.contains(pattern, regex=True, flags=re.IGNORECASE)


# --- the transforms --------------------------------------------------------------------------


def _each(series: pd.Series, fn: Any) -> pd.Series:
    """Apply a text function to every value, element-wise inside lists."""
    if is_list_column(series):
        return series.map(lambda v: [fn(x) for x in v] if isinstance(v, list) else v)
    return series.map(lambda v: fn(v) if isinstance(v, str) else v).astype("str")


Apply = Callable[[pd.Series, Any, np.ndarray, Any], tuple[pd.Series, np.ndarray]]
"""(column, argument, invalid mask, source config) -> (new column, invalid mask)."""


def _text_case(method: str) -> Apply:
    def apply(series: pd.Series, arg: Any, invalid: np.ndarray, source: MappedSource) -> tuple[pd.Series, np.ndarray]:
        if is_list_column(series):
            return _each(series, getattr(str, method)), invalid
        return getattr(series.astype("str").str, method)(), invalid

    return apply


def _first(series: pd.Series, arg: None, invalid: np.ndarray, source: MappedSource) -> tuple[pd.Series, np.ndarray]:
    first = series.map(lambda v: v[0] if isinstance(v, list) and v else (None if isinstance(v, list) else v))
    return first.astype("str"), invalid


def _join(series: pd.Series, arg: str, invalid: np.ndarray, source: MappedSource) -> tuple[pd.Series, np.ndarray]:
    if not is_list_column(series):
        return series, invalid
    return series.map(lambda v: arg.join(str(x) for x in v) if isinstance(v, list) and v else None).astype(
        "str"
    ), invalid


def _split(series: pd.Series, arg: str, invalid: np.ndarray, source: MappedSource) -> tuple[pd.Series, np.ndarray]:
    text = series.map(lambda v: arg.join(v) if isinstance(v, list) else v) if is_list_column(series) else series
    parts = text.map(lambda v: [p.strip() for p in v.split(arg) if p.strip()] if isinstance(v, str) else [])
    return parts.astype(object), invalid


def _map(
    series: pd.Series, arg: dict[str, Any], invalid: np.ndarray, source: MappedSource
) -> tuple[pd.Series, np.ndarray]:
    nested = isinstance(arg.get("values"), dict)
    values, default = (arg["values"], arg.get("default")) if nested else (arg, None)
    lookup = {str(k).strip().lower(): v for k, v in values.items()}

    def mapped(v: str) -> Any:
        key = v.strip().lower()
        if key in lookup:
            return lookup[key]
        return default if default is not None else v

    return _each(series, mapped), invalid


def wanted_values(values: Iterable[Any]) -> frozenset[str]:
    """The value keys that match a preset's English values: each as written, in any case, and
    as every shipped language writes it (`High` is also `Hoch`, `Alta`, `Haute`)."""
    return frozenset().union(*(value_spellings(str(v)) for v in values))


def value_keys(series: pd.Series) -> pd.Series:
    """A text column as value keys (no case, trimmed; see `locales.value_key`)."""
    return series.astype("str").str.strip().str.lower()


def _in(series: pd.Series, arg: list[Any], invalid: np.ndarray, source: MappedSource) -> tuple[pd.Series, np.ndarray]:
    wanted = wanted_values(arg)
    if is_list_column(series):
        hit = series.map(lambda v: any(value_key(str(x)) in wanted for x in v) if isinstance(v, list) else False)
        return hit.astype(bool), invalid
    return value_keys(series).isin(wanted).fillna(False).astype(bool), invalid


def _done_state(
    series: pd.Series, arg: None, invalid: np.ndarray, source: MappedSource
) -> tuple[pd.Series, np.ndarray]:
    """A state name as done (True) or open (False) in any shipped language; a state the
    vocabulary does not know stays blank, so the next `from` of the field decides."""
    done, still_open = state_words()
    if is_list_column(series):
        series = series.map(lambda v: v[0] if isinstance(v, list) and v else None).astype("str")
    keys = value_keys(series)
    distinct = keys.dropna().unique()
    verdict: dict[str, bool] = {}
    for key in distinct:
        meanings = value_meanings(key)
        if meanings & done:
            verdict[key] = True
        elif meanings & still_open:
            verdict[key] = False
    return keys.map(verdict).astype(object).where(keys.isin(list(verdict)), None), invalid


def _not_in(
    series: pd.Series, arg: list[Any], invalid: np.ndarray, source: MappedSource
) -> tuple[pd.Series, np.ndarray]:
    hit, invalid = _in(series, arg, invalid, source)
    return pd.Series(~hit.to_numpy(dtype=bool) & ~blank_mask(series), index=series.index), invalid


def _matches(series: pd.Series, arg: str, invalid: np.ndarray, source: MappedSource) -> tuple[pd.Series, np.ndarray]:
    if is_list_column(series):
        pattern = re.compile(arg, re.IGNORECASE)
        return series.map(lambda v: any(pattern.search(str(x)) for x in v) if isinstance(v, list) else False).astype(
            bool
        ), invalid
    return regex_mask(series, arg).fillna(False).astype(bool), invalid


def _extract(series: pd.Series, arg: str, invalid: np.ndarray, source: MappedSource) -> tuple[pd.Series, np.ndarray]:
    pattern = re.compile(arg)

    def extract(v: str) -> str | None:
        found = pattern.search(v)
        return found.group(1) if found else None

    if is_list_column(series):
        return series.map(
            lambda v: [x for x in (extract(str(e)) for e in v) if x] if isinstance(v, list) else v
        ), invalid
    return _each(series, extract), invalid


def _replace(
    series: pd.Series, arg: dict[str, str], invalid: np.ndarray, source: MappedSource
) -> tuple[pd.Series, np.ndarray]:
    pattern = re.compile(arg["pattern"])
    return _each(series, lambda v: pattern.sub(arg["with"], v)), invalid


def _default(series: pd.Series, arg: Any, invalid: np.ndarray, source: MappedSource) -> tuple[pd.Series, np.ndarray]:
    out = series.astype(object).copy()
    out[blank_mask(series)] = arg
    return (out if isinstance(arg, bool) else out.astype("str")), invalid


def _jira_comment_body(
    series: pd.Series, arg: None, invalid: np.ndarray, source: MappedSource
) -> tuple[pd.Series, np.ndarray]:
    return _each(series, lambda v: _TRAILING_SEMICOLONS.sub("", _JIRA_COMMENT.sub("", v, count=1))), invalid


def _unquote_formula(
    series: pd.Series, arg: None, invalid: np.ndarray, source: MappedSource
) -> tuple[pd.Series, np.ndarray]:
    return _each(series, lambda v: v[1:] if v[:2] in ("'=", "'+", "'-", "'@") else v), invalid


_JSM_APPROVALS = re.compile(r"^\s*ApprovalsCFValue\s*\{\s*approvals\s*=\s*\[(?P<inner>.*)\]\s*\}\s*$", re.S)
_APPROVED = re.compile(r"(final)?decision\s*=\s*approved", re.I)


def _jsm_approvals(
    series: pd.Series, arg: None, invalid: np.ndarray, source: MappedSource
) -> tuple[pd.Series, np.ndarray]:
    """A JSM CSV export's approvals cell, `ApprovalsCFValue{approvals=[...]}`: kept when one
    approval's decision is approved, empty otherwise (an empty list is no approval, however
    filled the cell looks). Other text passes unchanged."""

    def read(value: str) -> str | None:
        found = _JSM_APPROVALS.match(value)
        if found is None:
            return value
        return value if _APPROVED.search(found.group("inner")) else None

    return _each(series, read), invalid


def _date(
    series: pd.Series, arg: dict[str, Any], invalid: np.ndarray, source: MappedSource
) -> tuple[pd.Series, np.ndarray]:
    formats = arg.get("formats") or ([arg["format"]] if arg.get("format") else list(source.date_formats))
    parsed, bad = parse_datetimes(series, formats, arg.get("tz") or source.timezone)
    return parsed, invalid | bad


# --- arguments -------------------------------------------------------------------------------


def _regex(groups: int | None = None) -> Callable[[str], str]:
    """A validator of a regular expression (with exactly one group, when `groups` is 1)."""

    def check(value: str) -> str:
        try:
            pattern = re.compile(value)
        except re.error as exc:
            raise ValueError(f"bad regular expression: {exc}") from None
        if groups is not None and pattern.groups != groups:
            raise ValueError("needs a regular expression with exactly one group")
        return value

    return check


Regex = Annotated[str, AfterValidator(_regex())]


class _ReplaceArgument(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    pattern: Regex
    with_: str = Field(alias="with")


class _DateArgument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    formats: list[str] | None = None
    format: str | None = None
    tz: TimeZoneName | None = None


@dataclass(frozen=True)
class TransformDef:
    """One named transform: what its argument must be, what it does, in words."""

    apply: Apply
    argument: Any
    """The argument's type for pydantic (None: takes no argument)."""
    doc: str
    sees_placeholders: bool = False
    """Whether the transform could take a placeholder (`N/A`) for a value — a regex that
    matches it, a map or a default that replaces it, a test that calls it "none of these" —
    so the engine blanks placeholders before it runs. The others give a placeholder back
    as one, or never match it."""

    def check(self, name: str, arg: Any) -> Any:
        if self.argument is None:
            if arg is not None:
                raise ValueError(f"transform {name!r} takes no argument")
            return None
        try:
            TypeAdapter(self.argument).validate_python(arg, strict=True)
        except ValidationError as exc:
            problem = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in problem["loc"])
            message = problem["msg"].removeprefix("Value error, ")
            raise ValueError(f"transform {name!r}: {where + ': ' if where else ''}{message}") from None
        return arg


TRANSFORMS: dict[str, TransformDef] = {
    "strip": TransformDef(_text_case("strip"), None, "trim spaces"),
    "lower": TransformDef(_text_case("lower"), None, "lower case"),
    "upper": TransformDef(_text_case("upper"), None, "upper case"),
    "first": TransformDef(_first, None, "the first value of a multi-valued field"),
    "jira_comment_body": TransformDef(
        _jira_comment_body, None, 'a Jira CSV comment cell "25/Feb/26 10:17 PM;<accountId>;<body>" -> its body'
    ),
    "jsm_approvals": TransformDef(
        _jsm_approvals, None, "a JSM `ApprovalsCFValue{approvals=[...]}` cell: kept when one approval is approved"
    ),
    "unquote_formula": TransformDef(_unquote_formula, None, '"\'=SUM(..)" -> "=SUM(..)" (GitLab defuses formulas)'),
    "join": TransformDef(_join, str, "multi-valued -> one text, joined by the separator"),
    "split": TransformDef(_split, str, "text -> multi-valued, split at the separator", sees_placeholders=True),
    "map": TransformDef(
        _map, dict[str, Any], "a value map {HW: hardware}, or {values: {...}, default: ...}", sees_placeholders=True
    ),
    "in": TransformDef(
        _in, list[str | int | float | bool], "-> yes/no: the value (any case, any shipped language) is one of these"
    ),
    "done_state": TransformDef(
        _done_state,
        None,
        "-> yes/no: the state is a done one (yes) or an open one (no) in any shipped language; blank if unknown",
    ),
    "not_in": TransformDef(
        _not_in,
        list[str | int | float | bool],
        "-> yes/no: the value is filled and is none of these (any case)",
        sees_placeholders=True,
    ),
    "matches": TransformDef(
        _matches, Regex, "-> yes/no: a regular expression matches (any case)", sees_placeholders=True
    ),
    "extract": TransformDef(
        _extract,
        Annotated[str, AfterValidator(_regex(groups=1))],
        "the first group of a regular expression",
        sees_placeholders=True,
    ),
    "replace": TransformDef(
        _replace, _ReplaceArgument, "{pattern: <regex>, with: <text>} (\\1 for groups)", sees_placeholders=True
    ),
    "date": TransformDef(_date, _DateArgument, "{formats: [...], tz: Europe/Oslo}: text -> a date"),
    "default": TransformDef(
        _default, str | int | float | bool, "this value where the field is empty", sees_placeholders=True
    ),
}
"""Every built-in transform of the mapping spec. A package adds others under the entry-point
group `sdbridge.transforms` (a name -> a `TransformDef`), loaded by the same plugin path as
source types and report formats (`sdbridge.plugins`)."""

TRANSFORM_PLUGINS = "sdbridge.transforms"


@cache
def transform_def(name: str) -> TransformDef:
    """The transform a name stands for: a built-in, else an installed plugin's. A name nothing
    provides, or a plugin that fails to load or gives something else, is a ValueError in
    words (the config's validation shows it with the field it is on)."""
    try:
        found = plugins.find(TRANSFORM_PLUGINS, name, TRANSFORMS)
    except Exception as exc:  # a third party's import: whatever it raises is said in one line
        raise ValueError(f"transform {name!r}: its plugin could not be loaded ({type(exc).__name__}: {exc})") from None
    if found is None:
        known = ", ".join(sorted(plugins.names(TRANSFORM_PLUGINS, TRANSFORMS)))
        raise ValueError(f"unknown transform {name!r}; known: {known}")
    if not isinstance(found, TransformDef):
        raise ValueError(f"transform {name!r}: its plugin gives a {type(found).__name__}, not a sdbridge TransformDef")
    return found


def apply_transform(
    series: pd.Series, transform: Transform, invalid: np.ndarray, source: MappedSource
) -> tuple[pd.Series, np.ndarray]:
    return transform_def(transform.name).apply(series, transform.arg, invalid, source)


class Transform(BaseModel):
    """A named transform with its (validated) argument, as a mapping field lists it."""

    model_config = ConfigDict(frozen=True)
    name: str
    arg: Any = None

    @classmethod
    def parse(cls, raw: object) -> Transform:
        if isinstance(raw, str):
            name, arg = raw, None
        elif isinstance(raw, dict) and len(raw) == 1:
            ((name, arg),) = raw.items()
        else:
            raise ValueError(f"a transform is a name or a one-key mapping like {{date: {{...}}}}, got {raw!r}")
        return cls(name=name, arg=transform_def(str(name)).check(name, arg))


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
