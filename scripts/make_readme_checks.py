"""Regenerate the table of process checks in the documentation (`docs/documents.md` of the
package) from their declarations (`sdbridge.rules.process`). A test fails when the page and
the declarations differ."""

from __future__ import annotations

import re
from pathlib import Path

from sdbridge.rules.process import readme_table

README = Path(__file__).resolve().parent.parent / "src" / "sdbridge" / "docs" / "documents.md"
BLOCK = re.compile(r"(<!-- process-checks:start -->\n).*?(<!-- process-checks:end -->)", re.S)


def render(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + readme_table() + m.group(2), text)


if __name__ == "__main__":
    README.write_text(render(README.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated {README}")
