"""Writing a run's reports: every format into a staging folder beside the reports, then moved
into place together, so a run that stops half-way leaves the previous set whole."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from sdbridge import progress
from sdbridge.assessment import Assessment
from sdbridge.errors import ConfigError
from sdbridge.faults import fault_point
from sdbridge.files import remove_leftovers, writable_target
from sdbridge.reports import sink


def write_reports(assessment: Assessment, out: Path, formats: list[str] | tuple[str, ...]) -> list[Path]:
    sinks = [sink(name) for name in formats]  # fail on an unknown name before writing anything
    if out.exists() and not out.is_dir():
        raise ConfigError(f"the report folder {out} is a file", hint="give --out (or reports.out) a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot write reports to {out}: {exc.strerror or exc}",
            hint="give --out (or reports.out) a folder you can write to",
        ) from None
    remove_stale_staging(out)
    # The set is written into a fresh folder beside the reports, then moved into place file by
    # file (renames on one file system: instants). A run that stops half-way (a full disk, a
    # SIGTERM) leaves the previous run's reports as they were, never a mix of two runs, and no
    # hidden temporary files: the staging folder goes with it.
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out))
    try:
        staged = []
        for name, write in zip(formats, sinks):
            with progress.step(f"writing the {name} report"):
                staged.append(write(assessment, staging))
            fault_point("writing-reports")
        written = []
        for path in staged:
            target = out / path.relative_to(staging)
            writable_target(target)
            os.replace(path, target)
            remove_leftovers(target)  # temporary files a killed earlier run left beside it
            written.append(target)
        return written
    except OSError as exc:
        raise ConfigError(
            f"cannot write the reports in {out}: {exc.strerror or exc}",
            hint="free disk space or give --out (or reports.out) a folder you can write to; "
            "the reports already there were left as they were",
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


STAGING_PREFIX = ".sdbridge-writing-"


def remove_stale_staging(out: Path) -> int:
    """Staging folders a killed run left in the report folder (its process is gone): removed.
    Returns how many."""
    removed = 0
    for folder in out.glob(f"{STAGING_PREFIX}*"):
        pid = folder.name.removeprefix(STAGING_PREFIX).split("-", 1)[0]
        if pid.isdigit() and _alive(int(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
