"""The writers' helpers: work made side by side comes out in order, never runs far ahead of
its reader, and a failure on either side reaches the caller."""

from __future__ import annotations

import threading
import time

import pytest

from sdbridge.files import in_order, write_behind


def test_made_side_by_side_and_handed_on_in_order_without_running_ahead():
    taken: list[int] = []
    running, most = 0, 0
    lock = threading.Lock()

    def items():
        for n in range(40):
            taken.append(n)
            yield n

    def make(n: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.002 * (n % 3))  # later items may finish first
        with lock:
            running -= 1
        return n * n

    seen = []
    for at, value in enumerate(in_order(make, items(), workers=3)):
        assert len(taken) <= at + 1 + 3  # at most `workers` + 1 made ahead of the one in hand
        seen.append(value)
    assert seen == [n * n for n in range(40)]
    assert most > 1  # they did run side by side


def test_a_failure_while_making_reaches_the_reader_in_its_place():
    def make(n: int) -> int:
        if n == 5:
            raise OSError(28, "No space left on device")
        return n

    got = []
    with pytest.raises(OSError, match="No space left"):
        for value in in_order(make, range(20), workers=2):
            got.append(value)
    assert got == [0, 1, 2, 3, 4]


def test_write_behind_hands_every_item_over_and_raises_the_writers_failure():
    written: list[int] = []
    write_behind(range(100), lambda fed: written.extend(fed))
    assert written == list(range(100))

    def full_disk(fed):
        for n in fed:
            if n == 3:
                raise OSError(28, "No space left on device")

    made: list[int] = []

    def many():
        for n in range(1000):
            made.append(n)
            yield n

    with pytest.raises(OSError, match="No space left"):
        write_behind(many(), full_disk)
    assert len(made) < 1000  # the producer stopped soon after the writer failed
