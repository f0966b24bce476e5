"""A loopback OpenID4VCI issuer, signing with whichever key a test chooses, and a wallet to receive from it.

A throw-away national PKI goes with it: a root, an MPS issuer leaf naming the issuer's URL, and a status list
signer leaf; the JWKS, credentials and status list are the test's to set (`test_wallet_safety` publishes bare
keys, `test_wallet_trust` certified ones).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from client.cli import app, main
from client.wallet.store import WALLET_FILE
from shared.credentials import VCT_BY_TYPE
from shared.encoding import b64url_decode
from shared.jose import PrivateKey, generate_private_key
from shared.jose.x5c import x5c_of
from shared.jose.x509 import create_leaf_certificate, create_root_certificate, der_to_pem
from shared.sdjwt_vc import issue_credential
from shared.statuslist import StatusList, sign_status_list_token

VCT = VCT_BY_TYPE["identity"]
CONFIGURATION = "identity"
BATCH = 2
PIN = "482915"


@dataclass(frozen=True)
class Pki:
    """A national root with an MPS issuer leaf and a status list signer leaf."""

    root: bytes
    mps: PrivateKey
    mps_chain: tuple[bytes, ...]
    status: PrivateKey
    status_chain: tuple[bytes, ...]


def make_pki(issuer: str, name: str = "Test Root") -> Pki:
    now = datetime.now(UTC)
    root_key = generate_private_key()
    root = create_root_certificate(root_key, name=name, now=now)
    mps = generate_private_key(kid="mps-key")
    status = generate_private_key(kid="status-key")
    mps_leaf = create_leaf_certificate(
        root_key, root, mps.public, name="MPS", role="mps", now=now, uris=[issuer]
    )
    status_leaf = create_leaf_certificate(
        root_key, root, status.public, name="Status", role="status-list", now=now
    )
    return Pki(root, mps, (mps_leaf,), status, (status_leaf,))


def published_jwk(key: PrivateKey, chain: tuple[bytes, ...] | None) -> dict[str, Any]:
    jwk: dict[str, Any] = {**key.public.jwk, "kid": key.kid, "use": "sig", "alg": "ES256"}
    return jwk if chain is None else {**jwk, "x5c": x5c_of(chain)}


@dataclass
class FakeIssuer:
    """A loopback OpenID4VCI issuer whose keys, credentials and status list the test sets."""

    base: str
    jwks: list[dict[str, Any]] = field(default_factory=list)
    sign: Callable[[dict[str, str]], str] = lambda holder: ""
    status_list: str = ""

    @property
    def status_uri(self) -> str:
        return f"{self.base}/status/1"


@contextmanager
def fake_issuer() -> Iterator[FakeIssuer]:
    """Serve a `FakeIssuer` on a free loopback port until the block ends."""
    state: dict[str, FakeIssuer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake = state["issuer"]
            base = fake.base
            if self.path == "/status/1":
                self._send(fake.status_list.encode(), "application/statuslist+jwt")
                return
            documents: dict[str, Any] = {
                "/.well-known/openid-credential-issuer": {
                    "credential_issuer": base,
                    "credential_endpoint": f"{base}/credential",
                    "nonce_endpoint": f"{base}/nonce",
                    "batch_credential_issuance": {"batch_size": BATCH},
                    "credential_configurations_supported": {
                        CONFIGURATION: {"format": "dc+sd-jwt", "vct": VCT}
                    },
                },
                "/.well-known/oauth-authorization-server": {
                    "issuer": base,
                    "token_endpoint": f"{base}/token",
                },
                "/.well-known/jwt-vc-issuer": {"issuer": base, "jwks": {"keys": fake.jwks}},
            }
            self._answer(documents.get(self.path))

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/token":
                self._answer({"access_token": "token", "token_type": "Bearer"})
            elif self.path == "/nonce":
                self._answer({"c_nonce": "nonce"})
            elif self.path == "/credential":
                proofs = json.loads(body)["proofs"]["jwt"]
                holders = [json.loads(b64url_decode(proof.split(".")[0]))["jwk"] for proof in proofs]
                self._answer({"credentials": [{"credential": state["issuer"].sign(h)} for h in holders]})
            else:
                self._answer(None)

        def _answer(self, document: Any) -> None:
            if document is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send(json.dumps(document).encode(), "application/json")

        def _send(self, raw: bytes, media_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test reads the wallet's output, not the issuer's access log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["issuer"] = FakeIssuer(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["issuer"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def signer(fake: FakeIssuer, key: PrivateKey, chain: tuple[bytes, ...]) -> Callable[[dict[str, str]], str]:
    """Credentials for ``fake`` signed by ``key``, naming it by ``kid`` and carrying ``chain`` as ``x5c``."""

    def sign(holder: dict[str, str]) -> str:
        now = int(datetime.now(UTC).timestamp())
        return issue_credential(
            {"given_name": "Nguyen", "family_name": "An"},
            key,
            issuer=fake.base,
            vct=VCT,
            holder_jwk=holder,
            issued_at=now,
            expires_at=now + 3600,
            status={"status_list": {"idx": 3, "uri": fake.status_uri}},
            header={"x5c": x5c_of(chain)},
        )

    return sign


def status_list_token(fake: FakeIssuer, key: PrivateKey, chain: tuple[bytes, ...]) -> str:
    now = datetime.now(UTC)
    return sign_status_list_token(
        StatusList.new(16, 1),
        key,
        sub=fake.status_uri,
        iat=now,
        exp=now + timedelta(hours=1),
        ttl=300,
        x5c=x5c_of(chain),
    )


def offer_link(base: str) -> str:
    offer = {
        "credential_issuer": base,
        "credential_configuration_ids": [CONFIGURATION],
        "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {"pre-authorized_code": "abc"}},
    }
    return f"openid-credential-offer://?credential_offer={quote(json.dumps(offer), safe='')}"


def init_wallet(home: Path, monkeypatch: pytest.MonkeyPatch, root: bytes | None) -> None:
    """An empty wallet in ``home``, pinning ``root`` if given; the environment points the wallet at it."""
    monkeypatch.setenv("CANCUOC_HOME", str(home))
    monkeypatch.setenv("CANCUOC_PIN", PIN)
    args = ["wallet", "init"]
    if root is not None:
        (home / "root.pem").write_bytes(der_to_pem(root))
        args += ["--trust-anchor", str(home / "root.pem")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output


def receive(fake: FakeIssuer, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`cancuoc wallet receive` through the console entry point: (exit code, stderr)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["wallet", "receive", offer_link(fake.base), "--json"])
    return int(exited.value.code or 0), capsys.readouterr().err


def assert_nothing_stored(home: Path) -> None:
    listed = CliRunner().invoke(app, ["wallet", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == []
    with sqlite3.connect(home / WALLET_FILE) as db:
        assert db.execute("SELECT count(*) FROM cards").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM copies").fetchone() == (0,)


def receive_refused(fake: FakeIssuer, home: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """`cancuoc wallet receive` from ``fake``, which must fail (exit 1) storing nothing: its stderr."""
    code, err = receive(fake, capsys)
    assert code == 1
    assert_nothing_stored(home)
    return err


def copies_stored(home: Path) -> int:
    with sqlite3.connect(home / WALLET_FILE) as db:
        (count,) = db.execute("SELECT count(*) FROM copies").fetchone()
    return int(count)
