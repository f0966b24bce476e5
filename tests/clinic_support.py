"""A national PKI at today's date, a tiny HTTP server publishing it, and a wallet's answer, for the CLI tests.

The clinic and audit commands run for real (`typer.testing.CliRunner`), with real clocks: so the
certificates, credentials and status lists here are made as of now.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import msgspec
from vp_support import HEALTH, IDENTITY, Party, answer

from shared.credentials import example_health_card, example_identity
from shared.jose import PrivateKey, generate_private_key, public_key_from_jwk
from shared.jose.x5c import x509_hash
from shared.jose.x509 import create_leaf_certificate, create_root_certificate, der_to_pem
from shared.oid4vp.presets import PRESETS, allowed_claims
from shared.oid4vp.registration import sign_registration
from shared.oid4vp.request import AuthorizationRequest
from shared.sdjwt_vc import issue_credential
from shared.statuslist import StatusList, sign_status_list_token


@dataclass
class Pki:
    """A root, the server's leaves, a holder key and one status list, all valid now."""

    now: datetime
    root_key: PrivateKey
    root: bytes
    base: str = "http://127.0.0.1:9"
    parties: dict[str, Party] = field(default_factory=dict)
    holder: PrivateKey = field(default_factory=generate_private_key)
    statuses: StatusList = field(default_factory=lambda: StatusList.new(1024, 2))

    @property
    def list_uri(self) -> str:
        return f"{self.base}/status/1"

    def leaf(self, role: str, name: str, uris: Sequence[str] = ()) -> Party:
        key = generate_private_key()
        cert = create_leaf_certificate(
            self.root_key, self.root, key.public, name=name, role=role, now=self.now, uris=uris
        )
        return Party(key, cert)

    def issue(self, vct: str, claims: Mapping[Any, Any], *, by: str, idx: int = 0) -> str:
        issuer = f"{self.base}/{'mps' if by == 'mps' else 'vss'}"
        return issue_credential(
            claims,
            self.parties[by].key,
            issuer=issuer,
            vct=vct,
            holder_jwk=self.holder.public.jwk,
            issued_at=int(self.now.timestamp()) - 3600,
            expires_at=int((self.now + timedelta(days=365)).timestamp()),
            status={"status_list": {"idx": idx, "uri": self.list_uri}},
            header={"x5c": self.parties[by].x5c},
        )

    def credentials(self) -> list[str]:
        person = example_identity()
        today = self.now.date()
        return [
            self.issue(IDENTITY, person.to_claims(today=today), by="mps", idx=1),
            self.issue(HEALTH, example_health_card(person).to_claims(today=today), by="vss", idx=2),
        ]

    def status_token(self, *, iat: datetime | None = None, ttl: int = 300) -> str:
        iat = iat or self.now
        status = self.parties["status"]
        return sign_status_list_token(
            self.statuses,
            status.key,
            sub=self.list_uri,
            iat=iat,
            exp=iat + timedelta(days=1),
            ttl=ttl,
            x5c=status.x5c,
        )

    def registration_answer(self, public_jwk_file: Path, preset: str = "clinic-checkin") -> dict[str, Any]:
        """What `cancuoc admin verifier register --json` prints for the clinic's public key."""
        public = public_key_from_jwk(msgspec.json.decode(public_jwk_file.read_bytes()))
        leaf = create_leaf_certificate(
            self.root_key, self.root, public, name="Phòng khám Hà Nội", role="verifier", now=self.now
        )
        client_id = "x509_hash:" + x509_hash(leaf)
        registrar = self.parties["registrar"]
        registration = sign_registration(
            registrar.key,
            [registrar.certificate],
            issuer=f"{self.base}/registrar",
            client_id=client_id,
            name="Phòng khám Hà Nội",
            purpose="Check-in at the front desk",
            allowed=allowed_claims(PRESETS[preset]),
            now=self.now,
        )
        pem = der_to_pem(leaf).decode()
        return {"client_id": client_id, "certificate": pem, "chain": [pem], "registration": registration}


def make_pki(base: str = "http://127.0.0.1:9") -> Pki:
    now = datetime.now(UTC) - timedelta(minutes=1)
    root_key = generate_private_key()
    root = create_root_certificate(root_key, name="Cancuoc Test Root", now=now - timedelta(days=1))
    pki = Pki(now, root_key, root, base)
    pki.parties["mps"] = pki.leaf("mps", "MPS", [f"{base}/mps"])
    pki.parties["vss"] = pki.leaf("vss", "VSS", [f"{base}/vss"])
    pki.parties["status"] = pki.leaf("status-list", "Status lists")
    pki.parties["registrar"] = pki.leaf("registrar", "Registrar")
    return pki


def wallet_answer(
    request: AuthorizationRequest, credentials: Sequence[str], holder: PrivateKey
) -> dict[str, Any]:
    """The JSON file `cancuoc wallet present ... --out response.json` writes, presented now."""
    issued_at = int(datetime.now(UTC).timestamp())
    return answer(request, credentials, holder=holder, issued_at=issued_at).to_json()


@contextmanager
def serve(documents: dict[str, tuple[str, bytes]]) -> Iterator[str]:
    """Serve ``path → (content type, body)`` on 127.0.0.1 (404 elsewhere); yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = documents.get(self.path)
            self.send_response(200 if found else 404)
            body = found[1] if found else b'{"error": "not_found"}'
            self.send_header("Content-Type", found[0] if found else "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
