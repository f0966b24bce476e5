"""A wallet with a real citizen's cards, clinics under the server's national root, a loopback clinic endpoint.

Shared by the `cancuoc wallet present` tests: the requests are made with the shared OpenID4VP code, the cards
come from a real `cancuoc-server` process.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from server_process import running_server
from test_wallet import PIN, receive_all, runner, seeded_citizen, wallet_env

from client.api import ServerApi
from client.cli import app, main
from client.wallet.store import WALLET_FILE
from shared.jose import PrivateKey, decode_jws_unverified, generate_private_key, private_key_from_pem
from shared.jose.x5c import x509_hash
from shared.jose.x509 import create_leaf_certificate, create_root_certificate, der_to_pem, pem_to_der
from shared.oid4vp.presets import PRESETS, allowed_claims
from shared.oid4vp.registration import sign_registration
from shared.oid4vp.request import create_request_object, new_request
from shared.sdjwt.disclosure import split_compact
from shared.sdjwt.process import process_payload

OFFLINE = "urn:cancuoc:offline"
UNUSED_URI = "http://127.0.0.1:9/never-posted"
CHECKIN = ["health_insurance", "identity"]


@dataclass(frozen=True)
class Authority:
    """A national root and its registrar: what signs clinics' certificates and registrations."""

    key: PrivateKey
    root: bytes
    registrar_key: PrivateKey
    registrar: bytes

    @classmethod
    def create(cls, name: str = "Test national root") -> Authority:
        now = datetime.now(UTC)
        key, registrar_key = generate_private_key(), generate_private_key()
        root = create_root_certificate(key, name=name, now=now)
        registrar = create_leaf_certificate(
            key, root, registrar_key.public, name="Registrar", role="registrar", now=now
        )
        return cls(key, root, registrar_key, registrar)

    @classmethod
    def of_server(cls, key_directory: Path) -> Authority:
        """The server's own root and registrar: cards and clinics chain to the one national root."""

        def key(stem: str) -> PrivateKey:
            return private_key_from_pem((key_directory / f"{stem}.pem").read_bytes())

        def certificate(stem: str) -> bytes:
            return pem_to_der((key_directory / f"{stem}.crt").read_bytes())

        return cls(
            key("root-ca"), certificate("root-ca"), key("registrar-signing"), certificate("registrar-signing")
        )


@dataclass(frozen=True)
class Clinic:
    name: str
    key: PrivateKey
    leaf: bytes
    authority: Authority

    @property
    def client_id(self) -> str:
        return "x509_hash:" + x509_hash(self.leaf)

    def request(
        self,
        preset: str = "age-check",
        *,
        response_uri: str = OFFLINE,
        allowed: list[dict[str, Any]] | None = None,
    ) -> tuple[str, Any]:
        """A signed request object for ``preset`` and the request it carries."""
        now = datetime.now(UTC)
        dcql = PRESETS[preset]
        registration = sign_registration(
            self.authority.registrar_key,
            [self.authority.registrar],
            issuer="http://registrar.test",
            client_id=self.client_id,
            name=self.name,
            purpose=f"{preset} at {self.name}",
            allowed=allowed if allowed is not None else allowed_claims(dcql),
            now=now,
        )
        request = new_request(
            client_id=self.client_id,
            response_uri=response_uri,
            dcql_query=dcql,
            registration=registration,
            now=now,
        )
        return create_request_object(request, self.key, [self.leaf]), request


def make_clinic(authority: Authority, name: str) -> Clinic:
    key = generate_private_key()
    leaf = create_leaf_certificate(
        authority.key, authority.root, key.public, name=name, role="verifier", now=datetime.now(UTC)
    )
    return Clinic(name, key, leaf, authority)


@dataclass
class Holder:
    """A wallet with one citizen's three cards (3 copies each), and the clinics that will ask for them."""

    home: Path
    server: str
    tokens: dict[str, str]
    citizen: dict[str, Any]
    cards: dict[str, str]
    authority: Authority
    anchor_file: Path
    server_root: bytes | None = None
    clinics: dict[str, Clinic] = field(default_factory=dict)

    def wallet(self, *args: str, home: Path | None = None, **options: Any) -> Any:
        return runner.invoke(app, ["wallet", *args], env=wallet_env(home or self.home), **options)

    def clinic(self, name: str) -> Clinic:
        if name not in self.clinics:
            self.clinics[name] = make_clinic(self.authority, name)
        return self.clinics[name]

    def offer(self, issuer: str, configuration: str) -> tuple[str, str]:
        with ServerApi(self.server, self.tokens[issuer]) as officer:
            made = officer.create_offer(issuer, self.citizen["citizen_id"], [configuration])
        return made.offer_uri, made.tx_code or ""


