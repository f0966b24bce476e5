"""Key roles in the wallet: a status list signer's key never passes for an issuer's, nor the other way round.

Each issuer's JWKS also publishes the status list signer's key, so `wallet receive` and `wallet status` must
tell the two apart: by the ``x5c`` chain to the pinned national root, or, without one, by the role of the
certificate each published JWK carries (a consistency check). The issuer is `trust_support`'s fake.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from trust_support import (
    BATCH,
    FakeIssuer,
    copies_stored,
    fake_issuer,
    init_wallet,
    make_pki,
    published_jwk,
    receive,
    receive_refused,
    signer,
    status_list_token,
)
from typer.testing import CliRunner

from client.cli import app
from client.wallet.trust import published_keys


@pytest.fixture
def issuer() -> Iterator[FakeIssuer]:
    with fake_issuer() as fake:
        yield fake


def statuses() -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["wallet", "status", "--json"])
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


@pytest.mark.parametrize("pinned", [True, False], ids=["root-pinned", "no-root"])
def test_a_credential_signed_by_the_status_list_key_is_refused(
    pinned: bool,
    issuer: FakeIssuer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pki = make_pki(issuer.base)
    init_wallet(tmp_path, monkeypatch, pki.root if pinned else None)
    # The genuine JWKS: the issuer's key first, then the status list signer's, each with its certificate.
    issuer.jwks = [published_jwk(pki.mps, pki.mps_chain), published_jwk(pki.status, pki.status_chain)]
    issuer.sign = signer(issuer, pki.status, pki.status_chain)

    err = receive_refused(issuer, tmp_path, capsys)

    assert "offer refused: the issuer sent a credential" in err
    expected = "untrusted_certificate" if pinned else "untrusted_issuer: key 'status-key' is certified for"
    assert expected in err
    assert "nothing was stored" in err


def test_without_a_root_the_status_key_is_refused_even_under_the_issuer_certificate(
    issuer: FakeIssuer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The header's x5c does not matter without a root: the role of the published JWK decides."""
    pki = make_pki(issuer.base)
    init_wallet(tmp_path, monkeypatch, None)
    issuer.jwks = [published_jwk(pki.mps, pki.mps_chain), published_jwk(pki.status, pki.status_chain)]
    issuer.sign = signer(issuer, pki.status, pki.mps_chain)

    err = receive_refused(issuer, tmp_path, capsys)

    assert "key 'status-key' is certified for status-list, not for mps" in err


def test_a_jwk_whose_certificate_holds_another_key_is_refused(
    issuer: FakeIssuer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The status list key published under the issuer's certificate is not an issuer key either."""
    pki = make_pki(issuer.base)
    init_wallet(tmp_path, monkeypatch, None)
    issuer.jwks = [published_jwk(pki.mps, pki.mps_chain), published_jwk(pki.status, pki.mps_chain)]
    issuer.sign = signer(issuer, pki.status, pki.mps_chain)

    err = receive_refused(issuer, tmp_path, capsys)

    assert "the issuer publishes an unusable key" in err


def test_a_credential_chaining_to_another_root_is_refused_when_a_root_is_pinned(
    issuer: FakeIssuer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    national = make_pki(issuer.base)
    other = make_pki(issuer.base, name="Some Other Root")
    init_wallet(tmp_path, monkeypatch, national.root)
    # The JWKS agrees with the credential: only the pinned root can tell it is not the national PKI's.
    issuer.jwks = [published_jwk(other.mps, other.mps_chain), published_jwk(other.status, other.status_chain)]
    issuer.sign = signer(issuer, other.mps, other.mps_chain)

    err = receive_refused(issuer, tmp_path, capsys)

    assert "not certified under your national root: untrusted_certificate" in err


def test_a_credential_without_x5c_is_refused_when_a_root_is_pinned(
    issuer: FakeIssuer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pki = make_pki(issuer.base)
    init_wallet(tmp_path, monkeypatch, pki.root)
    issuer.jwks = [published_jwk(pki.mps, None)]
    issuer.sign = signer(issuer, pki.mps, ())

    err = receive_refused(issuer, tmp_path, capsys)

    assert "untrusted_certificate" in err


@pytest.mark.parametrize("pinned", [True, False], ids=["root-pinned", "no-root"])
def test_status_lists_must_be_signed_by_the_status_list_signer(
    pinned: bool,
    issuer: FakeIssuer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pki = make_pki(issuer.base)
    init_wallet(tmp_path, monkeypatch, pki.root if pinned else None)
    issuer.jwks = [published_jwk(pki.mps, pki.mps_chain), published_jwk(pki.status, pki.status_chain)]
    issuer.sign = signer(issuer, pki.mps, pki.mps_chain)
    # The control: a genuine credential is stored, and its list signed by the status list signer says valid.
    assert receive(issuer, capsys) == (0, "")
    assert copies_stored(tmp_path) == BATCH
    issuer.status_list = status_list_token(issuer, pki.status, pki.status_chain)
    assert [entry["status"] for entry in statuses()] == ["valid"]

    issuer.status_list = status_list_token(issuer, pki.mps, pki.mps_chain)
    (entry,) = statuses()

    assert entry["status"] == "unknown"
    expected = "untrusted_certificate: " if pinned else "untrusted_issuer: key 'mps-key' is certified for mps"
    assert entry["detail"].startswith(expected)


def test_a_pinned_wallet_refuses_a_status_list_from_another_root(
    issuer: FakeIssuer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pki = make_pki(issuer.base)
    other = make_pki(issuer.base, name="Some Other Root")
    init_wallet(tmp_path, monkeypatch, pki.root)
    issuer.jwks = [published_jwk(pki.mps, pki.mps_chain), published_jwk(other.status, other.status_chain)]
    issuer.sign = signer(issuer, pki.mps, pki.mps_chain)
    assert receive(issuer, capsys) == (0, "")
    issuer.status_list = status_list_token(issuer, other.status, other.status_chain)

    (entry,) = statuses()

    assert entry["status"] == "unknown"
    assert entry["detail"].startswith("untrusted_certificate: the certificate chain does not lead")


def test_the_server_publishes_each_key_with_its_certificate_role(client: Any) -> None:
    """RFC 7517 §4.7: the first certificate of each JWK's x5c holds that key, and names its role."""
    for name in ("mps", "vss"):
        jwks = client.get(f"/.well-known/jwt-vc-issuer/{name}").json()["jwks"]["keys"]
        issuer_key, status_key = published_keys(jwks)
        assert issuer_key.roles == frozenset({name})
        assert status_key.roles == frozenset({"status-list"})
