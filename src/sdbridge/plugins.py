"""One way in for every part sdbridge can be extended with: source types (entry-point group
`sdbridge.connectors`, built-ins in `sdbridge.registry`), report formats (`sdbridge.sinks`,
built-ins in `sdbridge.reports`) and the mapping's transforms (`sdbridge.transforms`,
built-ins in `sdbridge.mapping.transforms`).

A built-in is named exactly as a plugin is — a `module:attribute` string — and loaded by the
same `load` when first used: a built-in is a plugin that ships inside the package. A name
resolves to the built-in of that name, else to the installed entry point of that name.
Nothing is imported until a name is used, so `sdbridge --help` loads no connector and no
writer. This module knows no group's members: each owner passes its own built-ins.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint


def load(target: str | Any) -> Any:
    """A `module:attribute` reference, imported now; anything else as it is."""
    if not isinstance(target, str):
        return target
    module, _, attribute = target.partition(":")
    return getattr(import_module(module), attribute)


def installed(group: str) -> dict[str, EntryPoint]:
    """The entry points of a group: name -> entry point (not loaded). `importlib.metadata`
    is imported here, when a name is not a built-in, not when the command starts (it costs
    `--help` a tenth of its time)."""
    from importlib.metadata import entry_points

    return {entry.name: entry for entry in entry_points(group=group)}


def names(group: str, builtins: Mapping[str, Any]) -> tuple[str, ...]:
    """Every name of a group: the built-ins in their order, then the installed plugins."""
    return (*builtins, *sorted(set(installed(group)) - set(builtins)))


def find(group: str, name: str, builtins: Mapping[str, Any]) -> Any:
    """The part a name stands for, loaded now: the built-in, else the installed plugin; None
    when nothing provides it."""
    if name in builtins:
        return load(builtins[name])
    entry = installed(group).get(name)
    return entry.load() if entry is not None else None
