"""The catalogue is pinned against the standard's Clause 7 lists and Annex B tables."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from sdbridge.cli import app
from sdbridge.profile import load_catalogue

# Clause 7 (Tables 6-9): every content item id. Pure grouping entries ("Include:", "Contain:")
# are not items; their numbered children are.
EXPECTED_ITEMS = {
    "WP.01": ["WP.01"],
    "WP.02": [f"WP.02.{c}" for c in "abcdefg"],
    "WP.03": [f"WP.03.{c}" for c in "abcde"],
    "WP.04": ["WP.04.a"],
    "WP.05": [f"WP.05.{c}" for c in "abcd"],
    "WP.06": ["WP.06.a", "WP.06.b"] + [f"WP.06.c.{i}" for i in range(1, 7)],
    "WP.07": [
        "WP.07.a",
        "WP.07.b",
        "WP.07.b.1",
        "WP.07.b.2",
        "WP.07.c",
        "WP.07.c.1",
        "WP.07.c.2",
        "WP.07.d",
        "WP.07.e",
    ],
    "WP.08": ["WP.08.a", "WP.08.a.1", "WP.08.a.2"],
    "WP.09": [f"WP.09.{c}" for c in "abc"],
    "WP.10": [f"WP.10.{c}" for c in "abcdefg"],
    "WP.11": [f"WP.11.{c}" for c in "abcdefg"],
    "WP.12": [f"WP.12.{c}" for c in "abc"],
    "WP.13": ["WP.13.a", "WP.13.b.1", "WP.13.b.2", "WP.13.b.3"],
    "WP.14": ["WP.14.a", "WP.14.b", "WP.14.c", "WP.14.d", "WP.14.d.1", "WP.14.e", "WP.14.e.1", "WP.14.f"],
    "WP.15": [f"WP.15.{c}" for c in "abc"],
    "WP.16": ["WP.16.a", "WP.16.b"] + [f"WP.16.c.{i}" for i in range(1, 10)],
    "WP.17": [f"WP.17.{c}" for c in "abcd"],
    "WP.18": [f"WP.18.{c}" for c in "abcdefghij"],
    "WP.19": [f"WP.19.{c}" for c in "abcd"],
    "WP.20": [f"WP.20.{c}" for c in "abcdef"],
    "WP.21": [f"WP.21.{c}" for c in "abcdef"],
}

# Table B.3: requirement -> work products.
EXPECTED_REQUIREMENT_WPS = {
    "P01": "01 15",
    "P02": "01 03 04 05 06 07 11 12 14 15 17 19",
    "P03": "08 15 17",
    "P04": "01 06 07 14 15",
    "P05": "03 07 10 14 17 21",
    "P06": "02 17",
    "P07": "02 11 12",
    "P08": "02 09 10 11 12 13 16 17 20",
    "P09": "09 14",
    "P10": "03 11 12 13 20",
    "P11": "10 14",
    "P12": "01 03 10 14 21",
    "P13": "03 19 21",
    "P14": "02 03 10 11 18 21",
    "P15": "08",
    "P16": "14 18",
    "P17": "11 18",
}

PROCESS_OF_WP = {
    "GO": "01 04 05 07 08 14 15",
    "CO": "02 09 11 12 13 16 17 20",
    "RE": "03 06 10 19 21",
    "IN": "18",
}


def test_catalogue_has_21_work_products_and_17_requirements():
    catalogue = load_catalogue()
    assert [wp.id for wp in catalogue.work_products] == [f"WP.{i:02d}" for i in range(1, 22)]
    assert [r.id for r in catalogue.requirements] == [f"P{i:02d}" for i in range(1, 18)]
    assert [p.id for p in catalogue.processes] == ["GO", "CO", "RE", "IN"]


def test_every_item_id_of_clause_7():
    catalogue = load_catalogue()
    assert {wp.id: [i.id for i in wp.items] for wp in catalogue.work_products} == EXPECTED_ITEMS


def test_requirements_trace_to_work_products_as_in_table_b3():
    catalogue = load_catalogue()
    got = {r.id: " ".join(w.removeprefix("WP.") for w in r.work_products) for r in catalogue.requirements}
    assert got == EXPECTED_REQUIREMENT_WPS


def test_work_products_sit_in_their_process_group():
    catalogue = load_catalogue()
    for process, numbers in PROCESS_OF_WP.items():
        for n in numbers.split():
            assert catalogue.work_product(f"WP.{n}").process == process


def test_guide_tasks_of_each_requirement_exist_and_p02_has_eight():
    catalogue = load_catalogue()
    assert len(catalogue.guide_tasks) == 40
    p02 = next(r for r in catalogue.requirements if r.id == "P02")
    assert len(p02.guide_tasks) == 8


def test_conditions_follow_the_standard():
    catalogue = load_catalogue()
    assert catalogue.item("WP.18.h").when == "significant"
    assert catalogue.item("WP.10.e").when == "chargeable"
    assert catalogue.item("WP.06.a").scope == "work_product"
    assert catalogue.item("WP.16.c.7").label.startswith("Responsibilities and authority")


def test_variations_of_clause_5():
    catalogue = load_catalogue()
    assert [r.id for r in catalogue.requirements_in("governance")] == ["P01", "P02", "P03", "P04", "P05"]
    assert len(catalogue.requirements_in("operational")) == 12
    assert len(catalogue.requirements_in("full")) == 17


def test_every_wp_lists_annex_c_audit_evidence():
    assert all(wp.audit_evidence for wp in load_catalogue().work_products)


def test_profile_command_json_lists_everything():
    result = CliRunner().invoke(app, ["profile", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["work_products"]) == 21
    assert len(data["requirements"]) == 17
    items = {i["id"] for wp in data["work_products"] for i in wp["items"]}
    assert items == {i for ids in EXPECTED_ITEMS.values() for i in ids}


def test_profile_command_one_work_product():
    result = CliRunner().invoke(app, ["profile", "--work-product", "wp18"])
    assert result.exit_code == 0, result.output
    assert "WP.18.h" in result.stdout
    assert "Annex C" in result.stdout
    assert "WP.02.a" not in result.stdout


def test_profile_command_rejects_unknown_work_product():
    result = CliRunner().invoke(app, ["profile", "--work-product", "WP.99"])
    assert result.exit_code == 2
    assert "WP.99" in result.output


def test_every_shipped_yaml_file_is_within_the_bounds_of_outside_yaml():
    """Shipped YAML is read by libyaml's fast safe loader; each file reads to the same value
    through the bounded loader (so none has a duplicated key, an alias bomb or deep nesting)."""
    from pathlib import Path

    import sdbridge
    from sdbridge import safe_yaml

    shipped = sorted(Path(sdbridge.__file__).parent.rglob("*.yaml"))
    assert len(shipped) > 10
    for path in shipped:
        text = path.read_text(encoding="utf-8")
        assert safe_yaml.load_shipped(text) == safe_yaml.load(text), path
