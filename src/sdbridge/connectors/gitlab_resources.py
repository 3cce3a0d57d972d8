"""What a GitLab project is pulled for, as data: one `Resource` per kind of record, read by
the one loop in `GitLabConnector.pull_project` (as meltano/sdk streams and python-gitlab's
managers are declared). Adding a resource is a row here and, when a record needs more than
its listing gives, one method on the connector named by `complete`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

UPDATED_ORDER = {"order_by": "updated_at", "sort": "asc"}
ID_ORDER = {"order_by": "id", "sort": "asc"}
RECENT_DEPLOYMENTS = 100
"""How many of an environment's latest deployments form its change schedule (WP.12)."""


@dataclass(frozen=True)
class Resource:
    """One kind of record a project is pulled for, as data: the loop in `pull_project` reads
    every resource the same way from this table."""

    name: str
    """Its name in a source's `resources:` and in the cursor's watermarks."""
    kind: str
    """The item's `_kind`, which the presets' `where:` read."""
    manager: str
    """python-gitlab's manager on a project (`project.issues`)."""
    prefix: str
    """The middle of the item id: `<project id>:<prefix>:<key>`."""
    key: str = "id"
    """The attribute that names the record within its project."""
    updated: str = "updated_at"
    """The attribute that times the record (the item's `updated`)."""
    filters: Mapping[str, Any] = field(default_factory=dict)
    """Listing filters, as GitLab's REST reference names them."""
    incremental: bool = False
    """Listed from a watermark (`updated_after`, oldest change first) after the first pull."""
    full_order: Mapping[str, str] = field(default_factory=dict)
    """The order of a full listing. GitLab wants `order_by=updated_at` paired with an
    `updated_after` filter for deployments, so their full pull orders by id."""
    on_branch: bool = False
    """Listed for one ref (`pipeline_ref`, else the project's default branch)."""
    graphql: str | None = None
    """The project's GraphQL listing that reads these records in bulk with what completes
    them (`issues`, `mergeRequests`); REST when None or refused."""
    complete: str | None = None
    """The connector's method that completes one record read over REST (its notes, its
    approvals, its deployments, its test report): `(here, attributes) -> (more attributes,
    what goes under the item's `sdbridge`)`."""


RESOURCES = (
    Resource(
        "issues",
        "issue",
        "issues",
        "issue",
        filters={"scope": "all"},
        incremental=True,
        full_order=UPDATED_ORDER,
        graphql="issues",
        complete="_issue_notes_and_links",
    ),
    Resource(
        "merge_requests",
        "merge_request",
        "mergerequests",
        "mr",
        filters={"state": "all"},
        incremental=True,
        full_order=UPDATED_ORDER,
        graphql="mergeRequests",
        complete="_merge_request_approvals",
    ),
    Resource("deployments", "deployment", "deployments", "deployment", incremental=True, full_order=ID_ORDER),
    Resource("environments", "environment", "environments", "environment", complete="_environment_schedule"),
    Resource("releases", "release", "releases", "release", key="tag_name", updated="released_at"),
    Resource(
        "pipelines",
        "pipeline",
        "pipelines",
        "pipeline",
        incremental=True,
        full_order=UPDATED_ORDER,
        on_branch=True,
        complete="_pipeline_details",
    ),
)
"""What a project is pulled for, in pull order: WP.18, WP.11, deployments, WP.12, WP.13, WP.20."""
BY_KIND = {resource.kind: resource for resource in RESOURCES}
INCREMENTAL = tuple(resource.name for resource in RESOURCES if resource.incremental)
