"""Crash points for tests that prove sdbridge survives being killed: a test (and only a test)
sets `SDBRIDGE_FAULT` to a point's name, and the process ends there at once, as `kill -9`
would end it; or to `sigterm:<point>` (`sigint:<point>`), and the process is sent SIGTERM
(SIGINT) there, as an orchestrator stopping it (a person pressing Ctrl-C) would."""

from __future__ import annotations

import os

FAULT_ENV = "SDBRIDGE_FAULT"
EXIT_CODE = 97


def fault_point(name: str) -> None:
    wanted = os.environ.get(FAULT_ENV)
    if wanted == name:
        os._exit(EXIT_CODE)
    if wanted in (f"sigterm:{name}", f"sigint:{name}"):
        import signal

        os.kill(os.getpid(), signal.SIGTERM if wanted.startswith("sigterm") else signal.SIGINT)
