"""`cancuoc verifier`: enrolment, offline requests, checks of a wallet's answer, the status cache, sync."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from clinic_support import HEALTH, IDENTITY, Pki, make_pki, serve, wallet_answer
from typer.testing import CliRunner, Result

from client.cli import app
from client.verifier.state import CachedStatusList, VerifierState
from shared.jose import decode_jws_unverified
from shared.jose.x509 import der_to_pem
from shared.oid4vp.request import AuthorizationRequest


@pytest.fixture(scope="module")
def documents() -> dict[str, tuple[str, bytes]]:
    return {}


@pytest.fixture(scope="module")
def base(documents: dict[str, tuple[str, bytes]]) -> Iterator[str]:
    with serve(documents) as url:
        yield url


@pytest.fixture(scope="module")
def pki(base: str, documents: dict[str, tuple[str, bytes]]) -> Pki:
    pki = make_pki(base)
    certificates = {
        role: der_to_pem(p.certificate).decode() for role, p in pki.parties.items() if role != "status"
    }
    certificates["status-list"] = der_to_pem(pki.parties["status"].certificate).decode()
    bundle = {
        "root": der_to_pem(pki.root).decode(),
        "certificates": certificates,
        "status_lists": [pki.list_uri],
    }
    documents["/pki"] = ("application/json", msgspec.json.encode(bundle))
    documents["/pki/root.pem"] = ("application/x-pem-file", der_to_pem(pki.root))
    documents["/status/1"] = ("application/statuslist+jwt", pki.status_token().encode())
    return pki


def run(home: Path, *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"CANCUOC_HOME": str(home), "LANG": "en"})


@pytest.fixture
def clinic(tmp_path: Path, pki: Pki, base: str) -> Path:
    """An initialised and enrolled clinic under tmp_path/home."""
    home = tmp_path / "home"
    result = run(
        home,
        "verifier",
        "init",
        "--name",
        "Phòng khám Hà Nội",
        "--trust-anchor",
        f"{base}/pki/root.pem",
        "--server",
        base,
    )
    assert result.exit_code == 0, result.output
    public = home / "verifier" / "clinic-public.jwk"
    registration = tmp_path / "reg.json"
    registration.write_bytes(msgspec.json.encode(pki.registration_answer(public)))
    result = run(home, "verifier", "enroll", str(registration))
    assert result.exit_code == 0, result.output
    return home


def offline_request(
    home: Path, tmp_path: Path, preset: str = "clinic-checkin"
) -> tuple[Path, AuthorizationRequest]:
    out = tmp_path / "request.jwt"
    result = run(home, "verifier", "request", "--preset", preset, "--offline", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    payload = decode_jws_unverified(out.read_text().strip()).payload
    return out, msgspec.convert(payload, AuthorizationRequest)


def cache_status(home: Path, pki: Pki, *, age: timedelta = timedelta(0)) -> None:
    fetched = datetime.now(UTC) - age
    token = pki.status_token(iat=fetched)
    VerifierState.at(home).cache_status(
        CachedStatusList(uri=pki.list_uri, token=token, fetched_at=fetched.timestamp(), ttl=300)
    )


def answered(home: Path, tmp_path: Path, pki: Pki, **changes: Any) -> tuple[Path, Path]:
    request_file, request = offline_request(home, tmp_path)
    response = wallet_answer(request, pki.credentials(), pki.holder)
    response.update(changes)
    response_file = tmp_path / "response.json"
    response_file.write_bytes(msgspec.json.encode(response))
    return response_file, request_file


def check(home: Path, response: Path, request: Path, *options: str) -> tuple[int, dict[str, Any]]:
    result = run(home, "verifier", "check", str(response), "--request", str(request), "--json", *options)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, msgspec.json.decode(result.stdout)


def failed(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["name"], c["code"]) for c in report["checks"] if not c["ok"]}


def test_init_pins_the_root_and_keeps_the_key_private(clinic: Path, pki: Pki) -> None:
    folder = clinic / "verifier"
    assert stat.S_IMODE(os.stat(folder / "clinic-key.pem").st_mode) == 0o600
    assert (folder / "trust-anchor.pem").read_bytes() == der_to_pem(pki.root)
    shown = msgspec.json.decode(run(clinic, "verifier", "show", "--json").stdout)
    assert shown["enrolled"] is True
    assert shown["client_id"].startswith("x509_hash:")
    assert shown["purpose"] == "Check-in at the front desk"


def test_init_twice_is_refused(clinic: Path, base: str) -> None:
    result = run(clinic, "verifier", "init", "--name", "x", "--trust-anchor", f"{base}/pki/root.pem")
    assert result.exit_code == 2
    assert "already exists" in result.output


def test_enroll_refuses_a_certificate_under_another_root(tmp_path: Path, pki: Pki, base: str) -> None:
    home = tmp_path / "home"
    assert (
        run(home, "verifier", "init", "--name", "x", "--trust-anchor", f"{base}/pki/root.pem").exit_code == 0
    )
    other = make_pki(base)
    registration = tmp_path / "reg.json"
    registration.write_bytes(
        msgspec.json.encode(other.registration_answer(home / "verifier" / "clinic-public.jwk"))
    )
    result = run(home, "verifier", "enroll", str(registration))
    assert result.exit_code == 1
    assert "untrusted_certificate" in result.output
    assert not VerifierState.at(home).enrolled()


def test_offline_answer_is_valid(clinic: Path, tmp_path: Path, pki: Pki) -> None:
    cache_status(clinic, pki)
    response, request = answered(clinic, tmp_path, pki)
    code, report = check(clinic, response, request, "--offline")
    assert code == 0, failed(report)
    assert report["valid"] is True
    assert {c["vct"] for c in report["credentials"]} == {IDENTITY, HEALTH}
    assert all(c["status"] == "valid" for c in report["credentials"])


def test_human_report_prints_the_verdict_and_saves_the_portrait(
    clinic: Path, tmp_path: Path, pki: Pki
) -> None:
    cache_status(clinic, pki)
    response, request = answered(clinic, tmp_path, pki)
    result = run(clinic, "verifier", "check", str(response), "--request", str(request), "--offline")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("VALID")
    assert list((clinic / "verifier" / "portraits").glob("portrait-*"))


def test_wrong_state_is_invalid(clinic: Path, tmp_path: Path, pki: Pki) -> None:
    cache_status(clinic, pki)
    response, request = answered(clinic, tmp_path, pki, state="another")
    code, report = check(clinic, response, request, "--offline")
    assert code == 1
    assert ("state", "invalid_response") in failed(report)


def test_tampered_signature_is_invalid(clinic: Path, tmp_path: Path, pki: Pki) -> None:
    cache_status(clinic, pki)
    response, request = answered(clinic, tmp_path, pki)
    answer = msgspec.json.decode(response.read_bytes())
    jws, _, rest = answer["vp_token"]["identity"][0].partition("~")
    head, payload, signature = jws.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    answer["vp_token"]["identity"][0] = f"{head}.{payload}.{flipped}~{rest}"
    response.write_bytes(msgspec.json.encode(answer))
    code, report = check(clinic, response, request, "--offline")
    assert code == 1
    assert ("signature", "invalid_signature") in failed(report)


def test_stale_status_fails_closed_unless_allowed(clinic: Path, tmp_path: Path, pki: Pki) -> None:
    cache_status(clinic, pki, age=timedelta(hours=2))
    response, request = answered(clinic, tmp_path, pki)
    code, report = check(clinic, response, request, "--offline")
    assert code == 1
    assert ("status", "invalid_status_list") in failed(report)
    code, report = check(clinic, response, request, "--offline", "--allow-stale", "3h")
    assert code == 0, failed(report)
    code, report = check(clinic, response, request, "--offline", "--allow-stale", "1h")
    assert code == 1


def test_no_cache_offline_fails_closed(clinic: Path, tmp_path: Path, pki: Pki) -> None:
    response, request = answered(clinic, tmp_path, pki)
    code, report = check(clinic, response, request, "--offline")
    assert code == 1
    assert ("status", "invalid_status_list") in failed(report)


def test_online_check_fetches_and_caches_the_status_list(clinic: Path, tmp_path: Path, pki: Pki) -> None:
    response, request = answered(clinic, tmp_path, pki)
    code, report = check(clinic, response, request)
    assert code == 0, failed(report)
    assert VerifierState.at(clinic).cached_status(pki.list_uri) is not None


def test_sync_caches_certificates_and_status_lists(clinic: Path, tmp_path: Path, pki: Pki) -> None:
    result = run(clinic, "verifier", "sync", "--json")
    assert result.exit_code == 0, result.output
    synced = msgspec.json.decode(result.stdout)
    assert synced["status_lists"] == [pki.list_uri]
    assert {"mps", "vss", "status-list", "registrar"} <= set(synced["certificates"])
    response, request = answered(clinic, tmp_path, pki)
    code, report = check(clinic, response, request, "--offline")
    assert code == 0, failed(report)


def test_sync_refuses_a_server_with_another_root(
    clinic: Path, documents: dict[str, tuple[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_pki()
    bundle = {"root": der_to_pem(other.root).decode(), "certificates": {}, "status_lists": []}
    monkeypatch.setitem(documents, "/pki", ("application/json", msgspec.json.encode(bundle)))
    result = run(clinic, "verifier", "sync")
    assert result.exit_code == 1
    assert "not the pinned trust anchor" in result.output
    assert not (clinic / "verifier" / "cache" / "chains.json").exists()


def test_request_asking_more_than_registered_is_refused(clinic: Path, tmp_path: Path) -> None:
    out = tmp_path / "request.jwt"
    result = run(
        clinic, "verifier", "request", "--preset", "social-insurance", "--offline", "--out", str(out)
    )
    assert result.exit_code == 2
    assert "does not allow" in result.output


def test_bad_duration_is_misuse(clinic: Path, tmp_path: Path, pki: Pki) -> None:
    response, request = answered(clinic, tmp_path, pki)
    result = run(
        clinic, "verifier", "check", str(response), "--request", str(request), "--allow-stale", "soon"
    )
    assert result.exit_code == 2
    assert "not a duration" in result.output


def test_custom_dcql_within_the_registration(clinic: Path, tmp_path: Path) -> None:
    query = {
        "credentials": [
            {
                "id": "id",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [IDENTITY]},
                "claims": [{"path": ["full_name"]}],
            }
        ]
    }
    dcql = tmp_path / "query.json"
    dcql.write_bytes(msgspec.json.encode(query))
    out = tmp_path / "request.jwt"
    result = run(clinic, "verifier", "request", "--dcql", str(dcql), "--offline", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    request = decode_jws_unverified(out.read_text().strip())
    assert request.header["typ"] == "oauth-authz-req+jwt"
    assert request.payload["response_uri"] == "urn:cancuoc:offline"
    assert len(request.payload["nonce"]) >= 22
    saved = msgspec.json.decode(result.stdout)["saved"]
    assert Path(saved).read_text().strip() == out.read_text().strip()


class FakeRelay:
    """`RelayApi.result` answering pending ``pending`` times, then the answer."""

    def __init__(self, pending: int) -> None:
        self.pending = pending

    def result(self, transaction: object) -> dict[str, Any] | None:
        if self.pending:
            self.pending -= 1
            return None
        return {"vp_token": {}, "state": "s"}


def test_wait_for_answer_polls_until_answered_or_timeout() -> None:
    from client.verifier import NoAnswerError
    from client.verifier.request import wait_for_answer

    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    answer = wait_for_answer(FakeRelay(3), None, timeout=10, clock=lambda: clock[0], sleep=sleep)
    assert answer["state"] == "s"
    assert clock[0] == 3
    with pytest.raises(NoAnswerError):
        wait_for_answer(FakeRelay(100), None, timeout=5, clock=lambda: clock[0], sleep=sleep)
