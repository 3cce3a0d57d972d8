"""Writing files the way every output of sdbridge is written: atomically (a temporary file
in the same folder, renamed over the target), so a crash never leaves half a report or half
an audit package, with the permissions of an ordinary file."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

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


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Call `write(tmp)` to fill a temporary file beside `path`, then rename it over `path`."""
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
