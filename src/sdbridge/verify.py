"""`sdbridge export --verify`: whether an audit package is exactly what sdbridge wrote.

An auditor relies on the answer, so "intact" is said only when all of this holds:
- the file is a readable ZIP archive with exactly one entry per name (a second `report.json`
  behind the first is how a tampered copy would hide), no name that climbs out of the
  package (`..`, an absolute path, a drive), no symbolic link, no encrypted entry and no
  compression method this reader does not know;
- `manifest.json` has the shape sdbridge writes (a pydantic model) and lists the core files
  of a package (`report.json`, `index.html`, `findings.csv`);
- every listed file is present and has the SHA-256 the manifest gives, and every file
  present is listed. Folder entries (added when someone unzips and zips again) are ignored.

Contents are hashed as a stream, never read whole, and no entry may unpack to more than
`MAX_ENTRY_BYTES` (nor the package to more than `MAX_TOTAL_BYTES`): a zip bomb is reported,
not unpacked.
"""

from __future__ import annotations

import hashlib
import json
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sdbridge.errors import SdbridgeError
from sdbridge.export import manifest_digest

MAX_ENTRY_BYTES = 2 << 30
"""2 GiB unpacked per file: far above any report sdbridge writes."""
MAX_TOTAL_BYTES = 8 << 30
MAX_MANIFEST_BYTES = 16 << 20
CORE_FILES = ("report.json", "index.html", "findings.csv")
KNOWN_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
CHUNK = 1 << 20


class VerifyError(SdbridgeError):
    """The package cannot be checked at all (it is not there, or not a file)."""


class Manifest(BaseModel):
    """What `manifest.json` must look like (the fields verification relies on)."""

    model_config = ConfigDict(extra="allow")
    run_id: str
    files: dict[str, str] = Field(min_length=1)

    def bad_digests(self) -> list[str]:
        return [
            name
            for name, digest in self.files.items()
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest)
        ]


def _unsafe(name: str) -> str | None:
    """Why an entry name cannot be part of a package, or None."""
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "an absolute or Windows path"
    if ".." in PurePosixPath(name).parts:
        return "a path that climbs out of the package (..)"
    if any(ord(c) < 32 for c in name):
        return "control characters in its name"
    return None


def _entry_problem(info: zipfile.ZipInfo) -> str | None:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return "a symbolic link, not a file"
    if info.flag_bits & 0x1:
        return "encrypted: its content cannot be checked"
    if info.compress_type not in KNOWN_METHODS:
        return f"compressed with method {info.compress_type}, which this reader does not know"
    return None


