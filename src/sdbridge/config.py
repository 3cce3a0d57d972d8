"""The configuration file: pydantic models, `${ENV}` interpolation, presets merged under the
user's mapping, and one `ConfigError` that lists every problem with its path in the file
(`sources[0].map.WP.18.fields.priority`) and its line.

Secrets are only ever read from the environment into `SecretStr`; nothing here prints them.
"""

from __future__ import annotations

import copy
import difflib
import os
import re
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from sdbridge import registry, safe_yaml
from sdbridge.cron import cron_trigger
from sdbridge.errors import ConfigError
from sdbridge.files import NotARegularFile, read_bounded
from sdbridge.registry import CONFIG_TAGS, SourceConfig, known_types
from sdbridge.reports import DEFAULT_FORMATS, sink_names
from sdbridge.rules.process.base import ProcessSettings
from sdbridge.secrets import file_references, is_secret_path
from sdbridge.sources import (  # noqa: F401 (re-exported: the source models are part of the config)
    DocumentsGitLab,
    DocumentsSourceConfig,
    GitLabSourceConfig,
    JiraAssetsConfig,
    JiraSourceConfig,
    PushConfig,
    PushSummaryConfig,
    RetryConfig,
    SourceBase,
    TableSourceConfig,
    catalogue_problems,
)
from sdbridge.tenants import DEFAULT_TENANT, valid_tenant
from sdbridge.urls import database_url_problem
from sdbridge.zones import TimeZoneName

DEFAULT_PLACEHOLDERS = (
    "N/A", "n/a", "TBD", "-", "?", "none", "unknown", "null", "[]", "{}", "unassigned", "(empty)", "(none)",
    "ApprovalsCFValue{approvals=[]}",
)  # fmt: skip
"""Values that only look filled. `None`, `Null`, `Unassigned` match too: placeholders are
compared without case. `?` and `(empty)` are how ServiceNow lists write an empty reference;
`ApprovalsCFValue{approvals=[]}` is how a Jira Service Management CSV writes "no approvals"."""

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


Variation = Literal["governance", "operational", "full"]


class ProfileConfig(_Model):
    variation: Variation = "full"


class RulesConfig(_Model):
    placeholders: tuple[str, ...] = DEFAULT_PLACEHOLDERS
    """Values that count as empty (compared case-insensitively after trimming)."""


