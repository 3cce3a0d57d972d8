"""Start-up time of the `sdbridge` command (reported, never asserted).

Runs `sdbridge --version` and `sdbridge --help` as a user would, side by side with the anchor
`python -c pass` (the interpreter's own start), best of N each, and prints the times and the
ratio. Target: --version and --help within 0.3 s on this machine.

    .venv/bin/python bench/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def best(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    anchor = best([sys.executable, "-c", "pass"], runs)
    print(f"{'python -c pass (anchor)':28} {anchor:6.3f} s")
    for label, command in (
        ("sdbridge --version", [str(BIN / "sdbridge"), "--version"]),
        ("sdbridge --help", [str(BIN / "sdbridge"), "--help"]),
    ):
        seconds = best(command, runs)
        print(f"{label:28} {seconds:6.3f} s  ({seconds / anchor:4.1f}x the anchor; target <= 0.300 s)")


if __name__ == "__main__":
    main()
