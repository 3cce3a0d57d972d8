"""`report.md`: the summary and Fix first, then the findings grouped by work product (the
first 200 of each, by record and item)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sdbridge.assessment import Assessment
from sdbridge.files import atomic_write
from sdbridge.profile import load_catalogue
from sdbridge.reports.common import environment, never_provided, plain_rows

MAX_MD_FINDINGS_PER_WP = 200


def first_rows(findings: pd.DataFrame, at: np.ndarray, limit: int) -> np.ndarray:
    """Of the findings at positions `at`, the first `limit` by record id (findings about the
    whole work product, without one, first), then item in catalogue order, then position:
    Arrow's top-k, without sorting them all."""
    record_ids = pa.array(findings["record_id"].astype("str").array).take(pa.array(at))
    items = findings["item"]
    item_codes = items.cat.codes.to_numpy()[at] if isinstance(items.dtype, pd.CategoricalDtype) else None
    if item_codes is None:
        item_codes = pd.factorize(items.iloc[at], sort=True)[0]
    table = pa.table({"record_id": record_ids, "item": item_codes, "at": at})
    unnamed = table.filter(pc.is_null(table["record_id"]))
    named = table.filter(pc.is_valid(table["record_id"]))
    keys = [("record_id", "ascending"), ("item", "ascending"), ("at", "ascending")]
    first = pc.take(unnamed, pc.sort_indices(unnamed, sort_keys=keys[1:]))["at"].to_numpy()[:limit]
    if len(first) < limit and len(named):
        top = pc.select_k_unstable(named, k=min(limit - len(first), len(named)), sort_keys=keys)
        first = np.concatenate([first, pc.take(named["at"], top).to_numpy()])
    return first


def write_md(assessment: Assessment, out: Path) -> Path:
    catalogue = load_catalogue()
    never, unsourced = never_provided(assessment)
    findings = assessment.findings
    groups = []
    if len(findings):
        work_products = findings["work_product"].astype("category")
        codes = work_products.cat.codes.to_numpy()
        for code, wp_id in enumerate(work_products.cat.categories):
            at = np.flatnonzero((codes == code) & ~unsourced)
            if not len(at):
                continue
            groups.append(
                {
                    "id": wp_id,
                    "name": catalogue.work_product(wp_id).name,
                    "count": len(at),
                    "rows": plain_rows(findings.iloc[first_rows(findings, at, MAX_MD_FINDINGS_PER_WP)]),
                    "more": max(0, len(at) - MAX_MD_FINDINGS_PER_WP),
                }
            )
    text = (
        environment()
        .get_template("report.md.j2")
        .render(a=assessment, catalogue=catalogue, groups=groups, top=assessment.top_missing_items(5), never=never)
    )
    return atomic_write(out / "report.md", lambda tmp: tmp.write_text(text, encoding="utf-8"))
