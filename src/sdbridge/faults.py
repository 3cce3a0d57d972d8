"""Crash points for tests that prove sdbridge survives being killed: a test (and only a test)
sets `SDBRIDGE_FAULT` to a point's name, and the process ends there at once, as `kill -9`
would end it."""

from __future__ import annotations

import os

FAULT_ENV = "SDBRIDGE_FAULT"
EXIT_CODE = 97


def fault_point(name: str) -> None:
    if os.environ.get(FAULT_ENV) == name:
        os._exit(EXIT_CODE)
