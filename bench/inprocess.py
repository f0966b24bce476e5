"""The credential endpoint's service in-process, without HTTP: µs per request on a fresh SQLite database.

``python -m bench.inprocess [--requests N] [--batch B] [--concurrency C] [--profile]``: what the store and
the signing cost per request, without the noise of an HTTP load generator on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from server.config import load_config
from server.context import ServerContext, system_clock
from server.keys import load_or_create_keys
from server.pki import load_or_create_pki
from server.services.issuance import issue_credentials
from server.services.offers import hash_secret
from server.services.registry import load_entries, synthetic_registry
from server.services.token import issue_nonce
from server.store.database import Database
from server.store.migrate import upgrade
from server.store.schema import access_tokens, offers, operators
from shared.jose import generate_private_key
from shared.oid4vci import create_proof

ISSUER = "mps"


async def prepare(context: ServerContext, requests: int, batch: int) -> list[tuple[str, bytes]]:
    """A citizen with an access token, and ``requests`` ready request bodies, each with fresh nonces."""
    now = context.clock()
    entries = synthetic_registry(3, 1, today=now.date())
    await load_entries(context, list(enumerate(entries)))
    citizen_id = entries[0].citizen_id
    token = secrets.token_urlsafe(32)
    async with context.database.transaction() as connection:
        await connection.execute(
            operators.insert().values(
                id=1, name="bench", role="mps-officer", token_hash=b"\0" * 32, created_at=now
            )
        )
        await connection.execute(
            offers.insert().values(
                id="bench",
                issuer=ISSUER,
                citizen_id=citizen_id,
                configuration_ids=["identity"],
                code_hash=b"\1" * 32,
                created_by=1,
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
        await connection.execute(
            access_tokens.insert().values(
                token_hash=hash_secret(token),
                offer_id="bench",
                issuer=ISSUER,
                citizen_id=citizen_id,
                configuration_ids=["identity"],
                expires_at=now + timedelta(hours=1),
            )
        )
    audience, issued_at = context.config.issuer_id(ISSUER), int(now.timestamp())
    bodies = []
    for _ in range(requests):
        proofs = []
        for _ in range(batch):
            nonce = (await issue_nonce(context, ISSUER))["c_nonce"]
            proofs.append(
                create_proof(generate_private_key(), audience=audience, nonce=nonce, issued_at=issued_at)
            )
        body = {"credential_identifier": "identity", "proofs": {"jwt": proofs}}
        bodies.append((f"Bearer {token}", json.dumps(body).encode()))
    return bodies


async def run(requests: int, batch: int, concurrency: int, profile: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="cancuoc-inprocess-") as data_dir:
        config = load_config({"data_dir": Path(data_dir), "batch_size": max(batch, 10)}, env={})
        config.data_dir.mkdir(parents=True, exist_ok=True)
        database = Database(config.database)
        await upgrade(database)
        keys = load_or_create_keys(config)
        context = ServerContext(
            config, database, keys, system_clock, pki=load_or_create_pki(config, system_clock(), keys)
        )
        bodies = await prepare(context, requests, batch)
        queue = list(reversed(bodies))

        async def client() -> None:
            while queue:
                authorization, body = queue.pop()
                await issue_credentials(context, ISSUER, authorization, "application/json", body)

        profiler = cProfile.Profile() if profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        if profiler:
            profiler.disable()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        await database.close()
    print(
        f"{requests} requests × {batch}, concurrency {concurrency}: "
        f"{elapsed / requests * 1e6:.0f} µs/request "
        f"({cpu / requests * 1e6:.0f} µs CPU), "
        f"{requests * batch / elapsed:.0f} credentials/s"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.batch, args.concurrency, args.profile))


if __name__ == "__main__":
    main()
