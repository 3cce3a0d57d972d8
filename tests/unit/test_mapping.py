"""The mapping engine: where, fields, transforms, and counts that reconcile."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sdbridge.config import load_config
from sdbridge.errors import InputError
from sdbridge.mapping.engine import MappingEngine
from sdbridge.pipeline import check, pull_source
from sdbridge.profile import load_catalogue

JIRA = """
Issue key,Issue Type,Status,Status Category,Priority,Summary,Labels,Labels,Labels,Created,Resolved,Comment,Comment,Custom field (Root cause)
SD-1,Incident,Resolved,Done,High,Mail down,mail,urgent,customer,25/Feb/26 10:17 PM,26/Feb/26 01:17 AM,25/Feb/26 11:00 PM;557058:abc;Restarted postfix,,Disk full
SD-2,Incident,Open,To Do,Low,Slow web,,,,01/Mar/26 09:00 AM,,,,
SD-3,Story,Done,Done,Low,Add feature,,,,01/Mar/26 09:00 AM,,,,
SD-4,Incident,Resolved,Done,Highest,DNS,,,,02/Mar/26 09:00 AM,soon,,,TBD
SD-1,Incident,Resolved,Done,High,Mail down,mail,urgent,customer,25/Feb/26 10:17 PM,26/Feb/26 01:17 AM,,,Disk full
"""


def config_for(write, csv_text: str, mapping: str, name: str = "jira.csv", **options):
    write(name, csv_text)
    source = {
        "name": "jira",
        "type": "csv",
        "path": name,
        "timezone": "Europe/Oslo",
        "date_formats": ["%d/%b/%y %I:%M %p"],
        **options,
        "map": yaml.safe_load(textwrap.dedent(mapping)) or {},
    }
    return load_config(write("sdbridge.yaml", yaml.safe_dump({"sources": [source]}, sort_keys=False)))


INCIDENTS = """
WP.18:
  where:
    - {from: Issue Type, in: [Incident]}
  fields:
    id: Issue key
    title: Summary
    done: {from: Status Category, transforms: [{in: [Done]}]}
    significant: {from: Priority, transforms: [{in: [Highest, High]}]}
    priority: Priority
    restoration_steps: {from: Comment, transforms: [jira_comment_body]}
    root_cause: "Custom field (Root cause)"
    started_at: Created
    ended_at: Resolved
    ci: Labels
