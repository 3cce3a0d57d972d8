"""One exception tree. The CLI turns every `SdbridgeError` into a one-line message and an
exit code; anything else reaching the user is a bug and shows a traceback."""

from __future__ import annotations


class SdbridgeError(Exception):
    """Base of every error a user can cause and fix."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(SdbridgeError):
    """The configuration file is missing, unreadable or invalid. `problems` lists every
    problem found, each prefixed with its path in the file (`sources[0].map.WP.18...`)."""

    def __init__(self, message: str, problems: list[str] | None = None, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []

    def __str__(self) -> str:
        lines = [self.message, *(f"  - {p}" for p in self.problems)]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


class SourceError(SdbridgeError):
    """A source could not be read. `source` names the configured source."""

    def __init__(self, message: str, *, source: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.source = source


class FatalSourceError(SourceError):
    """Retrying will not help: bad credentials, a broken file, a missing project."""


class HttpStatusError(FatalSourceError):
    """A server answered with a status retrying will not change (401, 403, 404 ...).
    `status` is that code, so callers decide on it, never on the message text."""

    def __init__(self, message: str, *, status: int, source: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, source=source, hint=hint)
        self.status = status


class RetriableSourceError(SourceError):
    """A passing fault: timeout, rate limit, 5xx. The next run may succeed."""


class UnansweredWriteError(RetriableSourceError):
    """A write (a new comment) got no clear answer — a 5xx, a reset, a timeout — so it may or
    may not have happened. It is never sent again blindly: look for it first."""


class NotPulledError(FatalSourceError):
    """A network source has nothing in the store yet; `check` never fetches it itself."""


class InputError(FatalSourceError):
    """A local input file is malformed. Names the file and, where known, line and column."""

    def __init__(
        self,
        message: str,
        *,
        path: str,
        line: int | None = None,
        column: str | None = None,
        source: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = path if line is None else f"{path}:{line}"
        if column is not None:
            where += f" (column {column!r})"
        super().__init__(f"{where}: {message}", source=source, hint=hint)
        self.path = path
        self.line = line
        self.column = column


class MappingError(SdbridgeError):
    """A mapping spec cannot be applied to the data it was given."""


class PushError(SdbridgeError):
    """Writing back to a source (comments, labels) failed."""


class Interrupted(BaseException):
    """The program was stopped (Ctrl-C, SIGTERM) where it was. A `BaseException`, as
    `KeyboardInterrupt` is, so no `except Exception` takes it for a fault, and not a
    `KeyboardInterrupt`, which the command-line library would swallow: every `finally` runs
    (the reports' staging folder goes), the run is recorded as `interrupted`, and the command
    says so and exits 130 (Ctrl-C) or 143 (SIGTERM)."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(f"stopped by {signal_name}")
        self.signal_name = signal_name
        self.exit_code = 143 if signal_name == "SIGTERM" else 130
