"""A transform from a third-party package, installed by pip, is used in a mapping like a
built-in: validated with its argument when the config loads, run by the engine, and named in
one line when it is missing."""

from __future__ import annotations

import csv
import io

import yaml

from tests.plugin_packages import demo_workspace, install_plugin, sdbridge

TRANSFORM = """
import pyarrow.compute as pc
import pandas as pd

from sdbridge.mapping.transforms import TransformDef


def _prefix(series, arg, invalid, source):
    text = pd.Series(pc.binary_join_element_wise(arg, series.astype("str").to_numpy(), ""), index=series.index)
    return text.where(series.notna()), invalid


PREFIX = TransformDef(_prefix, str, "a fixed prefix before the value")
"""


def _titles(path) -> set[str]:
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    return {r["title"] for r in rows if r["source"] == "jira" and r["work_product"] == "WP.18" and r["title"]}


def test_a_transform_installed_by_pip_is_mapped_like_a_built_in(tmp_path):
    site = install_plugin(
        tmp_path,
        "sdbridge-acme",
        {"sdbridge.transforms": {"acme_prefix": "acme_transforms:PREFIX"}},
        {"acme_transforms": TRANSFORM},
    )
    work, config = demo_workspace(tmp_path)
    (work / "sdbridge.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    plain = sdbridge("check", "-q", "--out", "plain", "--format", "csv", cwd=work, site=site)
    assert plain.returncode == 0, plain.stderr
    titles = _titles(work / "plain" / "findings.csv")
    assert titles

    jira = next(s for s in config["sources"] if s["name"] == "jira")
    jira["map"] = {"WP.18": {"fields": {"title": {"from": "Summary", "transforms": [{"acme_prefix": "ACME: "}]}}}}
    (work / "sdbridge.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    mapped = sdbridge("check", "-q", "--out", "mapped", "--format", "csv", cwd=work, site=site)
    assert mapped.returncode == 0, mapped.stderr
    assert _titles(work / "mapped" / "findings.csv") == {f"ACME: {t}" for t in titles}

    # its argument is validated as the plugin declares it (a text)
    jira["map"]["WP.18"]["fields"]["title"]["transforms"] = [{"acme_prefix": 7}]
    (work / "sdbridge.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    wrong = sdbridge("check", "-q", cwd=work, site=site)
    assert wrong.returncode == 2 and "acme_prefix" in wrong.stderr and "Traceback" not in wrong.stderr

    # without the plugin on the path: one line naming the transform and the known ones
    jira["map"]["WP.18"]["fields"]["title"]["transforms"] = [{"acme_prefix": "ACME: "}]
    (work / "sdbridge.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    gone = sdbridge("check", "-q", cwd=work, site=None)
    assert gone.returncode == 2 and "unknown transform 'acme_prefix'" in gone.stderr and "strip" in gone.stderr
    assert "Traceback" not in gone.stderr
