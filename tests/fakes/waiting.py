"""What every loopback fake offers a test: serving for as long as a block runs, and a wake-up
after each answered request, so a test waits on what the fake saw, never on a clock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar


class Waitable:
    """Mixed into a fake that holds `_changed`, a condition on its lock."""

    _changed: threading.Condition

    def answered(self) -> None:
        """A request was answered: wake whoever waits for a change (`wait_for`)."""
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[], object], timeout: float = 120.0) -> bool:
        """Wait until `predicate()` holds, looked at again after each answered request (no
        clock is guessed: the timeout only ends a test that would otherwise hang)."""
        with self._changed:
            return bool(self._changed.wait_for(predicate, timeout))


Fake = TypeVar("Fake", bound=Any)


@contextmanager
def serving(fake: Fake) -> Iterator[Fake]:
    """The fake started (its URL in `fake.base`) for as long as the block runs, then stopped
    (which checks every answer it gave against the vendor's published shapes)."""
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
