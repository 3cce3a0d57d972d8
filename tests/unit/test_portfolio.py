"""The portfolio's CSV: numbers stay numbers, text a spreadsheet would run is made text."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sdbridge.portfolio import Portfolio, TenantStatus, csv_text


def test_a_fall_in_gaps_stays_a_number_and_a_formula_like_source_name_is_text():
    tenant = TenantStatus(tenant="acme", gaps=12, gaps_change=-3, failed_sources=['=HYPERLINK("x")'])
    text = csv_text(Portfolio(generated_at=datetime(2026, 12, 6, tzinfo=UTC), store="s", tenants=[tenant]))
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert row["gaps_change"] == "-3" and row["gaps"] == "12"
    assert row["failed_sources"].startswith("'=")
