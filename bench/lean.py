"""The issue's "lean prototype of issue + SQLite insert" as a bare ASGI app: the bench's issuance baseline.

Issue 3 set its targets from such a prototype (about 3,000 requests/s per core on this machine). This one
is written the plain way with the required libraries, so that each run measures it beside the real
issuer on the same requests: PyJWT checks each proof (``typ``, ES256 signature by its ``jwk``, ``aud``,
``iat``, a ``nonce`` present) and signs one JWT bound to its key; each copy gets a random status index,
unique by the table's primary key, and each request commits its rows once (WAL, ``synchronous=NORMAL``,
as the issuer). Everything the issuer does beyond that is left out: access tokens, single-use nonces,
registry records, selective disclosure, certificate chains, families, the issuance log, access lines,
time limits, group commit and Litestar. Bad input gets 400 with no detail.

Configured by ``BENCH_LEAN_DATABASE`` (the SQLite file) and ``BENCH_LEAN_AUDIENCE`` (the proofs' ``aud``).
With ``BENCH_LEAN_CHECK_PROOFS=0`` the proofs' signatures go unchecked (their claims still are): issue and
insert only, which is what the issue's figure of about 3,000 per core matches on this machine.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from typing import Any

import jwt
import msgspec
from cryptography.hazmat.primitives.asymmetric import ec

STATUS_LIST_SIZE = 1 << 20
CLAIMS = {
    "iss": "http://127.0.0.1/lean",
    "vct": "urn:eudi:pid:1",
    "given_name": "Nguyễn Văn",
    "family_name": "An",
    "birthdate": "1990-01-01",
}
_JSON = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]

_key = ec.generate_private_key(ec.SECP256R1())
_audience = os.environ.get("BENCH_LEAN_AUDIENCE", "")
_check_proofs = os.environ.get("BENCH_LEAN_CHECK_PROOFS", "1") != "0"
_database = sqlite3.connect(os.environ.get("BENCH_LEAN_DATABASE", ":memory:"), isolation_level=None)
_database.executescript(
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS credentials (idx INTEGER PRIMARY KEY, holder TEXT NOT NULL, "
    "issued_at INTEGER NOT NULL)"
)


class _Proofs(msgspec.Struct):
    jwt: list[str]


class _Request(msgspec.Struct):
    proofs: _Proofs


_decode_request = msgspec.json.Decoder(_Request).decode


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["method"] == "GET":  # the bench's readiness probe
        await _answer(send, 200, b'"pong"')
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    now = int(time.time())
    try:
        holders = [_holder(proof, now) for proof in _decode_request(body).proofs.jwt]
    except (msgspec.ValidationError, msgspec.DecodeError, jwt.PyJWTError, KeyError, TypeError):
        await _answer(send, 400, b'{"error":"invalid_proof"}')
        return
    indices = _claim([jwk["x"] for jwk in holders], now)
    credentials = [{"credential": _sign(jwk, idx, now)} for jwk, idx in zip(holders, indices, strict=True)]
    await _answer(send, 200, msgspec.json.encode({"credentials": credentials}))


def _holder(proof: str, now: int) -> dict[str, Any]:
    """The key a proof proves (its ``jwk``), once its header, signature and claims are checked."""
    header = jwt.get_unverified_header(proof)
    if header.get("typ") != "openid4vci-proof+jwt":
        raise jwt.InvalidTokenError("wrong typ")
    holder = jwt.PyJWK(header["jwk"], algorithm="ES256") if _check_proofs else ""
    claims = jwt.decode(
        proof,
        holder,
        algorithms=["ES256"],
        audience=_audience,
        options={"require": ["iat", "nonce"], "verify_signature": _check_proofs, "verify_aud": True},
    )
    if abs(now - claims["iat"]) > 300:
        raise jwt.InvalidTokenError("stale iat")
    return dict(header["jwk"])


def _claim(holders: list[str], now: int) -> list[int]:
    """A free random status index per copy, committed in one transaction (a taken one is drawn again)."""
    indices = []
    _database.execute("BEGIN IMMEDIATE")
    try:
        for holder in holders:
            while True:
                idx = secrets.randbelow(STATUS_LIST_SIZE)
                try:
                    _database.execute("INSERT INTO credentials VALUES (?, ?, ?)", (idx, holder, now))
                    break
                except sqlite3.IntegrityError:
                    continue
            indices.append(idx)
        _database.execute("COMMIT")
    except BaseException:
        _database.execute("ROLLBACK")
        raise
    return indices


def _sign(holder: dict[str, Any], idx: int, now: int) -> str:
    payload = {
        **CLAIMS,
        "iat": now,
        "cnf": {"jwk": holder},
        "status": {"status_list": {"idx": idx, "uri": "http://127.0.0.1/lean/status/1"}},
    }
    return jwt.encode(payload, _key, algorithm="ES256", headers={"typ": "dc+sd-jwt"})


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [*_JSON, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
