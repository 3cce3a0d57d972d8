"""The audit package: one zip an auditor can open, indexed by the standard's ids.

    audit-2026-11-27.zip
      index.html                 the HTML report of the run
      report.json                the machine-readable result
      findings.csv
      annex-c-checklist.csv      Annex C audit evidence per WP, with its evidence status
      annex-b-traceability.csv   requirement <-> guide task <-> WP, with evidence counts
      WP.18/records.csv|json     the records of each fed WP (values as pulled, item statuses)
      WP.18/findings.csv
      manifest.json              SHA-256 of every file, run id, when collected, period covered

`verify` recomputes every hash and names each altered, missing or unexpected file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa

from sdbridge import __version__
from sdbridge.assessment import Assessment
from sdbridge.errors import SdbridgeError
from sdbridge.files import atomic_write, write_behind
from sdbridge.mapping.table import INVALID_PREFIX, WorkProductTable
from sdbridge.profile import load_catalogue
from sdbridge.reports.json_report import records_json_chunks, report_json_chunks
from sdbridge.reports.tables import csv_chunks
from sdbridge.values import as_text

PROVENANCE = "provenance.intoto.json"
"""The package's signed provenance: an in-toto Statement in a DSSE envelope (see provenance.py)."""
DATE_FIELDS = ("started_at", "received_at", "performed_at", "period_end", "deployed_at", "needed_by")
"""Which date places a record in a period: the first of these it has. Documents, registers and
configuration items have none of them and are evidence whatever the period."""


class ExportError(SdbridgeError):
    pass


@dataclass
class Period:
    start: date
    end: date

    @classmethod
    def parse(cls, text: str) -> Period:
        try:
            first, _, last = text.partition("..")
            period = cls(date.fromisoformat(first), date.fromisoformat(last))
        except ValueError:
            raise ExportError(f"period {text!r} is not FROM..TO", hint="e.g. --period 2026-01-01..2026-06-30") from None
        if period.end < period.start:
            raise ExportError(f"period {text!r} ends before it starts")
        return period

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


def in_period(table: WorkProductTable, period: Period) -> WorkProductTable:
    """The records of a WP dated within the period; records with no date at all are kept
    (configuration items and documents are evidence whatever the period)."""
    frame = table.frame
    column = next((c for c in DATE_FIELDS if c in frame and pd.api.types.is_datetime64_any_dtype(frame[c])), None)
    if column is None or table.work_product.kind == "document":
        return table
    start = pd.Timestamp(period.start, tz="UTC")
    end = pd.Timestamp(period.end, tz="UTC") + pd.Timedelta(days=1)
    keep = frame[column].isna() | ((frame[column] >= start) & (frame[column] < end))
    return WorkProductTable(table.work_product, frame[keep.to_numpy()].reset_index(drop=True), table.placeholders)


