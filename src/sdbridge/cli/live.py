"""Live mode's commands: serve, webhooks register."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

import typer

from sdbridge.cli.options import (
    ConfigOption,
    config_from,
)
from sdbridge.cli.output import (
    err,
    out,
    user_errors,
)
from sdbridge.errors import ConfigError

if TYPE_CHECKING:
    pass


@user_errors
def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="The port to listen on (0: any free one).", min=0)] = 8929,
) -> None:
    """Live mode: take the trackers' webhooks and put each ticket's gap comment right within
    seconds (POST /hooks/SOURCE; GET /healthz, /metrics). Stops on SIGTERM after evaluating
    what it accepted. Process requirements stay with the nightly run.

    Examples: sdbridge serve -c sdbridge.yaml; sdbridge serve --host 0.0.0.0 --port 8929"""
    try:
        import prometheus_client  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise ConfigError(
            "live mode needs the `serve` extra (Starlette, uvicorn, prometheus-client)",
            hint="pip install 'sdbridge[serve]'",
        ) from None
    from sdbridge.live.app import serve as serve_live
    from sdbridge.runner import open_store

    cfg = config_from(config)
    live = [s.name for s in cfg.sources if s.type in ("jira", "gitlab")]
    if not live:
        raise ConfigError("live mode serves Jira and GitLab sources; this config has none")
    unsigned = [s.name for s in cfg.sources if getattr(getattr(s, "webhook", None), "secret", 0) is None]
    if unsigned:
        err.print(
            f"note: {', '.join(unsigned)} ha{'s' if len(unsigned) == 1 else 've'} no `webhook: {{secret: ...}}`: "
            "every delivery to it is refused (401)",
            markup=False,
            highlight=False,
        )
    logs = logging.getLogger("sdbridge")
    if logs.level > logging.INFO and not out.quiet:
        logs.setLevel(logging.INFO)  # a service says what it does
    with open_store(cfg) as store:
        serve_live(cfg, store, host=host, port=port)


webhooks_app = typer.Typer(help="Set up the trackers' webhooks for live mode (`sdbridge serve`).")


@webhooks_app.command("register")
@user_errors
def webhooks_register(
    url: Annotated[
        str, typer.Option("--url", help="Where trackers reach `sdbridge serve`, e.g. https://sdbridge.example.com")
    ],
    config: ConfigOption = None,
    source: Annotated[str | None, typer.Option("--source", "-s", help="Only this source.")] = None,
) -> None:
    """Register each GitLab project's webhook (created, or updated in place) with the
    source's secret; print the steps for Jira, whose webhooks an administrator creates.
    Without a secret in the environment, one is generated and printed once, to keep.

    Example: sdbridge webhooks register -c sdbridge.yaml --url https://sdbridge.example.com"""
    from sdbridge.live.register import register

    cfg = config_from(config)
    for line in register(cfg, url, only=source):
        out.print(line, markup=False, highlight=False, soft_wrap=True)
