"""The words of push-back: comment bodies per tracker, and the summary issue's table.

Bodies are rendered at write time from the lines of this run (item messages: they name items,
never values, people or other records), so rewording a message changes what the next written
comment says but never makes a ticket "changed" by itself (the plan fingerprints item ids
and statuses only).
"""

from __future__ import annotations

from typing import Any

from sdbridge.assessment import Assessment
from sdbridge.marker import HEADING, INTRO, MARKER, OUTRO, RESOLVED_TEXT


def _paragraph(text: str) -> dict[str, Any]:
    """A paragraph of one text node; an empty text node is invalid ADF, so an empty line is
    an empty paragraph."""
    if not text:
        return {"type": "paragraph", "content": []}
    return {"type": "paragraph", "content": [{"type": "text", "text": text}]}


def jira_adf(lines: list[str] | None) -> dict[str, Any]:
    """An Atlassian Document Format body (REST v3); None = the resolved note."""
    if lines is None:
        return {"type": "doc", "version": 1, "content": [_paragraph(RESOLVED_TEXT)]}
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": HEADING, "marks": [{"type": "strong"}]},
                    {"type": "text", "text": f" — {INTRO}"},
                ],
            },
            {"type": "bulletList", "content": [{"type": "listItem", "content": [_paragraph(line)]} for line in lines]},
            _paragraph(OUTRO),
        ],
    }


def jira_wiki(lines: list[str] | None) -> str:
    """A wiki-markup body (REST v2, Data Center); None = the resolved note."""
    if lines is None:
        return RESOLVED_TEXT
    return "\n".join([f"*{HEADING}* — {INTRO}", "", *(f"* {line}" for line in lines), "", OUTRO])


def jira_description(title: str, lines: list[str], adf: bool) -> Any:
    if adf:
        return {"type": "doc", "version": 1, "content": [_paragraph(line) for line in [title, *lines] if line]}
    return "\n".join([f"*{title}*", "", *lines])


def gitlab_markdown(lines: list[str] | None) -> str:
    """A GitLab note in Markdown, with the marker as a hidden HTML comment."""
    if lines is None:
        return f"{RESOLVED_TEXT}\n\n<!-- {MARKER} -->"
    return "\n".join(
        [f"**{HEADING}** — {INTRO}", "", *(f"- {line}" for line in lines), "", OUTRO, "", f"<!-- {MARKER} -->"]
    )


def gitlab_summary(lines: list[str]) -> str:
    return "\n".join([*lines, "", f"<!-- {MARKER} -->"])


def summary_lines(assessment: Assessment, previous: Assessment | None, source: str) -> list[str]:
    """The summary issue's table: gaps by WP for this source, and the change since last run."""
    lines = ["| WP | Records | With gaps | Gaps | Since last run |", "|---|---:|---:|---:|---:|"]
    before = previous.summary.by_work_product if previous is not None else {}
    for wp, counts in sorted(assessment.summary.by_work_product.items()):
        result = assessment.work_products[wp]
        if source not in result.sources:
            continue
        delta = counts.gaps - (before[wp].gaps if wp in before else counts.gaps)
        lines.append(
            f"| {wp} {result.name} | {counts.records} | {counts.records_with_gaps} | {counts.gaps} | {delta:+d} |"
        )
    lines.append("")
    lines.append(f"Run {assessment.run_id} at {assessment.generated_at.isoformat()}. Updated by sdbridge every run.")
    return lines
