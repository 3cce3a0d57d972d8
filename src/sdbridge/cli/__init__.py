"""The `sdbridge` command. Thin: parses options, calls the pipeline, renders with rich.

- `app`: the application, its global options, the commands it registers, and `main`;
- `runs` (check, pull, run, push, schedule, demo), `records` (history, export, portfolio,
  store migrate), `setup` (init, mapping, profile, docs), `live` (serve, webhooks register);
- `options`: the options commands share; `output`: the consoles, user errors, log formats;
  `render`: the console's tables.

Exit codes: 0 done; 1 gaps found and `--fail-on-gaps`; 2 usage, config or input error;
3 a run in which a source failed (everything else was still pulled, checked and reported).
A user error is one line (or one list) on stderr, never a traceback.

Start-up stays light (`--version`, `--help`): pandas, pyarrow, the clients, openpyxl and
Jinja2 are imported inside the commands that use them.
"""

from __future__ import annotations

from sdbridge.cli.app import app, global_options_first, main
from sdbridge.cli.setup import doc_pages

__all__ = ["app", "doc_pages", "global_options_first", "main"]
