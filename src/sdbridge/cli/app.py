"""The `sdbridge` command: the application, its global options, the commands it offers (each
registered here, from its module), and `main`, the one boundary where a bug becomes one line."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from sdbridge import __version__
from sdbridge.cli.output import (
    EXIT_ERROR,
    configure_output,
    err,
    out,
    printable,
)
from sdbridge.errors import Interrupted

if TYPE_CHECKING:
    pass

from sdbridge.cli import live, records, runs, setup

app = typer.Typer(
    name="sdbridge",
    help="Check ISO/IEC 29110-4-3 (Service Delivery) conformance from the tools your team already uses.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: flags without a "<bool>" placeholder, examples kept as written
    epilog="Config: -c FILE, else $SDBRIDGE_CONFIG, else ./sdbridge.yaml. Docs: `sdbridge docs` (installed with sdbridge).",
)


def version_callback(value: bool) -> None:
    if value:
        out.print(f"sdbridge {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Show the version.")
    ] = False,
    quiet: Annotated[
        int, typer.Option("--quiet", "-q", count=True, help="Print only the results (-qq: nothing but errors).")
    ] = 0,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="Log what happens (-vv: more).")] = 0,
    log_format: Annotated[
        str, typer.Option("--log-format", help="text or json (JSON lines on stderr: run, phase, source, counts).")
    ] = "text",
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours (also when NO_COLOR is set).")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an internal error.")] = False,
) -> None:
    """Check ISO/IEC 29110-4-3 (Service Delivery) conformance from the tools your team already uses.

    Examples: sdbridge init; sdbridge check; sdbridge run -q --log-format json"""
    if log_format not in ("text", "json"):
        raise typer.BadParameter("use text or json", param_hint="--log-format")
    configure_output(quiet=quiet, verbose=verbose, log_format=log_format, no_color=no_color)


GLOBAL_FLAGS = {"-q", "-qq", "--quiet", "-v", "-vv", "-vvv", "--verbose", "--no-color", "--debug"}


EXIT_INTERNAL = 4


def global_options_first(argv: list[str]) -> list[str]:
    """Let the global options stand anywhere (`sdbridge check -q` as well as `sdbridge -q
    check`): they are moved in front of the command, where click reads them."""
    front: list[str] = []
    rest: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            rest += [arg, *args]
            break
        if arg in GLOBAL_FLAGS or arg.startswith("--log-format="):
            front.append(arg)
        elif arg == "--log-format":
            front += [arg, next(args, "")]
        else:
            rest.append(arg)
    return front + rest


def _command(args: list[str]) -> str | None:
    """The command of an argument list with the global options in front (their values skipped)."""
    rest = iter(args)
    for arg in rest:
        if arg == "--log-format":
            next(rest, None)
        elif not arg.startswith("-"):
            return arg
    return None


def crash_report(exc: BaseException, *, debug: bool) -> int:
    """A bug reached the top: one line for the user, the traceback in a log file (and on the
    terminal only with --debug). Returns the exit code for an internal error."""
    import tempfile
    import traceback
    from datetime import UTC, datetime

    details = "".join(traceback.format_exception(exc))
    name = f"crash-{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}.log"
    where: Path | None = None
    for folder in (Path(".sdbridge"), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
            target = folder / name
            with open(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600), "w", encoding="utf-8") as log:
                log.write(f"sdbridge {__version__}\n{details}")
            where = target
            break
        except OSError:
            continue
    if debug:
        err.print(details, markup=False, highlight=False)
    message = printable(str(exc).split("\n")[0])[:300]
    err.print(
        f"internal error: {type(exc).__name__}: {message} — sdbridge could not finish this command. "
        + (f"The details are in {where}; please send them to the maintainers. " if where else "")
        + ("" if debug else "Run with --debug to see them here."),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return EXIT_INTERNAL


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM raise `Interrupted` where the program is (see errors.Interrupted)."""
    import signal

    def stop(signum: int, frame: Any) -> None:
        raise Interrupted(signal.Signals(signum).name if signum != signal.SIGINT else "Ctrl-C")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)


NOT_COMMANDS = {
    "verify": "sdbridge export --verify PACKAGE.zip [--key PUBLIC.pem]",
    "validate": "sdbridge check (the config is validated by every command)",
    "report": "sdbridge check -f html,xlsx",
    "status": "sdbridge history",
    "runs": "sdbridge history",
    "sync": "sdbridge pull",
    "fetch": "sdbridge pull",
    "comment": "sdbridge push",
    "package": "sdbridge export",
    "audit": "sdbridge export",
    "cron": "sdbridge schedule",
    "config": "sdbridge init (a new config) or sdbridge mapping (what a config maps)",
    "help": "sdbridge --help, or sdbridge docs",
    "doc": "sdbridge docs",
    "man": "sdbridge docs",
}
"""Words people try that are not commands, with the command that does it."""


def main() -> None:
    args = global_options_first(sys.argv[1:])
    command = _command(args)
    if command in NOT_COMMANDS:
        err.print(
            f"error: sdbridge has no command {command!r}; use: {NOT_COMMANDS[command]}", markup=False, highlight=False
        )
        sys.exit(EXIT_ERROR)
    if command not in ("schedule", "serve"):  # those stop gracefully on SIGTERM themselves
        _stop_on_signals()
    try:
        try:
            app(args=args, prog_name="sdbridge")
        finally:
            from sdbridge import progress

            progress.use(None)  # the live display ends before any last word is printed
    except Interrupted as exc:
        err.print(
            f"interrupted ({exc.signal_name}): nothing half-written was left; a run in progress is recorded as "
            "interrupted",
            markup=False,
        )
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted (Ctrl-C)", markup=False)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the one boundary: a bug becomes one line and a log file
        sys.exit(crash_report(exc, debug="--debug" in args))


# The commands, in the order `--help` lists them.
for command in (runs.check, runs.pull, runs.run, records.history, runs.schedule, runs.push):
    app.command()(command)
app.command("export")(records.export_package)
for command in (setup.mapping, setup.profile, setup.init, runs.demo, live.serve, setup.docs, records.portfolio):
    app.command()(command)
app.add_typer(live.webhooks_app, name="webhooks")
app.add_typer(records.store_app, name="store")
