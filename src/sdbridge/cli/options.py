"""Options several commands share, and reading them (the config, a work product, formats)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sdbridge.errors import ConfigError
from sdbridge.reports import BUILTIN_SINKS

if TYPE_CHECKING:
    from sdbridge.config import Config


ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Configuration file (default: $SDBRIDGE_CONFIG, else ./sdbridge.yaml)."),
]


OutOption = Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the report files.")]


FormatOption = Annotated[
    str | None,
    typer.Option("--format", "-f", help=f"Comma-separated report formats: {','.join(BUILTIN_SINKS)} (and plugins')."),
]


StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="The shared store: a postgresql:// URL (default: $SDBRIDGE_STORE_URL) or a SQLite file. "
        "The password comes from $SDBRIDGE_STORE_PASSWORD or --password-file.",
    ),
]


PasswordFileOption = Annotated[
    Path | None, typer.Option("--password-file", help="A file holding the store's password (a mounted secret).")
]


def config_from(config: Path | None) -> Config:
    from sdbridge.config import load_config

    return load_config(config)


def wp_option(work_product: str | None) -> str | None:
    """A work-product id from the command line, checked like the config checks it."""
    if work_product is None:
        return None
    from sdbridge.profile import load_catalogue, normalise_wp_id

    try:
        wp_id = normalise_wp_id(work_product)
        load_catalogue().work_product(wp_id)
    except (KeyError, ValueError):
        raise ConfigError(f"no work product {work_product!r}; use WP.01 ... WP.21") from None
    return wp_id


def formats_option(option: str | None, config: Config) -> list[str]:
    if option is None:
        return list(config.reports.formats)
    formats = [f.strip() for f in option.split(",") if f.strip()]
    from sdbridge.reports import sink_names

    known = sink_names()
    unknown = [f for f in formats if f not in known]
    if unknown:
        raise ConfigError(f"unknown report format(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return formats
