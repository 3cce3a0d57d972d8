"""What an export holds, decided from its content: headers and values, never one column.

`init --from` asks this first, then weighs only the presets of that kind, so a ticket list
is never read as configuration items or a feedback log (a GLPI list without its `Type`
column, a Portuguese GLPI list whose headers no preset spells) and a CI list never becomes
tickets. The kinds and the columns that mark them are data (`mapping/kinds.yaml`); the
states a ticket list's state column holds come from `mapping/values.yaml` in every shipped
language. The result names the signals it used and what it is unsure of, for the user to
read before trusting the config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sdbridge import safe_yaml
from sdbridge.locales import state_words, value_meanings
from sdbridge.mapping.columns import ColumnResolver
from sdbridge.values import blank_mask, is_list_column

SAMPLE_ROWS = 2000


@cache
def kinds() -> dict[str, dict[str, Any]]:
    """The kinds of export `init --from` tells apart by content (`mapping/kinds.yaml`)."""
    table = safe_yaml.load_shipped_file("mapping", "kinds.yaml")
    assert isinstance(table, dict)
    return table


@dataclass
class Recognition:
    """The kind of an export (None: too few signals of any kind), the signals seen per kind
    and what the decision is unsure of."""

    kind: str | None
    label: str
    signals: dict[str, list[str]] = field(default_factory=dict)
    doubts: list[str] = field(default_factory=list)

    def said(self) -> str:
        """One line: what the file was taken for and by which columns."""
        if self.kind is None:
            return "no kind of export is clear from its columns"
        return f"taken as {self.label} by: {'; '.join(self.signals[self.kind])}"


def _sample(resolver: ColumnResolver, reference: str) -> list[str]:
    column = resolver.column(reference).head(SAMPLE_ROWS)
    if is_list_column(column):
        column = column.map(lambda v: v[0] if isinstance(v, list) and v else None).astype("str")
    filled = column[~blank_mask(column)]
    return [str(v).strip() for v in filled]


def _states(values: list[str]) -> tuple[int, int, list[str]]:
    """(distinct values that are states, distinct values, the most frequent values)."""
    done, still_open = state_words()
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    known = sum(1 for value in counts if value_meanings(value) & (done | still_open))
    frequent = [f"{v} {n}" for v, n in sorted(counts.items(), key=lambda kv: -kv[1])[:3]]
    return known, len(counts), frequent


def recognise(resolver: ColumnResolver) -> Recognition:
    """The kind of the export `resolver` reads."""
    scores: dict[str, int] = {}
    signals: dict[str, list[str]] = {}
    for kind, spec in kinds().items():
        seen: list[str] = []
        for group, references in spec["groups"].items():
            found = [resolver.resolve(r) for r in references if resolver.has(r)]
            if found:
                seen.append(f"{group} ({', '.join(dict.fromkeys(str(f) for f in found))})")
                if group == spec.get("state_values"):
                    known, distinct, frequent = _states(
                        _sample(resolver, next(r for r in references if resolver.has(r)))
                    )
                    if known and known * 2 >= distinct:
                        seen.append(f"states as values ({', '.join(frequent)})")
        scores[kind] = len(seen)
        signals[kind] = seen
    ranked = sorted(scores, key=lambda k: -scores[k])
    best = ranked[0]
    if scores[best] < kinds()[best]["least"]:
        return Recognition(None, "not recognised by content", signals)
    recognition = Recognition(best, kinds()[best]["label"], signals)
    runner_up = ranked[1] if len(ranked) > 1 else None
    if runner_up is not None and scores[runner_up] >= kinds()[runner_up]["least"]:
        recognition.doubts.append(
            f"it also looks like {kinds()[runner_up]['label']} ({'; '.join(signals[runner_up])}); "
            f"taken as {kinds()[best]['label']}, which has more signs"
        )
    return recognition
