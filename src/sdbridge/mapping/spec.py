"""The declarative mapping spec: which items of a source form a work product's records
(`where`), and where each canonical field's value comes from (`from`) with which named
transforms. Validated by pydantic at config load; applied by `mapping.engine`.

A `from` reference is a column name for table sources and a JMESPath expression for
JSON-shaped items (Jira, GitLab). A list of references means "the first non-empty of".
"""

from __future__ import annotations

import re
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sdbridge.mapping.transforms import Transform

EXTRA_FIELDS = ("url", "owner")
"""Fields a mapping may fill for every WP besides the catalogue's: `url` links to the ticket,
`owner` names who can fix its gaps (shown with each finding) — except in a work product whose
catalogue has an `owner` field of its own (WP.02), where `owner` is that field."""


class FieldSpec(BaseModel):
    """Where one canonical field comes from. Shorthands accepted in YAML:
    `priority: Priority` (one reference), `reporter: [Reporter, Creator]` (first non-empty)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    from_: tuple[str | FieldSpec, ...] = Field(default=(), alias="from")
    """References, first non-empty wins; an entry may itself be a spec with its own
    transforms: `from: [{from: description, transforms: [{extract: ...}]}, sdbridge.notes]`."""
    value: str | int | float | bool | None = None  # a constant
    duration: tuple[str, str] | None = None  # [start_field, end_field]
    transforms: tuple[Transform, ...] = ()
    combine: Literal["first", "any"] = "first"
    """How several `from` entries make one value: the first non-empty (`first`), or, for
    yes/no entries, yes where any of them says yes (`any`: a high priority, or a wide impact,
    or a critical urgency makes an incident significant)."""
    required: bool = True
    """A column named here must exist. Presets set it to false: an export without the
    column leaves the field empty (and the report says so) instead of failing."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, raw: object) -> object:
        if isinstance(raw, str):
            return {"from": [raw]}
        if isinstance(raw, list):
            return {"from": raw}
        if isinstance(raw, dict) and isinstance(raw.get("from"), (str, dict)):
            return {**raw, "from": [raw["from"]]}
        return raw

    def references(self) -> list[str]:
        """Every column or path this spec reads, nested entries included."""
        found: list[str] = []
        for entry in self.from_:
            found.extend(entry.references() if isinstance(entry, FieldSpec) else [entry])
        return found

    def extracted(self) -> bool:
        """The value is cut out of free text (an `extract` transform on every path to it): an
        export whose text never holds the pattern does not provide this field."""
        if any(t.name == "extract" for t in self.transforms):
            return True
        return bool(self.from_) and all(isinstance(e, FieldSpec) and e.extracted() for e in self.from_)

    @field_validator("transforms", mode="before")
    @classmethod
    def _transforms(cls, raw: object) -> object:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raw = [raw]
        return tuple(Transform.parse(t) for t in raw)

    @model_validator(mode="after")
    def _one_origin(self) -> FieldSpec:
        origins = sum([bool(self.from_), self.value is not None, self.duration is not None])
        if origins != 1:
            raise ValueError("give exactly one of `from`, `value` or `duration`")
        return self


class Condition(BaseModel):
    """One `where` condition; a record is formed when all conditions of its WP hold."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    from_: str = Field(alias="from")
    equals: str | None = None
    in_: tuple[str, ...] | None = Field(default=None, alias="in")
    not_in: tuple[str, ...] | None = None
    contains: str | None = None  # a value of a multi-valued field, or a substring of a text
    matches: str | None = None  # regex search
    present: bool | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        tests = [self.equals, self.in_, self.not_in, self.contains, self.matches, self.present]
        if sum(t is not None for t in tests) != 1:
            raise ValueError("give exactly one of equals, in, not_in, contains, matches, present")
        if self.matches is not None:
            try:
                re.compile(self.matches)
            except re.error as exc:
                raise ValueError(f"bad regular expression: {exc}") from None
        return self

    def describe(self) -> str:
        for op, value in (
            ("=", self.equals),
            ("in", self.in_),
            ("not in", self.not_in),
            ("contains", self.contains),
            ("matches", self.matches),
            ("present", self.present),
        ):
            if value is not None:
                shown = list(value) if isinstance(value, tuple) else value
                return f"{self.from_} {op} {shown!r}"
        return self.from_


class WorkProductMapping(BaseModel):
    """How one source forms the records of one work product."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    where: tuple[Condition, ...] = ()
    """All of these must hold."""
    where_any: tuple[Condition, ...] = ()
    """... and, if given, at least one of these (e.g. issue type Incident, or label incident)."""
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    record_id: str = "id"  # the canonical field that identifies a record

    @field_validator("where", "where_any", mode="before")
    @classmethod
    def _where_list(cls, raw: object) -> object:
        if raw is None:
            return ()
        return raw if isinstance(raw, list) else [raw]


class EventLog(Protocol):
    """An export with a row per update of a ticket (`sources.EventLogConfig`)."""

    @property
    def key(self) -> str: ...
    @property
    def updated(self) -> str: ...
    @property
    def opened(self) -> str | None: ...


class MappedSource(Protocol):
    """What the mapping reads of a source's configuration, and nothing more: every source
    model (`sources.SourceBase` and its kinds, a plugin's) provides it. Named here so that the
    mapping depends on these six attributes, not on the config package above it."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def timezone(self) -> str | None: ...
    @property
    def date_formats(self) -> tuple[str, ...]: ...
    @property
    def url_template(self) -> str | None: ...
    @property
    def mappings(self) -> dict[str, WorkProductMapping]: ...
