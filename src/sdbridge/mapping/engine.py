"""Applies a source's mapping to its raw table: raw items -> one `WorkProductTable` per WP.

Every raw item ends in exactly one of three states, so the report's numbers reconcile:
- mapped: it formed a record of at least one work product;
- excluded: no work product's `where` selected it;
- rejected: it was selected but cannot be a record (a duplicate id, nothing mapped), with the
  reason and its row.

All work is column-wise over the raw DataFrame; nothing loops over records except the
handling of multi-valued cells.
"""

from __future__ import annotations

import difflib
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import jmespath
import numpy as np
import pandas as pd

from sdbridge.connectors.base import ROW, RawTable
from sdbridge.errors import InputError, MappingError
from sdbridge.mapping.spec import Condition, FieldSpec, Transform, WorkProductMapping
from sdbridge.profile import Catalogue, FieldType, WorkProduct
from sdbridge.values import blank_mask, is_list_column, parse_bools, parse_datetimes

# Provenance columns of a WorkProductTable.
SOURCE, RECORD_ID, URL, ROW_COL = "_source", "_record_id", "_url", "_row"
INVALID_PREFIX = "_invalid__"

_JIRA_COMMENT = re.compile(r"^\s*\d{1,2}/\w{3}/\d{2,4} \d{1,2}:\d{2}(?: [AP]M)?;[^;]*;", re.IGNORECASE)


@dataclass
class Rejection:
    row: int
    reason: str
    work_product: str


@dataclass
class WorkProductTable:
    """The records of one work product from one or more sources: a DataFrame with one
    column per canonical field, provenance columns (`_source`, `_record_id`, `_row`, `_url`)
    and `_invalid__<field>` masks for values that were given but unusable."""

    work_product: WorkProduct
    frame: pd.DataFrame
    placeholders: tuple[str, ...] = ()
    _blank: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def blank(self, field_name: str) -> np.ndarray:
        """Where the field is blank or a placeholder; computed once per field."""
        if field_name not in self._blank:
            self._blank[field_name] = blank_mask(self.frame[field_name], self.placeholders)
        return self._blank[field_name]

    def invalid(self, field_name: str) -> np.ndarray:
        column = INVALID_PREFIX + field_name
        if column in self.frame:
            return self.frame[column].to_numpy(dtype=bool)
        return np.zeros(len(self.frame), dtype=bool)

    @property
    def records(self) -> int:
        return len(self.frame)


@dataclass
class SourceOutcome:
    """What one source contributed, with counts that reconcile:
    items = mapped + excluded + rejected."""

    name: str
    type: str
    location: str
    items: int = 0
    mapped: int = 0
    excluded: int = 0
    rejected: int = 0
    records: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    status: str = "ok"
    error: str | None = None


# --- references ------------------------------------------------------------------------------


class _Resolver:
    """Turns `from` references into columns of the raw table."""

    def __init__(self, raw: RawTable) -> None:
        self.raw = raw
        self._cache: dict[str, pd.Series] = {}

    def check(self, references: set[str]) -> None:
        """Name every referenced column that the file lacks, with the closest headers."""
        if self.raw.kind != "table":
            return
        missing = sorted(r for r in references if r not in self.raw.columns)
        if not missing:
            return
        headers = list(self.raw.columns)
        parts = []
        for ref in missing:
            close = difflib.get_close_matches(ref, headers, n=3, cutoff=0.6)
            parts.append(f"{ref!r}" + (f" (did you mean {', '.join(map(repr, close))}?)" if close else ""))
        raise InputError(
            f"mapped column(s) not in the file: {'; '.join(parts)}",
            path=self.raw.location,
            line=1,
            column=missing[0],
            source=self.raw.source,
            hint="fix the column names under `map:` or export the missing columns",
        )

    def has(self, reference: str) -> bool:
        return self.raw.kind != "table" or reference in self.raw.columns

    def column(self, reference: str) -> pd.Series:
        if reference in self._cache:
            return self._cache[reference]
        frame = self.raw.frame
        if self.raw.kind == "json":
            try:
                expression = jmespath.compile(reference)
            except jmespath.exceptions.JMESPathError as exc:
                raise MappingError(f"source {self.raw.source!r}: {reference!r} is not a valid JMESPath: {exc}") from None
            values = [_search(expression, item) for item in frame["_item"]]
            series = pd.Series(values, index=frame.index, dtype=object)
            if not any(isinstance(v, list) for v in values):
                series = series.map(lambda v: None if v is None else str(v) if not isinstance(v, str) else v)
                series = series.astype("str")
        else:
            physical = self.raw.columns[reference]
            if len(physical) == 1:
                series = frame[physical[0]]
            else:
                block = frame[physical].astype(object)
                series = pd.Series(
                    [[v for v in row if isinstance(v, str) and v.strip()] for row in block.itertuples(index=False)],
                    index=frame.index,
                    dtype=object,
                )
        self._cache[reference] = series
        return series


