"""`findings.csv` and `findings.parquet`: the findings (or any records) as tables, by
pyarrow's writers, a batch at a time; CSV cells a spreadsheet would run are neutralised."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow as pa

from sdbridge import progress
from sdbridge.arrowtext import arrow_table
from sdbridge.assessment import Assessment
from sdbridge.files import atomic_write, in_order

CSV_BATCH = 100_000
"""Rows written per CSV chunk: an audit package holds one chunk at a time, not the file."""


def csv_chunks(frame: pd.DataFrame) -> Iterator[pa.Buffer]:
    """Findings or records as CSV (neutralised) by pyarrow's writer, a batch of rows at a time
    (the header with the first); dictionary columns are written as their text."""
    import pyarrow.csv as pacsv

    table = arrow_table(frame)
    batches = table.to_batches(max_chunksize=CSV_BATCH) or [pa.RecordBatch.from_pylist([], schema=table.schema)]

    def written(numbered: tuple[int, pa.RecordBatch]) -> pa.Buffer:
        sink = pa.BufferOutputStream()
        options = pacsv.WriteOptions(include_header=numbered[0] == 0, quoting_style="needed")
        pacsv.write_csv(numbered[1], sink, write_options=options)
        return sink.getvalue()

    done = 0
    for batch, chunk in zip(batches, in_order(written, enumerate(batches))):
        yield chunk
        done += batch.num_rows
        progress.count(done, table.num_rows, "rows")


def dump_csv(frame: pd.DataFrame, target: Path | BinaryIO) -> None:
    """`csv_chunks` into a path or a binary stream."""
    if isinstance(target, Path):
        with target.open("wb") as handle:
            dump_csv(frame, handle)
        return
    for chunk in csv_chunks(frame):
        target.write(chunk)


def write_csv(assessment: Assessment, out: Path) -> Path:
    """`findings.csv`."""
    return atomic_write(out / "findings.csv", lambda tmp: dump_csv(assessment.findings, tmp))


def write_parquet(assessment: Assessment, out: Path) -> Path:
    """`findings.parquet`: the findings for pandas, DuckDB or a BI tool (same columns as the
    CSV, typed; text not neutralised — Parquet is not opened by spreadsheets as formulas)."""
    import pyarrow.parquet as pq

    table = arrow_table(assessment.findings, for_spreadsheets=False)

    def write(tmp: Path) -> None:
        pq.write_table(table, tmp, compression="zstd")

    return atomic_write(out / "findings.parquet", write)
