"""The chain of custody of an audit package: who packaged the evidence, and how each piece of
it was obtained, signed.

The package's manifest proves its files were not changed after packaging; this proves by
whom and how. An **in-toto Statement** (v1) names every member of the package as a subject
with its SHA-256, and its predicate records how the evidence was obtained: the tool and its
version, the config's SHA-256, the run, the period, and per source its kind, where it was
read from (URLs without credentials), what was asked (JQL, projects, groups, a file), when it
was pulled and how many items it gave, mapped, excluded and rejected. The Statement travels in
a **DSSE envelope** signed with the packager's key (securesystemslib's signer: Ed25519, ECDSA
or RSA), as `provenance.intoto.json` inside the package. Anyone can check it with the in-toto
or securesystemslib libraries and the packager's public key, without sdbridge.

The private key is read from a file (`--sign-key PATH`) or from `SDBRIDGE_SIGN_KEY` (the PEM
text), never logged; `SDBRIDGE_SIGN_KEY_PASSWORD` opens an encrypted one. securesystemslib
is the `sign` extra: `pip install 'sdbridge[sign]'`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sdbridge import __version__
from sdbridge.errors import ConfigError, SdbridgeError
from sdbridge.files import NotARegularFile, read_bounded
from sdbridge.urls import masked_url

if TYPE_CHECKING:
    from sdbridge.assessment import Assessment
    from sdbridge.config import Config

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
PREDICATE_TYPE = "https://github.com/sdbridge/sdbridge/evidence-provenance/v1"
KEY_ENV = "SDBRIDGE_SIGN_KEY"
KEY_PASSWORD_ENV = "SDBRIDGE_SIGN_KEY_PASSWORD"
MAX_KEY_BYTES = 64 * 1024


class SigningUnavailable(SdbridgeError):
    """securesystemslib is not installed."""


def _crypto() -> tuple[Any, Any, Any]:
    try:
        from cryptography.hazmat.primitives import serialization
        from securesystemslib.dsse import Envelope
        from securesystemslib.signer import CryptoSigner, SSlibKey
    except ImportError:
        raise SigningUnavailable(
            "signing needs securesystemslib, which is not installed", hint="pip install 'sdbridge[sign]'"
        ) from None
    return serialization, Envelope, (CryptoSigner, SSlibKey)


def _key_bytes(path: Path | None, what: str) -> bytes:
    """A key's PEM: from the file, else from the environment (private keys only)."""
    if path is not None:
        try:
            data = read_bounded(path, MAX_KEY_BYTES)
        except NotARegularFile as exc:
            raise ConfigError(f"the {what} {exc}", hint="give the PEM file of the key") from None
        except OSError as exc:
            raise ConfigError(f"the {what} {path} cannot be read ({exc.strerror or exc})") from None
        if len(data) > MAX_KEY_BYTES:
            raise ConfigError(f"the {what} {path} is larger than 64 KiB: it is no key")
        return data
    text = os.environ.get(KEY_ENV, "")
    if not text:
        raise ConfigError(f"no {what}: give --sign-key PATH or set {KEY_ENV} to the key's PEM text")
    return text.encode("utf-8")


def load_signer(path: Path | None) -> Any:
    """The packager's signer from a PEM private key (file or environment). The key's bytes
    never reach a message."""
    serialization, _, (crypto_signer, _) = _crypto()
    data = _key_bytes(path, "signing key")
    password = os.environ.get(KEY_PASSWORD_ENV)
    try:
        private = serialization.load_pem_private_key(data, password=password.encode() if password else None)
        return crypto_signer(private)
    except (ValueError, TypeError) as exc:
        kind = (
            "encrypted: set SDBRIDGE_SIGN_KEY_PASSWORD" if "encrypted" in str(exc).lower() else "not a PEM private key"
        )
        raise ConfigError(
            f"the signing key {path or '$' + KEY_ENV} cannot be used: {kind}",
            hint="give an unencrypted Ed25519, ECDSA or RSA private key in PEM form (e.g. `openssl genpkey -algorithm ed25519`)",
        ) from None


def load_public_key(path: Path) -> Any:
    """A verifier's public key from a PEM file."""
    serialization, _, (_, sslib_key) = _crypto()
    data = _key_bytes(path, "public key")
    try:
        return sslib_key.from_crypto(serialization.load_pem_public_key(data))
    except (ValueError, TypeError, Exception) as exc:  # noqa: BLE001 - securesystemslib raises several kinds
        raise ConfigError(
            f"the public key {path} cannot be read ({type(exc).__name__})", hint="give a PEM public key"
        ) from None


