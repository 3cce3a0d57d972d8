"""Rules: item checks per record (`items`), process checks across records (`process`), the
findings (`findings`), requirement status and the `Assessment` (`assessing`), Fix first
(`fixfirst`). Rules never touch the network or the files: they read WP tables."""

from __future__ import annotations

from sdbridge.rules.assessing import CheckInput, assess
from sdbridge.rules.findings import finding_message
from sdbridge.rules.items import ItemStatus, check_items

__all__ = ["CheckInput", "ItemStatus", "assess", "check_items", "finding_message"]
