"""Starter documents for every document-type work product (`sdbridge init --templates DIR`).

Each template has the front matter the documents source reads and one section per content
item, headed with the first heading the `documents` preset recognises. Guidance sits in HTML
comments (not counted as content) and every section starts as "TBD", so a fresh template
shows every item as missing until the team writes it.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from sdbridge.config import load_preset
from sdbridge.profile import load_catalogue

FRONT_KEYS = ("id", "version", "owner", "approved_by", "approved_on", "next_review")


def _preset() -> dict:
    return load_preset("documents")


def render(wp_id: str) -> str:
    catalogue = load_catalogue()
    wp = catalogue.work_product(wp_id)
    headings = _preset()["options"]["headings"]
    front = {
        "work_product": wp.id,
        "id": f"DOC-{wp.id[3:]}",
        "version": "0.1",
        "status": "draft",
        "owner": "TBD",
        "approved_by": "TBD",
        "approved_on": None,
        "next_review": None,
    }
    if wp.id == "WP.19":
        front.update({"period_start": None, "period_end": None})
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False).strip(),
        "---",
        f"# {wp.name}",
        "",
        f"<!-- {wp.id} ({wp.process}, ISO/IEC 29110-4-3 Table {wp.table}). Fill in every section; "
        "replace TBD. Set approved_on and next_review when the document is approved. -->",
        "",
    ]
    for item in wp.items:
        for field in item.fields:
            if field in FRONT_KEYS or field not in headings:
                continue
            lines += [f"## {headings[field][0]}", f"<!-- {item.id}: {item.label}. -->", "TBD", ""]
    return "\n".join(lines)


def write_templates(folder: Path, *, force: bool = False) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    catalogue = load_catalogue()
    written = []
    for wp_id in _preset()["map"]:
        wp = catalogue.work_product(wp_id)
        slug = "".join(ch if ch.isalnum() else "-" for ch in wp.name.lower()).strip("-")
        path = folder / f"{wp.id.replace('.', '-')}-{'-'.join(filter(None, slug.split('-')))}.md"
        if path.exists() and not force:
            continue
        path.write_text(render(wp_id), encoding="utf-8")
        written.append(path)
    return written
