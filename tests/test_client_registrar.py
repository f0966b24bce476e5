"""`cancuoc admin verifier register` against a real server: presets, allow-list files, refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from server_process import RunningServer, running_server
from typer.testing import CliRunner

from client.cli import app, main
from shared.credentials import VCT_BY_TYPE
from shared.jose import generate_private_key, private_jwk
from shared.jose.x5c import x509_hash
from shared.jose.x509 import pem_to_der
from shared.oid4vp.registration import verify_registration

runner = CliRunner()
CARD, IDENTITY = VCT_BY_TYPE["health_insurance"], VCT_BY_TYPE["identity"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("registrar-server")) as running:
        yield running


@pytest.fixture(scope="module")
def env(server: RunningServer) -> dict[str, str]:
    return {"CANCUOC_SERVER": server.base_url, "CANCUOC_OPERATOR_TOKEN": server.create_operator("admin")}


@pytest.fixture
def public_key(tmp_path: Path) -> Path:
    path = tmp_path / "clinic-public.jwk"
    path.write_text(json.dumps(generate_private_key().public.jwk))
    return path


def register(env: dict[str, str], *args: str) -> object:
    return runner.invoke(
        app, ["admin", "verifier", "register", "--name", "Phòng khám Hoàn Mỹ", *args], env=env
    )


def test_a_preset_registration_prints_the_servers_answer(
    server: RunningServer, env: dict[str, str], public_key: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reg.json"
    result = register(
        env, "--purpose", "Check-in", "--public-key", str(public_key), "--allow", "clinic-checkin", "--json",
        "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    answer = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert json.loads(out.read_text()) == answer
    leaf = pem_to_der(answer["certificate"].encode())
    assert answer["client_id"] == f"x509_hash:{x509_hash(leaf)}"
    root = pem_to_der(httpx.get(f"{server.base_url}/pki/root.pem").content)
    registration = verify_registration(
        answer["registration"], [root], client_id=answer["client_id"], now=datetime.now(UTC)
    )
    allowed = {entry.vct: entry.claims for entry in registration.allowed}
    assert set(allowed) == {CARD, IDENTITY}
    assert ("card_number",) in allowed[CARD]
    assert ("portrait",) in allowed[IDENTITY]


def test_an_allow_list_file_and_a_preset_merge(env: dict[str, str], public_key: Path, tmp_path: Path) -> None:
    extra = tmp_path / "allow.json"
    extra.write_text(json.dumps([{"vct": IDENTITY, "claims": [["birth_date"]]}]))
    result = register(
        env,
        "--purpose",
        "Age",
        "--public-key",
        str(public_key),
        "--allow",
        "age-check",
        "--allow",
        str(extra),
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "\nx509_hash:" in result.output  # type: ignore[attr-defined]
    assert "age_over_18, birth_date" in result.output  # type: ignore[attr-defined]


def test_a_private_key_file_is_refused_before_anything_is_sent(env: dict[str, str], tmp_path: Path) -> None:
    secret = tmp_path / "clinic.jwk"
    secret.write_text(json.dumps(private_jwk(generate_private_key())))
    result = register(env, "--purpose", "x", "--public-key", str(secret), "--allow", "age-check")
    assert result.exit_code == 2
    assert "private key" in result.output  # type: ignore[attr-defined]


def test_an_unknown_preset_is_misuse(env: dict[str, str], public_key: Path) -> None:
    result = register(env, "--purpose", "x", "--public-key", str(public_key), "--allow", "everything")
    assert result.exit_code == 2
    assert "preset" in result.output  # type: ignore[attr-defined]


def test_a_server_refusal_is_one_line_and_exit_3(
    server: RunningServer, env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ed25519.jwk"
    path.write_text(
        json.dumps({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
    )
    argv = ["admin", "verifier", "register", "--name", "X", "--purpose", "x", "--public-key", str(path)]
    argv += ["--allow", "age-check", "--server", server.base_url, "--token", env["CANCUOC_OPERATOR_TOKEN"]]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 3
    assert capsys.readouterr().err == (
        "error: 400 invalid_request: public_jwk must be a P-256 EC public key (HAIP 1.0)\n"
    )
