"""Long commands show what they are doing on a terminal, and nothing extra when piped."""

from __future__ import annotations

import io
import time

from rich.console import Console

from sdbridge import progress


def shown(buffer: io.StringIO, text: str) -> None:
    """Wait until the live display has drawn `text` (it redraws on its own thread: on a loaded
    machine that takes what it takes, so the test waits for the drawing, not for a time)."""
    for _ in range(6000):
        if text in buffer.getvalue():
            return
        time.sleep(0.01)
    raise AssertionError(f"{text!r} was never drawn")


def test_a_step_shows_live_on_a_terminal_and_is_cleared_when_done():
    buffer = io.StringIO()
    progress.use(progress.Display(Console(file=buffer, force_terminal=True, width=100), live=True))
    try:
        with progress.step("writing the json report"):
            shown(buffer, "writing the json report")
        with progress.step("pulling jira"):
            progress.update("pulling jira: 3,000 issues")
            shown(buffer, "pulling jira: 3,000 issues")
        progress.note("jira: HTTP 429, waiting 30 s (Retry-After) before searching issues")
    finally:
        progress.use(None)
    text = buffer.getvalue()
    assert "writing the json report" in text  # shown while it ran
    assert "pulling jira: 3,000 issues" in text  # how far a step is
    assert "waiting 30 s (Retry-After)" in text
    assert text.rstrip().endswith("\x1b[?25h")  # the display is gone: cursor back, line cleared


def test_piped_steps_print_nothing_but_waits_are_said():
    buffer = io.StringIO()
    progress.use(progress.Display(Console(file=buffer, width=100), live=False))
    try:
        with progress.step("pulling jira"):
            pass
        progress.note("gitlab: HTTP 503, waiting 2 s (attempt 1 of 6) before listing issues")
    finally:
        progress.use(None)
    assert buffer.getvalue() == "gitlab: HTTP 503, waiting 2 s (attempt 1 of 6) before listing issues\n"
