"""`cancuoc wallet present|log|refresh|trust` with real credentials from a real issuer and signed requests.

The requests are made here with the shared OpenID4VP code, under a national root the test owns (pinned in the
wallet); the answers are checked with the verifier's own `verify_response` against the server's root.
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
import msgspec
import pytest
from server_process import running_server
from test_wallet import PIN, runner, wallet_env

from client.api import ServerApi
from client.cli import app, main
from client.wallet.store import WALLET_FILE, open_wallet
from shared.encoding import b64url_encode
from shared.jose import PrivateKey, decode_jws_unverified, generate_private_key, sign_jwt
from shared.jose.x509 import (
    create_leaf_certificate,
    create_root_certificate,
    der_to_pem,
    pem_to_der,
    x5c_of,
    x509_hash,
)
from shared.oid4vp.presets import PRESETS, allowed_claims
from shared.oid4vp.registration import sign_registration
from shared.oid4vp.request import create_request_object, new_request, request_link
from shared.oid4vp.verify import verify_response
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
        seeded = json.loads(server.command("seed", "--citizens", "3", "--seed", "2", "--json"))
        citizen = next(c for c in seeded if c["has_health_card"] and c["has_social_book"])
        tokens = {issuer: server.create_operator(f"{issuer}-officer") for issuer in ("mps", "vss")}
        authority = Authority.create()
        home = tmp_path_factory.mktemp("present-home")
        anchor_file = home.parent / "root.pem"
        anchor_file.write_bytes(der_to_pem(authority.root))
        state = Holder(home, server.base_url, tokens, citizen, {}, authority, anchor_file)
        made = state.wallet("init", "--trust-anchor", str(anchor_file))
        assert made.exit_code == 0, made.output
        for issuer, configurations in (
            ("mps", ["identity"]),
            ("vss", ["health_insurance", "social_insurance"]),
        ):
            with ServerApi(server.base_url, tokens[issuer]) as officer:
                offer = officer.create_offer(issuer, citizen["citizen_id"], configurations)
            got = state.wallet(
                "receive", offer.offer_uri, "--tx-code", offer.tx_code or "", "--copies", "3", "--json"
            )
            assert got.exit_code == 0, got.output
            state.cards.update({c["configuration_id"]: c["id"] for c in json.loads(got.stdout)})
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


def test_offline_answer_verifies_and_discloses_exactly_the_asked_claims(
    holder: Holder, home: Path, tmp_path: Path
) -> None:
    clinic = holder.clinic("Bệnh viện Bạch Mai")
    token, request = clinic.request("clinic-checkin", response_uri=UNUSED_URI)
    (tmp_path / "request.jwt").write_text(token)
    out = tmp_path / "response.json"
    result = holder.wallet("present", str(tmp_path / "request.jwt"), "--yes", "--out", str(out), home=home)
    assert result.exit_code == 0, result.output
    assert "too large for a QR code" in result.stdout
    answer = json.loads(out.read_text())
    assert set(answer) == {"vp_token", "state"}
    assert answer["state"] == request.state
    assert out.stat().st_mode & 0o777 == 0o600
    for query in PRESETS["clinic-checkin"]["credentials"]:
        (presentation,) = answer["vp_token"][query["id"]]
        assert disclosed_names(presentation) == {c["path"][0] for c in query["claims"]}
    if holder.server_root is None:
        pytest.skip("the server publishes no root yet (PKI)")
    report = verify_response(
        answer,
        request,
        anchors=[holder.server_root],
        now=datetime.now(UTC),
        status_lookup=lambda uri: httpx.get(uri).text,
    )
    assert report.valid, [c for c in report.checks if not c.ok]
    assert {c.vct for c in report.credentials} == {
        q["meta"]["vct_values"][0] for q in PRESETS["clinic-checkin"]["credentials"]
    }


def test_cross_device_link_is_fetched_verified_and_posted(holder: Holder, home: Path) -> None:
    clinic = holder.clinic("Phòng khám Hoàn Mỹ")
    with clinic_server() as endpoint:
        token, request = clinic.request("age-check", response_uri=f"{endpoint.base}/response")
        endpoint.requests["1"] = token
        link = request_link(clinic.client_id, f"{endpoint.base}/request/1")
        result = holder.wallet("present", link, input="y\n", home=home)
    assert result.exit_code == 0, result.output
    assert "Phòng khám Hoàn Mỹ asks to see your cards" in result.stdout
    assert "age-check at Phòng khám Hoàn Mỹ" in result.stdout
    assert "- Aged 18 or over" in result.stdout
    (posted,) = endpoint.posts
    assert posted["state"] == request.state
    (presentation,) = json.loads(posted["vp_token"])["identity"]
    assert disclosed_names(presentation) == {"age_over_18"}
    (entry,) = log_of(holder, home)
    assert entry["clinic"] == "Phòng khám Hoàn Mỹ"
    assert entry["client_id"] == clinic.client_id
    assert entry["delivered"] == "posted"
    assert [(c["card_id"], c["claims"]) for c in entry["cards"]] == [
        (holder.cards["identity"], [["age_over_18"]])
    ]


def test_declining_sends_nothing_and_logs_nothing(holder: Holder, home: Path) -> None:
    clinic = holder.clinic("Phòng khám Hoàn Mỹ")
    with clinic_server() as endpoint:
        token, _ = clinic.request("age-check", response_uri=f"{endpoint.base}/response")
        endpoint.requests["1"] = token
        result = holder.wallet("present", f"{endpoint.base}/request/1", input="n\n", home=home)
    assert result.exit_code == 1
    assert [p.get("error") for p in endpoint.posts] == ["access_denied"]
    assert log_of(holder, home) == []


def _other_root(holder: Holder) -> tuple[str, str]:
    stranger = make_clinic(Authority.create("Another root"), "Phòng khám Hoàn Mỹ")
    return stranger.request("age-check", response_uri=UNUSED_URI)[0], stranger.client_id


def _unsigned(holder: Holder) -> tuple[str, str]:
    clinic = holder.clinic("Phòng khám Hoàn Mỹ")
    _, request = clinic.request("age-check", response_uri=UNUSED_URI)
    header = b64url_encode(json.dumps({"alg": "none", "typ": "oauth-authz-req+jwt"}).encode())
    return f"{header}.{b64url_encode(json.dumps(_builtins(request)).encode())}.", clinic.client_id


def _wrong_typ(holder: Holder) -> tuple[str, str]:
    clinic = holder.clinic("Phòng khám Hoàn Mỹ")
    _, request = clinic.request("age-check", response_uri=UNUSED_URI)
    return sign_jwt(_builtins(request), clinic.key, typ="JWT", x5c=x5c_of([clinic.leaf])), clinic.client_id


def _over_asking(holder: Holder) -> tuple[str, str]:
    clinic = holder.clinic("Phòng khám Hoàn Mỹ")
    allowed = allowed_claims(PRESETS["age-check"])
    token, _ = clinic.request("identity", response_uri=UNUSED_URI, allowed=allowed)
    return token, clinic.client_id


def _builtins(request: Any) -> dict[str, Any]:
    built: dict[str, Any] = msgspec.to_builtins(request)
    return built


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_unsigned, "the request"),
        (_wrong_typ, "this is not a signed OpenID4VP request object"),
        (_other_root, "the request is not signed by a clinic certified under your national root"),
        (_over_asking, "the clinic asks for more than its registration allows"),
    ],
)
def test_a_bad_request_is_refused_and_nothing_happens(
    holder: Holder, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, message: str
) -> None:
    token, _ = make(holder)
    (tmp_path / "request.jwt").write_text(token)
    before = copies_used(home)
    code, _, err = run(
        home,
        ["wallet", "present", str(tmp_path / "request.jwt"), "--yes", "--out", str(tmp_path / "r.json")],
        capsys,
    )
    assert code == 1, err
    assert err.startswith(f"error: {message}"), err
    assert "nothing was sent" in err
    assert not (tmp_path / "r.json").exists()
    assert copies_used(home) == before
    assert log_of(holder, home) == []


def test_a_redirect_on_request_uri_is_refused(
    holder: Holder, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = holder.clinic("Phòng khám Hoàn Mỹ")
    with clinic_server() as endpoint:
        endpoint.requests["1"] = clinic.request("age-check", response_uri=f"{endpoint.base}/response")[0]
        link = request_link(clinic.client_id, f"{endpoint.base}/redirect")
        code, _, err = run(home, ["wallet", "present", link, "--yes"], capsys)
        assert endpoint.posts == []
    assert code == 1
    assert "the request_uri answered with a redirect (HTTP 302)" in err
    assert log_of(holder, home) == []


def test_a_redirect_on_the_answer_leaves_the_copy_unused(
    holder: Holder, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = holder.clinic("Phòng khám Hoàn Mỹ")
    before = copies_used(home)
    with clinic_server() as endpoint:
        endpoint.requests["1"] = clinic.request("age-check", response_uri=f"{endpoint.base}/redirect")[0]
        code, _, err = run(home, ["wallet", "present", f"{endpoint.base}/request/1", "--yes"], capsys)
    assert code == 1
    assert "the verifier answered with a redirect (HTTP 303)" in err
    assert copies_used(home) == before
    assert log_of(holder, home) == []


def test_a_link_whose_client_id_differs_is_refused(
    holder: Holder, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic, other = holder.clinic("Phòng khám Hoàn Mỹ"), holder.clinic("Bệnh viện Bạch Mai")
    with clinic_server() as endpoint:
        endpoint.requests["1"] = clinic.request("age-check", response_uri=f"{endpoint.base}/response")[0]
        link = request_link(other.client_id, f"{endpoint.base}/request/1")
        code, _, err = run(home, ["wallet", "present", link, "--yes"], capsys)
        assert endpoint.posts == []
    assert code == 1
    assert err.startswith("error: the request's client_id is not the one in the link")


@pytest.mark.skip(reason="needs verify_request_object to accept urn:cancuoc:offline (contract addendum)")
def test_an_offline_request_needs_out(
    holder: Holder, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token, request = holder.clinic("Trạm y tế xã").request("age-check")
    (tmp_path / "request.jwt").write_text(token)
    code, _, err = run(home, ["wallet", "present", str(tmp_path / "request.jwt"), "--yes"], capsys)
    assert code == 1
    assert "offline request" in err
    assert "--out" in err
    assert log_of(holder, home) == []
    out = tmp_path / "answer.json"
    code, stdout, err = run(
        home, ["wallet", "present", str(tmp_path / "request.jwt"), "--yes", "--out", str(out)], capsys
    )
    assert code == 0, err
    assert json.loads(out.read_text())["state"] == request.state
    assert "▀" in stdout or "█" in stdout or "▄" in stdout  # age-check fits in a QR code


def test_without_a_pinned_root_present_refuses_with_a_hint(
    holder: Holder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "bare"
    assert holder.wallet("init", home=bare).exit_code == 0
    (tmp_path / "request.jwt").write_text(
        holder.clinic("Trạm y tế xã").request("age-check", response_uri=UNUSED_URI)[0]
    )
    code, _, err = run(bare, ["wallet", "present", str(tmp_path / "request.jwt"), "--yes"], capsys)
    assert code == 4
    assert "no national root is pinned" in err
    assert "cancuoc wallet trust --set" in err
    assert holder.wallet("trust", "--set", str(holder.anchor_file), home=bare).exit_code == 0
    shown = holder.wallet("trust", "--show", home=bare)
    assert x509_hash(holder.authority.root) in shown.stdout


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


def test_one_copy_per_verifier_then_warnings(
    holder: Holder, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    identity = holder.cards["identity"]
    a, b, c, d = (holder.clinic(n) for n in ("Clinic A", "Clinic B", "Clinic C", "Clinic D"))
    first, _warned = present_to(holder, home, a, tmp_path, capsys)
    assert first["warnings"] == [
        f"card {identity} has 2 copies left: run `cancuoc wallet refresh {identity}`"
    ]
    again, _ = present_to(holder, home, a, tmp_path, capsys)
    assert again["cards"][0]["copy_id"] == first["cards"][0]["copy_id"]
    other, _ = present_to(holder, home, b, tmp_path, capsys)
    assert other["cards"][0]["copy_id"] != first["cards"][0]["copy_id"]
    last, _ = present_to(holder, home, c, tmp_path, capsys)
    assert f"card {identity} has 0 copies left" in last["warnings"][0]
    used = {first["cards"][0]["copy_id"], other["cards"][0]["copy_id"], last["cards"][0]["copy_id"]}
    assert len(used) == 3
    linked, _ = present_to(holder, home, d, tmp_path, capsys)
    assert linked["cards"][0]["copy_id"] == first["cards"][0]["copy_id"]  # the least recently used
    assert "can link these presentations" in linked["warnings"][0]
    entries = log_of(holder, home)
    assert [e["clinic"] for e in entries] == ["Clinic A", "Clinic A", "Clinic B", "Clinic C", "Clinic D"]
    assert [e["cards"][0]["linkable"] for e in entries] == [False] * 4 + [True]


def test_the_log_is_sealed_like_the_cards(
    holder: Holder, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = holder.clinic("Bệnh viện Chợ Rẫy")
    present_to(holder, home, clinic, tmp_path, capsys)
    human = holder.wallet("log", home=home)
    assert "Bệnh viện Chợ Rẫy" in human.stdout
    assert "age_over_18" in human.stdout
    content = (home / WALLET_FILE).read_bytes()
    for secret in (
        clinic.name,
        clinic.client_id,
        x509_hash(clinic.leaf),
        "age_over_18",
        holder.citizen["full_name"],
    ):
        assert secret.encode() not in content
    with sqlite3.connect(home / WALLET_FILE) as db:
        (entry_id, blob) = db.execute("SELECT id, blob FROM presentations").fetchone()
        db.execute(
            "UPDATE presentations SET blob = ? WHERE id = ?",
            (blob[:20] + bytes([blob[20] ^ 1]) + blob[21:], entry_id),
        )
    code, _, err = run(home, ["wallet", "log"], capsys)
    assert code == 4
    assert err.startswith("error: the wallet's data was altered (presentations row)")


def test_refresh_adds_copies_and_drops_used_ones(
    holder: Holder, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    identity = holder.cards["identity"]
    present_to(holder, home, holder.clinic("Clinic A"), tmp_path, capsys)
    wrong_offer, wrong_code = holder.offer("vss", "health_insurance")
    code, _, err = run(home, ["wallet", "refresh", identity, wrong_offer, "--tx-code", wrong_code], capsys)
    assert code == 1
    assert f"this offer is not for card {identity}" in err
    offer, tx_code = holder.offer("mps", "identity")
    result = holder.wallet(
        "refresh", identity, offer, "--tx-code", tx_code, "--copies", "4", "--json", home=home
    )
    assert result.exit_code == 0, result.output
    (summary,) = json.loads(result.stdout)
    assert summary["id"] == identity
    assert summary["copies_left"] == 6
    wallet = open_wallet(home, PIN, now=datetime.now(UTC))
    try:
        copies = wallet.get_card(identity).copies
    finally:
        wallet.close()
    assert len(copies) == 6
    assert all(c.used_for is None for c in copies)
    assert len(log_of(holder, home)) == 1


def test_backup_keeps_the_log_and_the_pinned_root(
    holder: Holder, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    present_to(holder, home, holder.clinic("Clinic A"), tmp_path, capsys)
    backup = tmp_path / "backup.json"
    assert holder.wallet("backup", "--out", str(backup), home=home).exit_code == 0
    restored = tmp_path / "restored"
    assert holder.wallet("restore", str(backup), home=restored).exit_code == 0
    assert log_of(holder, restored) == log_of(holder, home)
    shown = holder.wallet("trust", "--show", home=restored)
    assert x509_hash(holder.authority.root) in shown.stdout


def test_a_wallet_from_before_presentations_is_upgraded_on_open(holder: Holder, home: Path) -> None:
    with sqlite3.connect(home / WALLET_FILE) as db:
        db.execute("DROP TABLE presentations")
        db.execute("ALTER TABLE meta DROP COLUMN trust_anchor")
    assert log_of(holder, home) == []
    assert holder.wallet("trust", "--set", str(holder.anchor_file), home=home).exit_code == 0
