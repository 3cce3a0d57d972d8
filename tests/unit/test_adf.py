"""Comment bodies pushed to Jira Cloud are valid Atlassian Document Format, by Atlassian's own
schema (tests/contracts/adf-schema-v1-full.json), whatever lines a run gives them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from sdbridge.pushback.render import jira_adf, jira_description

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "contracts" / "adf-schema-v1-full.json").read_text())


def problems(body: dict) -> list[str]:
    validator = jsonschema.Draft4Validator(SCHEMA)
    return [e.message for e in validator.iter_errors(body)]


@pytest.mark.parametrize(
    "lines",
    [
        ["Root cause and solution (WP.18 h) is missing"],
        ["", "Priority (WP.18 f) is missing", ""],  # an empty message line
        None,  # the resolved note
    ],
)
def test_every_comment_body_is_valid_adf(lines):
    assert problems(jira_adf(lines)) == []


def test_a_summary_description_with_empty_lines_is_valid_adf():
    assert problems(jira_description("Gap summary", ["| WP | Gaps |", "", "Run x"], adf=True)) == []
