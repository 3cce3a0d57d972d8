"""YAML from outside (the config, a preset, a document's front matter), read with bounds.

PyYAML's safe loader builds no objects of its own choosing, but it still accepts what hurts
an audit tool: a duplicated key silently keeps the last value (a second `sources:` drops the
first), aliases can expand a few lines into billions of values ("billion laughs"), and deep
nesting ends in a RecursionError. This loader refuses each with a `YAMLProblem` that names
the line, and caps the text size.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node

MAX_TEXT = 10 << 20
"""Characters of one YAML text (10 MiB: far above any config or front matter)."""
MAX_ALIASES = 100
"""Aliases (*name) in one text: a config needs few; a billion laughs needs many."""
MAX_DEPTH = 64
"""Nesting depth of one text."""
MAX_VALUES = 1_000_000
"""Values of one text once its aliases are followed."""


class YAMLProblem(ValueError):
    """What is wrong with a YAML text, with the 1-based line it is on."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise YAMLProblem(
                    f"more than {MAX_ALIASES} aliases (*name): refused, as a YAML bomb would be", mark.line + 1
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YAMLProblem(f"nested deeper than {MAX_DEPTH} levels", mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base class says so
                break
            if first is not None:
                raise YAMLProblem(f"the key {key!r} appears twice (lines {first} and {line}); keep one", line)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load(text: str) -> Any:
    """The value of a YAML text, or `YAMLProblem` (bounds, duplicate keys) / `yaml.YAMLError`."""
    if len(text) > MAX_TEXT:
        raise YAMLProblem(f"larger than {MAX_TEXT >> 20} MiB", None)
    loader = _BoundedLoader(text)
    try:
        value = loader.get_single_data()
    except RecursionError:
        raise YAMLProblem(f"nested deeper than {MAX_DEPTH} levels", None) from None
    except (ValueError, TypeError, OverflowError) as exc:
        if isinstance(exc, YAMLProblem):
            raise
        # A value PyYAML reads but Python refuses (2026-02-30 as a date): said with its line.
        raise YAMLProblem(f"a value cannot be read: {exc}", None) from None
    finally:
        loader.dispose()
    _check_expanded(value)
    return value


_SHIPPED_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_shipped(text: str) -> Any:
    """YAML that ships inside sdbridge (the catalogue, header spellings, languages): read by
    libyaml's safe loader when PyYAML has it (ten times the pure-Python speed, on every
    command's start). Not for text from outside, which `load` reads with its bounds; a test
    reads every shipped file with `load` too, so each is within them."""
    return yaml.load(text, Loader=_SHIPPED_LOADER)  # noqa: S506 - a safe loader


def load_shipped_file(*parts: str) -> Any:
    """A YAML data file inside the sdbridge package (`"mapping", "kinds.yaml"`), read as
    shipped YAML."""
    return load_shipped(resources.files("sdbridge").joinpath(*parts).read_text(encoding="utf-8"))


def _check_expanded(value: Any) -> None:
    """Refuse a value that aliases make huge once walked (a few aliases of aliases of lists
    are enough for billions of entries), before anything walks it."""
    pending, seen = [value], 0
    while pending:
        current = pending.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise YAMLProblem(f"expands to more than {MAX_VALUES:,} values (aliases of aliases?): refused", None)
        if isinstance(current, dict):
            pending.extend(current.values())
        elif isinstance(current, list):
            pending.extend(current)


def compose(text: str) -> Node | None:
    """The node tree of a YAML text (for line numbers), under the same bounds as `load`."""
    if len(text) > MAX_TEXT:
        raise YAMLProblem(f"larger than {MAX_TEXT >> 20} MiB", None)
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_node()
    except RecursionError:
        raise YAMLProblem(f"nested deeper than {MAX_DEPTH} levels", None) from None
    finally:
        loader.dispose()


def line_of(exc: Exception) -> int | None:
    """The 1-based line a YAML error points at, if it says."""
    if isinstance(exc, YAMLProblem):
        return exc.line
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark is not None else None
