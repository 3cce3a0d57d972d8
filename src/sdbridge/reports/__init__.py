"""Report sinks: each writes one file from an `Assessment`, atomically (a crash never
leaves a half-written report). Built-ins are listed here; third-party sinks register
through the entry-point group `sdbridge.sinks` (name = format, value = a callable
`(assessment, out_dir) -> Path`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from sdbridge import progress
from sdbridge.assessment import Assessment
from sdbridge.errors import ConfigError
from sdbridge.faults import fault_point
from sdbridge.files import atomic_write, in_order, remove_leftovers, writable_target, write_behind
from sdbridge.profile import load_catalogue
from sdbridge.rules.fixfirst import place, start_with
from sdbridge.values import first_byte_in, value_bytes
from sdbridge.words import days, plural, record_label, whole

Sink = Callable[[Assessment, Path], Path]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may run as a formula at the start of a cell."""


def web_link(url: object) -> str | None:
    """Only http(s) links become links: a `javascript:` URL in an export must never run."""
    text = str(url or "").strip()
    return text if text.lower().startswith(("https://", "http://")) else None


LINE_FORMULA = r"([\r\n])([=+\-@\t])"
"""A formula at the start of a line inside a cell: a reader that takes a bare CR as the end of
a row would start a new row with it. (One pattern for the cell-wise and the Arrow neutraliser.)"""
CELL_FORMULA = r"^[=+\-@\t\r]"
"""`FORMULA_START` as a pattern."""
_LINE_FORMULA = re.compile(LINE_FORMULA)


def neutralise(value: object) -> object:
    """One cell: text a spreadsheet would run as a formula gets a leading quote, at the start
    of the cell and at the start of every line in it (`_neutralised` does a whole column)."""
    if not isinstance(value, str):
        return value
    value = _LINE_FORMULA.sub(r"\1'\2", value)
    return "'" + value if value.startswith(FORMULA_START) else value


def never_provided(assessment: Assessment) -> tuple[list[dict], np.ndarray]:
    """Per source and WP, the items its export can never evidence, with how many findings
    that makes; and a mask of those findings, which the human-readable reports show grouped
    under their source instead of one line per record."""
    catalogue = load_catalogue()
    mask = np.zeros(len(assessment.findings), dtype=bool)
    groups = []
    for source, wp_id, items, hit in assessment.never_provided_findings():
        mask |= hit
        groups.append(
            {
                "source": source,
                "work_product": wp_id,
                "findings": int(hit.sum()),
                "entries": [(i, catalogue.item(i).label) for i in items],
            }
        )
    return groups, mask


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


_JSON_ESCAPES = [
    ("\\", "\\\\"),
    ('"', '\\"'),
    ("\n", "\\n"),
    ("\r", "\\r"),
    ("\t", "\\t"),
    ("\b", "\\b"),
    ("\f", "\\f"),
]
_OTHER_CONTROL = r"[\x00-\x07\x0b\x0e-\x1f]"
_NEEDS_ESCAPE = r"[\x00-\x1f\"\\\\]"


def _may_need_escape(array: pa.Array) -> bool:
    """Whether any value might hold a quote, a backslash or a control character: one pass of
    numpy over the bytes of the text (a false alarm only costs the exact regex test)."""
    raw, _ = value_bytes(array)
    return bool((raw < 0x20).any() or (raw == 0x22).any() or (raw == 0x5C).any())


def _json_escaped(array: pa.Array) -> pa.Array | None:
    """Each value of a text column escaped for a JSON string (without its quotes; null stays
    null); None when a value holds a control character with no short escape (the caller
    encodes that batch slowly)."""
    if pa.types.is_dictionary(array.type):
        escaped = _json_escaped(array.dictionary)
        return None if escaped is None else pc.take(escaped, array.indices)
    array = pc.cast(array, pa.large_string())
    if _may_need_escape(array) and pc.any(pc.match_substring_regex(array, _NEEDS_ESCAPE)).as_py():
        if pc.any(pc.match_substring_regex(array, _OTHER_CONTROL)).as_py():
            return None
        for raw, escaped in _JSON_ESCAPES:
            array = pc.replace_substring(array, raw, escaped)
    return array