"""


def test_items_are_mapped_excluded_or_rejected_and_counts_reconcile(write):
    copied = JIRA + JIRA.strip().splitlines()[1] + "\n"  # SD-1 again, exactly as its first row
    result = check(config_for(write, copied, INCIDENTS))
    source = result.assessment.sources[0]
    assert (source.items_pulled, source.mapped, source.excluded, source.rejected) == (6, 4, 1, 1)
    assert source.items_pulled == source.mapped + source.excluded + source.rejected
    assert source.rejections[0].row == 7
    assert "duplicate" in source.rejections[0].reason and "SD-1" in source.rejections[0].reason


def test_records_that_share_an_id_but_differ_are_all_kept_and_their_id_flagged(write):
    result = check(config_for(write, JIRA, INCIDENTS))  # SD-1 twice: row 6 lacks row 2's comment
    source = result.assessment.sources[0]
    assert (source.mapped, source.rejected) == (4, 0)
    assert any("2 records share an id with another record (SD-1 2)" in note for note in source.notes)
    findings = result.assessment.findings
    flagged = findings[(findings["item"] == "WP.18.a") & (findings["status"] == "invalid")]
    assert sorted(flagged["record_id"]) == ["SD-1", "SD-1 (row 6)"]
    assert "is not unique" in flagged["message"].iloc[0]


def test_a_shared_id_is_replaced_by_a_column_that_tells_every_record_apart(write):
    text = "Serial,Asset tag,Name\nL3BB911,P1,annie\nL3BB911,P2,asset\n56WHL71,P3,x\n"
    mapping = """
    WP.02:
      fields:
        id: [Serial, Asset tag]
        title: Name
    """
    result = check(config_for(write, text, mapping, name="cmdb.csv"))
    source = result.assessment.sources[0]
    assert (source.mapped, source.rejected) == (3, 0)
    assert any("'Asset tag' tells every record apart" in note for note in source.notes)
    assert sorted(result.tables["WP.02"].frame["_record_id"]) == ["P1", "P2", "P3"]
    findings = result.assessment.findings
    assert not len(findings[findings["status"] == "invalid"])


def test_three_labels_columns_give_three_values(write):
    result = check(config_for(write, JIRA, INCIDENTS))
    frame = result.tables["WP.18"].frame.set_index("_record_id")
    assert frame.loc["SD-1", "ci"] == ["mail", "urgent", "customer"]


def test_dates_are_read_in_the_source_time_zone_and_durations_derived(write):
    frame = check(config_for(write, JIRA, INCIDENTS)).tables["WP.18"].frame.set_index("_record_id")
    assert frame.loc["SD-1", "started_at"] == pd.Timestamp("2026-02-25 21:17", tz="UTC")  # 22:17 in Oslo
    assert frame.loc["SD-1", "time_to_resolve"] == pd.Timedelta(hours=3)


def test_comment_cells_are_reduced_to_their_body(write):
    frame = check(config_for(write, JIRA, INCIDENTS)).tables["WP.18"].frame.set_index("_record_id")
    assert frame.loc["SD-1", "restoration_steps"] == ["Restarted postfix"]


def test_gaps_of_the_sample(write):
    findings = check(config_for(write, JIRA, INCIDENTS)).assessment.findings
    got = {(f.record_id, f.item, f.status) for f in findings.itertuples()}
    assert ("SD-4", "WP.18.i", "invalid") in got  # "soon" is no date
    assert ("SD-4", "WP.18.h", "missing") in got  # TBD root cause, significant (Highest)
    assert not any(r == "SD-2" and i == "WP.18.h" for r, i, _ in got)  # Low priority: not applicable
    assert not any(r == "SD-2" and i in ("WP.18.i", "WP.18.j", "WP.18.g") for r, i, _ in got)  # open: pending
    assert not any(r == "SD-1" and i in ("WP.18.g", "WP.18.i", "WP.18.j") for r, i, _ in got)
    # SD-1 has a root cause but no solution: the finding says which half is missing.
    sd1 = findings[(findings.record_id == "SD-1") & (findings.item == "WP.18.h")]
    assert sd1.message.iat[0].startswith(
        "Root cause and solution for incidents with significant impact (WP.18 h) is missing"
    )
    assert "(solution)" in sd1.message.iat[0]


def test_a_missing_mapped_column_names_file_and_column_with_a_suggestion(write):
    mapping = INCIDENTS.replace('root_cause: "Custom field (Root cause)"', 'root_cause: "Custom field (Rootcause)"')
    config = config_for(write, JIRA, mapping)
    with pytest.raises(InputError) as caught:
        check(config)
    message = str(caught.value)
    assert "jira.csv:1" in message and "Custom field (Rootcause)" in message
    assert "did you mean 'Custom field (Root cause)'" in message


def test_first_non_empty_of_several_columns_and_value_maps(write):
    text = """
    CI ID,Asset tag,Type
    ,A-1,HW
    C-2,,sw
    """
    mapping = """
    WP.02:
      fields:
        id: [CI ID, Asset tag]
        ci_type: {from: Type, transforms: [{map: {HW: hardware, SW: software}}]}
    """
    frame = check(config_for(write, text, mapping, name="cmdb.csv")).tables["WP.02"].frame
    assert frame["_record_id"].tolist() == ["A-1", "C-2"]
    assert frame["ci_type"].tolist() == ["hardware", "software"]


def test_split_and_extract_read_scoped_labels(write):
    text = 'Issue ID,Labels\n1,"incident,priority::1,component::dns"\n2,"incident"\n'
    mapping = """
    WP.18:
      fields:
        id: Issue ID
        priority: {from: Labels, transforms: [{split: ","}, {extract: '^priority::(.+)$'}]}
    """
    frame = check(config_for(write, text, mapping, name="gl.csv")).tables["WP.18"].frame
    assert frame["priority"].tolist() == [["1"], []]


def test_a_row_with_nothing_mapped_is_rejected_not_dropped(write):
    text = "Key,Summary,Notes\nSD-1,x,\n,,only an unmapped column\n"  # (a wholly blank row is skipped)
    mapping = """
    WP.18:
      fields:
        id: Key
        title: Summary
    """
    source = check(config_for(write, text, mapping, name="t.csv")).assessment.sources[0]
    assert (source.mapped, source.rejected) == (1, 1)
    assert "no mapped field" in source.rejections[0].reason


def test_user_map_overrides_one_preset_field(write, tmp_path: Path):
    csv_text = JIRA.replace("Custom field (Root cause)", "Custom field (Cause)")
    config = config_for(
        write, csv_text, 'WP.18:\n  fields:\n    root_cause: "Custom field (Cause)"\n', preset="jira-csv"
    )
    spec = config.sources[0].mappings["WP.18"]
    assert spec.fields["root_cause"].from_ == ("Custom field (Cause)",)
    assert spec.fields["root_cause"].required  # the user's own column must exist
    assert spec.fields["priority"].from_ == ("Priority",)  # still the preset's
    assert not spec.fields["priority"].required
    assert "WP.11" in config.sources[0].mappings


def test_a_preset_column_the_export_lacks_is_noted_not_fatal(write):
    config = config_for(write, JIRA, "{}", preset="jira-csv")
    result = check(config)
    notes = " ".join(result.assessment.sources[0].notes)
    assert "WP.18: the export has no column for" in notes and "impact (Custom field (Impact)" in notes


def test_engine_maps_the_same_raw_table_identically(write):
    config = config_for(write, JIRA, INCIDENTS)
    raw = pull_source(config, config.sources[0])
    engine = MappingEngine(load_catalogue(), config.rules.placeholders)
    first, _ = engine.map_source(raw, config.sources[0])
    second, _ = engine.map_source(raw, config.sources[0])
    pd.testing.assert_frame_equal(first["WP.18"].frame, second["WP.18"].frame)


def test_json_items_are_mapped_with_jmespath():
    from datetime import UTC, datetime

    from sdbridge.config import TableSourceConfig
    from sdbridge.connectors.base import ROW, RawTable

    items = [
        {
            "key": "SD-1",
            "fields": {
                "priority": {"name": "High"},
                "labels": ["db", "prod"],
                "created": "2026-03-01T10:00:00.000+0100",
                "resolutiondate": None,
            },
        },
        {"key": "SD-2", "fields": {"priority": None, "labels": [], "created": "2026-03-02T10:00:00.000+0100"}},
    ]
    raw = RawTable(
        source="api",
        frame=pd.DataFrame({"_item": items, ROW: [1, 2]}),
        columns={},
        location="https://x.invalid",
        fetched_at=datetime.now(UTC),
        kind="json",
    )
    source = TableSourceConfig.model_validate(
        {
            "name": "api",
            "type": "csv",
            "path": "unused.csv",
            "map": {
                "WP.18": {
                    "fields": {
                        "id": "key",
                        "priority": "fields.priority.name",
                        "ci": "fields.labels",
                        "started_at": "fields.created",
                        "time_to_resolve": {"duration": ["started_at", "ended_at"]},
                        "ended_at": "fields.resolutiondate",
                    }
                }
            },
        }
    )
    tables, outcome = MappingEngine(load_catalogue(), ("N/A",)).map_source(raw, source)
    frame = tables["WP.18"].frame.set_index("_record_id")
    assert outcome.mapped == 2
    assert frame.loc["SD-1", "priority"] == "High"
    assert pd.isna(frame.loc["SD-2", "priority"])
    assert frame.loc["SD-1", "ci"] == ["db", "prod"]
    assert frame.loc["SD-1", "started_at"] == pd.Timestamp("2026-03-01 09:00", tz="UTC")
    assert pd.isna(frame.loc["SD-1", "time_to_resolve"])


def test_dates_of_a_subset_of_rows_stay_on_their_rows():
    from sdbridge.dates import parse_datetimes

    text = pd.Series(["2026-01-05T10:00:00Z", "2026-01-03T10:00:00Z"], index=[7, 3], dtype="str")
    parsed, _ = parse_datetimes(text)
    assert parsed.loc[7] == pd.Timestamp("2026-01-05 10:00", tz="UTC")
    naive = pd.Series(["2026-01-05 10:00", "2026-01-03 10:00"], index=[7, 3], dtype="str")
    parsed, _ = parse_datetimes(naive, (), "Europe/Oslo")
    assert parsed.loc[3] == pd.Timestamp("2026-01-03 09:00", tz="UTC")


SAMPLE_ARGUMENTS = {
    "join": ", ",
    "split": ",",
    "map": {"hw": "hardware"},
    "in": ["yes"],
    "not_in": ["yes"],
    "matches": "^a",
    "extract": "(a+)",
    "replace": {"pattern": "a", "with": "b"},
    "date": {"formats": ["%Y-%m-%d"], "tz": "UTC"},
    "default": "x",
}


def test_every_registered_transform_validates_its_argument_and_runs_on_a_column():
    import numpy as np
    import pandas as pd

    from sdbridge.mapping.transforms import TRANSFORMS, Transform, apply_transform

    class Source:
        date_formats, timezone = ("%Y-%m-%d",), "UTC"

    column = pd.Series(["aa", " HW ", None], dtype="str")
    for name, definition in TRANSFORMS.items():
        assert definition.doc
        transform = Transform.parse({name: SAMPLE_ARGUMENTS[name]} if name in SAMPLE_ARGUMENTS else name)
        out, invalid = apply_transform(column, transform, np.zeros(3, dtype=bool), Source())
        assert len(out) == 3 and len(invalid) == 3, name
        if definition.argument is not None:
            with pytest.raises(ValueError, match=f"transform '{name}'"):
                Transform.parse({name: object()})
        else:
            with pytest.raises(ValueError, match="takes no argument"):
                Transform.parse({name: "x"})
    with pytest.raises(ValueError, match="unknown time zone"):
        Transform.parse({"date": {"tz": "Mars/Olympus"}})
