"""Config errors name their path and line, all at once; presets merge under the user's map."""

from __future__ import annotations

import pytest

from sdbridge.config import load_config
from sdbridge.errors import ConfigError


def problems_of(path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


def test_every_problem_is_reported_with_path_and_line(write):
    write("x.csv", "a\n1\n")
    path = write(
        "c.yaml",
        """
        profile:
          variation: fulll
        sources:
          - name: jira
            type: csv
            path: x.csv
            timezone: Mars/Olympus
            map:
              WP.18:
                fields:
                  rootcause: a
              WP.99: {}
          - name: other
            type: carrier-pigeon
        reports:
          formats: [json, pdf]
    """,
    )
    problems = problems_of(path)
    text = "\n".join(problems)
    assert "c.yaml:2: profile.variation" in text
    assert "c.yaml:7: sources[0].timezone: unknown time zone 'Mars/Olympus'" in text
    assert "c.yaml:11: sources[0].map.WP.18.fields.rootcause" in text and "did you mean 'root_cause'" in text
    assert "c.yaml:12: sources[0].map.WP.99: not a work product" in text
    assert "c.yaml:14: sources[1].type: unknown source type 'carrier-pigeon'" in text
    assert "c.yaml:16: reports.formats: unknown report formats ['pdf']" in text
    assert len(problems) == 6


def test_missing_environment_variable_is_named(write, monkeypatch):
    monkeypatch.delenv("SDB_TEST_PATH", raising=False)
    path = write(
        "c.yaml",
        """
        sources:
          - name: a
            type: csv
            path: ${SDB_TEST_PATH}
    """,
    )
    assert any(
        "c.yaml:4: sources[0].path: environment variable SDB_TEST_PATH is not set" in p for p in problems_of(path)
    )
    monkeypatch.setenv("SDB_TEST_PATH", "exports/a.csv")
    assert str(load_config(path).sources[0].path) == "exports/a.csv"


def test_unknown_preset_lists_the_shipped_ones(write):
    path = write("c.yaml", "sources:\n  - {name: a, type: csv, path: a.csv, preset: jira-xml}\n")
    (problem,) = problems_of(path)
    assert "jira-xml" in problem and "jira-csv" in problem and "gitlab-csv" in problem


def test_bad_transform_and_bad_where(write):
    path = write(
        "c.yaml",
        """
        sources:
          - name: a
            type: csv
            path: a.csv
            map:
              WP.18:
                where:
                  - {from: Type, in: [Incident], equals: Incident}
                fields:
                  priority: {from: P, transforms: [shout]}
                  ci: {from: C, transforms: [{extract: "no group"}]}
    """,
    )
    text = "\n".join(problems_of(path))
    assert "give exactly one of equals, in" in text
    assert "unknown transform 'shout'" in text
    assert "exactly one group" in text


def test_invalid_yaml_names_the_line(write):
    path = write("c.yaml", "sources:\n  - name: a\n   type: csv\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:3: not valid YAML"):
        load_config(path)


def test_duplicate_source_names_are_refused(write):
    path = write("c.yaml", "sources:\n  - {name: a, type: csv, path: a.csv}\n  - {name: a, type: csv, path: b.csv}\n")
    assert any("two sources are named 'a'" in p for p in problems_of(path))


def test_paths_resolve_against_the_config_folder(write, tmp_path):
    path = write("conf/c.yaml", "sources:\n  - {name: a, type: csv, path: ../data/a.csv}\n")
    config = load_config(path)
    assert config.resolve(config.sources[0].path) == (tmp_path / "data" / "a.csv").resolve()


def test_preset_wp_can_be_switched_off(write):
    path = write("c.yaml", "sources:\n  - {name: a, type: csv, path: a.csv, preset: jira-csv, map: {WP.11: null}}\n")
    assert list(load_config(path).sources[0].mappings) == ["WP.18"]


def test_a_tenant_and_a_shared_store_are_read_and_a_password_in_the_url_is_refused(write):
    good = write(
        "good.yaml",
        """
        tenant: acme-2
        store: {url: "postgresql://sdbridge@db:5432/sdbridge", password_file: secrets/pg}
        """,
    )
    config = load_config(good)
    assert config.tenant == "acme-2" and config.store.url == "postgresql://sdbridge@db:5432/sdbridge"
    assert config.store.password.get_secret_value() == f"${{file:{good.parent / 'secrets' / 'pg'}}}"
    bad = write(
        "bad.yaml",
        """
        tenant: Acme Corp
        store: {url: "postgresql://sdbridge:hunter2@db/sdbridge"}
        """,
    )
    problems = problems_of(bad)
    assert any("bad.yaml:1: tenant" in p for p in problems)
    assert any("bad.yaml:2: store.url" in p and "carries a password" in p for p in problems)
    assert not any("hunter2" in p for p in problems)


def test_a_token_from_a_mounted_file_is_read_only_when_needed(write, tmp_path):
    from sdbridge.secrets import reveal

    write("x.csv", "a\n1\n")
    path = write(
        "c.yaml",
        """
        sources:
          - name: jira
            type: jira
            url: https://acme.atlassian.net
            auth: cloud
            email: bot@acme.example
            token_file: secrets/jira-token
            projects: [OPS]
        """,
    )
    source = load_config(path).sources[0]  # the file need not exist for offline commands
    with pytest.raises(ConfigError, match=r"jira: the secret file .*jira-token cannot be read") as missing:
        reveal(source.token, source="jira", purpose="reaching Jira")
    assert "mount the secret" in missing.value.hint
    write("secrets/jira-token", "tok-123\n")
    assert reveal(source.token, source="jira", purpose="reaching Jira") == "tok-123"
    write("secrets/jira-token", "")
    with pytest.raises(ConfigError, match="is empty"):
        reveal(source.token, source="jira", purpose="reaching Jira")
    write("secrets/jira-token", b"x" * 70_000)
    with pytest.raises(ConfigError, match="larger than 64 KiB"):
        reveal(source.token, source="jira", purpose="reaching Jira")


def test_a_tenant_id_with_a_trailing_newline_is_no_tenant_id():
    from sdbridge.store import Store, StoreError
    from sdbridge.tenants import valid_tenant

    assert valid_tenant("acme") and not valid_tenant("acme\n") and not valid_tenant("") and not valid_tenant("Acme")
    with pytest.raises(StoreError, match="is not a tenant id"):
        Store("/nonexistent/state.db", tenant="acme\n")


@pytest.mark.parametrize("tenant", ["", "acme\n"])
def test_migrate_refuses_an_empty_or_newline_tenant_before_connecting(tmp_path, tenant):
    from typer.testing import CliRunner

    from sdbridge.cli import app

    store = tmp_path / "state.db"
    store.write_bytes(b"")
    result = CliRunner().invoke(
        app, ["store", "migrate", "--from", str(store), "--to", "postgresql://u@db.invalid/x", "--tenant", tenant]
    )
    assert result.exit_code == 2, result.output
    assert "is not a valid id" in result.output


def test_freshness_names_real_work_products_and_positive_periods(write):
    from sdbridge.config import load_config
    from sdbridge.errors import ConfigError

    path = write("c.yaml", "process:\n  freshness: {WP.99: 10, WP.14: -1}\nsources: []\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = str(caught.value)
    assert "WP.99 is not a work product" in text and "WP.14: -1 days is no validity period" in text


@pytest.mark.parametrize(("given", "fine"), [("\ufefftok123\n", True), ("tok\r\n123", False), ("  tok123  ", True)])
def test_a_token_with_a_bom_is_cleaned_and_one_with_a_line_break_refused(monkeypatch, given, fine):
    from pydantic import SecretStr

    from sdbridge.errors import ConfigError
    from sdbridge.secrets import reveal

    monkeypatch.setenv("TOK", given)
    if fine:
        assert reveal(SecretStr("${TOK}"), source="jira", purpose="x") == "tok123"
    else:
        with pytest.raises(ConfigError, match="holds control characters"):
            reveal(SecretStr("${TOK}"), source="jira", purpose="x")
