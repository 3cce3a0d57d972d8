"""The contract checks themselves: they must catch a fake that answers outside the spec."""

from __future__ import annotations

from tests.contracts import documented_expansions, gitlab_problems, jira_problems


def test_an_undocumented_key_in_a_jira_answer_is_caught():
    page = {"values": [], "startAt": 0, "maxResults": 2, "isLast": True}
    assert jira_problems("GET", "/rest/api/3/issue/NHS-1/changelog", {}, 200, page) == []
    assert jira_problems("GET", "/rest/api/3/issue/NHS-1/changelog", {}, 200, {**page, "bogus": 1})
    assert jira_problems("GET", "/rest/api/3/issue/NHS-1/nowhere", {}, 200, {})  # not in the vendored spec


def test_the_expansions_a_comment_read_may_have_come_from_the_spec():
    assert documented_expansions("GET", "/rest/api/3/issue/NHS-1/comment/10000") == {"renderedBody"}
    assert "properties" in documented_expansions("POST", "/rest/api/3/comment/list")


def test_a_pipelines_list_item_with_the_single_pipelines_fields_is_caught():
    basic = {
        "id": 1,
        "iid": 1,
        "project_id": 42,
        "status": "success",
        "ref": "main",
        "sha": "abc",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "web_url": "https://x",
    }
    assert gitlab_problems("pipelines_list_item", basic) == []
    assert gitlab_problems("pipelines_list_item", {**basic, "user": {"id": 1}, "finished_at": None})
