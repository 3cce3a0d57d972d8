"""Webhook deliveries for live-mode tests and `bench/live.py`: the vendors' documented bodies
(tests/fixtures/webhooks, with their provenance) filled in for one ticket, sent by a real
HTTP client with the headers each vendor sends; and `sdbridge serve` run as a process."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import requests

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "webhooks"


def body(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def jira_issue_event(issue: dict, event: str = "jira:issue_updated", *, actor: str = "human-account") -> dict:
    data = body("jira-issue-updated.json")
    data["webhookEvent"] = event
    data["timestamp"] = int(issue.get("_updated_ms") or 0)
    data["user"]["accountId"] = actor
    data["issue"].update(id=str(issue["id"]), key=issue["key"], fields={"summary": issue["fields"].get("summary")})
    return data


def jira_comment_event(issue: dict, *, author: str, text: str, event: str = "comment_created") -> dict:
    data = body("jira-comment-created.json")
    data["webhookEvent"] = event
    data["timestamp"] = int(issue.get("_updated_ms") or 0)
    data["comment"]["author"]["accountId"] = author
    data["comment"]["body"] = text
    data["issue"].update(id=str(issue["id"]), key=issue["key"])
    return data


def gitlab_issue_event(project: str, issue: dict, *, user_id: int = 77, changes: dict | None = None) -> dict:
    data = body("gitlab-issue-hook.json")
    data["project"]["path_with_namespace"] = project
    data["user"]["id"] = user_id
    data["object_attributes"].update(id=issue["id"], iid=issue["iid"], updated_at=issue["updated_at"])
    if changes is not None:
        data["changes"] = changes
    return data


def gitlab_note_event(project: str, issue: dict, *, user_id: int, text: str) -> dict:
    data = body("gitlab-note-hook-issue.json")
    data["project"]["path_with_namespace"] = project
    data["user"]["id"] = user_id
    data["object_attributes"].update(note=text, noteable_id=issue["id"], updated_at=issue["updated_at"])
    data["issue"].update(id=issue["id"], iid=issue["iid"])
    return data


def send_jira(url: str, secret: str, data: dict, *, delivery: str | None = None, sign: str | None = None) -> Any:
    raw = json.dumps(data).encode()
    signature = sign or "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature": signature,
        "X-Atlassian-Webhook-Identifier": delivery or str(uuid.uuid4()),
    }
    return requests.post(url, data=raw, headers=headers, timeout=30)


def send_gitlab(url: str, token: str, data: dict, *, key: str | None = None, event: str = "Issue Hook") -> Any:
    headers = {
        "Content-Type": "application/json",
        "X-Gitlab-Token": token,
        "X-Gitlab-Event": event,
        "X-Gitlab-Event-UUID": str(uuid.uuid4()),
        "Idempotency-Key": key or str(uuid.uuid4()),
    }
    return requests.post(url, data=json.dumps(data).encode(), headers=headers, timeout=30)


class Served:
    """`sdbridge serve` as its own process: started and waited for by its own log lines
    (no clock), stopped with SIGTERM (graceful) or killed (a crash)."""

    def __init__(self, config: Path | None, env: dict[str, str], *, cwd: Path, argv: list[str] | None = None) -> None:
        argv = argv or [sys.executable, "-m", "sdbridge", "--log-format", "json", "serve", "-c", str(config)]
        self.process = subprocess.Popen(
            [*argv, "--port", "0"],
            cwd=cwd,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.url = ""
        self._ready = threading.Event()
        self._said = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(timeout=120) or not self.url:
            self.process.kill()
            raise AssertionError("sdbridge serve did not start:\n" + "".join(self.lines))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._said:
                self.lines.append(line)
                self._said.notify_all()
            found = re.search(r'"url": "([^"]+)"', line)
            if found:
                self.url = found.group(1)
            if '"status": "serving"' in line:
                self._ready.set()
        self._ready.set()

    def evaluations(self) -> list[dict]:
        """The evaluations the server has logged so far."""
        return [json.loads(line) for line in list(self.lines) if '"event": "evaluated"' in line]

    def wait_for(self, predicate: Any, timeout: float = 120.0) -> bool:
        """Wait until `predicate()` holds, looked at again after each line the server logs."""
        with self._said:
            return self._said.wait_for(predicate, timeout)

    def hook(self, source: str) -> str:
        return f"{self.url}/hooks/{source}"

    def metric(self, name: str, **labels: str) -> float:
        """One sample of /metrics (0 when the series has none yet)."""
        text = requests.get(f"{self.url}/metrics", timeout=30).text
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name + "{") and not line.startswith(name + " "):
                continue
            if all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=120)
        self._reader.join(timeout=30)
        self._close()
        return code

    def _close(self) -> None:
        if self.process.stdout is not None:
            self.process.stdout.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=60)
        self._reader.join(timeout=30)
        self._close()

    @property
    def log(self) -> str:
        return "".join(self.lines)


def copy_issue(issue: dict, number: int) -> dict:
    """A new issue of the same project, as if just created from this one."""
    made = copy.deepcopy(issue)
    project = issue["key"].split("-")[0]
    made["id"] = str(900000 + number)
    made["key"] = f"{project}-{number}"
    made["fields"]["comment"] = {"comments": [], "startAt": 0, "maxResults": 50, "total": 0}
    return made
