"""Contract checks: the loopback fakes must answer the way the vendors' published
specifications say. Jira Cloud and JSM responses are validated with openapi-core against
the parts of Atlassian's OpenAPI files vendored here (`vendor_specs.py`, provenance in
README.md); GitLab responses against JSON Schemas pinned from GitLab's API documentation
(`gitlab/*.json`, each naming its page)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

HERE = Path(__file__).resolve().parent
JIRA_SERVER = "https://your-domain.atlassian.net"
JIRA_SPECS = ("jira-cloud-platform-v3.subset.json", "jira-service-management-cloud.subset.json")


@cache
def _jira() -> list[tuple[dict, OpenAPI]]:
    loaded = []
    for name in JIRA_SPECS:
        spec = json.loads((HERE / name).read_text(encoding="utf-8"))
        loaded.append((spec, OpenAPI.from_dict(spec)))
    return loaded


def _template(spec: dict, path: str) -> str | None:
    for template in spec["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            return template
    return None


def documented_expansions(method: str, path: str) -> set[str]:
    """The values the operation's `expand` parameter is documented to accept."""
    for spec, _ in _jira():
        template = _template(spec, path)
        if template is None:
            continue
        operation = spec["paths"][template].get(method.lower(), {})
        for parameter in operation.get("parameters", []):
            if parameter.get("name") == "expand":
                return set(re.findall(r"`(\w+)`", parameter.get("description", "")))
        return set()
    return set()


def jira_problems(method: str, path: str, query: dict[str, str], status: int, body: Any) -> list[str]:
    """What is wrong with one response of the Jira fake, by the published spec ([] = fine).
    Only Cloud paths the vendored spec covers are checked (Assets and Data Center's v2 search
    have no published spec here); error answers are not checked (the spec lists few)."""
    if not 200 <= status < 300 or status == 204 or not path.startswith(("/rest/api/3/", "/rest/servicedeskapi/")):
        return []  # a 204 has no body to check (the spec gives it an empty schema)
    for spec, openapi in _jira():
        if _template(spec, path) is None:
            continue
        request = MockRequest(JIRA_SERVER, method.lower(), path, args=query)
        data = b"" if body is None else json.dumps(body).encode()
        response = MockResponse(data, status_code=status, content_type="application/json")
        try:
            openapi.validate_response(request, response)
        except Exception as exc:  # noqa: BLE001 - every validation failure is a contract problem to report
            return [f"{method} {path} -> {status}: {exc}"]
        return []
    return [f"{method} {path}: not in the vendored spec (add it to tests/contracts/vendor_specs.py)"]


@cache
def _gitlab_schemas() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (HERE / "gitlab").glob("*.json")}


def gitlab_problems(name: str, body: Any) -> list[str]:
    """What is wrong with one GitLab fake response, by the schema pinned from the docs."""
    schema = _gitlab_schemas().get(name)
    if schema is None:
        return [f"no pinned schema {name!r} in tests/contracts/gitlab/"]
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(body), key=lambda e: list(e.path))
    return [f"{name}: {'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]]
