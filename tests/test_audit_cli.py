"""`cancuoc audit check-credential`: every finding about one credential, not only the first failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from clinic_support import HEALTH, IDENTITY, Pki, make_pki, serve
from typer.testing import CliRunner

from client.cli import app
from shared.credentials import example_identity
from shared.jose.x509 import der_to_pem


@pytest.fixture(scope="module")
def documents() -> dict[str, tuple[str, bytes]]:
    return {}


@pytest.fixture(scope="module")
def pki(documents: dict[str, tuple[str, bytes]]) -> Iterator[Pki]:
    with serve(documents) as base:
        pki = make_pki(base)
        pki.statuses.set(7, 1)
        documents["/status/1"] = ("application/statuslist+jwt", pki.status_token().encode())
        yield pki


@pytest.fixture(scope="module")
def root(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audit") / "root.pem"
    path.write_bytes(der_to_pem(pki.root))
    return path


def audit(tmp_path: Path, credential: str, root: Path, *options: str) -> tuple[int, dict[str, Any]]:
    file = tmp_path / "credential.sd-jwt"
    file.write_text(credential + "\n")
    result = CliRunner().invoke(
        app,
        ["audit", "check-credential", str(file), "--trust-anchor", str(root), "--json", *options],
        env={"CANCUOC_HOME": str(tmp_path / "home")},
    )
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, msgspec.json.decode(result.stdout)


def failed(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["name"], c["code"]) for c in report["checks"] if not c["ok"]}


def identity_claims(pki: Pki) -> Any:
    return example_identity().to_claims(today=pki.now.date())


def test_an_issued_credential_passes_every_check(tmp_path: Path, pki: Pki, root: Path) -> None:
    code, report = audit(tmp_path, pki.issue(IDENTITY, identity_claims(pki), by="mps", idx=1), root)
    assert code == 0, failed(report)
    names = {c["name"] for c in report["checks"]}
    expected = {
        "certificate_chain",
        "issuer_allowed",
        "signature",
        "typ",
        "validity",
        "disclosures",
        "status",
    }
    assert expected <= names
    assert report["credentials"][0]["status"] == "valid"
    assert report["credentials"][0]["claims"]["full_name"]


def test_every_finding_is_listed(tmp_path: Path, pki: Pki, root: Path) -> None:
    # A VSS-signed identity credential, revoked, and checked after it expired: three findings at once.
    credential = pki.issue(IDENTITY, identity_claims(pki), by="vss", idx=7)
    code, report = audit(tmp_path, credential, root, "--at", "2099-01-01T00:00:00Z")
    assert code == 1
    found = failed(report)
    assert ("issuer_allowed", "untrusted_issuer") in found
    assert ("validity", "expired") in found
    assert ("status", "revoked") in found
    assert ("signature", "ok") not in found


def test_bad_signature_and_other_root(tmp_path: Path, pki: Pki, root: Path) -> None:
    credential = pki.issue(HEALTH, {"full_name": "x"}, by="vss")
    jws, _, rest = credential.partition("~")
    head, payload, signature = jws.split(".")
    tampered = f"{head}.{payload}.{signature[:-6]}AAAAAA~{rest}"
    code, report = audit(tmp_path, tampered, root)
    assert code == 1
    assert ("signature", "invalid_signature") in failed(report)

    other = make_pki(pki.base)
    code, report = audit(tmp_path, other.issue(HEALTH, {"full_name": "x"}, by="vss"), root)
    assert code == 1
    assert ("certificate_chain", "untrusted_certificate") in failed(report)


def test_unreachable_status_is_unknown(tmp_path: Path, root: Path) -> None:
    offline = make_pki("http://127.0.0.1:9")
    other_root = tmp_path / "other-root.pem"
    other_root.write_bytes(der_to_pem(offline.root))
    code, report = audit(tmp_path, offline.issue(IDENTITY, identity_claims(offline), by="mps"), other_root)
    assert code == 1
    assert failed(report) == {("status", "invalid_status_list")}
    assert report["credentials"][0]["status"] == "unknown"


def test_no_trust_anchor_is_misuse(tmp_path: Path, pki: Pki) -> None:
    file = tmp_path / "credential.sd-jwt"
    file.write_text(pki.issue(IDENTITY, identity_claims(pki), by="mps"))
    result = CliRunner().invoke(
        app, ["audit", "check-credential", str(file)], env={"CANCUOC_HOME": str(tmp_path / "home")}
    )
    assert result.exit_code == 2
    assert "no trust anchor" in result.output
