"""How sdbridge recognises its own comments: a hidden marker (a Jira comment property, an
HTML comment in a GitLab note) and the fixed texts it writes. Its own comments never count
as evidence (e.g. of restoration steps), so the connectors are given `is_own_text`."""

from __future__ import annotations

MARKER = "sdbridge:iso29110-gaps"
HEADING = "ISO/IEC 29110 gap check"
RESOLVED_TEXT = "All ISO/IEC 29110 items sdbridge checks are now present on this ticket. Thank you."
INTRO = "An audit of this service will look for the following on this ticket, and it is not there yet:"
OUTRO = (
    "Please fill them in on the ticket. sdbridge updates this comment after every run and closes it when "
    "nothing is missing."
)


def is_own_text(text: str | None) -> bool:
    """A comment or note sdbridge wrote."""
    return bool(text) and any(mark in str(text) for mark in (MARKER, HEADING, RESOLVED_TEXT))