def _one_value(column: pa.Array) -> str | None:
    """The JSON of the one value a column holds in every row, when that is known without a
    pass over it: all null, or a dictionary column whose rows all point at one entry."""
    if len(column) and column.null_count == len(column):
        return "null"
    if pa.types.is_dictionary(column.type) and len(column) and not column.null_count:
        low, high = pc.min_max(column.indices).values()
        if low == high:
            return json.dumps(column.dictionary[low.as_py()].as_py(), ensure_ascii=False)
    return None


def _json_lines(table: pa.Table, tail: str) -> pa.Array | None:
    """One JSON object per finding, each followed by `tail`, built column-wise in Arrow: a
    text column without nulls takes its quotes from the literal text around it (no pass of
    its own); one with nulls is quoted value by value, `null` where missing."""
    empty = pa.scalar("", pa.large_string())
    quote = pa.scalar('"', pa.large_string())
    parts: list[pa.Array | pa.Scalar] = []
    literal = "{"
    for at, name in enumerate(table.column_names):
        literal += ("," if at else "") + json.dumps(name) + ":"
        column = table.column(name).combine_chunks()
        quoted = False
        same = _one_value(column)
        if same is not None:  # one value throughout: part of the literal text, not a column to join
            literal += same
            continue
        if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
            encoded = pc.fill_null(pc.cast(column, pa.large_string()), "null")
        else:
            text = _json_escaped(column)
            if text is None:
                return None
            if text.null_count == 0:
                encoded, quoted = pc.cast(text, pa.large_string()), True
            else:
                encoded = pc.fill_null(pc.binary_join_element_wise(quote, text, quote, empty), "null")
        parts += [pa.scalar(literal + ('"' if quoted else ""), pa.large_string()), encoded]
        literal = '"' if quoted else ""
    parts.append(pa.scalar(literal + "}" + tail, pa.large_string()))
    return pc.binary_join_element_wise(*parts, empty)


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
        lines = _json_lines(table.slice(start, JSON_BATCH), ITEM_SEPARATOR)
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


_RISKY = f"{CELL_FORMULA}|{LINE_FORMULA}"


_FORMULA_BYTES = np.zeros(256, dtype=bool)
_FORMULA_BYTES[np.frombuffer("".join(FORMULA_START).encode(), dtype=np.uint8)] = True


def _may_be_risky(array: pa.Array) -> bool:
    """Whether any value might start a formula: numpy over the first byte of each value, and
    over all the text for a line break (a false alarm only costs the exact regex test)."""
    raw, _ = value_bytes(array)
    if (raw == 0x0A).any() or (raw == 0x0D).any():
        return True
    return bool(first_byte_in(array, _FORMULA_BYTES, empty=False).any())


def _neutralised(array: pa.Array) -> pa.Array:
    """`neutralise` for a whole Arrow column: a quote before a formula at the start of the
    cell and after every line break; a dictionary column fixes only its dictionary."""
    if pa.types.is_dictionary(array.type):
        return pa.DictionaryArray.from_arrays(array.indices, _neutralised(array.dictionary))
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return array
    if not _may_be_risky(array) or not pc.any(pc.match_substring_regex(array, _RISKY)).as_py():
        return array  # the common case: nothing to do
    fixed = pc.replace_substring_regex(array, LINE_FORMULA, r"\1'\2")
    quote = pa.scalar("'", array.type)
    prefixed = pc.binary_join_element_wise(quote, fixed, pa.scalar("", array.type))
    return pc.if_else(pc.match_substring_regex(fixed, CELL_FORMULA), prefixed, fixed)


def arrow_table(findings: pd.DataFrame, *, for_spreadsheets: bool = True) -> pa.Table:
    """A frame of findings or records as an Arrow table (categories as dictionary columns,
    `row` a nullable integer, text as text), neutralised when a spreadsheet may open it.
    Column-wise in Arrow throughout."""
    columns = {}
    for name in findings.columns:
        column = findings[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            codes = column.cat.codes.to_numpy()
            categories = pa.array(column.cat.categories.astype(str).tolist(), pa.string())
            array: pa.Array = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), categories)
        elif name == "row":
            array = pa.array(column.astype("Int64").array, pa.int64())
        elif pd.api.types.is_float_dtype(column.dtype):
            array = pa.array(column.to_numpy(), from_pandas=True)  # NaN is null
        else:
            array = pa.array(column.astype("str").array)
            if isinstance(array, pa.ChunkedArray):
                array = array.combine_chunks()
        columns[name] = _neutralised(array) if for_spreadsheets else array
    return pa.table(columns)


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