def _csv(rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _records(table: WorkProductTable, status: pd.DataFrame | None) -> pd.DataFrame:
    frame = table.frame
    columns = [c for c in frame.columns if not c.startswith(INVALID_PREFIX) and c not in ("_row",)]
    out = pd.DataFrame({c.lstrip("_"): as_text(frame[c]) for c in columns})
    if status is not None and len(status) == len(out):
        for item in [c for c in status.columns if c.startswith("WP.")]:
            out[f"status {item}"] = status[item].array  # categories stay categories
    return out


def annex_c(assessment: Assessment) -> bytes:
    catalogue = load_catalogue()
    rows: list[list[object]] = [
        ["work_product", "name", "audit_evidence", "fed_by", "records", "gaps", "evidence_status"]
    ]
    for wp in catalogue.work_products:
        result = assessment.work_products[wp.id]
        status = (
            "not evidenced"
            if not result.fed
            else "no records"
            if result.records == 0
            else "complete"
            if result.gaps == 0
            else "partial"
        )
        for line in wp.audit_evidence:
            rows.append([wp.id, wp.name, line, ", ".join(result.sources), result.records, result.gaps, status])
    return _csv(rows)


def annex_b(assessment: Assessment) -> bytes:
    catalogue = load_catalogue()
    status = {r.id: r.status for r in assessment.requirements}
    rows: list[list[object]] = [
        ["requirement", "requirement_status", "guide_task", "guide_task_name", "work_product", "records", "gaps"]
    ]
    for req in catalogue.requirements:
        for task in req.guide_tasks:
            wps = [w for w in catalogue.task_work_products.get(task, ()) if w in req.work_products] or list(
                catalogue.task_work_products.get(task, ())
            )
            for wp in wps:
                result = assessment.work_products[wp]
                rows.append(
                    [req.id, status[req.id], task, catalogue.guide_tasks[task], wp, result.records, result.gaps]
                )
    return _csv(rows)


Chunks = Iterable[bytes | memoryview | pa.Buffer]
"""A member's content, a piece at a time (the package never holds a whole member)."""


def build_package(
    assessment: Assessment,
    tables: dict[str, WorkProductTable],
    *,
    period: Period | None,
    oscal: bool = False,
    sign: Any = None,
) -> Iterator[tuple[str, Chunks]]:
    """The package's members, one at a time (name, its content in chunks), each made by the
    same writers as the report files, and last the manifest with every member's SHA-256. A
    chunk is handed on as soon as it is made, so the caller writes (and compresses) it while
    the next is made; memory holds a few chunks, never a whole member."""
    from sdbridge.reports.html import render_html

    digests: dict[str, str] = {}

    def member(name: str, chunks: Chunks) -> tuple[str, Chunks]:
        def hashed() -> Iterator[bytes | memoryview | pa.Buffer]:
            digest = hashlib.sha256()
            for chunk in chunks:
                digest.update(chunk)
                yield chunk
            digests[name] = digest.hexdigest()

        return name, hashed()

    yield member("report.json", report_json_chunks(assessment))
    yield member("findings.csv", csv_chunks(assessment.findings))
    yield member("index.html", [render_html(assessment, str(period) if period else None).encode("utf-8")])
    yield member("annex-c-checklist.csv", [annex_c(assessment)])
    yield member("annex-b-traceability.csv", [annex_b(assessment)])
    findings = assessment.findings
    by_wp = findings.groupby("work_product", observed=True, sort=False).indices if len(findings) else {}
    for wp_id, table in sorted(tables.items()):
        if not len(table.frame):
            continue
        records = _records(table, assessment.item_status.get(wp_id))
        yield member(f"{wp_id}/records.csv", csv_chunks(records))
        yield member(f"{wp_id}/records.json", records_json_chunks(records))
        own = findings.iloc[by_wp[wp_id]] if wp_id in by_wp else findings.iloc[:0]
        yield member(f"{wp_id}/findings.csv", csv_chunks(own))
    if oscal:
        from sdbridge.oscal import documents

        for name, data in documents(assessment, str(period) if period else None):
            yield member(name, [data])
    if sign is not None:  # the signed provenance: every member above as a subject, with its SHA-256
        yield member(PROVENANCE, [sign(dict(digests))])
    manifest = {
        "sdbridge": __version__,
        "profile": assessment.profile,
        "variation": assessment.variation,
        "run_id": assessment.run_id,
        "evidence_collected_at": assessment.generated_at.isoformat(),
        "package_created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "period": str(period) if period else None,
        "files": dict(sorted(digests.items())),
    }
    manifest["manifest_sha256"] = manifest_digest(manifest)
    yield "manifest.json", [json.dumps(manifest, indent=2).encode("utf-8")]


def manifest_digest(manifest: dict) -> str:
    """The manifest's own SHA-256 (over everything but this field): a changed run id, period
    or date is caught like a changed file."""
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, indent=2).encode("utf-8")).hexdigest()


SYSTEM_FOLDERS = ("/proc", "/sys", "/dev", "/etc", "/bin", "/sbin", "/usr", "/boot")


def check_target(path: Path, *, force: bool = False) -> None:
    """Refuse a package path that is a folder, a device or inside a system folder, and one
    that exists unless `force` (a package handed to an auditor is never replaced unasked)."""
    resolved = path.expanduser().resolve()
    if resolved.is_dir():
        raise ExportError(f"{path} is a folder", hint="give the path of the .zip to write, e.g. audit.zip")
    if resolved.exists() and not resolved.is_file():
        raise ExportError(f"{path} is not a regular file", hint="give the path of the .zip to write")
    if any(str(resolved) == folder or str(resolved).startswith(folder + "/") for folder in SYSTEM_FOLDERS):
        raise ExportError(f"{path} is inside a system folder", hint="write the package to your own folder")
    if resolved.exists() and not force:
        raise ExportError(f"{path} exists", hint="use --force to replace it, or give another --out")


def _member_info(name: str) -> zipfile.ZipInfo:
    """A member as `ZipFile.writestr` would make it: now, deflated, an ordinary file's mode."""
    info = zipfile.ZipInfo(name, date_time=time.localtime(time.time())[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    # `compress_level` since Python 3.13, `_compresslevel` before
    setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", ZIP_LEVEL)
    info.external_attr = 0o600 << 16
    return info


ZIP_LEVEL = 1
"""Deflate level of the package's members: the fastest (text compresses ~8:1 at level 1 and
~9:1 at 6, for a third of the time)."""


def write_package(members: Iterable[tuple[str, bytes | Chunks]], path: Path) -> Path:
    """Write the members into a ZIP at `path` (atomically). Compression runs in a writer
    thread (zlib releases the GIL) while the next chunk is made; a failure on either side
    leaves no package. Whether an existing package may be replaced is the caller's to say."""
    check_target(path, force=True)

    def pieces() -> Iterator[str | bytes | memoryview | pa.Buffer]:
        """The members as one stream: a name opens a member, the chunks after it fill it."""
        for name, content in members:
            yield name
            yield from [content] if isinstance(content, bytes | bytearray | memoryview) else content

    def write(tmp: Path) -> None:
        def compress(fed: Iterator[str | bytes | memoryview | pa.Buffer]) -> None:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as archive:
                stream: IO[bytes] | None = None
                for piece in fed:
                    if isinstance(piece, str):
                        if stream is not None:
                            stream.close()
                        stream = archive.open(_member_info(piece), "w", force_zip64=True)
                    elif stream is not None:
                        stream.write(piece)
                if stream is not None:
                    stream.close()

        write_behind(pieces(), compress, name="sdbridge-zip")

    return atomic_write(path, write)