class ReportsConfig(_Model):
    out: Path = Path("reports")
    formats: tuple[str, ...] = DEFAULT_FORMATS

    @field_validator("formats", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ValueError("give the formats as a list, e.g. [json, md, csv]")
        known = sink_names()  # the built-ins and the sinks of installed plugins
        unknown = [v for v in value if v not in known]
        if unknown:
            raise ValueError(f"unknown report formats {unknown}; known: {', '.join(known)}")
        return value


class StoreConfig(_Model):
    path: Path = Path(".sdbridge/state.db")
    """The SQLite store, relative to the config file's folder (used when no `url` is given)."""
    url: str | None = None
    """A PostgreSQL store shared by many tenants: postgresql://USER@HOST:PORT/DATABASE.
    $SDBRIDGE_STORE_URL, when set, takes its place. No password here: see `password`."""
    password: SecretStr | None = None
    """The database password: ${VAR}, or `password_file: /run/secrets/...`; else
    $SDBRIDGE_STORE_PASSWORD, else libpq's own PGPASSWORD or ~/.pgpass."""

    @field_validator("url")
    @classmethod
    def _no_password_in_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ValueError("give a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE), or `path` for SQLite")
        problem = database_url_problem(value)
        if problem:
            raise ValueError(
                f"{problem}: a config file is no place for it; set `password: ${{STORE_PASSWORD}}` "
                "or `password_file:` instead"
            )
        return value


class ScheduleJob(_Model):
    name: str = "nightly"
    cron: str | None = None
    """Five crontab fields, read in the schedule's time zone: "0 2 * * *" = 02:00 every night."""
    interval_seconds: int | None = Field(default=None, ge=1)
    full: bool = False
    """Pull everything again (finds deleted or moved items), e.g. for a weekly reconcile."""

    @model_validator(mode="after")
    def _one_trigger(self) -> ScheduleJob:
        if (self.cron is None) == (self.interval_seconds is None):
            raise ValueError("give a job either `cron` or `interval_seconds`")
        if self.cron is not None:
            if len(self.cron.split()) != 5:
                raise ValueError(f"cron {self.cron!r} needs five fields: minute hour day month day-of-week")
            try:
                cron_trigger(self.cron, ZoneInfo("UTC"))
            except ValueError as exc:
                raise ValueError(f"cron {self.cron!r} is not a valid five-field crontab expression: {exc}") from None
        return self


class ScheduleConfig(_Model):
    timezone: TimeZoneName = "UTC"
    misfire_grace_seconds: int = Field(default=3600, ge=1)
    """A run missed (machine asleep, previous run still going) is still started this late."""
    jobs: list[ScheduleJob] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _single_job_shorthand(cls, raw: object) -> object:
        if isinstance(raw, dict) and "cron" in raw and "jobs" not in raw:
            raw = dict(raw)
            raw["jobs"] = [{"name": "nightly", "cron": raw.pop("cron"), "full": raw.pop("full", False)}]
        return raw


class LiveConfig(_Model):
    """`sdbridge serve`: how deliveries are collapsed, queued and evaluated."""

    collapse_seconds: float = Field(default=2.0, ge=0, le=300)
    """Deliveries for one ticket within this window are one evaluation."""
    workers: int = Field(default=4, ge=1, le=64)
    """Tickets evaluated at once (each reads its ticket and writes at most its comment and label)."""
    max_pending: int = Field(default=10_000, ge=1, le=1_000_000)
    """Tickets waiting at most; past it a delivery is answered 503 with Retry-After (the tracker
    sends it again)."""
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    """The largest delivery accepted (413 past it)."""
    seen_deliveries: int = Field(default=100_000, ge=100, le=10_000_000)
    """Delivery ids remembered to drop redeliveries."""


class Config(_Model):
    version: Literal[1] = 1
    tenant: str = DEFAULT_TENANT
    """Whose data this is: every stored row is keyed by it, so many client teams can share one
    PostgreSQL store. Lower-case letters, digits, `_ . -`."""

    @field_validator("tenant")
    @classmethod
    def _tenant_id(cls, value: str) -> str:
        if not valid_tenant(value):
            raise ValueError(
                f"{value!r} is not a tenant id: use 1-63 lower-case letters, digits, '_', '.' or '-', "
                "starting with a letter or digit (it names files and Kubernetes objects)"
            )
        return value

    profile: ProfileConfig = Field(default_factory=ProfileConfig)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    process: ProcessSettings = Field(default_factory=ProcessSettings)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    live: LiveConfig = Field(default_factory=LiveConfig)
    path: Path | None = Field(default=None, exclude=True)
    """The file this config was read from; relative paths are resolved against its folder."""

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"two sources are named {source.name!r}; names must be unique")
            seen.add(source.name)
            if source.push.enabled and registry.of(source).writer is None:
                raise ValueError(f"source {source.name!r}: push-back is not available for {source.type} sources")
        return self

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise ConfigError(f"no source named {name!r}; sources: {', '.join(s.name for s in self.sources)}")

    def resolve(self, path: Path) -> Path:
        path = Path(os.path.expanduser(path))
        if path.is_absolute() or self.path is None:
            return path
        return (self.path.parent / path).resolve()


# --- presets ---------------------------------------------------------------------------------


