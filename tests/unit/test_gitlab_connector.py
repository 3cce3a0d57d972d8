"""GitLab connector details, on requests mocked with `responses`."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses

from sdbridge.config import GitLabSourceConfig
from sdbridge.connectors.gitlab import GitLabConnector, summarise_test_report

URL = "https://gitlab.example.invalid"


def connector(**extra) -> GitLabConnector:
    source = GitLabSourceConfig.model_validate(
        {
            "name": "gl",
            "type": "gitlab",
            "url": URL,
            "token": "glpat-x",
            "projects": ["a/b"],
            "resources": ["releases"],
            "retry": {"tries": 3, "backoff_seconds": 0, "max_wait_seconds": 0.01},
            **extra,
        }
    )
    return GitLabConnector(source)


@responses.activate
def test_rate_limit_reset_is_honoured_and_the_pull_completes():
    responses.get(
        f"{URL}/api/v4/projects/a%2Fb", json={"id": 7, "path_with_namespace": "a/b", "default_branch": "main"}
    )
    responses.get(f"{URL}/api/v4/projects/7/releases", status=429, headers={"RateLimit-Reset": "0"})
    responses.get(f"{URL}/api/v4/projects/7/releases", json=[{"tag_name": "v1", "released_at": "2026-01-01"}])
    batch = connector().pull_items({})
    assert [item_id for item_id, _, _ in batch.items] == ["7:release:v1"]
    assert len(responses.calls) == 3 and batch.full and batch.problems == []


@responses.activate
def test_a_missing_project_is_a_problem_not_a_crash():
    responses.get(f"{URL}/api/v4/projects/a%2Fb", status=404, json={"message": "404 Project Not Found"})
    batch = connector().pull_items({})
    assert batch.items == [] and not batch.full
    assert batch.problems and "a/b" in batch.problems[0] and "HTTP 404" in batch.problems[0]


def test_test_report_summary_reads_as_a_sentence():
    summary = summarise_test_report(
        {"total": {"count": 10, "success": 8, "failed": 1, "error": 1, "skipped": 0}, "test_suites": [{"name": "unit"}]}
    )
    assert summary["summary"] == "8 passed, 2 failed, 0 skipped of 10"
    assert summary["errors_resolution"] is None and summary["suites"] == ["unit"]
    assert summarise_test_report({"total": {"count": 0}})["has_tests"] is False


def test_scope_is_required():
    with pytest.raises(ValueError, match="projects"):
        GitLabSourceConfig.model_validate({"name": "gl", "type": "gitlab", "token": "x"})


GITLAB_AUTHENTICATED_MAX_COMPLEXITY = 250
"""GitLab's query complexity limit for a signed-in user (`app/graphql/gitlab_schema.rb`,
AUTHENTICATED_MAX_COMPLEXITY; 200 without a user). A query over it is refused as a whole."""


def _gitlab_complexity(selections) -> float:
    """GitLab's complexity of a selection, taken high: every field costs 1 plus its children;
    a connection (a field with `nodes`) adds that cost times its page size (`first`, else the
    100 a page holds at most) times 0.01, the multiplier GitLab's resolvers default to
    (`Types::BaseField#field_complexity`, `Resolvers::BaseResolver.complexity_multiplier`),
    and a sorted listing 1 more. Fields without a resolver add nothing there, so counting
    every connection as one only overstates."""
    from graphql.language import FieldNode, IntValueNode

    total = 0.0
    for field in selections.selections:
        if not isinstance(field, FieldNode):
            continue
        cost = 1 + (_gitlab_complexity(field.selection_set) if field.selection_set else 0)
        cost += 1 if any(a.name.value == "sort" for a in field.arguments or ()) else 0  # BaseResolver: +1 sorted
        children = field.selection_set.selections if field.selection_set else ()
        if any(isinstance(c, FieldNode) and c.name.value == "nodes" for c in children):
            first = [a.value for a in field.arguments or () if a.name.value == "first"]
            page = int(first[0].value) if first and isinstance(first[0], IntValueNode) else 100
            cost += cost * page * 0.01
        total += cost
    return total


@pytest.mark.parametrize("name", ["ISSUES_QUERY", "MERGE_REQUESTS_QUERY"])
def test_the_bulk_queries_stay_well_under_gitlabs_complexity_limit(name):
    """A query GitLab refuses for its complexity would send every pull back to REST (one
    request per issue for its notes): ours stay far under the limit for a signed-in user."""
    from graphql import parse

    from sdbridge.connectors import gitlab_graphql as module

    query = parse(getattr(module, name))
    complexity = _gitlab_complexity(query.definitions[0].selection_set)
    assert 20 < complexity < GITLAB_AUTHENTICATED_MAX_COMPLEXITY / 2, complexity


def test_the_queries_built_for_a_gitlab_16_server_validate_against_its_schema():
    """A GitLab 16 server (its schema vendored in tests/contracts/gitlab) has no
    `MergeRequest.closedAt`: the query sdbridge builds from what the server offers validates
    there, while the one for GitLab 17.4 and later would be refused as a whole."""
    from graphql import build_schema, parse, validate

    from sdbridge.connectors.gitlab_graphql import MERGE_REQUESTS_QUERY, listing_queries

    path = Path(__file__).resolve().parents[1] / "contracts" / "gitlab" / "gitlab_schema_16.2.graphql"
    schema = build_schema(path.read_text(encoding="utf-8"))
    offered = {name: set(schema.get_type(name).fields) for name in ("Issue", "MergeRequest")}
    for query in listing_queries(offered).values():
        assert validate(schema, parse(query)) == []
    refused = [e.message for e in validate(schema, parse(MERGE_REQUESTS_QUERY))]
    assert refused and "closedAt" in refused[0]
