"""Writing files the way every output of sdbridge is written: atomically (a temporary file
in the same folder, renamed over the target), so a crash never leaves half a report or half
an audit package, with the permissions of an ordinary file."""

from __future__ import annotations

import os
import queue
import stat
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

LEFTOVER_AGE_SECONDS = 600
"""A temporary file this old beside its target was left by a process that was killed."""


def remove_leftovers(path: Path) -> int:
    """Delete temporary files of `path` that a killed process left behind (never a fresh
    one: another writer may be using it). Returns how many were removed."""
    removed = 0
    now = time.time()
    for leftover in path.parent.glob(f".{path.name}.*"):
        try:
            if leftover.is_file() and now - leftover.stat().st_mtime > LEFTOVER_AGE_SECONDS:
                leftover.unlink()
                removed += 1
        except OSError:
            continue
    return removed


class NotARegularFile(OSError):
    """A path from outside that is no regular file: a device (`/dev/zero` never ends), a FIFO
    (opening it waits for a writer forever), a socket or a folder."""

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(f"{path} is {kind}, not a regular file")
        self.kind = kind


def _kind(mode: int) -> str | None:
    """What a file of this mode is, when it is not a regular file."""
    for test, kind in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "a special file"


def file_kind(path: Path) -> str | None:
    """What `path` is when it is no regular file (`a folder`, `a character device`, ...); None
    for a regular file."""
    return _kind(os.stat(path).st_mode)


def read_bounded(path: Path, limit: int) -> bytes:
    """A file from outside (a config, a secret, a preset) read whole, only if it is a regular
    file, and at most `limit` bytes plus one (the caller says what too long means). Opened
    without blocking, so a FIFO put in its place between the check and the open cannot hang."""
    kind = _kind(os.stat(path).st_mode)
    if kind is not None:
        raise NotARegularFile(path, kind)
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb") as handle:
        kind = _kind(os.fstat(handle.fileno()).st_mode)
        if kind is not None:
            raise NotARegularFile(path, kind)
        return handle.read(limit + 1)


def writable_target(path: Path) -> None:
    """Refuse to write over anything but a regular file: renaming a report over `/dev/full` or
    a FIFO would replace a device node or a pipe someone reads with a text file."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    kind = _kind(mode)
    if kind is not None:
        raise NotARegularFile(path, kind)


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Call `write(tmp)` to fill a temporary file beside `path`, then rename it over `path`.
    A target that exists and is no regular file (a device, a FIFO, a folder) is refused."""
    writable_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it private; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


_END = object()


def write_behind(items: Iterable[T], consume: Callable[[Iterator[T]], Any], name: str = "sdbridge-writer") -> None:
    """Hand `items`, as they are made, to `consume` running in a writer thread (compression
    and file writes let go of the GIL, so writing overlaps making the next item); at most two
    wait between them, so memory stays bounded. A failure on either side stops both and is
    raised here, after the writer has finished."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []
    ended = threading.Event()

    def fed() -> Iterator[T]:
        while (item := handoff.get()) is not _END:
            yield item
        ended.set()

    def writer() -> None:
        try:
            consume(fed())
        except BaseException as exc:  # handed to the caller below
            failed.append(exc)
        while not ended.is_set() and handoff.get() is not _END:  # let the producer finish
            pass

    thread = threading.Thread(target=writer, name=name, daemon=True)
    thread.start()
    try:
        for item in items:
            if failed:
                break
            handoff.put(item)
    finally:
        handoff.put(_END)
        thread.join()
    if failed:
        raise failed[0]


def in_order(make: Callable[[T], R], items: Iterable[T], workers: int | None = None) -> Iterator[R]:
    """`make` of each item, made by up to `workers` threads side by side (for work in Arrow
    or zlib, which let go of the GIL) and yielded in the items' order. Only `workers` + 1 are
    made ahead of the one being used, so memory stays a few items whatever their number.

    By default one core is left to the thread that writes what is made (`write_behind`: the
    file or the ZIP's compressor): on two cores the items are made one by one (measured:
    side by side they only slowed the audit package's compressor)."""
    workers = workers or min(4, (os.cpu_count() or 1) - 1)
    if workers < 2:
        yield from map(make, items)
        return
    pending: deque[Future[R]] = deque()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sdbridge-make") as pool:
        try:
            for item in items:
                pending.append(pool.submit(make, item))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
