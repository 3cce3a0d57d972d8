"""What the auditor and the GRC tools receive: the demo's OSCAL catalog, assessment results
and POA&M, valid by compliance-trestle's models and by NIST's own JSON schemas (vendored in
tests/contracts/oscal); a signed in-toto provenance that the in-toto and securesystemslib
libraries verify on their own; and `export --verify` that tells signed, unsigned and forged
apart."""

from __future__ import annotations

import base64
import json
import shutil
import zipfile
from pathlib import Path

import jsonschema
import pytest
import regex
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from typer.testing import CliRunner

from sdbridge.cli import app

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "tests" / "contracts" / "oscal"
runner = CliRunner()


def _keys(folder: Path, name: str) -> tuple[Path, Path]:
    private = ed25519.Ed25519PrivateKey.generate()
    secret = folder / f"{name}.pem"
    public = folder / f"{name}.pub.pem"
    secret.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public.write_bytes(
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return secret, public


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    """The demo run, packaged twice: signed with OSCAL, and plain."""
    folder = tmp_path_factory.mktemp("audit")
    shutil.copytree(REPO / "src" / "sdbridge" / "demo" / "data", folder / "data")
    shutil.copy(REPO / "src" / "sdbridge" / "demo" / "demo.yaml", folder / "sdbridge.yaml")
    config = folder / "sdbridge.yaml"
    assert runner.invoke(app, ["run", "-c", str(config), "--out", str(folder / "r")]).exit_code == 0
    secret, public = _keys(folder, "packager")
    signed = runner.invoke(
        app, ["export", "-c", str(config), "--out", str(folder / "signed.zip"), "--oscal", "--sign-key", str(secret)]
    )
    assert signed.exit_code == 0, signed.output
    assert "OSCAL, signed" in signed.output
    plain = runner.invoke(app, ["export", "-c", str(config), "--out", str(folder / "plain.zip")])
    assert plain.exit_code == 0, plain.output
    report = json.loads((folder / "r" / "report.json").read_text(encoding="utf-8"))
    return folder, public, report


def _member(package: Path, name: str) -> bytes:
    with zipfile.ZipFile(package) as archive:
        return archive.read(name)


def _nist_validator(name: str) -> jsonschema.Validator:
    """NIST's JSON schema of that model, draft-07; its patterns use `\\p{L}`, which Python's `re`
    lacks, so they are matched with `regex`."""
    schema = json.loads((SCHEMAS / f"oscal_{name}_schema.json").read_text(encoding="utf-8"))

    def pattern(validator, wanted, instance, schema):
        if isinstance(instance, str) and not regex.search(wanted, instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {wanted!r}")

    validator = jsonschema.validators.extend(jsonschema.Draft7Validator, {"pattern": pattern})
    return validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


@pytest.mark.parametrize(
    ("member", "schema", "model"),
    [
        ("oscal/catalog.json", "catalog", "trestle.oscal.catalog:Catalog"),
        ("oscal/assessment-results.json", "assessment-results", "trestle.oscal.assessment_results:AssessmentResults"),
        ("oscal/poam.json", "poam", "trestle.oscal.poam:PlanOfActionAndMilestones"),
    ],
)
def test_the_oscal_documents_are_valid_by_the_library_and_by_nists_schemas(packaged, member, schema, model):
    folder, _, _ = packaged
    document = json.loads(_member(folder / "signed.zip", member))
    problems = sorted(_nist_validator(schema).iter_errors(document), key=lambda e: list(e.path))
    assert not problems, [f"{'/'.join(map(str, p.path))}: {p.message}" for p in problems[:5]]
    module, name = model.split(":")
    cls = getattr(__import__(module, fromlist=[name]), name)
    (root,) = document
    parsed = cls.model_validate(document[root])
    assert parsed.uuid


def test_requirement_statuses_and_gap_owners_survive_the_round_trip(packaged):
    from trestle.oscal.assessment_results import AssessmentResults
    from trestle.oscal.poam import PlanOfActionAndMilestones

    folder, _, report = packaged
    results = AssessmentResults.model_validate(
        json.loads(_member(folder / "signed.zip", "oscal/assessment-results.json"))["assessment-results"]
    )
    expected = {"met": "satisfied", "gap": "not-satisfied", "not_evidenced": "not-satisfied"}
    by_id = {f.target.target_id: f.target.status.state.value for f in results.results[0].findings}
    assert by_id == {r["id"]: expected[r["status"]] for r in report["requirements"] if r["in_variation"]}
    poam = PlanOfActionAndMilestones.model_validate(
        json.loads(_member(folder / "signed.zip", "oscal/poam.json"))["plan-of-action-and-milestones"]
    )
    findings = report["findings"]
    for entry in poam.poam_items:
        props = {p.name: p.value for p in entry.props}
        mine = [f for f in findings if f["item"] == props["item"] and (f.get("owner") or "") == props.get("owner", "")]
        assert int(props["records"]) == len([f for f in mine if f["record_id"]])
        assert props.get("first-seen") == min(f["first_seen"] for f in mine)
        assert int(props["age-days"]) == int(max(f["age_days"] for f in mine))
    assert sum(int({p.name: p.value for p in e.props}["records"]) for e in poam.poam_items) == len(
        [f for f in findings if f["record_id"]]
    )


def test_a_signed_package_verifies_with_its_key_and_not_with_another(packaged, tmp_path):
    folder, public, _ = packaged
    ok = runner.invoke(app, ["export", "--verify", str(folder / "signed.zip"), "--key", str(public)])
    assert ok.exit_code == 0, ok.output
    assert "is signed by the key in" in " ".join(ok.output.split())
    _, other = _keys(tmp_path, "someone-else")
    forged = runner.invoke(app, ["export", "--verify", str(folder / "signed.zip"), "--key", str(other)])
    assert forged.exit_code == 1 and "not signed by this key" in forged.output


def test_one_changed_byte_of_a_member_fails_the_manifest_and_the_signature(packaged, tmp_path):
    from sdbridge.verify import verify_signature

    folder, public, _ = packaged
    altered = tmp_path / "altered.zip"
    with zipfile.ZipFile(folder / "signed.zip") as source, zipfile.ZipFile(altered, "w") as copy:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "findings.csv":
                data = data[:-2] + bytes([data[-2] ^ 1]) + data[-1:]
            copy.writestr(info, data)
    result = runner.invoke(app, ["export", "--verify", str(altered), "--key", str(public)])
    assert result.exit_code == 1 and "findings.csv: altered" in result.output
    problems, _ = verify_signature(altered, public)  # the signature alone tells it too
    assert problems == ["findings.csv: not the file that was signed (SHA-256 differs)"]


def test_an_unsigned_package_is_said_to_be_unsigned(packaged):
    folder, public, _ = packaged
    plain = runner.invoke(app, ["export", "--verify", str(folder / "plain.zip")])
    assert plain.exit_code == 0 and "is unsigned" in plain.output
    wanted = runner.invoke(app, ["export", "--verify", str(folder / "plain.zip"), "--key", str(public)])
    assert wanted.exit_code == 1 and "is unsigned" in wanted.output


def test_the_in_toto_library_verifies_our_envelope_on_its_own(packaged):
    """No sdbridge code on this path: in-toto reads the envelope, securesystemslib checks the
    signature with the public key, and the Statement names every member with its SHA-256."""
    import hashlib

    from in_toto.models.metadata import Envelope
    from securesystemslib.signer import SSlibKey

    folder, public, _ = packaged
    envelope = Envelope.from_dict(json.loads(_member(folder / "signed.zip", "provenance.intoto.json")))
    key = SSlibKey.from_crypto(serialization.load_pem_public_key(public.read_bytes()))
    envelope.verify([key], 1)  # raises when the signature does not hold
    statement = json.loads(envelope.payload)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    with zipfile.ZipFile(folder / "signed.zip") as archive:
        for subject in statement["subject"]:
            assert hashlib.sha256(archive.read(subject["name"])).hexdigest() == subject["digest"]["sha256"]
        names = set(archive.namelist()) - {"manifest.json", "provenance.intoto.json"}
    assert {s["name"] for s in statement["subject"]} == names
    predicate = statement["predicate"]
    assert predicate["tool"]["name"] == "sdbridge" and len(predicate["config"]["sha256"]) == 64
    jira = next(s for s in predicate["sources"] if s["name"] == "jira")
    assert jira["asked"]["path"].endswith("jira-export.csv") and jira["items_pulled"] > 100
    assert base64.b64decode(json.loads(_member(folder / "signed.zip", "provenance.intoto.json"))["payload"])


def test_the_signing_key_is_never_shown(packaged, tmp_path):
    folder, _, _ = packaged
    garbage = tmp_path / "bad.pem"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----\n")
    result = runner.invoke(
        app,
        ["export", "-c", str(folder / "sdbridge.yaml"), "--out", str(tmp_path / "x.zip"), "--sign-key", str(garbage)],
    )
    assert result.exit_code == 2 and "cannot be used" in result.output
    assert "c2VjcmV0" not in result.output and not (tmp_path / "x.zip").exists()


def test_the_packaged_html_shows_expired_evidence_and_the_audit_period_on_its_first_screen(packaged, browser, tmp_path):
    """The package's index.html, opened in Chromium: WP.12 expired and WP.05 warning (as the
    console and report.md say), and the period, all above the fold."""
    folder, _, _ = packaged
    config = folder / "sdbridge.yaml"
    made = runner.invoke(
        app, ["export", "-c", str(config), "--out", str(tmp_path / "p.zip"), "--period", "2026-01-01..2026-12-31"]
    )
    assert made.exit_code == 0, made.output
    index = tmp_path / "index.html"
    index.write_bytes(_member(tmp_path / "p.zip", "index.html"))
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(index.as_uri())
    alert = page.locator("#freshness-alert")
    assert alert.is_visible() and "WP.12 expired" in alert.inner_text() and "WP.05 warning" in alert.inner_text()
    assert alert.bounding_box()["y"] < 900  # on the first screen
    period = page.locator("#audit-period")
    assert "2026-01-01..2026-12-31" in period.inner_text() and period.bounding_box()["y"] < 900
    expired = page.locator("#freshness-table .status.expired").first
    assert expired.inner_text() == "expired"
    colour = expired.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour != "rgba(0, 0, 0, 0)"  # the .expired style is applied
    page.close()
