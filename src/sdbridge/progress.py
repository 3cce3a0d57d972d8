"""What a long command is doing, as it does it: a live line per step on a terminal (rich's
progress display: spinner, step, elapsed time, cleared when done), nothing extra when the
output is piped (the command's own result lines say what was done), nothing at all with
`--quiet`. A wait before a retry is always said ("jira: HTTP 429, waiting 30 s
(Retry-After)"), except with `--quiet`.

The command line chooses the display (`use`); library code only calls `step` and `note`,
which do nothing when no display was chosen (tests, other programs importing sdbridge).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.progress import ProgressColumn, Task
from rich.text import Text

log = logging.getLogger("sdbridge.progress")


class Display:
    """Where steps and notes go: `live` shows a rich progress display on `console`."""

    def __init__(self, console: Any, *, live: bool) -> None:
        self.console = console
        self.live = live
        self._progress: Any = None
        self._tasks: list[Any] = []

    def _display(self) -> Any:
        if self._progress is None:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                _CountColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
        return self._progress

    @contextmanager
    def step(self, text: str) -> Iterator[None]:
        if not self.live:
            with _timed(text):
                yield
            return
        progress = self._display()
        task = progress.add_task(text, total=None, unit="")
        self._tasks.append(task)
        try:
            with _timed(text):
                yield
        finally:
            self._tasks.remove(task)
            progress.remove_task(task)

    def update(self, text: str) -> None:
        if self.live and self._progress is not None and self._tasks:
            self._progress.update(self._tasks[-1], description=text)

    def count(self, done: int, total: int | None, unit: str) -> None:
        if self.live and self._progress is not None and self._tasks:
            self._progress.update(self._tasks[-1], completed=done, total=total, unit=unit)

    def note(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            self.console.print(text, markup=False, highlight=False)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class _CountColumn(ProgressColumn):
    """How far a counted step is: "45,000/1,000,000 rows · 12,000/s · ~1 min left" (or
    "3,000 issues · 250/s" when the total is not known); nothing for a step not counted."""

    def render(self, task: Task) -> Text:
        unit = task.fields.get("unit")
        if not unit:
            return Text("")
        done = int(task.completed)
        text = f"{done:,}/{int(task.total):,} {unit}" if task.total else f"{done:,} {unit}"
        speed = task.speed
        if speed:
            text += f" · {speed:,.0f}/s"
            if task.total:
                text += f" · {_left((task.total - done) / speed)}"
        return Text(text, style="progress.data.speed")


def _left(seconds: float) -> str:
    if seconds < 60:
        return f"~{max(1, round(seconds))} s left"
    return f"~{round(seconds / 60)} min left"


@contextmanager
def _timed(text: str) -> Iterator[None]:
    """-v logs each step when it is done, with how long it took."""
    started = time.monotonic()
    yield
    if log.isEnabledFor(logging.INFO):
        log.info(json.dumps({"event": "done", "step": text, "seconds": round(time.monotonic() - started, 3)}))


_display: Display | None = None


def use(display: Display | None) -> None:
    """Show steps and notes on `display` from now on (None: nowhere)."""
    global _display
    if _display is not None:
        _display.close()
    _display = display


@contextmanager
def step(text: str) -> Iterator[None]:
    """A step of a long command (`pulling jira`, `writing report.json`)."""
    if _display is None:
        with _timed(text):
            yield
        return
    with _display.step(text):
        yield


def update(text: str) -> None:
    """Say how far the current step is (`pulling jira: 3,000 issues`); live display only."""
    if _display is not None:
        _display.update(text)


def count(done: int, total: int | None = None, unit: str = "rows") -> None:
    """Say how far the current step is by count (`count(3_000, None, "issues")`): the live
    display shows the count, the rate and, with a total, the time left."""
    if _display is not None:
        _display.count(done, total, unit)


def note(text: str) -> None:
    """Something the user waits on, said as it happens (a retry wait)."""
    if _display is None:
        log.info(text)
    else:
        _display.note(text)
