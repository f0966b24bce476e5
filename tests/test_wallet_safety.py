"""A hostile issuer's credentials are refused by `cancuoc wallet receive` and nothing is stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from trust_support import (
    BATCH,
    VCT,
    FakeIssuer,
    copies_stored,
    fake_issuer,
    init_wallet,
    published_jwk,
    receive,
    receive_refused,
)

from shared.jose import PrivateKey, generate_private_key
from shared.sdjwt_vc import issue_credential


@pytest.fixture
def issuer() -> Iterator[FakeIssuer]:
    with fake_issuer() as fake:
        yield fake


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty wallet, no root pinned; the environment points `cancuoc wallet` at it."""
    init_wallet(tmp_path, monkeypatch, None)
    return tmp_path


def credential(base: str, key: PrivateKey, holder_jwk: dict[str, str]) -> str:
    now = int(datetime.now(UTC).timestamp())
    return issue_credential(
        {"given_name": "Nguyen", "family_name": "An"},
        key,
        issuer=base,
        vct=VCT,
        holder_jwk=holder_jwk,
        issued_at=now,
        expires_at=now + 3600,
    )


def test_credential_not_signed_by_the_published_key_is_refused(
    home: Path, issuer: FakeIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    published = generate_private_key(kid="issuer-key-1")
    impostor = generate_private_key(kid="issuer-key-1")
    issuer.jwks = [published_jwk(published, None)]
    issuer.sign = lambda holder: credential(issuer.base, impostor, holder)

    err = receive_refused(issuer, home, capsys)

    assert "offer refused: the issuer sent a credential that does not verify: invalid_signature" in err
    assert "nothing was stored" in err


def test_credential_bound_to_a_key_the_wallet_did_not_prove_is_refused(
    home: Path, issuer: FakeIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    published = generate_private_key(kid="issuer-key-1")
    stranger = generate_private_key()
    issuer.jwks = [published_jwk(published, None)]
    issuer.sign = lambda holder: credential(issuer.base, published, stranger.public.jwk)

    err = receive_refused(issuer, home, capsys)

    assert "offer refused: the issuer bound a credential to a key this wallet did not prove" in err


def test_the_hostile_issuer_is_otherwise_accepted(
    home: Path, issuer: FakeIssuer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The control: signed with the published key and bound to the proved keys, the card is stored."""
    published = generate_private_key(kid="issuer-key-1")
    issuer.jwks = [published_jwk(published, None)]
    issuer.sign = lambda holder: credential(issuer.base, published, holder)

    assert receive(issuer, capsys) == (0, "")
    assert copies_stored(home) == BATCH