def predicate(assessment: Assessment, config: Config | None, period: str | None) -> dict[str, Any]:
    """How the evidence was obtained, with no secret: URLs masked, tokens never named."""
    sources = []
    configured = {s.name: s for s in config.sources} if config is not None else {}
    for summary in assessment.sources:
        source = configured.get(summary.name)
        asked: dict[str, Any] = {}
        if source is not None:
            for key in ("jql", "projects", "groups", "path", "sheet", "preset", "resources"):
                value = getattr(source, key, None)
                if value:
                    asked[key] = [str(v) for v in value] if isinstance(value, tuple | list) else str(value)
            jql = getattr(source, "base_jql", None)
            if jql and "jql" not in asked:
                asked["jql"] = str(jql)
        sources.append(
            {
                "name": summary.name,
                "kind": summary.type,
                "from": masked_url(summary.location) if "://" in summary.location else summary.location,
                "asked": asked,
                "pulled_at": summary.data_from.isoformat() if summary.data_from else None,
                "status": summary.status,
                "items_pulled": summary.items_pulled,
                "mapped": summary.mapped,
                "excluded": summary.excluded,
                "rejected": summary.rejected,
            }
        )
    config_digest = None
    if config is not None and config.path is not None and config.path.is_file():
        config_digest = hashlib.sha256(config.path.read_bytes()).hexdigest()
    return {
        "tool": {"name": "sdbridge", "version": __version__},
        "profile": assessment.profile,
        "variation": assessment.variation,
        "run_id": assessment.run_id,
        "evidence_collected_at": assessment.generated_at.isoformat(),
        "period": period,
        "config": {"sha256": config_digest},
        "sources": sources,
    }


def statement(digests: dict[str, str], about: dict[str, Any]) -> dict[str, Any]:
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": digest}} for name, digest in sorted(digests.items())],
        "predicateType": PREDICATE_TYPE,
        "predicate": about,
    }


def signer_for(signer: Any, about: dict[str, Any]) -> Callable[[dict[str, str]], bytes]:
    """What `export.build_package` calls with the members' digests: the signed envelope."""
    _, envelope_type, _ = _crypto()

    def sign(digests: dict[str, str]) -> bytes:
        payload = json.dumps(statement(digests, about), sort_keys=True).encode("utf-8")
        envelope = envelope_type(payload=payload, payload_type=PAYLOAD_TYPE, signatures={})
        envelope.sign(signer)
        return json.dumps(envelope.to_dict(), indent=2).encode("utf-8")

    return sign


def check_envelope(data: bytes, key: Any, actual: dict[str, str]) -> list[str]:
    """Problems with a package's signed provenance ([] = signed by `key` over exactly these
    members): the signature (securesystemslib's DSSE verification) and every subject's
    SHA-256 against the member as it is."""
    _, envelope_type, _ = _crypto()
    try:
        envelope = envelope_type.from_dict(json.loads(data))
    except (ValueError, KeyError, TypeError) as exc:
        return [f"provenance: not a DSSE envelope ({type(exc).__name__})"]
    try:
        envelope.verify([key], 1)
    except Exception:  # noqa: BLE001 - securesystemslib's VerificationError and what a forged envelope raises
        return ["provenance: not signed by this key (the signature does not verify with the public key given)"]
    if envelope.payload_type != PAYLOAD_TYPE:
        return [f"provenance: payload type {envelope.payload_type!r} is not an in-toto Statement"]
    try:
        signed = json.loads(envelope.payload)
        subjects = {s["name"]: s["digest"]["sha256"] for s in signed["subject"]}
    except (ValueError, KeyError, TypeError):
        return ["provenance: the signed Statement cannot be read"]
    problems = [
        f"{name}: not the file that was signed (SHA-256 differs)"
        for name in sorted(subjects)
        if name in actual and actual[name] != subjects[name]
    ]
    problems += [f"{name}: signed but missing from the package" for name in sorted(set(subjects) - set(actual))]
    problems += [f"{name}: in the package but not signed" for name in sorted(set(actual) - set(subjects))]
    return problems


def keyid_of(data: bytes) -> str | None:
    """Which key signed an envelope (its first signature's key id), to say so."""
    try:
        return str(json.loads(data)["signatures"][0]["keyid"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def payload_of(data: bytes) -> dict[str, Any]:
    """The Statement an envelope carries (unverified: for showing, never for trusting)."""
    return json.loads(base64.b64decode(json.loads(data)["payload"]))