def _search(expression: Any, item: Any) -> Any:
    """A JMESPath value; an item of another shape (a function given null) has none."""
    try:
        return expression.search(item)
    except jmespath.exceptions.JMESPathError:
        return None


def _references(mapping: WorkProductMapping) -> set[str]:
    """References that must exist: `where` columns and the fields the user wrote."""
    refs = {c.from_ for c in (*mapping.where, *mapping.where_any)}
    for spec in mapping.fields.values():
        if spec.required:
            refs.update(spec.references())
    return refs


def _unresolved_notes(raw: RawTable, mappings: dict[str, WorkProductMapping]) -> list[str]:
    """Preset fields none of whose columns the export has: say which items will show as missing."""
    if raw.kind != "table":
        return []
    notes = []
    for wp_id, mapping in mappings.items():
        for name, spec in mapping.fields.items():
            refs = spec.references()
            if refs and not spec.required and not any(r in raw.columns for r in refs):
                notes.append(
                    f"{wp_id}.{name}: none of the columns {', '.join(map(repr, refs))} is in the export; "
                    f"the field is empty on every record (map it under `map.{wp_id}.fields.{name}`)"
                )
    return notes


def _regex_mask(series: pd.Series, pattern: str) -> pd.Series:
    """Case-insensitive regex search over a text column (groups in the pattern are fine)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="This pattern is interpreted as a regular expression")
        return series.astype("str").str.contains(pattern, regex=True, flags=re.IGNORECASE)


# --- where -----------------------------------------------------------------------------------


def _condition_mask(series: pd.Series, condition: Condition, placeholders: tuple[str, ...]) -> np.ndarray:
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


def _apply_transform(
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


def _first_non_empty(columns: list[pd.Series], placeholders: tuple[str, ...]) -> pd.Series:
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


# --- the engine ------------------------------------------------------------------------------


class MappingEngine:
    def __init__(self, catalogue: Catalogue, placeholders: tuple[str, ...]) -> None:
        self.catalogue = catalogue
        self.placeholders = placeholders

    def map_source(self, raw: RawTable, source: Any) -> tuple[dict[str, WorkProductTable], SourceOutcome]:
        """Map one pulled source. Raises `InputError` when the file lacks mapped columns."""
        mappings = source.mappings
        outcome = SourceOutcome(name=source.name, type=source.type, location=raw.location, items=raw.items)
        outcome.notes.extend(raw.notes)
        resolver = _Resolver(raw)
        resolver.check(set().union(*(_references(m) for m in mappings.values())) if mappings else set())
        outcome.notes.extend(_unresolved_notes(raw, mappings))
        n = raw.items
        selected_any = np.zeros(n, dtype=bool)
        recorded = np.zeros(n, dtype=bool)
        rejected = np.zeros(n, dtype=bool)
        tables: dict[str, WorkProductTable] = {}
        rows = raw.frame[ROW].to_numpy()
        for wp_id, mapping in mappings.items():
            wp = self.catalogue.work_product(wp_id)
            where = np.ones(n, dtype=bool)
            for condition in mapping.where:
                where &= _condition_mask(resolver.column(condition.from_), condition, self.placeholders)
            if mapping.where_any:
                any_of = np.zeros(n, dtype=bool)
                for condition in mapping.where_any:
                    any_of |= _condition_mask(resolver.column(condition.from_), condition, self.placeholders)
                where &= any_of
            selected_any |= where
            table, keep, reasons = self._build(wp, mapping, resolver, where, source, rows)
            recorded |= keep
            for index, reason in reasons:
                rejected[index] = True
                outcome.rejections.append(Rejection(row=int(rows[index]), reason=reason, work_product=wp_id))
            tables[wp_id] = table
            outcome.records[wp_id] = table.records
        outcome.mapped = int(recorded.sum())
        outcome.rejected = int((rejected & ~recorded).sum())
        outcome.excluded = n - outcome.mapped - outcome.rejected
        # An item rejected by one WP but recorded by another counts as mapped; keep only the
        # rejections of items that became no record at all, so the list matches the count.
        kept_rows = set(rows[rejected & ~recorded].tolist())
        outcome.rejections = [r for r in outcome.rejections if r.row in kept_rows]
        return tables, outcome

    def _build(
        self,
        wp: WorkProduct,
        mapping: WorkProductMapping,
        resolver: _Resolver,
        where: np.ndarray,
        source: Any,
        rows: np.ndarray,
    ) -> tuple[WorkProductTable, np.ndarray, list[tuple[int, str]]]:
        everything = bool(where.all())
        positions = np.flatnonzero(where)
        index = resolver.raw.frame.index if everything else resolver.raw.frame.index[positions]
        columns, invalid = self._fields(wp, mapping, resolver, None if everything else positions, index, source)
        url = columns.pop("url", None)
        frame = pd.DataFrame(columns, index=index, copy=False)
        frame[SOURCE] = source.name
        frame[ROW_COL] = rows if everything else rows[positions]
        for name, mask in invalid.items():
            frame[INVALID_PREFIX + name] = mask
        table = WorkProductTable(work_product=wp, frame=frame, placeholders=self.placeholders)
        id_blank = self._identify(table, mapping, url, source)
        # Not a record: nothing mapped at all, or the same id again within this source.
        value_columns = list(columns)
        empty = (
            np.logical_and.reduce([table.blank(c) for c in value_columns])
            if value_columns
            else np.ones(len(frame), dtype=bool)
        )
        first = ~frame[RECORD_ID].duplicated(keep="first").to_numpy()
        duplicated = ~id_blank & ~first
        drop = empty | duplicated
        reasons: list[tuple[int, str]] = []
        if drop.any():
            first_row = dict(zip(frame[RECORD_ID][first & ~id_blank], frame[ROW_COL][first & ~id_blank]))
            for at in np.flatnonzero(drop):
                if empty[at]:
                    reasons.append((int(positions[at]), f"no mapped field of {wp.id} has a value"))
                else:
                    rid = frame[RECORD_ID].iat[at]
                    reasons.append((int(positions[at]), f"duplicate of {wp.id} record {rid} (row {first_row[rid]})"))
            kept = ~drop
            table = WorkProductTable(
                work_product=wp,
                frame=frame[kept].reset_index(drop=True),
                placeholders=self.placeholders,
                _blank={name: mask[kept] for name, mask in table._blank.items()},
            )
        elif not everything:
            table.frame = table.frame.reset_index(drop=True)
        keep = np.zeros(len(resolver.raw.frame), dtype=bool)
        keep[positions[~drop]] = True
        return table, keep, reasons

    def _fields(
        self,
        wp: WorkProduct,
        mapping: WorkProductMapping,
        resolver: _Resolver,
        positions: np.ndarray | None,
        index: pd.Index,
        source: Any,
    ) -> tuple[dict[str, pd.Series], dict[str, np.ndarray]]:
        """Every mapped field, transformed and typed as the catalogue declares it, plus
        masks of values that were given but unusable."""
        columns: dict[str, pd.Series] = {}
        invalid: dict[str, np.ndarray] = {}

        def flag(name: str, bad: np.ndarray) -> None:
            if bad.any():
                invalid[name] = invalid[name] | bad if name in invalid else bad

        for name, spec in mapping.fields.items():
            if spec.duration is not None:
                continue
            if spec.from_ and not any(resolver.has(r) for r in spec.references()):
                continue  # an optional preset column the export lacks: the field stays unmapped
            series, bad = self._field(spec, resolver, positions, index, source)
            flag(name, bad)
            if name in wp.field_names:
                series, bad = self._coerce(series, wp.field(name).type, source)
                flag(name, bad)
            columns[name] = series
        # Durations last: they read other canonical fields.
        for f in wp.fields:
            spec = mapping.fields.get(f.name)
            pair = spec.duration if spec is not None and spec.duration else None
            derive = (f.derive or {}).get("duration")
            if pair is None and derive is None:
                continue
            start, end = (columns.get(name) for name in (pair or derive))  # type: ignore[union-attr]
            if start is None or end is None:
                continue
            span = end - start
            negative = (span < pd.Timedelta(0)).fillna(False).to_numpy(dtype=bool)
            span = span.where(~negative, pd.NaT)
            current = columns.get(f.name)
            if pair is None and current is not None:
                span = current.where(current.notna(), span)  # mapped directly; derive only where empty
                negative &= current.isna().to_numpy()
            columns[f.name] = span
            flag(f.name, negative)
        return columns, invalid

    def _identify(
        self, table: WorkProductTable, mapping: WorkProductMapping, url: pd.Series | None, source: Any
    ) -> np.ndarray:
        """Set record ids (the mapped id, else "row N") and links; return where the id is blank."""
        frame = table.frame
        if mapping.record_id in frame:
            ids = frame[mapping.record_id].astype("str").str.strip()
            blank = table.blank(mapping.record_id)
        else:
            ids = pd.Series(pd.NA, index=frame.index, dtype="str")
            blank = np.ones(len(frame), dtype=bool)
        record_ids = ids.copy()
        if blank.any():
            record_ids[blank] = "row " + frame[ROW_COL][blank].astype("str")
        frame[RECORD_ID] = record_ids
        if url is not None:
            frame[URL] = url.astype("str")
        elif source.url_template:
            prefix, _, suffix = source.url_template.partition("{id}")
            frame[URL] = (prefix + ids + suffix).where(~blank, None)
        else:
            frame[URL] = pd.Series(None, index=frame.index, dtype="str")
        return blank

    def _field(
        self, spec: FieldSpec, resolver: _Resolver, positions: np.ndarray | None, index: pd.Index, source: Any
    ) -> tuple[pd.Series, np.ndarray]:
        bad = np.zeros(len(index), dtype=bool)
        if spec.value is not None:
            series = pd.Series([spec.value] * len(index), index=index, dtype=object)
            if not isinstance(spec.value, bool):
                series = series.astype("str")
        else:
            picked = []
            for entry in spec.from_:
                if isinstance(entry, FieldSpec):
                    if any(resolver.has(r) for r in entry.references()):
                        value, entry_bad = self._field(entry, resolver, positions, index, source)
                        picked.append(value)
                        bad |= entry_bad
                elif resolver.has(entry):
                    column = resolver.column(entry)
                    picked.append(column if positions is None else column.iloc[positions])
            series = _first_non_empty(picked, self.placeholders)
        for transform in spec.transforms:
            series, bad = _apply_transform(series, transform, bad, source)
        return series, bad

    def _coerce(self, series: pd.Series, kind: FieldType, source: Any) -> tuple[pd.Series, np.ndarray]:
        none = np.zeros(len(series), dtype=bool)
        if kind == FieldType.DATETIME and not pd.api.types.is_datetime64_any_dtype(series):
            parsed, bad = parse_datetimes(series, source.date_formats, source.timezone)
            blank_text = blank_mask(series, self.placeholders)
            return parsed, bad & ~blank_text
        if kind == FieldType.BOOL:
            return parse_bools(series), none
        if kind == FieldType.DURATION and not pd.api.types.is_timedelta64_dtype(series):
            text = series.astype("str").str.strip()
            hours = pd.to_numeric(text, errors="coerce")
            parsed = pd.to_timedelta(hours, unit="h")
            bad = (text.notna() & (text != "") & hours.isna()).to_numpy(dtype=bool)
            return parsed, bad & ~blank_mask(series, self.placeholders)
        return series, none


def merge_tables(catalogue: Catalogue, parts: dict[str, list[WorkProductTable]]) -> dict[str, WorkProductTable]:
    """One table per WP from the tables of several sources."""
    merged = {}
    for wp_id, tables in parts.items():
        wp = catalogue.work_product(wp_id)
        frames = [t.frame for t in tables if len(t.frame)]
        if not frames:
            merged[wp_id] = WorkProductTable(wp, tables[0].frame if tables else pd.DataFrame(),
                                             tables[0].placeholders if tables else ())
            continue
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        for column in frame.columns:
            if column.startswith(INVALID_PREFIX):
                frame[column] = frame[column].fillna(False).astype(bool)
        merged[wp_id] = WorkProductTable(wp, frame, tables[0].placeholders)
        if len(frames) == 1:
            merged[wp_id]._blank = next(t._blank for t in tables if len(t.frame))
    return merged
