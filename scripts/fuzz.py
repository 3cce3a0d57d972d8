"""`make fuzz`: every property of tests/fuzz run for at least MINUTES minutes each (the `long`
Hypothesis profile, a new seed every round), stopping at the first failure with its seed.

    python scripts/fuzz.py [MINUTES]
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def targets() -> list[str]:
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "tests/fuzz"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in listed.stdout.splitlines() if "::" in line]


def main() -> int:
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    env = {**os.environ, "HYPOTHESIS_PROFILE": "long"}
    for target in targets():
        started, rounds = time.monotonic(), 0
        while time.monotonic() - started < minutes * 60:
            seed = random.randrange(2**32)
            rounds += 1
            run = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", target, f"--hypothesis-seed={seed}"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            if run.returncode != 0:
                print(run.stdout[-4000:], run.stderr[-2000:])
                print(f"FAILED {target} with --hypothesis-seed={seed}")
                return 1
        print(f"{target}: {rounds} round(s) in {time.monotonic() - started:.0f} s, no failure", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
