"""Source configurations: one pydantic model per source type, plus what they share (retry
policy, push-back settings). Checked against the catalogue: a mapping may only name work
products, fields and items that exist."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sdbridge.mapping.spec import EXTRA_FIELDS, WorkProductMapping
from sdbridge.profile import load_catalogue
from sdbridge.urls import PlainURL
from sdbridge.zones import TimeZoneName


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PushSummaryConfig(_Model):
    enabled: bool = False
    issue: str | None = None
    """Jira: the key of the issue whose description holds the summary (required for Jira).
    GitLab: the iid of an issue to use; by default sdbridge opens one per project."""
    title: str = "ISO/IEC 29110 gap summary (sdbridge)"


class PushConfig(_Model):
    """Push-back: one comment sdbridge owns per gapped ticket, a label, an optional summary."""

    enabled: bool = False
    label: str = Field(default="iso29110-gap", pattern=r"^[^\s,]+$")
    on_resolved: Literal["note", "delete"] = "note"
    """When a ticket's gaps are closed: replace the comment with a short note, or delete it."""
    max_writes: int = Field(default=200, ge=0)
    """Stop pushing after this many write requests in one run (a mapping mistake must not
    comment on thousands of tickets)."""
    work_products: tuple[str, ...] = ("WP.18", "WP.11")
    jira_body: Literal["auto", "wiki", "adf"] = "auto"
    """Jira comment format: wiki text (REST v2) or ADF (REST v3); auto follows the deployment."""
    summary: PushSummaryConfig = Field(default_factory=PushSummaryConfig)


class WebhookConfig(_Model):
    """Live mode (`sdbridge serve`): how deliveries of this source's tracker are trusted."""

    secret: SecretStr | None = None
    """The webhook's shared secret: Jira signs every delivery with it (HMAC-SHA256 in
    `X-Hub-Signature`), GitLab sends it in `X-Gitlab-Token`. Use ${JIRA_WEBHOOK_SECRET} or
    `secret_file:`; without one, every delivery to this source is refused."""


class SourceBase(_Model):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    preset: str | None = None
    url_template: PlainURL | None = None
    """Link to a record, e.g. https://acme.atlassian.net/browse/{id}; {id} is the record id."""
    timezone: TimeZoneName | None = None
    """Time zone of timestamps that carry none (Jira CSV exports use the exporting user's)."""
    date_formats: tuple[str, ...] = ()
    """strptime formats tried in order for every datetime field of this source."""
    evidence: dict[str, str] = Field(default_factory=dict)
    """Declarations for work-product-level items, e.g. `WP.06.a: "Log kept in CMDB as CI-0042"`."""
    map: dict[str, WorkProductMapping | None] = Field(default_factory=dict)
    push: PushConfig = Field(default_factory=PushConfig)
    """Push-back of the gaps to the tickets; only for types that have a push writer."""

    @model_validator(mode="after")
    def _map_matches_catalogue(self, info: ValidationInfo) -> SourceBase:
        if info.context and info.context.get("catalogue_checked"):
            return self  # load_config checked the raw file already, with line numbers
        problems = catalogue_problems({"map": self.map_raw(), "evidence": self.evidence})
        if problems:
            raise ValueError("; ".join(f"{path}: {message}" for path, message in problems))
        return self

    def map_raw(self) -> dict[str, Any]:
        return {
            wp: None if m is None else {"fields": {n: f.model_dump(by_alias=True) for n, f in m.fields.items()}}
            for wp, m in self.map.items()
        }

    @property
    def mappings(self) -> dict[str, WorkProductMapping]:
        return {wp: m for wp, m in self.map.items() if m is not None and m.enabled}

    @property
    def location(self) -> str:
        """Where its data comes from (a path or a URL without credentials), for messages."""
        return self.name


