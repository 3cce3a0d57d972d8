"""A folder of controlled documents: Markdown files with YAML front matter.

Front matter says which work product a document is and how it is controlled:

    ---
    work_product: WP.14
    id: POL-001
    version: "3.1"
    status: approved
    owner: Ingrid Bakke
    approved_by: Managing director
    approved_on: 2026-02-01
    next_review: 2027-02-01
    ---

A content item is evidenced by a front-matter key named like its field, or by a heading
whose section has text: the heading synonyms (`headings:` of the source, defaults in the
`documents` preset) are compared case- and accent-insensitively, numbering ignored, so
"2. Priority Matrix" evidences WP.14.b. An empty section does not evidence anything.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml
from markdown_it import MarkdownIt

from sdbridge import safe_yaml
from sdbridge.connectors.base import ROW, RawTable
from sdbridge.connectors.gitlab_client import NO_LIBRARY_RETRY, GitLabClient
from sdbridge.errors import HttpStatusError, InputError
from sdbridge.profile import normalise_wp_id

if TYPE_CHECKING:  # the config models sit above: named for types only
    from sdbridge.sources import DocumentsGitLab, DocumentsSourceConfig

_MARKDOWN = MarkdownIt("commonmark")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)
SUFFIXES = (".md", ".markdown")
NOT_FOUND = 404


def normalise_heading(text: str) -> str:
    """ "2.1 Prioritisation Matrix:" -> "prioritisation matrix"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    plain = re.sub(r"^[\d.\s)]+", "", plain)
    return re.sub(r"[^a-z0-9]+", " ", plain).strip()


def sections(body: str) -> tuple[str | None, dict[str, str]]:
    """The first heading (a title) and each heading's text, up to the next heading. Headings
    are what CommonMark says they are (markdown-it-py): ATX (`## Scope`) and setext
    (underlined) headings count; a `#` line inside a code fence does not."""
    tokens = _MARKDOWN.parse(body)
    lines = body.splitlines()
    heads = [
        (token.map[0], token.map[1], tokens[i + 1].content.strip())
        for i, token in enumerate(tokens)
        if token.type == "heading_open" and token.map
    ]
    found: dict[str, str] = {}
    for n, (_, end, text) in enumerate(heads):
        stop = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        found.setdefault(normalise_heading(text), "\n".join(lines[end:stop]).strip())
    return (heads[0][2] if heads else None), found


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def parse_document(text: str, headings: dict[str, list[str]], path: str) -> dict[str, Any]:
    front: dict[str, Any] = {}
    body = text
    match = _FRONT.match(text)
    if match:
        try:
            loaded = safe_yaml.load(match.group(1)) or {}
        except (yaml.YAMLError, safe_yaml.YAMLProblem) as exc:
            line = safe_yaml.line_of(exc)
            problem = str(getattr(exc, "problem", None) or exc).split("\n")[0]
            raise InputError(
                f"front matter is not valid YAML: {problem}", path=path, line=(line + 1) if line else None
            ) from None
        if not isinstance(loaded, dict):
            raise InputError("front matter must be a mapping of keys", path=path, line=2)
        front = {str(k): _plain(v) for k, v in loaded.items()}
        body = text[match.end() :]
    title, found = sections(_COMMENT.sub("", body))  # guidance in HTML comments is not content
    evidence: dict[str, Any] = {}
    for field, synonyms in headings.items():
        for synonym in synonyms:
            key = normalise_heading(synonym)
            if key in found:
                evidence[field] = found[key] or None
                if found[key]:
                    break
    evidence.update({k: v for k, v in front.items() if k not in ("work_product",)})
    wp = None
    if front.get("work_product"):
        try:
            wp = normalise_wp_id(str(front["work_product"]))
        except ValueError:
            wp = None
    return {
        "_kind": "document",
        "path": path,
        "wp": wp,
        "title": front.get("title") or title,
        "front": front,
        "evidence": evidence,
        "headings": sorted(found),
    }


