"""Document sections are found as CommonMark finds headings."""

from __future__ import annotations

from sdbridge.connectors.documents import parse_document, sections

HEADINGS = {"prioritization_matrix": ["Priority matrix"], "scope": ["Scope"]}


def test_a_hash_line_inside_a_code_fence_is_not_a_heading():
    body = "# Policy\n\n## Scope\n\n```bash\n# Priority matrix\necho not a heading\n```\n"
    title, found = sections(body)
    assert title == "Policy"
    assert "priority matrix" not in found
    assert "# Priority matrix" in found["scope"]  # the fence belongs to the Scope section
    item = parse_document(body, HEADINGS, "policy.md")
    assert "prioritization_matrix" not in item["evidence"] and item["evidence"]["scope"]


def test_setext_headings_are_headings():
    body = "Policy\n======\n\nPriority matrix\n---------------\nP1 within an hour.\n"
    title, found = sections(body)
    assert title == "Policy"
    assert found["priority matrix"] == "P1 within an hour."


def test_an_empty_section_evidences_nothing():
    item = parse_document("## Priority matrix\n\n## Scope\nAll hosting.\n", HEADINGS, "p.md")
    assert item["evidence"].get("prioritization_matrix") is None and item["evidence"]["scope"] == "All hosting."
