"""The deployment recipes in deploy/ are run, not only written: each file parses, every
`sdbridge` command line in it is a valid invocation of this sdbridge, and the same commands
run here for two tenants against a real PostgreSQL server — the GitLab CI matrix on CSV
exports, the Kubernetes CronJobs with their ConfigMap, mounted token file and Secret
against a loopback Jira."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from string import Template

import pytest
import typer
import yaml

from sdbridge.cli import app, global_options_first
from tests.fakes.jira_data import custom_field_list, issues_from_csv
from tests.fakes.jira_server import FakeJira

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DEMO = REPO / "src" / "sdbridge" / "demo"
SDBRIDGE = Path(sys.executable).with_name("sdbridge")
TENANTS = ("acme", "globex")


def check_invocation(argv: list[str]) -> None:
    """Parse a command line as `sdbridge` would (options, subcommands, required values),
    without running it; click raises a UsageError for anything it would refuse."""
    assert argv[0] == "sdbridge", argv
    args = global_options_first(argv[1:])
    command = typer.main.get_command(app)
    ctx = command.make_context("sdbridge", list(args))
    while hasattr(command, "resolve_command"):  # a group: resolve its subcommand
        rest = [*getattr(ctx, "_protected_args", getattr(ctx, "protected_args", [])), *ctx.args]
        name, sub, remaining = command.resolve_command(ctx, rest)
        assert sub is not None, f"no command {name!r} in {argv}"
        ctx = sub.make_context(name, remaining, parent=ctx)
        command = sub


def gitlab_jobs() -> dict:
    return yaml.safe_load((DEPLOY / "gitlab-ci-tenants.yml").read_text(encoding="utf-8"))


def gitlab_commands(job: dict) -> list[str]:
    return [line for line in job.get("script", []) if line.split()[0] == "sdbridge"]


def kubernetes_objects(name: str, **values: str) -> list[dict]:
    text = (DEPLOY / "kubernetes" / name).read_text(encoding="utf-8")
    return [doc for doc in yaml.safe_load_all(Template(text).safe_substitute(values)) if doc]


def containers(objects: list[dict]) -> list[dict]:
    return [
        container
        for o in objects
        if o["kind"] == "CronJob"
        for container in o["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    ]


def test_every_command_line_in_the_recipes_is_a_valid_sdbridge_invocation():
    jobs = gitlab_jobs()
    lines = [line for job in jobs.values() if isinstance(job, dict) for line in gitlab_commands(job)]
    assert len(lines) == 2  # the tenant run and the portfolio
    for line in lines:
        check_invocation(shlex.split(line.replace("$TENANT", "acme")))
    assert jobs["tenant"]["parallel"]["matrix"][0]["TENANT"] == list(TENANTS)
    assert all("reports/$TENANT" in p for p in jobs["tenant"]["artifacts"]["paths"])
    objects = kubernetes_objects("tenant.yaml", TENANT="acme") + kubernetes_objects("portfolio.yaml")
    objects += kubernetes_objects("shared.yaml")
    kinds = sorted(o["kind"] for o in objects)
    assert kinds == ["ConfigMap", "CronJob", "CronJob", "PersistentVolumeClaim", "Secret", "Secret"]
    for o in objects:
        if o["kind"] == "CronJob":
            assert len(o["spec"]["schedule"].split()) == 5 and o["spec"]["concurrencyPolicy"] == "Forbid"
    for container in containers(objects):
        check_invocation([*container["command"], *container["args"]])
        env = {e["name"]: e for e in container["env"]}
        assert "://" in env["SDBRIDGE_STORE_URL"]["value"] and ":" not in env["SDBRIDGE_STORE_URL"]["value"].split("@")[
            0
        ].removeprefix("postgresql://")  # no password in a URL
        assert env["SDBRIDGE_STORE_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "sdbridge-store"
    with pytest.raises(Exception, match="No such option"):
        check_invocation(["sdbridge", "portfolio", "--no-such-option"])  # the check can fail


def tenant_folder(root: Path, tenant: str) -> None:
    folder = root / "tenants" / tenant
    shutil.copytree(DEMO / "data", folder / "data")
    config = yaml.safe_load((DEMO / "demo.yaml").read_text(encoding="utf-8"))
    (folder / "sdbridge.yaml").write_text(yaml.safe_dump({**config, "tenant": tenant}), encoding="utf-8")


def results_only(stdout: str) -> bool:
    """What --quiet prints on success: a check's verdict and the run's id, no tables or notes."""
    lines = stdout.splitlines()
    return len(lines) == 2 and lines[0].startswith("Variation ") and lines[1].startswith("run ")


def run_line(line: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    argv = shlex.split(line)
    return subprocess.run(
        [str(SDBRIDGE), *argv[1:]], cwd=cwd, capture_output=True, text=True, timeout=180, env={**os.environ, **env}
    )


def test_the_gitlab_matrix_runs_here_for_two_tenants_on_one_postgresql(tmp_path, postgres_server):
    store = {"SDBRIDGE_STORE_URL": postgres_server.new_database(), "SDBRIDGE_STORE_PASSWORD": postgres_server.password}
    jobs = gitlab_jobs()
    for tenant in jobs["tenant"]["parallel"]["matrix"][0]["TENANT"]:
        tenant_folder(tmp_path, tenant)
        for line in gitlab_commands(jobs["tenant"]):
            done = run_line(line.replace("$TENANT", tenant), tmp_path, store)
            assert done.returncode in (0, *jobs["tenant"]["allow_failure"]["exit_codes"]), done.stderr
            assert results_only(done.stdout)  # --quiet: the verdict and the run id, nothing around them
        for artifact in jobs["tenant"]["artifacts"]["paths"]:
            assert (tmp_path / artifact.replace("$TENANT", tenant) / "report.json").is_file()
    for line in gitlab_commands(jobs["portfolio"]):
        done = run_line(line, tmp_path, store)
        assert done.returncode == 0, done.stderr
    portfolio = json.loads((tmp_path / jobs["portfolio"]["artifacts"]["paths"][0] / "portfolio.json").read_text())
    assert sorted(t["tenant"] for t in portfolio["tenants"]) == list(TENANTS)


def localised(value: str, root: Path) -> str:
    """A container path as a folder of this test (/etc/sdbridge -> ROOT/etc/sdbridge)."""
    return re.sub(r"(?<![\w/])/(etc/sdbridge|run/secrets/sdbridge|reports)", lambda m: f"{root}/{m.group(1)}", value)


def test_the_kubernetes_cronjobs_run_here_for_two_tenants_on_one_postgresql(tmp_path, postgres_server):
    store = {"SDBRIDGE_STORE_URL": postgres_server.new_database(), "SDBRIDGE_STORE_PASSWORD": postgres_server.password}
    for tenant in TENANTS:
        token = f"{tenant}-token-from-a-secret"
        jira = FakeJira(cloud=True, token=token, issues=issues_from_csv(), custom_fields=custom_field_list())
        base = jira.start()
        try:
            root = tmp_path / tenant  # the pod's filesystem
            objects = kubernetes_objects(
                "tenant.yaml", TENANT=tenant, JIRA_URL=base, JIRA_EMAIL=jira.email, JIRA_PROJECT="NHS"
            )
            by_kind = {o["kind"]: o for o in objects}
            assert by_kind["ConfigMap"]["metadata"]["name"] == by_kind["CronJob"]["metadata"]["name"]
            pod = by_kind["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
            config_dir = Path(localised(mounts["config"], root))
            config_dir.mkdir(parents=True)
            for name, text in by_kind["ConfigMap"]["data"].items():  # the ConfigMap, mounted
                (config_dir / name).write_text(localised(text, root), encoding="utf-8")
            secret_dir = Path(localised(mounts["secrets"], root))
            secret_dir.mkdir(parents=True)
            assert set(by_kind["Secret"]["stringData"]) == {"jira-token"}
            (secret_dir / "jira-token").write_text(token + "\n")  # the Secret, mounted as files
            (root / "reports").mkdir()
            container = pod["containers"][0]
            env = {e["name"]: e.get("value") for e in container["env"]}
            assert env["SDBRIDGE_STORE_PASSWORD"] is None  # from the Secret: given here as the cluster would
            line = shlex.join(localised(a, root) for a in [*container["command"], *container["args"]])
            done = run_line(line, tmp_path, store)
            assert done.returncode == 0, done.stderr
            assert results_only(done.stdout) and token not in done.stderr
            assert (root / "reports" / tenant / "report.html").is_file()
            assert jira.requests, "the run pulled from the tenant's Jira"
        finally:
            jira.stop()
    (portfolio,) = [o for o in kubernetes_objects("portfolio.yaml") if o["kind"] == "CronJob"]
    container = portfolio["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    line = shlex.join(localised(a, tmp_path) for a in [*container["command"], *container["args"]])
    done = run_line(line, tmp_path, store)
    assert done.returncode == 0, done.stderr
    shown = json.loads((tmp_path / "reports" / "portfolio" / "portfolio.json").read_text())
    assert sorted(t["tenant"] for t in shown["tenants"]) == list(TENANTS)
    assert all(t["records"] > 0 and t["last_run_status"] == "ok" for t in shown["tenants"])


def test_the_live_deployment_runs_here_and_its_service_selects_its_pods(tmp_path, postgres_server):
    """deploy/kubernetes/live.yaml: the Deployment's container command serves here with the
    tenant's ConfigMap, its mounted token and webhook secret, on a real PostgreSQL store; its
    probes answer; a signed delivery is evaluated; SIGTERM ends it cleanly."""
    from tests.webhooks import Served, jira_issue_event, send_jira

    objects = kubernetes_objects("live.yaml", TENANT="acme")
    by_kind = {o["kind"]: o for o in objects}
    assert sorted(by_kind) == ["Deployment", "Service"]
    deployment, service = by_kind["Deployment"], by_kind["Service"]
    pod = deployment["spec"]["template"]
    assert service["spec"]["selector"] == pod["metadata"]["labels"] == deployment["spec"]["selector"]["matchLabels"]
    (container,) = pod["spec"]["containers"]
    argv = [*container["command"], *container["args"]]
    check_invocation(argv)
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert service["spec"]["ports"][0]["targetPort"] == container["ports"][0]["name"]
    token, secret = "acme-live-token", "acme-webhook-secret"
    jira = FakeJira(cloud=True, token=token, issues=issues_from_csv(), custom_fields=custom_field_list())
    base = jira.start()
    try:
        tenant = kubernetes_objects(
            "tenant.yaml", TENANT="acme", JIRA_URL=base, JIRA_EMAIL=jira.email, JIRA_PROJECT="NHS"
        )
        config_map = next(o for o in tenant if o["kind"] == "ConfigMap")
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        root = tmp_path / "pod"
        for name, files in (("secrets", {"jira-token": token}), ("webhook", {"secret": secret})):
            folder = Path(localised(mounts[name], root))
            folder.mkdir(parents=True)
            for file, text in files.items():
                (folder / file).write_text(text + "\n")
        config_dir = Path(localised(mounts["config"], root))
        config_dir.mkdir(parents=True)
        config = yaml.safe_load(localised(config_map["data"]["sdbridge.yaml"], root))
        # what live.yaml's comment asks of the tenant's config
        config["sources"][0]["webhook"] = {"secret_file": localised(f"{mounts['webhook']}/secret", root)}
        (config_dir / "sdbridge.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        store = {
            "SDBRIDGE_STORE_URL": postgres_server.new_database(),
            "SDBRIDGE_STORE_PASSWORD": postgres_server.password,
        }
        line = [localised(a, root) for a in argv]
        line = [str(SDBRIDGE), *line[1 : line.index("--port")], "--host", "127.0.0.1"]
        served = Served(None, store, cwd=tmp_path, argv=line)
        try:
            import requests

            assert requests.get(f"{served.url}/healthz", timeout=30).json()["status"] == "ok"
            incident = next(i for i in jira.issues if i["fields"]["issuetype"]["name"] == "Incident")
            assert send_jira(served.hook("jira"), secret, jira_issue_event(incident)).status_code == 202
            assert served.wait_for(lambda: served.evaluations())
            assert served.evaluations()[0]["outcome"] == "saved"  # push is off in the tenant's config
        finally:
            assert served.stop() == 0, served.log
        assert token not in served.log and secret not in served.log
    finally:
        jira.stop()
