"""The bench's issuance baseline (`bench.lean`) issues what it claims and refuses what it checks: a
baseline that skipped work would flatter it and shame the issuer."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import jwt
import pytest

from bench.inprocess import http_scope
from shared.jose import generate_private_key
from shared.oid4vci import create_proof

AUDIENCE = "http://127.0.0.1/lean"


def lean_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, check_proofs: bool) -> ModuleType:
    monkeypatch.setenv("BENCH_LEAN_DATABASE", str(tmp_path / "lean.sqlite"))
    monkeypatch.setenv("BENCH_LEAN_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("BENCH_LEAN_CHECK_PROOFS", "1" if check_proofs else "0")
    return importlib.reload(importlib.import_module("bench.lean"))


def post(lean: ModuleType, proofs: list[str]) -> tuple[int, Any]:
    body = json.dumps({"credential_identifier": "identity", "proofs": {"jwt": proofs}}).encode()
    scope = http_scope("POST", "/credential", [(b"content-type", b"application/json")])
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[Any] = []

    async def receive() -> Any:
        return messages.pop()

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(lean.app(scope, receive, send))
    return sent[0]["status"], json.loads(sent[1]["body"])


def proof(*, audience: str = AUDIENCE, issued_at: int | None = None) -> str:
    issued_at = int(time.time()) if issued_at is None else issued_at
    return create_proof(generate_private_key(), audience=audience, nonce="n", issued_at=issued_at)


def test_issues_one_bound_credential_per_proof_with_distinct_indices(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lean = lean_app(monkeypatch, tmp_path, check_proofs=True)
    proofs = [proof() for _ in range(3)]
    status, body = post(lean, proofs)
    assert status == 200
    public = lean._key.public_key()
    issued = [jwt.decode(c["credential"], public, algorithms=["ES256"]) for c in body["credentials"]]
    holders = [jwt.get_unverified_header(p)["jwk"] for p in proofs]
    assert [c["cnf"]["jwk"] for c in issued] == holders
    assert len({c["status"]["status_list"]["idx"] for c in issued}) == 3


@pytest.mark.parametrize("check_proofs", [True, False])
def test_refuses_a_proof_for_another_audience_or_stale(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, check_proofs: bool
) -> None:
    lean = lean_app(monkeypatch, tmp_path, check_proofs=check_proofs)
    assert post(lean, [proof(audience="http://elsewhere")]) == (400, {"error": "invalid_proof"})
    assert post(lean, [proof(issued_at=int(time.time()) - 3600)]) == (400, {"error": "invalid_proof"})


def test_checks_signatures_unless_told_not_to(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    head, payload, _ = proof().split(".")
    forged = f"{head}.{payload}.{proof().split('.')[2]}"
    assert post(lean_app(monkeypatch, tmp_path, check_proofs=True), [forged])[0] == 400
    assert post(lean_app(monkeypatch, tmp_path, check_proofs=False), [forged])[0] == 200
