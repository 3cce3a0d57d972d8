"""`report.json`: the assessment, then its findings streamed in batches, encoded
column-wise in Arrow (`arrowtext.json_lines`); a batch with a rare control character goes
through pandas' encoder instead."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from sdbridge import progress
from sdbridge.arrowtext import arrow_table, json_lines, value_bytes
from sdbridge.assessment import Assessment
from sdbridge.files import atomic_write, in_order, write_behind


def report_dict(assessment: Assessment) -> dict:
    """`report.json` as a dict: the assessment plus its findings (for small reports and
    tests; `write_json` streams instead)."""
    data = assessment.model_dump(mode="json")
    findings = assessment.findings
    records = json.loads(findings.to_json(orient="records", force_ascii=False)) if len(findings) else []
    data["findings"] = records
    return data


JSON_BATCH = 50_000
"""Findings encoded per batch: memory stays at one batch's text, whatever the count."""


ITEM_SEPARATOR = ",\n    "
"""Between two objects of a streamed JSON array: one object per line."""


def _json_batches(frame: pd.DataFrame) -> Iterator[bytes | memoryview]:
    """The rows as JSON objects, one per line, every one but the last followed by a separator, a
    batch at a time, as UTF-8: encoded column-wise in Arrow from slices of one Arrow table (no
    Python object per row; a batch is the bytes Arrow built, written as they are); a batch
    with a rare control character goes through pandas' encoder instead, which escapes every
    one (its `\\/` for `/` is put back: every `\\/` it writes is that escape)."""
    table = arrow_table(frame, for_spreadsheets=False)
    separator = ITEM_SEPARATOR.encode("utf-8")

    def encoded(start: int) -> bytes | memoryview:
        last = start + JSON_BATCH >= len(frame)
        lines = json_lines(table.slice(start, JSON_BATCH), ITEM_SEPARATOR)
        if lines is not None:
            raw, _ = value_bytes(lines)
            return (raw[: -len(separator)] if last else raw).data.cast("B")
        batch = frame.iloc[start : start + JSON_BATCH]
        text = batch.to_json(orient="records", lines=True, force_ascii=False).rstrip("\n")
        return (text.replace("\\/", "/").replace("\n", ITEM_SEPARATOR) + ("" if last else ITEM_SEPARATOR)).encode()

    for start, chunk in zip(range(0, len(frame), JSON_BATCH), in_order(encoded, range(0, len(frame), JSON_BATCH))):
        yield chunk
        progress.count(min(start + JSON_BATCH, len(frame)), len(frame), "rows")


def _json_chunks(head: str, frame: pd.DataFrame, close: tuple[str, str]) -> Iterator[bytes | memoryview]:
    """`head`, the rows as the items of the JSON array it opens, then `close[0]` (after
    items) or `close[1]` (when there are none)."""
    yield head.encode("utf-8")
    wrote = False
    for batch in _json_batches(frame):
        if not wrote:
            yield b"\n    "
            wrote = True
        yield batch
    yield (close[0] if wrote else close[1]).encode("utf-8")


def _write_chunks(chunks: Iterable[bytes | memoryview], handle: BinaryIO) -> None:
    """Write the chunks from a writer thread while the next is encoded (both let go of the GIL)."""
    write_behind(chunks, lambda fed: [handle.write(chunk) for chunk in fed], name="sdbridge-json")


def report_json_chunks(assessment: Assessment) -> Iterator[bytes | memoryview]:
    """`report.json`, a chunk at a time: the assessment as its model gives it, then the
    findings in batches (one object per line inside the `findings` array)."""
    head = json.dumps(assessment.model_dump(mode="json"), indent=2, ensure_ascii=False)
    if not head.endswith("}"):
        raise AssertionError("the assessment is not a JSON object")
    opening = head[:-1].rstrip() + (",\n" if head.strip() != "{}" else "\n") + '  "findings": ['
    return _json_chunks(opening, assessment.findings, ("\n  ]\n}\n", "]\n}\n"))


def records_json_chunks(records: pd.DataFrame) -> Iterator[bytes | memoryview]:
    """A table of records as a JSON array, one object per line, encoded like the findings."""
    return _json_chunks("[", records, ("\n]\n", "]\n"))


def dump_json(assessment: Assessment, handle: BinaryIO) -> None:
    """`report.json` into a binary stream."""
    _write_chunks(report_json_chunks(assessment), handle)


def write_json(assessment: Assessment, out: Path) -> Path:
    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            dump_json(assessment, handle)

    return atomic_write(out / "report.json", write)