@pytest.fixture(scope="module")
def holder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Holder]:
    with running_server(tmp_path_factory.mktemp("present-server")) as server:
        citizen, tokens = seeded_citizen(server)
        authority = Authority.of_server(server.data_dir / "keys")
        home = tmp_path_factory.mktemp("present-home")
        anchor_file = home.parent / "root.pem"
        anchor_file.write_bytes(der_to_pem(authority.root))
        state = Holder(home, server.base_url, tokens, citizen, {}, authority, anchor_file)
        made = state.wallet("init", "--trust-anchor", str(anchor_file))
        assert made.exit_code == 0, made.output
        state.cards = receive_all(state.wallet, server.base_url, tokens, citizen["citizen_id"], copies=3)
        root = httpx.get(f"{server.base_url}/pki/root.pem")
        state.server_root = pem_to_der(root.content) if root.status_code == 200 else None
        yield state


@pytest.fixture
def home(holder: Holder, tmp_path: Path) -> Path:
    """A copy of the holder's wallet for one test to use up."""
    copied = tmp_path / "home"
    copied.mkdir()
    shutil.copy2(holder.home / WALLET_FILE, copied / WALLET_FILE)
    return copied


@dataclass
class FakeClinic:
    """A loopback clinic: serves request objects, takes answers (or redirects them), records posts."""

    base: str
    requests: dict[str, str]
    posts: list[dict[str, str]]


@contextmanager
def clinic_server() -> Iterator[FakeClinic]:
    state = FakeClinic("", {}, [])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/redirect"):
                self._send(302, b"", location=f"{state.base}/request/1")
            elif self.path.removeprefix("/request/") in state.requests:
                body = state.requests[self.path.removeprefix("/request/")].encode()
                self._send(200, body, content_type="application/oauth-authz-req+jwt")
            else:
                self._send(404, b"{}")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if self.path.startswith("/redirect"):
                self._send(303, b"", location="https://elsewhere.test/")
                return
            state.posts.append({k: v[-1] for k, v in parse_qs(body).items()})
            self._send(200, b"{}")

        def _send(
            self, status: int, body: bytes, *, content_type: str = "application/json", **headers: str
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.capitalize(), value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run(home: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The console script with its error mapping: (exit code, stdout, stderr)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CANCUOC_HOME", str(home))
        env.setenv("CANCUOC_PIN", PIN)
        env.setenv("COLUMNS", "200")
        with pytest.raises(SystemExit) as exited:
            main(argv)
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def disclosed_names(presentation: str) -> set[str]:
    """The top-level claims a presentation discloses (a disclosed object brings its own members along)."""
    parts = split_compact(presentation)
    payload = decode_jws_unverified(parts.jws).payload
    return {str(path[0]) for path, _ in process_payload(payload, parts.disclosures).placed}


def copies_used(home: Path) -> dict[str, str | None]:
    with sqlite3.connect(home / WALLET_FILE) as db:
        return dict(db.execute("SELECT id, used_for FROM copies").fetchall())


def log_of(holder: Holder, home: Path) -> list[dict[str, Any]]:
    result = holder.wallet("log", "--json", home=home)
    assert result.exit_code == 0, result.output
    entries: list[dict[str, Any]] = json.loads(result.stdout)
    return entries


def present_to(
    holder: Holder, home: Path, clinic: Clinic, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[dict[str, Any], str]:
    (tmp_path / "request.jwt").write_text(clinic.request("age-check", response_uri=UNUSED_URI)[0])
    argv = [
        "wallet",
        "present",
        str(tmp_path / "request.jwt"),
        "--yes",
        "--out",
        str(tmp_path / "a.json"),
        "--json",
    ]
    code, stdout, err = run(home, argv, capsys)
    assert code == 0, err
    answer: dict[str, Any] = json.loads(stdout)
    return answer, err
