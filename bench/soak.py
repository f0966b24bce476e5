"""The soak (issue 6): a fixed-duration, capped, loopback-only mixed load on PostgreSQL with 2 workers.

`cancuoc-server serve --workers 2` on a throw-away PostgreSQL database; ``CONCURRENCY`` keep-alive
connections, each a closed loop that alternates two whole flows, every step checked for its exact status:

- issuance (OID4VCI, pre-authorized code): an officer's offer → token with the tx_code → nonce →
  credential (identity, one proof by a fresh key made in the loop);
- relay (OID4VP cross-device): create a transaction → PUT the registered clinic's signed request object
  → the wallet GETs it → the wallet POSTs its answer (direct_post) → the clinic GETs the result once.

Nothing is pre-made but the citizens, the officer and the clinic (registered through `POST /verifiers`).
A short warm-up runs the same loops before the clock starts; its errors count too.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.credential_load import ISSUER
from bench.http import SEED_ARGUMENTS
from bench.load import CONNECTION_LOST
from bench.server import POSTGRES_ADMIN_URL, Server, cancuoc_server, postgres_database, postgres_unreachable
from bench.soak_flows import Clinic, Connection, Flows
from bench.soak_report import ERRORS_KEPT, KINDS, Run, summarize
from shared.jose import generate_private_key
from shared.jose.x509 import pem_to_der
from shared.oid4vp.presets import PRESETS, allowed_claims

SECONDS = 60.0
REQUEST_CAP = 300_000
"""At most this many HTTP requests in the timed run (a flow is started only if all its steps fit)."""
CONCURRENCY = 32
WORKERS = 2
WARM_UP_SECONDS = 3.0
STATISTICS_DELAY = 1.5
"""PostgreSQL publishes a backend's counters within a second (PostgreSQL 15: on idle, at most every 1 s)."""
_COUNTERS = text("SELECT xact_commit, xact_rollback, sessions FROM pg_stat_database WHERE datname = :name")
UNLIMITED = str(10**9)
SERVER_ENV = {"CANCUOC_TOKEN_RATE_LIMIT": UNLIMITED, "CANCUOC_RELAY_RATE_LIMIT": UNLIMITED}
"""The per-address limits stay counted (the same database writes) but are raised out of reach: each
connection makes far more token requests and relay transactions a minute than one citizen or clinic."""
SINGLE_ADDRESS = False
"""True: every connection from 127.0.0.1 (as behind a reverse proxy: see `server.services.rate_limits`),
so all of them update the same rate limit counter rows."""


def source(n: int) -> str:
    """Connection ``n``'s own loopback address (127.0.0.2 onwards), as if each were another client."""
    return "127.0.0.1" if SINGLE_ADDRESS else f"127.0.0.{2 + n % 250}"


def measure(
    seconds: float = SECONDS, cap: int = REQUEST_CAP, progress: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """The soak's figures as JSON-ready data; ``{"skipped": why}`` when PostgreSQL cannot be reached."""
    if reason := postgres_unreachable():
        return {"skipped": f"PostgreSQL unreachable ({reason})"}
    progress(f"soak: PostgreSQL, {WORKERS} workers, preparing")
    with (
        postgres_database("cancuoc_soak") as url,
        tempfile.TemporaryDirectory(prefix="cancuoc-soak-") as data_dir,
        cancuoc_server(
            Path(data_dir), workers=WORKERS, env={"CANCUOC_DATABASE_URL": url, **SERVER_ENV}
        ) as server,
    ):
        flows = _prepare(server)
        progress(f"soak: warm-up {WARM_UP_SECONDS:.0f} s")
        warm_up = asyncio.run(_run(server, flows, WARM_UP_SECONDS, cap))
        progress(f"soak: {seconds:.0f} s at {CONCURRENCY} connections, at most {cap:,} requests")
        database = url.rsplit("/", 1)[1]
        before = {**_cpu_seconds(server.port), **asyncio.run(_database_counters(database))}
        timed = asyncio.run(_run(server, flows, seconds, cap))
        time.sleep(STATISTICS_DELAY)
        after = {**_cpu_seconds(server.port), **asyncio.run(_database_counters(database))}
        used = {name: after[name] - before[name] for name in after}
        health = httpx.get(f"{server.base_url}/health", timeout=10).status_code
        log_problems = _log_problems(server.data_dir / "server.log")
    setup = {"workers": WORKERS, "concurrency": CONCURRENCY, "warm_up_seconds": WARM_UP_SECONDS}
    return summarize(
        timed, warm_up, setup, seconds=seconds, cap=cap, used=used, health=health, log=log_problems
    )


def _prepare(server: Server) -> Flows:
    """Citizens, an officer, and a clinic registered by an admin through the registrar endpoint."""
    citizens = [c["citizen_id"] for c in json.loads(server.command("seed", *SEED_ARGUMENTS))]
    officer, admin = server.create_operator("mps-officer"), server.create_operator("admin")
    key = generate_private_key()
    registration = {
        "name": "Phòng khám Đa khoa Soak",
        "purpose": "Load test check-in",
        "public_jwk": dict(key.public.jwk),
        "allowed": allowed_claims(PRESETS["clinic-checkin"]),
    }
    answer = httpx.post(
        f"{server.base_url}/verifiers",
        json=registration,
        headers={"Authorization": f"Bearer {admin}"},
        timeout=30,
    )
    answer.raise_for_status()
    registered = answer.json()
    clinic = Clinic(
        key=key,
        client_id=registered["client_id"],
        chain=[pem_to_der(pem.encode()) for pem in registered["chain"]],
        registration=registered["registration"],
    )
    return Flows(server.authority, f"{server.base_url}/{ISSUER}", citizens, officer, clinic, _presentation())


def _presentation() -> str:
    """A stand-in SD-JWT presentation of a realistic size (the relay never parses presentations)."""
    part = base64.urlsafe_b64encode(secrets.token_bytes(900)).decode().rstrip("=")
    return f"eyJhbGciOiJFUzI1NiJ9.{part}.c2ln~WyJzYWx0IiwibmFtZSIsIkEiXQ~eyJ0eXAiOiJrYitqd3QifQ.e30.a2I"


async def _run(server: Server, flows: Flows, seconds: float, cap: int) -> Run:
    run = Run()
    budget = [cap]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_loop(server, flows, run, budget, deadline, n) for n in range(CONCURRENCY)))
    run.seconds = time.perf_counter() - started
    return run


async def _loop(server: Server, flows: Flows, run: Run, budget: list[int], deadline: float, n: int) -> None:
    """One connection's closed loop: the kinds in turn (half the connections start with each)."""
    connection = Connection(server.port, source(n))
    try:
        for turn in itertools.count(n):
            kind = KINDS[turn % len(KINDS)]
            steps = flows.steps(kind)
            if time.perf_counter() >= deadline:
                return
            if budget[0] < steps:
                run.cap_reached = True
                return
            budget[0] -= steps

            def send(step: str, raw: bytes, expected: int, read: Any = bytes, kind: str = kind) -> Any:
                return _send(connection, run, kind, step, raw, expected, read)

            started = time.perf_counter()
            succeeded = await flows.run(kind, send)
            result = run.kinds[kind].flows
            result.requests += 1
            result.latencies.append(time.perf_counter() - started)
            result.errors += not succeeded
    finally:
        connection.close()


async def _send(
    connection: Connection,
    run: Run,
    kind: str,
    step: str,
    raw: bytes,
    expected: int,
    read: Callable[[bytes], Any] = bytes,
) -> Any:
    """Send one request and record it: ``read(body)`` when the status and answer are right, else None."""
    started = time.perf_counter()
    value, problem = None, None
    try:
        status, body = await connection.exchange(raw)
    except (OSError, EOFError, TimeoutError, ValueError) as exc:
        status, problem = CONNECTION_LOST, f"transport: {type(exc).__name__}: {exc}"
    else:
        if status != expected:
            problem = f"HTTP {status} (expected {expected}): {body[:300]!r}"
        else:
            try:
                value = read(body)
            except (ValueError, KeyError, TypeError) as exc:
                problem = f"HTTP {status} but {type(exc).__name__}: {exc}"
    run.record(kind, step, status, time.perf_counter() - started, problem)
    return value if problem is None else None


def _log_problems(log: Path) -> list[str]:
    """The server's log lines at level error or worse, or not JSON (a bare traceback): the first few."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            level = json.loads(line).get("level")
        except (ValueError, AttributeError):
            level = "not json"
        if level not in ("debug", "info", "warning"):
            found.append(line)
    return [line[:300] for line in found[:ERRORS_KEPT]] + [f"({len(found)} in all)"] * bool(found)


def _cpu_seconds(port: int) -> dict[str, float]:
    """CPU seconds used so far by the server (every process of its session) and by this load generator
    (Linux /proc; the server's count is 0 elsewhere)."""
    processes = []
    for entry in Path("/proc").glob("[0-9]*"):
        with suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            # stat(5), from the field after the name: state, ppid, pgrp, session, …, utime (14), stime (15)
            command = (entry / "cmdline").read_bytes()
            processes.append((int(fields[3]), int(fields[11]) + int(fields[12]), command))
    listening = f"--port\0{port}\0".encode()
    sessions = {session for session, _, command in processes if listening in command}
    used = sum(ticks for session, ticks, _ in processes if session in sessions)
    return {
        "server_cpu_seconds": used / os.sysconf("SC_CLK_TCK"),
        "load_generator_cpu_seconds": time.process_time(),
    }


async def _database_counters(database: str) -> dict[str, float]:
    """PostgreSQL's counters for ``database``: transactions committed and rolled back, sessions opened."""
    engine = create_async_engine(POSTGRES_ADMIN_URL)
    try:
        async with engine.connect() as connection:
            row = (await connection.execute(_COUNTERS, {"name": database})).one()
    finally:
        await engine.dispose()
    return {"commits": row.xact_commit, "rollbacks": row.xact_rollback, "sessions": row.sessions}
