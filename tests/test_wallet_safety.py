"""A hostile issuer's credentials are refused by `cancuoc wallet receive` and nothing is stored."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from client.cli import app, main
from client.wallet.store import WALLET_FILE
from shared.encoding import b64url_decode
from shared.jose import PrivateKey, generate_private_key
from shared.sdjwt_vc import issue_credential

PIN = "482915"
VCT = "urn:example:hostile:identity"
CONFIGURATION = "identity"
BATCH = 3

Signer = Callable[[str, dict[str, str]], str]
"""Given the issuer URL and the holder key proved by the wallet, the credential the issuer sends."""


@contextmanager
def hostile_issuer(sign: Signer, published: PrivateKey) -> Iterator[str]:
    """A loopback OpenID4VCI issuer that publishes ``published`` but answers with whatever ``sign`` makes."""
    state: dict[str, str] = {}
    published_jwk = {**published.public.jwk, "kid": published.kid or ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = state["base"]
            documents: dict[str, Any] = {
                "/.well-known/openid-credential-issuer": {
                    "credential_issuer": base,
                    "credential_endpoint": f"{base}/credential",
                    "nonce_endpoint": f"{base}/nonce",
                    "batch_credential_issuance": {"batch_size": BATCH},
                    "display": [{"name": "Definitely the Ministry", "locale": "en"}],
                    "credential_configurations_supported": {
                        CONFIGURATION: {"format": "dc+sd-jwt", "vct": VCT}
                    },
                },
                "/.well-known/oauth-authorization-server": {
                    "issuer": base,
                    "token_endpoint": f"{base}/token",
                },
                "/.well-known/jwt-vc-issuer": {"issuer": base, "jwks": {"keys": [published_jwk]}},
            }
            self._answer(documents.get(self.path))

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/token":
                self._answer({"access_token": "hostile-token", "token_type": "Bearer"})
            elif self.path == "/nonce":
                self._answer({"c_nonce": "hostile-nonce"})
            elif self.path == "/credential":
                proofs = json.loads(body)["proofs"]["jwt"]
                holders = [json.loads(b64url_decode(proof.split(".")[0]))["jwk"] for proof in proofs]
                self._answer({"credentials": [{"credential": sign(state["base"], h)} for h in holders]})
            else:
                self._answer(None)

        def _answer(self, document: Any) -> None:
            raw = json.dumps(document).encode()
            self.send_response(404 if document is None else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads the wallet's output, not the issuer's access log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["base"] = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["base"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


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


def offer_link(base: str) -> str:
    offer = {
        "credential_issuer": base,
        "credential_configuration_ids": [CONFIGURATION],
        "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {"pre-authorized_code": "abc"}},
    }
    return f"openid-credential-offer://?credential_offer={quote(json.dumps(offer), safe='')}"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty wallet; the environment points `cancuoc wallet` at it."""
    monkeypatch.setenv("CANCUOC_HOME", str(tmp_path))
    monkeypatch.setenv("CANCUOC_PIN", PIN)
    assert CliRunner().invoke(app, ["wallet", "init"]).exit_code == 0
    return tmp_path


def receive(link: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`cancuoc wallet receive LINK` through the console entry point: (exit code, stderr)."""
    with pytest.raises(SystemExit) as exited:
        main(["wallet", "receive", link, "--json"])
    return int(exited.value.code or 0), capsys.readouterr().err


def assert_nothing_stored(home: Path) -> None:
    listed = CliRunner().invoke(app, ["wallet", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == []
    with sqlite3.connect(home / WALLET_FILE) as db:
        assert db.execute("SELECT count(*) FROM cards").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM copies").fetchone() == (0,)


def test_credential_not_signed_by_the_published_key_is_refused(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published = generate_private_key(kid="issuer-key-1")
    impostor = generate_private_key(kid="issuer-key-1")

    def sign(base: str, holder: dict[str, str]) -> str:
        return credential(base, impostor, holder)

    with hostile_issuer(sign, published) as base:
        code, err = receive(offer_link(base), capsys)

    assert code == 1
    assert "offer refused: the issuer sent a credential that does not verify: invalid_signature" in err
    assert "nothing was stored" in err
    assert_nothing_stored(home)


def test_credential_bound_to_a_key_the_wallet_did_not_prove_is_refused(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published = generate_private_key(kid="issuer-key-1")
    stranger = generate_private_key()

    def sign(base: str, holder: dict[str, str]) -> str:
        return credential(base, published, stranger.public.jwk)

    with hostile_issuer(sign, published) as base:
        code, err = receive(offer_link(base), capsys)

    assert code == 1
    assert "offer refused: the issuer bound a credential to a key this wallet did not prove" in err
    assert_nothing_stored(home)


def test_the_hostile_issuer_is_otherwise_accepted(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The control: signed with the published key and bound to the proved keys, the card is stored."""
    published = generate_private_key(kid="issuer-key-1")

    def sign(base: str, holder: dict[str, str]) -> str:
        return credential(base, published, holder)

    with hostile_issuer(sign, published) as base:
        code, err = receive(offer_link(base), capsys)

    assert (code, err) == (0, "")
    with sqlite3.connect(home / WALLET_FILE) as db:
        assert db.execute("SELECT count(*) FROM copies").fetchone() == (BATCH,)