class DocumentsConnector:
    def __init__(self, source: DocumentsSourceConfig, *, resolve: Any) -> None:
        self.source = source
        self.folder: Path | None = resolve(source.path) if source.path is not None else None
        self.repository = _Repository(source, source.gitlab) if source.gitlab is not None else None
        self.outside: list[Path] = []

    @property
    def remote(self) -> bool:
        """Read over the network: only `pull` may do that, never `check`."""
        return self.repository is not None

    @property
    def location(self) -> str:
        return str(self.folder) if self.folder is not None else self.source.location

    def files(self) -> list[Path]:
        assert self.folder is not None
        if not self.folder.is_dir():
            raise InputError(
                "folder does not exist",
                path=str(self.folder),
                source=self.source.name,
                hint=f"check `path` of source {self.source.name!r}",
            )
        root = self.folder.resolve()
        found, self.outside = [], []
        for path in sorted(self.folder.rglob("*")):
            if path.suffix.lower() not in SUFFIXES or not path.is_file():
                continue
            if not path.resolve().is_relative_to(root):
                self.outside.append(path)  # a link out of the folder: its content is not the team's evidence
                continue
            found.append(path)
        return found

    def content_hash(self) -> str:
        """Changes when any document is added, removed or edited (the repository's blob ids
        say so without downloading anything)."""
        digest = hashlib.sha256()
        if self.repository is not None:
            for rel, blob in self.repository.tree():
                digest.update(f"{rel}\0{blob}\n".encode())
            return digest.hexdigest()
        for path in self.files():
            digest.update(self._relative(path).encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def _relative(self, path: Path) -> str:
        return str(path.relative_to(self.folder)) if self.folder is not None else path.name

    def _texts(self) -> list[tuple[str, str, str | None]]:
        """(relative path, text, modified) of every Markdown document."""
        if self.repository is not None:
            return [(rel, self.repository.read(rel), None) for rel, _ in self.repository.tree()]
        found: list[tuple[str, str, str | None]] = []
        for path in self.files():
            try:
                text = path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"not UTF-8 text (byte {exc.start})", path=str(path), source=self.source.name
                ) from None
            found.append((self._relative(path), text, datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()))
        return found

    def pull(self) -> RawTable:
        items = []
        notes = []
        texts = self._texts()
        notes += [f"{self._relative(p)}: a link to a file outside the documents folder; not read" for p in self.outside]
        for rel, text, modified in texts:
            shown = str(self.folder / rel) if self.folder is not None else f"{self.location}/{rel}"
            item = parse_document(text, self.source.headings, shown)
            item["path"] = rel
            item["modified"] = modified
            if item["wp"] is None:
                notes.append(f"{rel}: no `work_product:` in its front matter; it evidences nothing")
            items.append(item)
        frame = pd.DataFrame({"_item": pd.Series(items, dtype=object), ROW: range(1, len(items) + 1)})
        return RawTable(
            source=self.source.name,
            frame=frame,
            columns={},
            location=self.location,
            fetched_at=datetime.now(UTC),
            kind="json",
            notes=notes,
        )


class _Repository:
    """The documents folder of a GitLab repository, through the shared GitLab client (retry
    policy, one deadline per pull)."""

    def __init__(self, source: DocumentsSourceConfig, g: DocumentsGitLab) -> None:
        self.config = g
        self.client = GitLabClient(source.name, g.url, g.token, source.retry.policy())
        self._tree: list[tuple[str, str]] | None = None

    def tree(self) -> list[tuple[str, str]]:
        if self._tree is None:
            project = self.client.project(self.config.project)
            prefix = self.config.path.strip("/")
            entries = self.client.each(
                f"listing {self.config.project}:{prefix or '/'}",
                lambda: iter(
                    project.repository_tree(
                        path=prefix,
                        ref=self.config.ref,
                        recursive=True,
                        iterator=True,
                        pagination="keyset",  # the tree pages by keyset only (GitLab 15.0+)
                        **NO_LIBRARY_RETRY,
                    )
                ),
            )
            try:
                listed = list(entries)
            except HttpStatusError as exc:
                if exc.status != NOT_FOUND:
                    raise
                raise InputError(
                    f"folder {prefix or '/'!r} does not exist in {self.config.project} at {self.config.ref}",
                    path=f"{self.config.url.rstrip('/')}/{self.config.project}",
                    hint="check `gitlab.path` and `gitlab.ref` of the documents source",
                ) from None
            found = []
            for entry in listed:
                if entry.get("type") == "blob" and entry["path"].lower().endswith(SUFFIXES):
                    rel = entry["path"][len(prefix) :].lstrip("/") if prefix else entry["path"]
                    found.append((rel, entry.get("id", "")))
            self._tree = sorted(found)
        return self._tree

    def read(self, rel: str) -> str:
        full = f"{self.config.path.strip('/')}/{rel}".lstrip("/")
        project = self.client.project(self.config.project)
        data = self.client.call(
            f"reading {full}", lambda: project.files.raw(file_path=full, ref=self.config.ref, **NO_LIBRARY_RETRY)
        )
        try:
            return bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"not UTF-8 text (byte {exc.start})", path=full) from None