def preset_names() -> list[str]:
    folder = resources.files("sdbridge.mapping").joinpath("presets")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_preset(name: str, base: Path | None = None) -> dict[str, Any]:
    """A shipped preset by name, or a user preset file by path (relative to the config)."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml"):
        path = candidate if candidate.is_absolute() or base is None else base / candidate
        if not path.is_file():
            raise KeyError(f"preset file {path} does not exist or is not a file")
        try:
            data = read_bounded(path, safe_yaml.MAX_TEXT)
            if len(data) > safe_yaml.MAX_TEXT:
                raise KeyError(f"preset file {path} is larger than {safe_yaml.MAX_TEXT >> 20} MiB")
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyError(f"preset file {path} cannot be read as UTF-8 text ({type(exc).__name__})") from None
    elif name in preset_names():
        text = resources.files("sdbridge.mapping").joinpath("presets", f"{name}.yaml").read_text(encoding="utf-8")
        path = Path(f"{name}.yaml")
    else:
        raise KeyError(f"unknown preset {name!r}; shipped presets: {', '.join(preset_names())}")
    try:
        loaded = safe_yaml.load(text) or {}
    except (yaml.YAMLError, safe_yaml.YAMLProblem) as exc:
        line = safe_yaml.line_of(exc)
        raise KeyError(f"preset file {path}{f':{line}' if line else ''} is not valid YAML: {_problem(exc)}") from None
    if not isinstance(loaded, dict):
        raise KeyError(f"preset file {path} must be a mapping (name:, options:, map:), not a {type(loaded).__name__}")
    for key in ("options", "map", "evidence", "recognise"):
        if loaded.get(key) is not None and not isinstance(loaded[key], dict):
            raise KeyError(f"preset file {path}: `{key}` must be a mapping, not a {type(loaded[key]).__name__}")
    return loaded


def _problem(exc: Exception) -> str:
    return str(getattr(exc, "problem", None) or exc).split("\n")[0]


def _optional_fields(mapping: dict[str, Any] | None) -> dict[str, Any] | None:
    """Preset fields name columns an export may lack: mark them not required."""
    if not mapping:
        return mapping
    fields = {}
    for name, spec in (mapping.get("fields") or {}).items():
        if isinstance(spec, str):
            spec = {"from": [spec]}
        elif isinstance(spec, list):
            spec = {"from": spec}
        fields[name] = {"required": False, **spec}
    return {**mapping, "fields": fields}


def merge_preset(preset: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """The user's source config over the preset's: source options override the preset's
    `options`; per work product, `where` and `record_id` replace the preset's and `fields`
    override one by one. `WP.xx: null` (or `enabled: false`) switches a preset WP off."""
    merged = copy.deepcopy(preset.get("options", {}))
    for key, value in source.items():
        if key == "map":
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}  # e.g. custom_fields: add or rename one
        else:
            merged[key] = value
    maps: dict[str, Any] = {wp: _optional_fields(m) for wp, m in copy.deepcopy(preset.get("map", {})).items()}
    for wp_id, user in (source.get("map") or {}).items():
        if user is None or wp_id not in maps or maps[wp_id] is None:
            maps[wp_id] = copy.deepcopy(user)
            continue
        base = maps[wp_id]
        for key, value in user.items():
            if key == "fields" and isinstance(value, dict):
                base.setdefault("fields", {}).update(copy.deepcopy(value))
            else:
                base[key] = copy.deepcopy(value)
    merged["map"] = maps
    evidence = {**preset.get("evidence", {}), **(source.get("evidence") or {})}
    if evidence:
        merged["evidence"] = evidence
    return merged


# --- loading ---------------------------------------------------------------------------------


def _interpolate(value: Any, path: str, problems: list[tuple[str, str]]) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, f"{path}.{k}" if path else str(k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    if isinstance(value, str) and "\x00" in value:
        problems.append((path, "holds a NUL character, which no path or name may hold"))
        return value.replace("\x00", "")
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            if is_secret_path(path):
                return match.group(0)  # resolved when a command needs it (sdbridge.secrets.reveal)
            problems.append((path, f"environment variable {name} is not set"))
            return ""

        return _ENV.sub(replace, value)
    return value


def _line_index(node: yaml.Node, path: str = "", out: dict[str, int] | None = None) -> dict[str, int]:
    """Map each path in the document (`sources[0].map.WP.18`) to its 1-based line."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, child in node.value:
            sub = f"{path}.{key.value}" if path else str(key.value)
            out[sub] = key.start_mark.line + 1
            _line_index(child, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            _line_index(child, f"{path}[{i}]", out)
    return out


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in CONFIG_TAGS or str(part).startswith("function-"):
            continue  # pydantic's union/validator tags are not part of the user's file
        else:
            out += f".{part}" if out else str(part)
    return out


def _with_line(path: str, lines: dict[str, int], file: Path) -> str:
    probe = path
    while probe and probe not in lines:
        probe = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", probe)
    line = lines.get(probe)
    return f"{file.name}:{line}: {path}" if line else f"{file.name}: {path}"


def _step(kind: Any, part: int | str) -> Any:
    """The type found one step into `kind` along an error location: a field of a model, the
    item of a list, the value of a dict, the member of a tagged union."""
    while get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    origin, args = get_origin(kind), get_args(kind)
    if origin in (Union, UnionType):
        if isinstance(part, str):  # a union tag (`csv`, `jira`): the member tagged so
            for member in args:
                if get_origin(member) is Annotated and any(
                    isinstance(a, Tag) and a.tag == part for a in get_args(member)[1:]
                ):
                    return get_args(member)[0]
        models = [a for a in args if a is not type(None)]
        return _step(models[0], part) if len(models) == 1 else None
    if isinstance(part, int):
        return args[0] if origin in (list, tuple) and args else None
    if origin is dict:
        return args[1]
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        field = kind.model_fields.get(part)
        return field.annotation if field is not None else None
    return None


def _known_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the config allows where an unknown one (`loc`) was written."""
    kind: Any = Config
    for part in loc[:-1]:
        kind = _step(kind, part)
        if kind is None:
            return []
    while get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    if not (isinstance(kind, type) and issubclass(kind, BaseModel)):
        return []
    return [f.alias or name for name, f in kind.model_fields.items()]


def _pydantic_problems(exc: ValidationError, lines: dict[str, int], file: Path) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        path = _loc_to_path(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            known = _known_keys(error["loc"])
            close = difflib.get_close_matches(str(error["loc"][-1]), known, n=1, cutoff=0.6)
            message = "not a key sdbridge knows here" + (
                f"; did you mean `{close[0]}`?" if close else f" (known: {', '.join(known)})" if known else ""
            )
        if error["type"] == "union_tag_invalid":
            ctx = error.get("ctx", {})
            message = f"unknown source type {ctx.get('tag')!r}; known types: {', '.join(known_types())}"
            path += ".type"
        elif error["type"] == "union_tag_not_found":
            message = f"every source needs a `type:` ({', '.join(known_types())})"
        problems.append(f"{_with_line(path, lines, file)}: {message}")
    return problems


CONFIG_ENV = "SDBRIDGE_CONFIG"
CONFIG_NAMES = ("sdbridge.yaml", "sdbridge.yml")


def find_config(given: str | Path | None) -> Path:
    """The config file a command uses: `-c FILE`, else $SDBRIDGE_CONFIG, else ./sdbridge.yaml
    or ./sdbridge.yml. A file that does not exist is named with the closest existing one."""
    if given is None and os.environ.get(CONFIG_ENV):
        given = os.environ[CONFIG_ENV]
    if given is None:
        for name in CONFIG_NAMES:
            if Path(name).is_file():
                return Path(name)
        raise ConfigError(
            "no configuration given and none found here",
            hint=f"give -c FILE, set {CONFIG_ENV}, or write ./sdbridge.yaml with `sdbridge init`",
        )
    file = Path(given)
    if not file.exists():
        folder = file.parent if str(file.parent) else Path(".")
        names = sorted(p.name for p in folder.glob("*.y*ml")) if folder.is_dir() else []
        close = difflib.get_close_matches(file.name, names, n=1, cutoff=0.5)
        hint = f"did you mean {folder / close[0]}?" if close else "create one with `sdbridge init`"
        raise ConfigError(f"config file {file} does not exist", hint=hint)
    return file


def load_config(path: str | Path | None = None) -> Config:
    """Read, interpolate, merge presets and validate a config file. Raises `ConfigError`
    listing every problem at once."""
    file = find_config(path)
    try:
        data = read_bounded(file, safe_yaml.MAX_TEXT)
        if len(data) > safe_yaml.MAX_TEXT:
            raise ConfigError(
                f"config file {file} is larger than {safe_yaml.MAX_TEXT >> 20} MiB: it is no config",
                hint="give the sdbridge.yaml file with `-c`",
            )
        text = data.decode("utf-8")
    except NotARegularFile as exc:
        raise ConfigError(f"config file {exc}", hint="give the sdbridge.yaml file with `-c`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {file}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        node = safe_yaml.compose(text)
        raw = safe_yaml.load(text)
    except (yaml.YAMLError, safe_yaml.YAMLProblem) as exc:
        line = safe_yaml.line_of(exc)
        where = f"{file}:{line}" if line else str(file)
        raise ConfigError(f"{where}: not valid YAML: {_problem(exc)}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: the top level must be a mapping (version:, sources:, ...)")
    lines = _line_index(node) if node is not None else {}

    found: list[tuple[str, str]] = []
    raw = file_references(_interpolate(raw, "", found), file.parent)
    sources = raw.get("sources") or []
    if not isinstance(sources, list):
        found.append(("sources", "must be a list of sources"))
        sources = []
    merged_sources = []
    for i, source in enumerate(sources):
        if isinstance(source, dict) and source.get("preset"):
            try:
                preset = load_preset(str(source["preset"]), file.parent)
            except KeyError as exc:
                found.append((f"sources[{i}].preset", exc.args[0]))
                merged_sources.append(source)
                continue
            source = merge_preset(preset, source)
        if isinstance(source, dict):
            found.extend((f"sources[{i}].{path}", message) for path, message in catalogue_problems(source))
        merged_sources.append(source)
    raw = {**raw, "sources": merged_sources}
    problems = [f"{_with_line(path, lines, file)}: {message}" for path, message in found]
    try:
        config = Config.model_validate(raw, context={"catalogue_checked": True})
    except ValidationError as exc:
        problems.extend(_pydantic_problems(exc, lines, file))
        config = None
    if problems or config is None:
        by_line = sorted(problems, key=lambda p: int(m.group(1)) if (m := re.match(r"[^:]+:(\d+):", p)) else 0)
        raise ConfigError(f"{file}: the configuration is not valid", by_line)
    config.path = file.resolve()
    return config
