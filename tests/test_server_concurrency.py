"""Issue 3: 200 credential requests at once on a 2-worker server: no 500, no lost record, no reused index."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from issuance_helpers import PRE_AUTHORIZED_GRANT, run_sql
from server_process import RunningServer, running_server
from sqlalchemy import func, select

from server.config import load_config
from server.store.schema import credential_families, issuance_log, nonces, status_entries
from shared.jose import PrivateKey, generate_private_key, public_key_from_jwk
from shared.oid4vci import create_proof
from shared.sdjwt_vc import verify_credential

REQUESTS = 200
BATCH = 5
ISSUER = "mps"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    env = {"CANCUOC_DATABASE_URL": database_url, "CANCUOC_BATCH_SIZE": str(BATCH)}
    with running_server(tmp_path / "server", workers=2, env=env) as running:
        yield running


def access_token(server: RunningServer) -> str:
    """Seed a citizen, have an MPS officer offer the identity credential and redeem it (§4, §6)."""
    seeded = json.loads(server.command("seed", "--citizens", "3", "--seed", "1", "--json"))
    citizen_id = seeded[0]["citizen_id"]
    officer = {"Authorization": f"Bearer {server.create_operator('mps-officer')}"}
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        body = {"citizen_id": citizen_id, "credential_configuration_ids": ["identity"], "by_reference": False}
        made = client.post(f"/{ISSUER}/offers", json=body, headers=officer)
        assert made.status_code == 201, made.text
        grant = made.json()["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]
        form = {
            "grant_type": PRE_AUTHORIZED_GRANT,
            "pre-authorized_code": grant["pre-authorized_code"],
            "tx_code": made.json()["tx_code"],
        }
        token = client.post(f"/{ISSUER}/token", data=form)
        assert token.status_code == 200, token.text
        return str(token.json()["access_token"])


async def issue_in_parallel(
    server: RunningServer, token: str
) -> tuple[list[httpx.Response], list[list[PrivateKey]]]:
    """Fetch a nonce per request, sign BATCH proofs for each, then send all requests at once."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        fetched = await asyncio.gather(*(client.post(f"/{ISSUER}/nonce") for _ in range(REQUESTS)))
    assert {r.status_code for r in fetched} == {200}
    audience, now = f"{server.base_url}/{ISSUER}", int(time.time())
    keys = [[generate_private_key() for _ in range(BATCH)] for _ in range(REQUESTS)]
    bodies = [
        {
            "credential_identifier": "identity",
            "proofs": {
                "jwt": [
                    create_proof(key, audience=audience, nonce=r.json()["c_nonce"], issued_at=now)
                    for key in batch
                ]
            },
        }
        for r, batch in zip(fetched, keys, strict=True)
    ]
    auth = {"Authorization": f"Bearer {token}"}
    # A fresh pool, one connection per request: httpx stalls for seconds when 200 requests race for 200
    # idle pooled connections, while the server answers the burst in well under a second.
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60) as client:
        responses = await asyncio.gather(
            *(client.post(f"/{ISSUER}/credential", json=body, headers=auth) for body in bodies)
        )
    return list(responses), keys


async def row_counts(connection: Any) -> dict[str, Any]:
    async def scalar(query: Any) -> Any:
        return (await connection.execute(query)).scalar_one()

    log = select(issuance_log.c.list_id, issuance_log.c.idx).where(issuance_log.c.event == "issue")
    entries = select(status_entries.c.list_id, status_entries.c.idx, status_entries.c.family_id)
    return {
        "families": await scalar(select(func.count()).select_from(credential_families)),
        "entries": [tuple(row) for row in await connection.execute(entries)],
        "log": [tuple(row) for row in await connection.execute(log)],
        "used_nonces": await scalar(
            select(func.count()).select_from(nonces).where(nonces.c.used_at.is_not(None))
        ),
    }


def test_parallel_issuance_gives_distinct_entries_and_loses_no_record(
    server: RunningServer, database_url: str
) -> None:
    responses, keys = asyncio.run(issue_in_parallel(server, access_token(server)))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: REQUESTS}, (statuses, [r.text for r in responses if r.status_code != 200][:3])

    jwks = httpx.get(f"{server.base_url}/.well-known/jwt-vc-issuer/{ISSUER}").json()["jwks"]["keys"]
    published = public_key_from_jwk(jwks[0])  # the issuer's key; the status list signer's follows
    now = datetime.now(UTC)
    named, holders = [], []
    for response, batch in zip(responses, keys, strict=True):
        credentials = [item["credential"] for item in response.json()["credentials"]]
        verified = [verify_credential(c, published, now=now, key_binding=None) for c in credentials]
        assert [v.claims["cnf"]["jwk"] for v in verified] == [key.public.jwk for key in batch]
        holders += [key.public.thumbprint() for key in batch]
        for credential in verified:
            status = credential.claims["status"]["status_list"]
            named.append((status["uri"], status["idx"]))
    assert len(named) == REQUESTS * BATCH
    assert len(set(named)) == REQUESTS * BATCH
    assert len(set(holders)) == REQUESTS * BATCH

    config = load_config({"data_dir": server.data_dir, "database_url": database_url}, env={})
    stored = run_sql(config, row_counts)
    entries = {(list_id, idx) for list_id, idx, _ in stored["entries"]}
    from_credentials = {(int(uri.rsplit("/", 1)[1]), idx) for uri, idx in named}
    assert stored["families"] == REQUESTS
    assert len(stored["entries"]) == REQUESTS * BATCH
    assert set(Counter(family for _, _, family in stored["entries"]).values()) == {BATCH}
    assert entries == from_credentials
    assert len(stored["log"]) == REQUESTS * BATCH
    assert set(stored["log"]) == entries
    assert stored["used_nonces"] == REQUESTS