def environment() -> Environment:
    """The one Jinja environment of the reports: HTML templates are autoescaped (an export's
    text is always shown as text), Markdown ones are not."""
    env = Environment(
        loader=PackageLoader("sdbridge", "reports/templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["pct"] = lambda v: "—" if v is None else f"{v * 100:.0f}%"
    env.filters["md"] = lambda v: "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")
    env.filters["link"] = web_link
    env.filters["days"] = lambda v: "—" if v is None else days(v)
    env.filters["whole"] = whole
    env.filters["plural"] = plural
    env.filters["record_label"] = record_label
    env.globals["start_with"] = start_with
    env.filters["place"] = place
    env.globals["FIX_FIRST_LISTED"] = FIX_FIRST_LISTED
    return env


FIX_FIRST_LISTED = 10
"""Requirements the reports show under Fix first (report.json has every one)."""


MAX_MD_FINDINGS_PER_WP = 200


def plain_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of findings for a template: a missing value is None, whatever the column's type."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


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


def _lazy(module: str, name: str) -> Sink:
    def sink(assessment: Assessment, out: Path) -> Path:
        return getattr(__import__(f"sdbridge.reports.{module}", fromlist=[name]), name)(assessment, out)

    return sink


BUILTIN_SINKS: dict[str, Sink] = {
    "json": write_json,
    "md": write_md,
    "csv": write_csv,
    "parquet": write_parquet,
    "html": _lazy("html", "write_html"),
    "xlsx": _lazy("xlsx", "write_xlsx"),
    "junit": _lazy("junit", "write_junit"),
}


def sink(name: str) -> Sink:
    if name in BUILTIN_SINKS:
        return BUILTIN_SINKS[name]
    for ep in entry_points(group="sdbridge.sinks"):
        if ep.name == name:
            return ep.load()
    known = sorted({*BUILTIN_SINKS, *(ep.name for ep in entry_points(group="sdbridge.sinks"))})
    raise ConfigError(f"unknown report format {name!r}; known formats: {', '.join(known)}")


def write_reports(assessment: Assessment, out: Path, formats: list[str] | tuple[str, ...]) -> list[Path]:
    sinks = [sink(name) for name in formats]  # fail on an unknown name before writing anything
    if out.exists() and not out.is_dir():
        raise ConfigError(f"the report folder {out} is a file", hint="give --out (or reports.out) a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot write reports to {out}: {exc.strerror or exc}",
            hint="give --out (or reports.out) a folder you can write to",
        ) from None
    remove_stale_staging(out)
    # The set is written into a fresh folder beside the reports, then moved into place file by
    # file (renames on one file system: instants). A run that stops half-way (a full disk, a
    # SIGTERM) leaves the previous run's reports as they were, never a mix of two runs, and no
    # hidden temporary files: the staging folder goes with it.
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out))
    try:
        staged = []
        for name, write in zip(formats, sinks):
            with progress.step(f"writing the {name} report"):
                staged.append(write(assessment, staging))
            fault_point("writing-reports")
        written = []
        for path in staged:
            target = out / path.relative_to(staging)
            writable_target(target)
            os.replace(path, target)
            remove_leftovers(target)  # temporary files a killed earlier run left beside it
            written.append(target)
        return written
    except OSError as exc:
        raise ConfigError(
            f"cannot write the reports in {out}: {exc.strerror or exc}",
            hint="free disk space or give --out (or reports.out) a folder you can write to; "
            "the reports already there were left as they were",
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


STAGING_PREFIX = ".sdbridge-writing-"


def remove_stale_staging(out: Path) -> int:
    """Staging folders a killed run left in the report folder (its process is gone): removed.
    Returns how many."""
    removed = 0
    for folder in out.glob(f"{STAGING_PREFIX}*"):
        pid = folder.name.removeprefix(STAGING_PREFIX).split("-", 1)[0]
        if pid.isdigit() and _alive(int(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