def catalogue_problems(source: dict[str, Any]) -> list[tuple[str, str]]:
    """Work product ids, field names and evidence items of one raw source, checked against
    the catalogue. Returns (path within the source, message) pairs."""
    catalogue = load_catalogue()
    problems: list[tuple[str, str]] = []
    maps = source.get("map") or {}
    if not isinstance(maps, dict):
        return [("map", "must be a mapping of work product ids (WP.18: ...)")]
    for wp_id, spec in maps.items():
        try:
            wp = catalogue.work_product(str(wp_id))
        except KeyError:
            problems.append((f"map.{wp_id}", "not a work product of 29110-4-3 (WP.01 ... WP.21)"))
            continue
        if not isinstance(spec, dict):
            continue
        known = set(wp.field_names) | set(EXTRA_FIELDS)
        fields = spec.get("fields") or {}
        if not isinstance(fields, dict):
            continue
        for name, field in fields.items():
            if name not in known:
                close = difflib.get_close_matches(str(name), sorted(known), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                problems.append(
                    (
                        f"map.{wp_id}.fields.{name}",
                        f"{wp_id} has no field {name!r}; {hint}its fields: {', '.join(wp.field_names)}",
                    )
                )
            if isinstance(field, dict) and isinstance(field.get("duration"), list):
                for ref in field["duration"]:
                    if ref not in known:
                        problems.append((f"map.{wp_id}.fields.{name}.duration", f"unknown field {ref!r}"))
    for item_id in source.get("evidence") or {}:
        try:
            item = catalogue.item(str(item_id))
        except KeyError:
            problems.append((f"evidence.{item_id}", "not an item id of 29110-4-3"))
            continue
        if item.scope != "work_product":
            problems.append((f"evidence.{item_id}", "is checked on every record; map a field for it instead"))
    return problems


class EventLogConfig(_Model):
    """An export with one row per update of a ticket (an audit or event log): a check keeps
    one record per ticket, its latest row, with its earliest opened time."""

    key: str
    """The column that names the ticket (`Number`)."""
    updated: str
    """The column with each row's update time: the latest row holds the ticket's state."""
    opened: str | None = None
    """A column whose earliest value over the ticket's rows is kept (when it was opened)."""


class TableSourceConfig(SourceBase):
    """A CSV or XLSX export on disk."""

    type: Literal["csv", "xlsx"]
    path: Path
    encoding: str = "auto"
    delimiter: str = "auto"
    """`auto`, `tab`, or one character (`,` `;` `|`)."""

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if value in ("auto", "tab", "\\t") or (len(value) == 1 and value not in '\r\n"'):
            return value
        raise ValueError(f"delimiter {value!r} must be auto, tab or one character such as , ; |")

    sheet: str | int | None = None
    header_row: int | None = Field(default=None, ge=1, le=1000)
    """The row that holds the column names (1 = the first). By default it is found: title
    lines, blank rows and notes above the header are skipped, and a note says how many."""
    event_log: EventLogConfig | None = None
    unquote_formulas: bool = False
    """Remove the ' that GitLab puts before cells starting with = + - @."""

    @property
    def location(self) -> str:
        return str(self.path)


class RetryConfig(_Model):
    """sdbridge's retry policy for a network source (see sdbridge.http)."""

    tries: int = Field(default=6, ge=1, le=50)
    backoff_seconds: float = Field(default=1.0, ge=0)
    max_wait_seconds: float = Field(default=60.0, ge=0)
    budget_seconds: float = Field(default=900.0, gt=0)
    """The most a source may spend waiting and retrying in one pull."""

    def policy(self) -> Any:
        from sdbridge.http import RetryPolicy

        return RetryPolicy(self.tries, self.backoff_seconds, self.max_wait_seconds, self.budget_seconds)


class DocumentsGitLab(_Model):
    """The documents folder inside a GitLab repository, read with the repository files API."""

    url: PlainURL = Field(default="https://gitlab.com", pattern=r"^https?://")
    token: SecretStr
    project: str
    ref: str = "main"
    path: str = ""
    """The folder in the repository ("" = the whole repository)."""


class DocumentsSourceConfig(SourceBase):
    """A folder of Markdown documents with YAML front matter (policies, procedures, reports),
    on disk (`path`) or in a GitLab repository (`gitlab`)."""

    type: Literal["documents"]
    path: Path | None = None
    gitlab: DocumentsGitLab | None = None
    retry: RetryConfig = Field(default_factory=RetryConfig)
    headings: dict[str, list[str]] = Field(default_factory=dict)
    """field -> headings that evidence it, e.g. prioritization_matrix: [Prioritization matrix,
    Priority matrix]; compared without case, accents or numbering."""

    @property
    def location(self) -> str:
        if self.gitlab is not None:
            return f"{self.gitlab.url.rstrip('/')}/{self.gitlab.project} ({self.gitlab.ref}:{self.gitlab.path or '/'})"
        return str(self.path)

    @model_validator(mode="after")
    def _one_place(self) -> DocumentsSourceConfig:
        if (self.path is None) == (self.gitlab is None):
            raise ValueError("give the documents folder either as `path` (on disk) or as `gitlab` (a repository)")
        return self


class JiraAssetsConfig(_Model):
    """JSM Assets (Cloud): objects found by AQL become WP.02 records."""

    workspace_id: str
    aql: str = "objectType IS NOT EMPTY"
    url: PlainURL | None = None
    """Defaults to https://api.atlassian.com/jsm/assets/workspace/{workspace_id}/v1."""


class JiraSourceConfig(SourceBase):
    """Jira Cloud or Data Center over its REST API, with the `jira` library."""

    type: Literal["jira"]
    url: PlainURL = Field(pattern=r"^https?://")
    auth: Literal["cloud", "datacenter"]
    email: str | None = None
    """Cloud: the Atlassian account e-mail that owns the API token."""
    token: SecretStr
    """Cloud: API token; Data Center: personal access token. Use ${JIRA_TOKEN}."""
    jql: str | None = None
    projects: tuple[str, ...] = ()
    custom_fields: dict[str, str] = Field(default_factory=dict)
    """alias -> custom field name or id (customfield_10050); values appear as `custom.<alias>`."""
    page_size: int | None = Field(default=None, ge=1, le=5000)
    result_window: int = Field(default=10_000, ge=1)
    max_pages: int = Field(default=10_000, ge=1, le=1_000_000)
    """Search pages read at most in one pull (a server that pages without end stops here)."""
    """Data Center: how deep `startAt` may page; past it sdbridge continues by issue key."""
    overlap_minutes: int = Field(default=15, ge=0)
    full_every_days: int | None = Field(default=7, ge=1)
    changelog: bool = True
    comments: bool = True
    approvals: bool = False
    approval_issue_types: tuple[str, ...] = ("Change", "Change Request", "Normal Change", "Emergency Change")
    assets: JiraAssetsConfig | None = None
    webhook: WebhookConfig = Field(default_factory=WebhookConfig)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    timeout_seconds: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _auth_and_scope(self) -> JiraSourceConfig:
        if self.auth == "cloud" and not self.email:
            raise ValueError("auth: cloud needs `email` (the account that owns the API token)")
        if self.auth == "cloud" and self.push.jira_body == "wiki":
            raise ValueError(
                "push.jira_body: wiki does not work with auth: cloud (REST v3 takes comment bodies in Atlassian "
                "Document Format): use adf or auto"
            )
        if not self.jql and not self.projects:
            raise ValueError("give `jql` or `projects` to say which issues to pull")
        if not self.token.get_secret_value():
            raise ValueError("token is empty (set it from the environment, e.g. token: ${JIRA_TOKEN})")
        return self

    @property
    def mappings(self) -> dict[str, WorkProductMapping]:
        found = super().mappings
        if self.assets is None:
            found.pop("WP.02", None)  # configuration records come from Assets only
        return found

    @property
    def location(self) -> str:
        return self.url

    @property
    def base_jql(self) -> str:
        if self.jql:
            return self.jql
        return "project in (" + ", ".join(f'"{p}"' for p in self.projects) + ")"


GitLabResource = Literal["issues", "merge_requests", "deployments", "environments", "releases", "pipelines"]
GITLAB_RESOURCES: tuple[GitLabResource, ...] = (
    "issues",
    "merge_requests",
    "deployments",
    "environments",
    "releases",
    "pipelines",
)


class GitLabSourceConfig(SourceBase):
    """GitLab.com or self-managed, through python-gitlab."""

    type: Literal["gitlab"]
    url: PlainURL = Field(default="https://gitlab.com", pattern=r"^https?://")
    token: SecretStr
    """A token with `read_api` for pulls (`api` only for push-back). Use ${GITLAB_TOKEN}."""
    projects: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    """A group's projects, subgroups included."""
    include_archived: bool = False
    resources: tuple[GitLabResource, ...] = GITLAB_RESOURCES
    pipeline_ref: str | None = None
    """Pipelines of this ref only; default: each project's default branch."""
    notes: bool = True
    graphql: bool = True
    """Read issues with their notes through GitLab's GraphQL API, 100 to a request; `false`
    (or a server whose GraphQL cannot answer the query): REST, a request per issue for its
    notes."""
    push: PushConfig = Field(default_factory=PushConfig)
    per_page: int = Field(default=100, ge=1, le=100)
    max_pages: int = Field(default=10_000, ge=1, le=1_000_000)
    """Pages read at most from one listing (a server that pages without end stops here)."""
    overlap_minutes: int = Field(default=15, ge=0)
    full_every_days: int | None = Field(default=7, ge=1)
    webhook: WebhookConfig = Field(default_factory=WebhookConfig)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    timeout_seconds: float = Field(default=30.0, gt=0)

    @property
    def location(self) -> str:
        return self.url

    @model_validator(mode="after")
    def _scope(self) -> GitLabSourceConfig:
        if not self.projects and not self.groups:
            raise ValueError("give `projects` and/or `groups` to say what to pull")
        if not self.token.get_secret_value():
            raise ValueError("token is empty (set it from the environment, e.g. token: ${GITLAB_TOKEN})")
        return self


class PluginSourceConfig(SourceBase):
    """A source handled by a third-party connector (entry-point group `sdbridge.connectors`);
    its own options are passed through to it as they are."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    type: str

    @property
    def location(self) -> str:
        extra = self.model_extra or {}
        return str(extra.get("url") or extra.get("path") or self.name)
