"""How counts, ages and records read for people, in every report and on the console."""

from __future__ import annotations

from rich.console import Console

from sdbridge.console import Column, fitted_table
from sdbridge.words import days, plural, record_label, whole


def test_counts_ages_and_records_read_as_people_write_them():
    assert [plural(n, "record") for n in (0, 1, 2)] == ["0 records", "1 record", "2 records"]
    assert [whole(v) for v in (0.0, 0.9, 12.4, None, float("nan"))] == ["0", "0", "12", "", ""]
    assert days(1.7) == "1 day" and days(0.2) == "0 days"
    sys_id = "9d385017c611228701d22104cc95c371"
    assert record_label({"record_id": sys_id, "title": "mail01"}) == "mail01"  # a ServiceNow sys_id
    assert record_label({"record_id": "6f1c7a52-3b1e-4c8e-9a59-0e4b9f7d2c11", "title": "x" * 80}) == "x" * 59 + "…"
    assert record_label({"record_id": sys_id, "title": None}) == sys_id  # nothing better to show
    assert record_label({"record_id": "INC0010001", "title": "Mail down"}) == "INC0010001"
    assert record_label({"record_id": None, "title": "Feedback log"}) == "(work product)"


def test_a_fitted_table_keeps_ids_and_counts_whole_and_cuts_only_text():
    console = Console(width=80, record=True)
    long = "a requirement's blockers described at a length no terminal of 80 columns holds on one line"
    console.print(
        fitted_table(
            "t",
            [Column("Req"), Column("Work", justify="right"), Column("What", flex=3), Column("Start", flex=2)],
            [["P11", "142", long, long]],
            80,
        )
    )
    lines = console.export_text().splitlines()
    row = next(line for line in lines if line.startswith("│ P11"))
    assert "│  142 │" in row and row.count("…") == 2 and all(len(line) <= 80 for line in lines)


def test_a_counted_step_shows_its_count_rate_and_time_left():
    from rich.progress import Progress, ProgressSample

    from sdbridge.progress import _CountColumn

    column = _CountColumn()
    progress = Progress(column, console=Console(width=80), auto_refresh=False)
    task = progress.add_task("writing the xlsx report", total=None, unit="")
    assert str(column.render(progress.tasks[0])) == ""  # a step not counted shows nothing
    progress.update(task, total=1_000_000, unit="findings")
    state = progress.tasks[0]
    state.completed = 100_000
    state._progress.extend([ProgressSample(0.0, 0), ProgressSample(10.0, 100_000)])  # 10,000 a second
    text = str(column.render(state))
    assert text == "100,000/1,000,000 findings · 10,000/s · ~2 min left"
    pulling = progress.add_task("pulling jira", total=None, unit="issues")
    state = progress.tasks[pulling]
    state.completed = 3_000
    state._progress.extend([ProgressSample(0.0, 0), ProgressSample(12.0, 3_000)])
    assert str(column.render(state)) == "3,000 issues · 250/s"  # no total: no time left
