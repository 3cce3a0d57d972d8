"""`sdbridge` run as a user runs it: a process of its own (so exit codes, stderr and signals
are the real ones), in a folder, with the environment a test gives on top of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def sdbridge(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    script: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`python -m sdbridge ARGS`, or the installed `sdbridge` script with `script`."""
    command = [str(Path(sys.executable).with_name("sdbridge"))] if script else [sys.executable, "-m", "sdbridge"]
    return subprocess.run(
        [*command, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )
