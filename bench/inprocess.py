"""The credential endpoint in-process, without a socket: µs per request on a fresh SQLite database.

``python -m bench.inprocess [--requests N] [--batch B] [--concurrency C] [--asgi] [--profile] [--rounds R]``:
what the store and the signing cost per request, without the noise of an HTTP load generator on a shared
machine. On a machine whose speed drifts, ``--rounds`` repeats the measurement (each on a fresh database)
and gives the median and the lowest CPU time per request.
With ``--asgi`` each request goes through the whole ASGI application (access log, time limit, routing,
error handlers) as granian would call it, so the difference to the service alone is the HTTP layer's cost.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from server.app import create_app
from server.config import ServerConfig, load_config
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
Sender = Callable[[str, bytes], Awaitable[None]]
"""Sends one credential request: its Authorization header and body."""


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


def http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """An HTTP/1.1 ASGI scope as granian hands one to the app, from 127.0.0.1 to port 8000."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def asgi_sender(config: ServerConfig) -> Sender:
    """Send one credential request through the whole ASGI application; fails unless it answers 200."""
    app = create_app(config, migrate=False)
    path = f"/{ISSUER}/credential"

    async def send_request(authorization: str, body: bytes) -> None:
        headers = [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", authorization.encode()),
        ]
        scope = http_scope("POST", path, headers)
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        statuses: list[int] = []

        async def receive() -> Any:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)  # type: ignore[arg-type]
        if statuses != [200]:
            raise RuntimeError(f"the credential endpoint answered {statuses}")

    return send_request


async def run(requests: int, batch: int, concurrency: int, profile: bool, asgi: bool) -> float:
    """One measurement, printed; returns the CPU seconds per request."""
    with tempfile.TemporaryDirectory(prefix="cancuoc-inprocess-") as data_dir:
        # Access lines go to a file, as under `bench.http` (the server's output is a file there too).
        flags = {"data_dir": Path(data_dir), "batch_size": max(batch, 10), "log_file": Path(data_dir) / "log"}
        config = load_config(flags, env={})
        config.data_dir.mkdir(parents=True, exist_ok=True)
        database = Database(config.database)
        await upgrade(database)
        keys = load_or_create_keys(config)
        context = ServerContext(
            config, database, keys, system_clock, pki=load_or_create_pki(config, system_clock(), keys)
        )
        bodies = await prepare(context, requests, batch)
        queue = list(reversed(bodies))

        async def call_service(authorization: str, body: bytes) -> None:
            await issue_credentials(context, ISSUER, authorization, "application/json", body)

        send_request = asgi_sender(config) if asgi else call_service

        async def client() -> None:
            while queue:
                await send_request(*queue.pop())

        gc.freeze()  # as `server.asgi` does once a worker has started
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
        f"{'ASGI app' if asgi else 'service'}, {requests} requests × {batch}, concurrency {concurrency}: "
        f"{elapsed / requests * 1e6:.0f} µs/request "
        f"({cpu / requests * 1e6:.0f} µs CPU), "
        f"{requests * batch / elapsed:.0f} credentials/s"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return cpu / requests


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--asgi", action="store_true", help="through the ASGI application, not the service")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--rounds", type=int, default=1, help="repeat, then print the median and lowest")
    args = parser.parse_args()
    cpu = [
        asyncio.run(run(args.requests, args.batch, args.concurrency, args.profile, args.asgi))
        for _ in range(args.rounds)
    ]
    if args.rounds > 1:
        print(
            f"{args.rounds} rounds: median {statistics.median(cpu) * 1e6:.0f} µs CPU per request, "
            f"lowest {min(cpu) * 1e6:.0f}"
        )


if __name__ == "__main__":
    main()
