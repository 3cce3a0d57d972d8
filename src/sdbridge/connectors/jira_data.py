"""Shapes of Jira's JSON: Atlassian Document Format to text, and custom field values
(options, users, arrays) reduced to what a mapping reads. Same result for Cloud (v3, ADF,
`accountId` users) and Data Center (v2, wiki text, `name`/`emailAddress` users)."""

from __future__ import annotations

from typing import Any

STANDARD_FIELDS = ("issuetype", "status", "created", "updated", "resolutiondate", "summary")
"""Always requested: the where-conditions, increments and done state need them."""

_BLOCKS = {"paragraph", "heading", "blockquote", "codeBlock", "listItem", "rule", "panel", "tableRow"}


def is_adf(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "doc" and isinstance(value.get("content"), list)


def adf_to_text(value: Any) -> str | None:
    """Plain text of an ADF document (blocks on their own lines); other text as it is."""
    if value is None:
        return None
    if not is_adf(value):
        return str(value) if not isinstance(value, (dict, list)) else None
    lines: list[str] = []
    current: list[str] = []

    def walk(node: dict) -> None:
        kind = node.get("type")
        if kind == "text":
            current.append(node.get("text", ""))
        elif kind == "hardBreak":
            current.append("\n")
        elif kind in ("mention", "emoji", "status", "date", "inlineCard"):
            attrs = node.get("attrs", {})
            current.append(str(attrs.get("text") or attrs.get("shortName") or attrs.get("url") or ""))
        for child in node.get("content", []) or []:
            walk(child)
        if kind in _BLOCKS and current:
            lines.append("".join(current).strip())
            current.clear()

    walk(value)
    if current:
        lines.append("".join(current).strip())
    text = "\n".join(line for line in lines if line)
    return text or None


def plain(value: Any, asset_labels: dict[str, str] | None = None) -> Any:
    """A field value as a mapping wants it: options -> their value, users -> display name,
    cascading selects -> "parent / child", Assets object references -> the object's label (from
    the Assets pull, else "object <id>"), ADF -> text, arrays element by element."""
    if value is None:
        return None
    if is_adf(value):
        return adf_to_text(value)
    if isinstance(value, list):
        return [v for v in (plain(x, asset_labels) for x in value) if v not in (None, "")]
    if isinstance(value, dict):
        if "objectId" in value and "workspaceId" in value:  # an Assets object field
            object_id = str(value["objectId"])
            return (asset_labels or {}).get(object_id) or f"object {object_id}"
        for key in ("value", "displayName", "name", "key"):
            if value.get(key) not in (None, ""):
                child = value.get("child")
                return f"{value[key]} / {plain(child)}" if isinstance(child, dict) else value[key]
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _texts(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: adf_to_text(v) if is_adf(v) else v for k, v in fields.items()}


def simplify(issue: dict, custom_ids: dict[str, str], asset_labels: dict[str, str] | None = None) -> dict:
    """The issue as stored: ADF turned into text, custom fields under `custom.<alias>`."""
    fields = issue.get("fields") or {}
    if not isinstance(fields, dict):
        raise TypeError(f"fields is a {type(fields).__name__}, not an object")
    return {
        "id": str(issue.get("id")),
        "key": issue.get("key"),
        "fields": _texts(fields),
        "custom": {alias: plain(fields.get(field_id), asset_labels) for alias, field_id in custom_ids.items()},
    }
