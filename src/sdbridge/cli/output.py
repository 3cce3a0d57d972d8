"""What the command line prints and logs: the three consoles (results, what surrounds them,
problems), one-line user errors, and the log formats (readable lines, JSON lines)."""

from __future__ import annotations

import errno
import json
import logging
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape

from sdbridge.errors import SdbridgeError
from sdbridge.files import NotARegularFile

if TYPE_CHECKING:
    pass


EXIT_OK, EXIT_GAPS, EXIT_ERROR, EXIT_PARTIAL = 0, 1, 2, 3


out = Console(soft_wrap=True)
"""Results: what a command is run for (a verdict, a table asked for). Silent only with -qq."""


say = Console(soft_wrap=True)
"""Everything around the results (tables of a check, notes, files written): silent with -q."""


err = Console(stderr=True, soft_wrap=True)


def u(value: object) -> str:
    """Outside text placed inside a Rich markup string: escaped, control characters shown."""
    return escape(printable(str(value)))


def printable(text: str) -> str:
    """Text from outside (a file name, a header, an entry of a ZIP) as it may reach a
    terminal: control characters (ESC, newlines) shown escaped, never acted on."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


OS_HINTS = {
    errno.EACCES: "check the permissions of that file or folder (or run as the user who owns it)",
    errno.EPERM: "check the permissions of that file or folder (or run as the user who owns it)",
    errno.EROFS: "the file system is read-only: give a folder that can be written (`store.path`, `--out`)",
    errno.ENOSPC: "the disk is full: free space or give another folder; nothing half-written was left",
    errno.EDQUOT: "the disk quota is used up: free space or give another folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "that path is a folder: give a file",
    errno.ENAMETOOLONG: "the path is too long",
    errno.ELOOP: "the path loops through symbolic links",
}


def os_error_message(exc: OSError) -> tuple[str, str]:
    """An error of the machine (a permission, a full disk, a read-only folder, a device where
    a file belongs): one line naming the path and what to do. These are not sdbridge's bugs."""
    if isinstance(exc, NotARegularFile):
        return str(exc), "give a regular file"
    where = f"{exc.filename}: " if exc.filename else ""
    what = exc.strerror or type(exc).__name__
    return f"{where}{what}", OS_HINTS.get(exc.errno or 0, "check that path")


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn `SdbridgeError` into a message on stderr and its exit code; an error of the machine
    (`OSError`: no permission, a full disk, a device in a file's place) into one line and exit 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SdbridgeError as exc:
            lines = str(exc).split("\n")  # a config error lists its problems one per line
            text = "\n".join(escape(printable(line)) for line in lines)
            err.print(f"[bold red]error:[/] {text}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            message, hint = os_error_message(exc)
            err.print(
                f"[bold red]error:[/] {escape(printable(message))} ({escape(hint)})",
                markup=True,
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(2) from None

    return wrapper


def _event(record: logging.LogRecord) -> dict[str, Any] | None:
    """The structured event a module logged (its message is a JSON object), else None."""
    message = record.getMessage()
    if not message.startswith("{"):
        return None
    try:
        parsed = json.loads(message)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


class JsonLines(logging.Formatter):
    """One JSON object per line: the event a module logged (its JSON message merged in), with
    the time (ISO 8601, UTC, with its offset), level and logger. Messages never carry secrets
    (see sdbridge.secrets)."""

    def format(self, record: logging.LogRecord) -> str:
        from datetime import UTC, datetime

        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        event = _event(record)
        if event is not None:
            data.update(event)
        else:
            data["message"] = record.getMessage()
        return json.dumps(data, default=str)


class TextLines(logging.Formatter):
    """A log line for people (-v): the local time, the level, then the event and its fields
    as `name=value` ("12:03:04 info pull source=jira status=pulled items=151 seconds=0.4")."""

    def format(self, record: logging.LogRecord) -> str:
        from datetime import datetime

        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        event = _event(record)
        if event is None:
            text = record.getMessage()
        else:
            name = event.pop("event", record.name.removeprefix("sdbridge."))
            text = " ".join([str(name), *(f"{k}={_field(v)}" for k, v in event.items())])
        return f"{when} {record.levelname.lower()} {printable(text)}"


def _field(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text) if " " in text or not text else text


def configure_output(*, quiet: int, verbose: int, log_format: str, no_color: bool) -> None:
    """Console and logs for this invocation: results on stdout (-q: only them; -qq: nothing),
    problems and logs on stderr; colour off with --no-color or NO_COLOR."""
    say.quiet = quiet >= 1
    out.quiet = quiet >= 2
    plain = no_color or bool(os.environ.get("NO_COLOR"))
    out.no_color = say.no_color = err.no_color = plain
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if log_format == "json" else TextLines())
    logs = logging.getLogger("sdbridge")
    logs.handlers[:] = [handler]
    logs.propagate = False
    if log_format == "json" or verbose >= 1:
        logs.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
    else:
        logs.setLevel(logging.ERROR if quiet else logging.WARNING)
    from sdbridge import progress

    # A live step display on a terminal; piped, only the waits are said; --quiet: nothing.
    live = err.is_terminal and log_format == "text"
    progress.use(None if quiet else progress.Display(err, live=live))
