"""Source types: the one place that says what each `type:` of source is.

An entry declares the type's config model, its kind — `file` (read whole when it changed:
CSV, XLSX, a documents folder) or `items` (pulled incrementally: Jira, GitLab) — its
connector, its push writer (or none), and how an item of the store names a ticket that
push-back may comment on. Runner, pipeline, config and push-back ask this module; nothing
else switches on a type name.

Built-ins are listed here. A third-party source type is a class registered under the
entry-point group `sdbridge.connectors` (entry-point name = `type:`); it declares the same
things as class attributes:

    class ServiceNowConnector:
        kind = "items"                  # or "file" (the default when it has `pull`)
        writer = ServiceNowWriter       # optional: push-back
        @staticmethod
        def ticket_of(item): ...       # optional: the ticket an item is, or None

Connectors are imported when first used, so `sdbridge --help` loads none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, cast

from pydantic import Discriminator, Tag

from sdbridge import plugins
from sdbridge.errors import ConfigError
from sdbridge.sources import (
    DocumentsSourceConfig,
    GitLabSourceConfig,
    JiraSourceConfig,
    PluginSourceConfig,
    SourceBase,
    TableSourceConfig,
)

Kind = Literal["file", "items"]
GROUP = "sdbridge.connectors"


def _jira_ticket(item: dict[str, Any]) -> str | None:
    return item.get("key") if item.get("_kind") == "issue" else None


def _gitlab_ticket(item: dict[str, Any]) -> str | None:
    if item.get("_kind") in ("issue", "merge_request"):
        return (item.get("references") or {}).get("full")
    return None


@dataclass(frozen=True)
class SourceType:
    name: str
    kind: Kind
    connector: str | Any
    """The connector class (or `module:Class`), called as `Class(source, resolve=...)`."""
    config: type[SourceBase] = PluginSourceConfig
    writer: str | Any | None = None
    """The push writer class (or `module:Class`), called as `Class(source)`; None: no push-back."""
    ticket_of: Callable[[dict[str, Any]], str | None] | None = None
    reads_own_comments: bool = False
    """Its items carry comment texts, among them push-back's own: the connector is given
    `skip_text` to leave those out of the evidence."""
    builtin: bool = True

    def connect(self, source: Any, *, resolve: Callable[[Any], Any]) -> Any:
        factory = plugins.load(self.connector)
        if self.reads_own_comments:
            from sdbridge.marker import is_own_text

            return factory(source, resolve=resolve, skip_text=is_own_text)
        return factory(source, resolve=resolve)

    def push_writer(self, source: Any) -> Any:
        if self.writer is None:
            raise ConfigError(f"source {source.name!r}: push-back is not available for {self.name} sources")
        return plugins.load(self.writer)(source)

    def active_tickets(self, items: list[dict[str, Any]]) -> set[str]:
        """The tickets among a source's active items in the store."""
        if self.ticket_of is None:
            return set()
        return {ticket for item in items if (ticket := self.ticket_of(item))}


BUILTINS: dict[str, SourceType] = {
    "csv": SourceType("csv", "file", "sdbridge.connectors.tables:TableFileConnector", TableSourceConfig),
    "xlsx": SourceType("xlsx", "file", "sdbridge.connectors.tables:TableFileConnector", TableSourceConfig),
    "documents": SourceType(
        "documents", "file", "sdbridge.connectors.documents:DocumentsConnector", DocumentsSourceConfig
    ),
    "jira": SourceType(
        "jira",
        "items",
        "sdbridge.connectors.jira:JiraConnector",
        JiraSourceConfig,
        writer="sdbridge.pushback.writers:JiraWriter",
        ticket_of=_jira_ticket,
        reads_own_comments=True,
    ),
    "gitlab": SourceType(
        "gitlab",
        "items",
        "sdbridge.connectors.gitlab:GitLabConnector",
        GitLabSourceConfig,
        writer="sdbridge.pushback.writers:GitLabWriter",
        ticket_of=_gitlab_ticket,
        reads_own_comments=True,
    ),
}


@cache
def _plugin(name: str) -> SourceType | None:
    entry = plugins.installed(GROUP).get(name)
    if entry is None:
        return None
    cls = entry.load()
    kind = getattr(cls, "kind", "file" if hasattr(cls, "pull") else "items")
    if kind not in ("file", "items"):
        raise ConfigError(f"source type {name!r} ({entry.value}): kind must be 'file' or 'items', not {kind!r}")
    return SourceType(
        name,
        cast(Kind, kind),
        cls,
        writer=getattr(cls, "writer", None),
        ticket_of=getattr(cls, "ticket_of", None),
        builtin=False,
    )


def plugin_names() -> set[str]:
    return set(plugins.installed(GROUP))


def known_types() -> list[str]:
    return sorted({*BUILTINS, *plugin_names()})


def source_type(name: str) -> SourceType:
    found = BUILTINS.get(name) or _plugin(name)
    if found is None:
        raise ConfigError(f"unknown source type {name!r}; known types: {', '.join(known_types())}")
    return found


def of(source: Any) -> SourceType:
    """The type entry of a configured source."""
    return source_type(source.type)


def _config_tag(value: Any) -> str | None:
    """Which config model validates a raw source: its built-in type, `plugin`, or the unknown
    name (pydantic then reports it, and config.py names the known types)."""
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if kind is None or kind in BUILTINS:
        return kind
    return "plugin" if kind in plugin_names() else str(kind)


CONFIG_TAGS = (*BUILTINS, "plugin")
"""The tags pydantic puts into error locations; they are not part of the user's file."""

_TAGGED = tuple(Annotated[entry.config, Tag(name)] for name, entry in BUILTINS.items()) + (
    Annotated[PluginSourceConfig, Tag("plugin")],
)

if TYPE_CHECKING:  # what a type checker reads; at run time the union is built from BUILTINS
    SourceConfig = Annotated[
        TableSourceConfig | JiraSourceConfig | GitLabSourceConfig | DocumentsSourceConfig | PluginSourceConfig,
        Discriminator(_config_tag),
    ]
else:
    SourceConfig = Annotated[Union[_TAGGED], Discriminator(_config_tag)]  # noqa: UP007 (a union built from a tuple)
"""A source of the config file: the model of its type, one member per entry of `BUILTINS`
(tagged with its type name) and one for plugin types."""
