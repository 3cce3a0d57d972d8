"""Cut the parts of Atlassian's published OpenAPI files that sdbridge calls out of the copies
in ../shared/specs/ (provenance in tests/contracts/README.md) and write them here, with every
component they reference. Run again when sdbridge calls another endpoint:

    python tests/contracts/vendor_specs.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPECS = HERE.parents[2] / "shared" / "specs"

USED = {
    "jira-cloud-platform-v3.json": {
        "/rest/api/3/serverInfo": ["get"],
        "/rest/api/3/field": ["get"],
        "/rest/api/3/status": ["get"],
        "/rest/api/3/myself": ["get"],
        "/rest/api/3/search/jql": ["get"],
        "/rest/api/3/issue/{issueIdOrKey}": ["get", "put"],
        "/rest/api/3/issue/{issueIdOrKey}/changelog": ["get"],
        "/rest/api/3/changelog/bulkfetch": ["post"],
        "/rest/api/3/issue/{issueIdOrKey}/comment": ["get", "post"],
        "/rest/api/3/issue/{issueIdOrKey}/comment/{id}": ["get", "put", "delete"],
        "/rest/api/3/comment/list": ["post"],
        "/rest/api/3/comment/{commentId}/properties/{propertyKey}": ["get"],
    },
    "jira-service-management-cloud.json": {
        "/rest/servicedeskapi/request/{issueIdOrKey}/approval": ["get"],
    },
}


def _refs(node: object, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def subset(spec: dict, paths: dict[str, list[str]]) -> dict:
    kept = {path: {m: spec["paths"][path][m] for m in methods} for path, methods in paths.items()}
    for path, item in kept.items():
        if "parameters" in spec["paths"][path]:
            item["parameters"] = spec["paths"][path]["parameters"]
    wanted: set[str] = set()
    _refs(kept, wanted)
    components: dict[str, dict] = {}
    done: set[str] = set()
    while wanted - done:
        ref = sorted(wanted - done)[0]
        done.add(ref)
        _, _, section, name = ref.split("/", 3)
        value = spec["components"][section][name]
        components.setdefault(section, {})[name] = value
        _refs(value, wanted)
    for scheme in ("securitySchemes",):
        if scheme in spec.get("components", {}):
            components[scheme] = spec["components"][scheme]
    return {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "servers": spec["servers"],
        "paths": kept,
        "components": components,
    }


def main() -> None:
    for name, paths in USED.items():
        spec = json.loads((SPECS / name).read_text(encoding="utf-8"))
        out = HERE / name.replace(".json", ".subset.json")
        out.write_text(json.dumps(subset(spec, paths), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {out.name}: {len(paths)} paths")


if __name__ == "__main__":
    main()
