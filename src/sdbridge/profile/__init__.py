"""The ISO/IEC 29110-4-3 catalogue: processes, requirements P01–P17, work products WP.01–WP.21
with their content items, Annex B traceability and Annex C audit evidence.

The catalogue is data (`catalogue.yaml`); this module only loads and validates it. Every other
part of sdbridge asks the catalogue which items exist, which fields evidence them and when
they apply, so adding or relabelling an item is a data change.
"""

from __future__ import annotations

from enum import Enum
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sdbridge import safe_yaml


class FieldType(str, Enum):
    TEXT = "text"
    DATETIME = "datetime"
    DURATION = "duration"
    BOOL = "bool"
    LIST = "list"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CanonicalField(_Frozen):
    """A field a mapping fills for a work product. `pending_until` names a bool field
    (usually `done`): while it is false an empty value is `pending`, not `missing`."""

    name: str
    type: FieldType = FieldType.TEXT
    pending_until: str | None = None
    derive: dict[str, list[str]] | None = None


COMMON_FIELDS = {
    "version": "text",
    "owner": "text",
    "approved_by": "text",
    "approved_on": "datetime",
    "next_review": "datetime",
    "evidenced_on": "datetime",
}
"""Context fields every work product has: document control and freshness (not items)."""


class Item(_Frozen):
    """One content item of Clause 7, e.g. WP.18.h."""

    id: str
    label: str
    fields: tuple[str, ...] = ()
    scope: Literal["record", "work_product"] = "record"
    when: str | None = None
    condition: str | None = None
    pending_until: str | None = None
    audit_focus: bool = False

    @property
    def letter(self) -> str:
        """The item's position in its Clause 7 list as written in the standard ("h", "c.7")."""
        parts = self.id.split(".")
        return ".".join(parts[2:]) if len(parts) > 2 else ""

    @property
    def work_product(self) -> str:
        return ".".join(self.id.split(".")[:2])

    @property
    def display(self) -> str:
        """How people write the item: "WP.18 h", "WP.16 c.7"."""
        return f"{self.work_product} {self.letter}".strip()


class WorkProduct(_Frozen):
    id: str
    name: str
    process: str
    table: str
    kind: Literal["record", "document"]
    fields: tuple[CanonicalField, ...]
    items: tuple[Item, ...]
    audit_evidence: tuple[str, ...] = ()

    @field_validator("fields", mode="before")
    @classmethod
    def _fields_from_mapping(cls, value: object) -> object:
        if isinstance(value, dict):
            value = [
                {"name": name, "type": spec} if isinstance(spec, str) else {"name": name, **spec}
                for name, spec in value.items()
            ]
        if isinstance(value, list):
            names = {f["name"] if isinstance(f, dict) else f.name for f in value}
            value = [*value, *({"name": n, "type": t} for n, t in COMMON_FIELDS.items() if n not in names)]
        return value

    @model_validator(mode="after")
    def _items_use_known_fields(self) -> WorkProduct:
        known = {f.name for f in self.fields}
        for item in self.items:
            unknown = [f for f in (*item.fields, *([item.when] if item.when else [])) if f not in known]
            if unknown:
                raise ValueError(f"{item.id} refers to unknown fields {unknown}")
            if not item.id.startswith(self.id):
                raise ValueError(f"{item.id} is listed under {self.id}")
        return self

    def field(self, name: str) -> CanonicalField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def record_items(self) -> list[Item]:
        return [i for i in self.items if i.scope == "record"]

    @property
    def work_product_items(self) -> list[Item]:
        return [i for i in self.items if i.scope == "work_product"]


class Requirement(_Frozen):
    id: str
    process: str
    statement: str
    work_products: tuple[str, ...]
    guide_tasks: tuple[str, ...]


class Process(_Frozen):
    id: str
    name: str
    clause: str
    purpose: str


class Variation(_Frozen):
    id: str
    name: str
    clause: str
    processes: tuple[str, ...]


class Catalogue(_Frozen):
    profile: str
    name: str
    processes: tuple[Process, ...]
    variations: tuple[Variation, ...]
    requirements: tuple[Requirement, ...]
    guide_tasks: dict[str, str]
    task_work_products: dict[str, tuple[str, ...]]
    work_products: tuple[WorkProduct, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _cross_references(self) -> Catalogue:
        wp_ids = {wp.id for wp in self.work_products}
        process_ids = {p.id for p in self.processes}
        for req in self.requirements:
            if req.process not in process_ids:
                raise ValueError(f"{req.id}: unknown process {req.process}")
            missing = [w for w in req.work_products if w not in wp_ids]
            if missing:
                raise ValueError(f"{req.id}: unknown work products {missing}")
            tasks = [t for t in req.guide_tasks if t not in self.guide_tasks]
            if tasks:
                raise ValueError(f"{req.id}: unknown guide tasks {tasks}")
        for wp in self.work_products:
            if wp.process not in process_ids:
                raise ValueError(f"{wp.id}: unknown process {wp.process}")
        return self

    def work_product(self, wp_id: str) -> WorkProduct:
        for wp in self.work_products:
            if wp.id == wp_id:
                return wp
        raise KeyError(wp_id)

    def item(self, item_id: str) -> Item:
        wp = self.work_product(".".join(item_id.split(".")[:2]))
        for item in wp.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def variation(self, variation_id: str) -> Variation:
        for v in self.variations:
            if v.id == variation_id:
                return v
        raise KeyError(variation_id)

    def requirements_in(self, variation_id: str) -> list[Requirement]:
        processes = set(self.variation(variation_id).processes)
        return [r for r in self.requirements if r.process in processes]

    def process(self, process_id: str) -> Process:
        for p in self.processes:
            if p.id == process_id:
                return p
        raise KeyError(process_id)


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """The catalogue shipped with sdbridge (validated; cached for the process)."""
    return Catalogue.model_validate(safe_yaml.load_shipped_file("profile", "catalogue.yaml"))


def normalise_wp_id(value: str) -> str:
    """Accept "WP.18", "wp18", "18" and return "WP.18"."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if not digits:
        raise ValueError(f"not a work product id: {value!r}")
    return f"WP.{int(digits):02d}"
