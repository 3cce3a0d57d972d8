"""Properties over any input (Hypothesis): a file, a config, front matter, a ZIP or a server
answer either works or ends in one `SdbridgeError` with a message — never another exception —
and audit packages verify exactly when they are intact."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import responses
from hypothesis import assume, example, given
from hypothesis import strategies as st

from sdbridge.config import load_config
from sdbridge.connectors.documents import parse_document
from sdbridge.errors import SdbridgeError
from sdbridge.export import build_package, write_package
from sdbridge.pipeline import check
from sdbridge.verify import VerifyError, verify

CSV_CONFIG = """
sources:
  - name: t
    type: csv
    path: data.csv
    map:
      WP.18:
        fields: {id: Key, title: Summary, started_at: Created}
"""


@given(st.binary(max_size=2000))
def test_any_bytes_as_a_csv_export_are_checked_or_refused_with_a_message(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("csv")
    (folder / "data.csv").write_bytes(b"Key,Summary,Created\n" + data)
    (folder / "c.yaml").write_text(CSV_CONFIG, encoding="utf-8")
    try:
        result = check(load_config(folder / "c.yaml"))
    except SdbridgeError as exc:
        assert str(exc).strip()
        return
    source = result.assessment.sources[0]
    assert source.items_pulled == source.mapped + source.excluded + source.rejected  # counts reconcile


@given(st.text(max_size=1000))
def test_any_text_as_a_config_loads_or_is_one_config_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("cfg") / "c.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_config(path)
    except SdbridgeError as exc:
        assert "c.yaml" in str(exc)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
        max_leaves=30,
    )
)
def test_any_yaml_value_as_a_config_loads_or_is_one_config_error(tmp_path_factory, value):
    path = tmp_path_factory.mktemp("cfgv") / "c.yaml"
    path.write_text(json.dumps(value), encoding="utf-8")  # JSON is YAML
    try:
        load_config(path)
    except SdbridgeError as exc:
        assert str(exc).strip()


@given(st.text(max_size=600))
def test_any_front_matter_is_read_or_refused_with_its_file(front):
    try:
        item = parse_document(f"---\n{front}\n---\n# Policy\nText.\n", {}, "policy.md")
    except SdbridgeError as exc:
        assert "policy.md" in str(exc)
        return
    assert item["_kind"] == "document"


@given(st.binary(max_size=3000))
def test_any_bytes_as_a_package_never_verify_and_never_crash(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("zip") / "p.zip"
    path.write_bytes(data)
    try:
        problems = verify(path)
    except VerifyError:
        return
    assert problems  # random bytes are never an intact package


@pytest.fixture(scope="module")
def small_package(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pkg")
    (folder / "data.csv").write_text("Key,Summary,Created\nA-1,Mail down,2026-11-01 10:00\n", encoding="utf-8")
    (folder / "c.yaml").write_text(CSV_CONFIG, encoding="utf-8")
    result = check(load_config(folder / "c.yaml"))
    return write_package(build_package(result.assessment, result.tables, period=None), folder / "audit.zip")


@given(st.lists(st.text(max_size=40), min_size=1, max_size=5))
def test_an_exported_package_always_verifies(tmp_path_factory, titles):
    folder = tmp_path_factory.mktemp("exp")
    rows = "".join(f'K-{n},"{t.replace(chr(34), chr(39))}",2026-11-01 10:00\n' for n, t in enumerate(titles))
    (folder / "data.csv").write_text("Key,Summary,Created\n" + rows, encoding="utf-8")
    (folder / "c.yaml").write_text(CSV_CONFIG, encoding="utf-8")
    try:
        result = check(load_config(folder / "c.yaml"))
    except SdbridgeError:
        return  # a title that breaks the CSV is refused before any package is made
    package = write_package(build_package(result.assessment, result.tables, period=None), folder / "audit.zip")
    assert verify(package) == []


@given(st.data())
def test_a_changed_byte_in_any_packaged_file_never_verifies(small_package, tmp_path_factory, data):
    """Whatever byte of whatever file is changed (the manifest left as it was), the package
    does not verify. (Flipping framing bits of a compressed stream can leave the content the
    same; that is not a change of the evidence, so bytes of the content are changed.)"""
    with zipfile.ZipFile(small_package) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    name = data.draw(st.sampled_from(sorted(n for n, c in contents.items() if c)))
    changed = bytearray(contents[name])
    position = data.draw(st.integers(0, len(changed) - 1))
    changed[position] ^= data.draw(st.integers(1, 255))
    path = tmp_path_factory.mktemp("flip") / "p.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for other, content in contents.items():
            archive.writestr(other, bytes(changed) if other == name else content)
    assert verify(path) != []


@given(st.binary(max_size=500) | st.text(max_size=300).map(str.encode))
def test_any_server_answer_is_json_or_one_source_error(body):
    assume(body.strip() != b"")
    from sdbridge.connectors.jira_client import JiraClient
    from sdbridge.sources import JiraSourceConfig

    source = JiraSourceConfig(
        name="j",
        type="jira",
        url="https://jira.example.invalid",
        auth="datacenter",
        token="t",
        projects=("OPS",),
        retry={"tries": 1, "backoff_seconds": 0},
    )
    client = JiraClient(source)
    client._jira = object()  # connected: only the raw REST answer is under test
    with responses.RequestsMock() as mock:
        mock.get("https://jira.example.invalid/rest/api/2/field", body=body, status=200)
        try:
            answer = client.get("reading fields", "field")
        except SdbridgeError as exc:
            assert "not JSON" in str(exc) or "larger" in str(exc)
            return
    assert json.dumps(answer) == json.dumps(json.loads(body))  # NaN is not equal to itself


@given(st.text(max_size=200))
@example("postgresql://u@\x80/db")  # a host no resolver can encode: found by `make fuzz`
def test_any_text_as_a_store_url_opens_or_is_one_store_error(text):
    """Whatever SDBRIDGE_STORE_URL holds: a store, or one StoreError that never shows a
    password (nothing here listens, so a well-formed URL fails to connect, one line too)."""
    from sdbridge.store import Store

    url = text if "://" in text else f"postgresql://u@127.0.0.1:1/{text}"
    assume("\x00" not in url)
    try:
        Store(url, password="pw-never-shown").close()
    except SdbridgeError as exc:
        assert str(exc).strip() and "pw-never-shown" not in str(exc)


@given(st.text(max_size=80))
def test_any_text_as_a_tenant_is_a_tenant_id_or_one_error(text):
    from sdbridge.tenants import valid_tenant

    if valid_tenant(text):
        assert text == text.strip() and "\n" not in text and len(text) <= 63
    path_ok = all(c.isalnum() or c in "_.-" for c in text) and text[:1].isalnum() and text == text.lower()
    assert not valid_tenant(text) or path_ok


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
        max_leaves=20,
    )
)
def test_any_yaml_value_as_a_preset_file_is_used_or_one_config_error(tmp_path_factory, value):
    import yaml

    folder = tmp_path_factory.mktemp("preset")
    (folder / "p.yaml").write_text(yaml.safe_dump(value), encoding="utf-8")
    (folder / "e.csv").write_text("Key,Summary\nA-1,x\n", encoding="utf-8")
    (folder / "c.yaml").write_text("sources:\n  - {name: a, type: csv, path: e.csv, preset: p.yaml}\n")
    try:
        check(load_config(folder / "c.yaml"))
    except SdbridgeError as exc:
        assert str(exc).strip()
