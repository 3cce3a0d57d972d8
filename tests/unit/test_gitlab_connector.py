"""GitLab connector details, on requests mocked with `responses`."""

from __future__ import annotations

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
