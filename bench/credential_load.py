"""Ready-made credential requests and timed load runs for the HTTP bench (`bench.http`)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Sequence

import httpx

from bench.load import LoadResult, request, run_load
from bench.server import HOST, Server
from shared.jose import generate_private_key
from shared.oid4vci import PRE_AUTHORIZED_GRANT, create_proof

CONCURRENCY = 64
ISSUER = "mps"
REQUESTS_PER_TOKEN = 500
"""A holder's access token serves many credential requests; one offer and token per this many."""
SETUP_SECONDS = 120.0
LEAN_AUDIENCE = "http://127.0.0.1/lean"
"""The ``aud`` that `bench.lean` is started with."""


def timed_load(server: Server, requests: Sequence[bytes], seconds: float) -> tuple[LoadResult, float]:
    """The run's result and the server CPU seconds it took."""
    before = server.cpu_seconds()
    result = load(server, requests, seconds)
    return result, server.cpu_seconds() - before


def load(
    server: Server, requests: Sequence[bytes], seconds: float, *, keep_bodies: bool = False
) -> LoadResult:
    return asyncio.run(
        run_load(
            HOST, server.port, requests, concurrency=CONCURRENCY, max_seconds=seconds, keep_bodies=keep_bodies
        )
    )


def credential_requests(
    server: Server, officer: str, citizens: Sequence[str], batch: int, count: int
) -> list[bytes]:
    """Ready-to-send §8.2 requests: tokens, one c_nonce each, and ``batch`` proofs by fresh keys, all made
    before the clock starts."""
    tokens = [
        access_token(server, officer, citizens[n % len(citizens)])
        for n in range(-(-count // REQUESTS_PER_TOKEN))
    ]
    fetched = load(
        server,
        [request("POST", f"/{ISSUER}/nonce", host=server.authority)] * count,
        SETUP_SECONDS,
        keep_bodies=True,
    )
    if fetched.errors or len(fetched.bodies) != count:
        raise RuntimeError(f"fetching {count} nonces failed: {fetched.statuses}")
    audience = f"{server.base_url}/{ISSUER}"
    prepared = []
    for n, body in enumerate(fetched.bodies):
        payload = credential_body(audience, json.loads(body)["c_nonce"], batch)
        headers = {
            "Authorization": f"Bearer {tokens[n // REQUESTS_PER_TOKEN]}",
            "Content-Type": "application/json",
        }
        prepared.append(
            request("POST", f"/{ISSUER}/credential", host=server.authority, headers=headers, body=payload)
        )
    return prepared


def credential_body(audience: str, nonce: str, batch: int) -> bytes:
    """A §8.2 request for the identity credential with ``batch`` proofs by fresh keys."""
    now = int(time.time())
    proofs = [
        create_proof(generate_private_key(), audience=audience, nonce=nonce, issued_at=now)
        for _ in range(batch)
    ]
    return json.dumps({"credential_identifier": "identity", "proofs": {"jwt": proofs}}).encode()


def access_token(server: Server, officer: str, citizen_id: str) -> str:
    """An identity offer for the citizen (§4.1), redeemed with its tx_code at the token endpoint (§6)."""
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        made = client.post(
            f"/{ISSUER}/offers",
            json={
                "citizen_id": citizen_id,
                "credential_configuration_ids": ["identity"],
                "by_reference": False,
            },
            headers={"Authorization": f"Bearer {officer}"},
        )
        made.raise_for_status()
        code = made.json()["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        form = {
            "grant_type": PRE_AUTHORIZED_GRANT,
            "pre-authorized_code": code,
            "tx_code": made.json()["tx_code"],
        }
        token = client.post(f"/{ISSUER}/token", data=form)
        token.raise_for_status()
        return str(token.json()["access_token"])


def lean_requests(server: Server, batch: int, count: int) -> list[bytes]:
    """Requests for `bench.lean`: the same bodies, each with its own nonce (it keeps no nonces)."""
    headers = {"Content-Type": "application/json"}
    return [
        request(
            "POST",
            "/credential",
            host=server.authority,
            headers=headers,
            body=credential_body(LEAN_AUDIENCE, secrets.token_urlsafe(16), batch),
        )
        for _ in range(count)
    ]
