"""`sdbridge webhooks register`: the trackers' webhooks for live mode, set up once.

- **GitLab**: each project of the source gets one project webhook to `URL/hooks/SOURCE` with
  the secret token and the events live mode reads (issues, confidential issues, merge
  requests, notes, confidential notes, deployments, releases); a hook to that URL already
  there is updated in place, never added twice (`GET/POST/PUT /projects/:id/hooks`,
  docs.gitlab.com "Project webhooks API"). The token needs the Maintainer role.
- **Jira**: webhooks with a secret are created by a Jira administrator (System > WebHooks);
  the steps are printed with the URL, the events and the JQL that scopes them to the
  source's issues.

The secret comes from the source's `webhook.secret`. When it names an environment variable
that is not set (or the source has none), a new random secret is printed once, with where to
keep it: nothing is written anywhere else.
"""

from __future__ import annotations

import re
import secrets as random
from collections.abc import Iterator
from functools import partial
from typing import Any

from sdbridge.errors import ConfigError, SdbridgeError
from sdbridge.secrets import reveal

GITLAB_EVENTS = {
    "issues_events": True,
    "confidential_issues_events": True,
    "merge_requests_events": True,
    "note_events": True,
    "confidential_note_events": True,
    "deployment_events": True,
    "releases_events": True,
    "push_events": False,
    "enable_ssl_verification": True,
}
JIRA_EVENTS = "Issue: created, updated; Comment: created, updated, deleted"


def _secret(source: Any) -> tuple[str, list[str]]:
    """The source's webhook secret, or a new one and what to do with it."""
    configured = source.webhook.secret
    variable = f"{source.name.upper().replace('-', '_').replace('.', '_')}_WEBHOOK_SECRET"
    if configured is not None:
        found = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", configured.get_secret_value())
        variable = found.group(1) if found else variable
        try:
            return reveal(configured, source=source.name, purpose="registering webhooks"), []
        except ConfigError:
            pass  # the variable is not set: make one
    made = random.token_urlsafe(32)
    said = [
        f"  a new secret for {source.name} (shown once; keep it where `sdbridge serve` reads it):",
        f"    export {variable}={made}",
    ]
    if configured is None:
        said.append(f"    and in the config, under source {source.name!r}: webhook: {{secret: ${{{variable}}}}}")
    return made, said


def register(config: Any, url: str, *, only: str | None = None) -> Iterator[str]:
    if not re.match(r"^https?://", url):
        raise ConfigError(f"{url!r} is not an http(s) URL", hint="give where trackers reach sdbridge serve")
    base = url.rstrip("/")
    sources = [s for s in config.sources if s.type in ("jira", "gitlab") and (only is None or s.name == only)]
    if not sources:
        raise ConfigError("no Jira or GitLab source to register" + (f" named {only!r}" if only else ""))
    for source in sources:
        target = f"{base}/hooks/{source.name}"
        secret, said = _secret(source)
        if source.type == "gitlab":
            yield from _gitlab(source, target, secret)
        else:
            yield from _jira(source, target)
        yield from said


def _gitlab(source: Any, target: str, secret: str) -> Iterator[str]:
    from sdbridge.connectors.gitlab import GitLabConnector
    from sdbridge.connectors.gitlab_client import NO_LIBRARY_RETRY

    connector = GitLabConnector(source)
    connector.client.begin()
    projects, problems = connector.projects()
    for problem in problems:
        yield f"{source.name}: {problem}"
    for project in projects:
        path = project.attributes.get("path_with_namespace")
        manager = connector.gl.projects.get(project.attributes["id"], lazy=True)
        wanted = {"url": target, "token": secret, **GITLAB_EVENTS}
        try:
            hooks = connector.client.call(
                f"listing the webhooks of {path}", partial(manager.hooks.list, get_all=True, **NO_LIBRARY_RETRY)
            )
            existing = next((h for h in hooks if h.attributes.get("url") == target), None)
            if existing is None:
                connector.client.call(
                    f"adding a webhook to {path}",
                    partial(manager.hooks.create, wanted, **NO_LIBRARY_RETRY),
                    idempotent=False,
                )
                yield f"{source.name}: {path}: webhook added -> {target}"
            else:
                connector.client.call(
                    f"updating the webhook of {path}",
                    partial(manager.hooks.update, existing.attributes["id"], wanted, **NO_LIBRARY_RETRY),
                )
                yield f"{source.name}: {path}: webhook updated -> {target}"
        except SdbridgeError as exc:
            yield f"{source.name}: {path}: not registered: {exc}"


def _jira(source: Any, target: str) -> Iterator[str]:
    yield f"{source.name}: Jira webhooks are created by a Jira administrator (System > WebHooks > Create a WebHook):"
    yield f"  URL:    {target}"
    yield f"  Secret: the webhook secret of {source.name} (Jira signs each delivery with it)"
    yield f"  Events: {JIRA_EVENTS}"
    yield f"  JQL:    {source.base_jql}"