def _digest(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> tuple[str | None, int, str | None]:
    """SHA-256 of an entry read as a stream: (digest, bytes read, problem)."""
    sha = hashlib.sha256()
    read = 0
    try:
        with archive.open(info) as stream:
            while block := stream.read(CHUNK):
                read += len(block)
                if read > MAX_ENTRY_BYTES or read > budget:
                    return None, read, "unpacks to more than the size a package may hold (a zip bomb?)"
                sha.update(block)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        return None, read, f"damaged in the archive ({type(exc).__name__})"
    return sha.hexdigest(), read, None


def verify(path: Path) -> list[str]:
    """Problems found, one per line ([] = the package is exactly what sdbridge wrote)."""
    if not path.exists():
        raise VerifyError(f"{path} does not exist")
    if not path.is_file():
        raise VerifyError(f"{path} is not a file", hint="give the .zip of an audit package")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        return [f"{path.name}: not a readable zip archive ({type(exc).__name__}) — damaged or not an audit package"]
    with archive:
        entries = [info for info in archive.infolist() if not info.filename.endswith("/")]
        problems: list[str] = []
        seen: dict[str, int] = {}
        for info in entries:
            seen[info.filename] = seen.get(info.filename, 0) + 1
        problems += [
            f"{name}: appears {count} times; a package holds exactly one entry per name"
            for name, count in sorted(seen.items())
            if count > 1
        ]
        by_name: dict[str, zipfile.ZipInfo] = {}
        for info in entries:
            why = _unsafe(info.filename) or _entry_problem(info)
            if why:
                problems.append(f"{info.filename!r}: {why}")
            else:
                by_name.setdefault(info.filename, info)
        manifest = _manifest(archive, by_name.get("manifest.json"), problems)
        if manifest is None:
            return problems
        budget = MAX_TOTAL_BYTES
        for name, digest in sorted(manifest.files.items()):
            entry = by_name.get(name)
            if entry is None:
                if seen.get(name) is None:
                    problems.append(f"{name}: missing")
                continue
            actual, read, problem = _digest(archive, entry, budget)
            budget -= read
            if problem:
                problems.append(f"{name}: {problem}")
            elif actual != digest:
                problems.append(f"{name}: altered (SHA-256 differs from the manifest)")
        problems += [
            f"{name}: not listed in the manifest"
            for name in sorted(set(by_name) - set(manifest.files) - {"manifest.json"})
        ]
    return problems


def _manifest(archive: zipfile.ZipFile, info: zipfile.ZipInfo | None, problems: list[str]) -> Manifest | None:
    if info is None:
        problems.append("manifest.json: missing — this is not an sdbridge audit package")
        return None
    if info.file_size > MAX_MANIFEST_BYTES:
        problems.append("manifest.json: larger than any manifest sdbridge writes")
        return None
    try:
        with archive.open(info) as stream:
            text = stream.read(MAX_MANIFEST_BYTES + 1)
        parsed = json.loads(text)
        manifest = Manifest.model_validate(parsed)
    except (
        ValueError,
        ValidationError,
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        RuntimeError,
        NotImplementedError,
    ) as exc:
        problems.append(f"manifest.json: not the manifest sdbridge writes ({type(exc).__name__})")
        return None
    if json.dumps(parsed, indent=2).encode("utf-8") != text or manifest_digest(parsed) != parsed.get("manifest_sha256"):
        problems.append("manifest.json: altered (it is not the manifest sdbridge wrote: its own SHA-256 differs)")
        return None
    bad = manifest.bad_digests()
    if bad:
        problems.append(f"manifest.json: not a SHA-256 for {', '.join(sorted(bad)[:5])}")
        return None
    absent = [name for name in CORE_FILES if name not in manifest.files]
    if absent:
        problems.append(f"manifest.json: does not list {', '.join(absent)}; every package holds them")
    return manifest


def verify_signature(path: Path, key_path: Path | None) -> tuple[list[str], str]:
    """The package's signed provenance checked against a public key: (problems, what to say).
    Unsigned is said plainly: a problem when a key was given (a signature was expected), else
    only a line. Signed but no key given: which key signed it, and how to check it."""
    from sdbridge.export import PROVENANCE

    with zipfile.ZipFile(path) as archive:
        entries = {i.filename: i for i in archive.infolist() if not i.filename.endswith("/")}
        envelope_info = entries.get(PROVENANCE)
        if envelope_info is None:
            message = f"{path.name} is unsigned: it carries no signed provenance ({PROVENANCE})"
            return ([message] if key_path is not None else []), message
        if envelope_info.file_size > MAX_MANIFEST_BYTES:
            return [f"{PROVENANCE}: larger than any provenance sdbridge writes"], ""
        with archive.open(envelope_info) as stream:
            data = stream.read(MAX_MANIFEST_BYTES + 1)
        from sdbridge.provenance import check_envelope, keyid_of, load_public_key

        if key_path is None:
            return [], (
                f"{path.name} is signed (key id {keyid_of(data) or '?'}); give --key PUBLIC.pem to check the signature"
            )
        key = load_public_key(key_path)
        actual: dict[str, str] = {}
        budget = MAX_TOTAL_BYTES
        for name, info in sorted(entries.items()):
            if name in (PROVENANCE, "manifest.json"):
                continue
            digest, read, problem = _digest(archive, info, budget)
            budget -= read
            if digest is not None:
                actual[name] = digest
        problems = check_envelope(data, key, actual)
        return problems, (
            f"{path.name} is signed by the key in {key_path} over all {len(actual)} files" if not problems else ""
        )
