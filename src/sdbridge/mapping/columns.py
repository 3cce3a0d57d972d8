"""Where a mapping's references find their values: a column of a table export (by header,
in any spelling or language) or a JMESPath into a tracker's items."""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Any

import jmespath
import numpy as np
import pandas as pd

from sdbridge.connectors.base import RawTable
from sdbridge.errors import InputError, MappingError
from sdbridge.locales import english_headers, header_key, spellings
from sdbridge.mapping.spec import FieldSpec, WorkProductMapping
from sdbridge.profile import Catalogue
from sdbridge.values import blank_mask


class ColumnResolver:
    """Turns `from` references into columns of the raw table. A column name is found
    whatever its case, accents or spacing, under any spelling `headers.yaml` lists for it
    (`Component/s` is Cloud's `Components`), and in any language `mapping/languages` holds
    (`Resumen` is `Summary`)."""

    def __init__(self, raw: RawTable, placeholders: tuple[str, ...] = ()) -> None:
        self.raw = raw
        self.placeholders = placeholders
        self._cache: dict[str, pd.Series] = {}
        self._blank: dict[str, np.ndarray] = {}
        self._by_key: dict[str, str] = {}
        if raw.kind == "table":
            for name in raw.columns:
                self._by_key.setdefault(header_key(name), name)
            for name in raw.columns:  # a ServiceNow custom field read by meaning: `u_root_cause`
                key = header_key(name)
                if key.startswith("u ") and len(key) > 2:
                    self._by_key.setdefault(key[2:], name)
            for name in raw.columns:
                for english in english_headers(name):
                    self._by_key.setdefault(header_key(english), name)

    def resolve(self, reference: str) -> str | None:
        """The file's column `reference` stands for; None when the file has none."""
        if self.raw.kind != "table":
            return reference
        for spelling in (reference, *spellings().get(header_key(reference), ())):
            found = self._by_key.get(header_key(spelling))
            if found is not None:
                return found
        return None

    def closest(self, reference: str, exclude: Collection[str] = ()) -> list[str]:
        """Up to three headers of the file that look like `reference` (none of `exclude`)."""
        headers = {header_key(h): h for h in self.raw.columns if h not in exclude}
        close = difflib.get_close_matches(header_key(reference), list(headers), n=3, cutoff=0.6)
        return [headers[c] for c in close]

    def check(self, references: set[str]) -> None:
        """Name every referenced column that the file lacks, with the closest headers."""
        if self.raw.kind != "table":
            return
        missing = sorted(r for r in references if self.resolve(r) is None)
        if not missing:
            return
        parts = []
        for ref in missing:
            close = self.closest(ref)
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
        return self.resolve(reference) is not None

    def column(self, reference: str) -> pd.Series:
        if reference in self._cache:
            return self._cache[reference]
        frame = self.raw.frame
        if self.raw.kind == "json":
            try:
                expression = jmespath.compile(reference)
            except jmespath.exceptions.JMESPathError as exc:
                raise MappingError(
                    f"source {self.raw.source!r}: {reference!r} is not a valid JMESPath: {exc}"
                ) from None
            values = [search(expression, item) for item in frame["_item"]]
            series = pd.Series(values, index=frame.index, dtype=object)
            if not any(isinstance(v, list) for v in values):
                series = series.map(lambda v: None if v is None else str(v) if not isinstance(v, str) else v)
                series = series.astype("str")
        else:
            physical = self.raw.columns[self.resolve(reference) or reference]
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

    def blank(self, reference: str) -> np.ndarray:
        """Where the whole raw column is blank or a placeholder: once per column, before any
        `where:` keeps rows, whichever fields and work products read it."""
        key = self.resolve(reference) or reference
        if key not in self._blank:
            self._blank[key] = blank_mask(self.column(reference), self.placeholders)
        return self._blank[key]

    def plain(self, spec: FieldSpec) -> str | None:
        """The column a field takes as it is (one `from`, no transform), if it does."""
        if spec.value is not None or spec.transforms or len(spec.from_) != 1 or not isinstance(spec.from_[0], str):
            return None
        return spec.from_[0] if self.has(spec.from_[0]) else None


def search(expression: Any, item: Any) -> Any:
    """A JMESPath value; an item of another shape (a function given null) has none."""
    try:
        return expression.search(item)
    except jmespath.exceptions.JMESPathError:
        return None


def references(mapping: WorkProductMapping) -> set[str]:
    """References that must exist: `where` columns and the fields the user wrote."""
    refs = {c.from_ for c in (*mapping.where, *mapping.where_any)}
    for spec in mapping.fields.values():
        if spec.required:
            refs.update(spec.references())
    return refs


def unresolved_notes(
    resolver: ColumnResolver, mappings: dict[str, WorkProductMapping], catalogue: Catalogue
) -> list[str]:
    """Preset fields that evidence an item but none of whose columns the export has: one
    note per WP naming them and the headers closest to each, so a user sees at once which
    items will show as missing and why."""
    if resolver.raw.kind != "table":
        return []
    notes = []
    for wp_id, mapping in mappings.items():
        wp = catalogue.work_product(wp_id)
        refs_used = [r for spec in mapping.fields.values() for r in spec.references()]
        used = {h for h in map(resolver.resolve, refs_used) if h is not None}
        evidencing = {f for item in wp.items for f in (*item.fields, *([item.when] if item.when else []))}
        evidencing |= {f.pending_until for f in wp.fields if f.pending_until}
        evidencing |= {i.pending_until for i in wp.items if i.pending_until}
        absent = []
        for name, spec in mapping.fields.items():
            if name not in evidencing:
                continue
            refs = spec.references()
            if refs and not spec.required and not any(resolver.has(r) for r in refs):
                close = list(dict.fromkeys(c for r in refs for c in resolver.closest(r, used)))[:3]
                hint = f", closest headers: {', '.join(close)}" if close else ""
                absent.append(f"{name} ({' / '.join(refs)}{hint})")
        if absent:
            notes.append(
                f"{wp_id}: the export has no column for {'; '.join(absent)} — these fields are empty on every "
                f"record; map your columns under `map.{wp_id}.fields` (see `sdbridge mapping`)"
            )
    return notes
