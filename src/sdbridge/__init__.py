"""sdbridge — show ISO/IEC 29110-4-3 Service Delivery conformance from the tools a small team already runs."""

from __future__ import annotations

__version__ = "0.1.0"
