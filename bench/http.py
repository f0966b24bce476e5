"""Issuance over HTTP on loopback: credentials/s and latency of `cancuoc-server serve`, beside its /ping."""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from bench.load import LoadResult, request, run_load
from bench.server import (
    HOST,
    Server,
    bare_granian,
    cancuoc_server,
    postgres_database,
    postgres_unreachable,
    uvicorn_server,
)
from shared.jose import generate_private_key
from shared.oid4vci import PRE_AUTHORIZED_GRANT, create_proof

CONCURRENCY = 64
BATCHES = (1, 10)
WORKERS = (1, 2)
DATABASES = ("sqlite", "postgresql")
ISSUER = "mps"
SEED_ARGUMENTS = ("--citizens", "20", "--seed", "1", "--json")
WARM_UP_REQUESTS = 2_000
REQUESTS_PER_TOKEN = 500
"""A holder's access token serves many credential requests; one offer and token per this many."""
SETUP_SECONDS = 120.0
BARE = "bare granian"
"""`bench.hello` under granian: no Litestar, no database, the machine's HTTP floor."""
ISSUE_BARE_REQUESTS_PER_SECOND = 29_000
"""What the issue measured for granian's hello world, one worker, on this machine."""
LEAN = "lean prototype"
"""`bench.lean` under granian: the issue's "lean prototype of issue + SQLite insert", on the same load."""
LEAN_UNCHECKED = "lean prototype, proofs unchecked"
"""`bench.lean` signing and inserting without checking the proofs' signatures."""
LEAN_AUDIENCE = "http://127.0.0.1/lean"


class Limits(NamedTuple):
    """A measurement stops after this many requests or this many seconds, whichever comes first."""

    requests: int
    seconds: float


@dataclass
class Measurement:
    """One run of the load generator against one server setup."""

    database: str
    workers: int
    server: str
    endpoint: str
    batch: int
    result: LoadResult
    server_cpu_seconds: float
    """User + system CPU the server's processes (workers included) used during the run."""

    @property
    def requests_per_second(self) -> float:
        return self.result.succeeded / self.result.seconds if self.result.seconds else 0.0

    @property
    def credentials_per_second(self) -> float:
        return self.requests_per_second * self.batch

    @property
    def per_worker(self) -> float:
        """Wall-clock credentials/s divided by the workers: not per core, since the load generator
        shares the machine's cores with the server."""
        return self.credentials_per_second / self.workers

    @property
    def per_server_cpu_second(self) -> float:
        """Answered requests (credentials, for issuance) per CPU-second of the server: what one core
        fully given to the server would sustain. 0 when the CPU could not be read."""
        done = self.result.succeeded * max(self.batch, 1)
        return done / self.server_cpu_seconds if self.server_cpu_seconds else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "workers": self.workers,
            "server": self.server,
            "endpoint": self.endpoint,
            "batch": self.batch,
            "requests": self.result.requests,
            "seconds": round(self.result.seconds, 3),
            "requests_per_second": round(self.requests_per_second, 1),
            "credentials_per_second": round(self.credentials_per_second, 1),
            "server_cpu_seconds": round(self.server_cpu_seconds, 2),
            "per_server_cpu_second": round(self.per_server_cpu_second, 1),
            "p50_ms": round(self.result.percentile(0.5), 2),
            "p99_ms": round(self.result.percentile(0.99), 2),
            "errors": self.result.errors,
            "statuses": {str(status): count for status, count in sorted(self.result.statuses.items())},
        }


@dataclass
class HttpFigures:
    """Every measurement of the HTTP section, and the setups that could not be measured."""

    measurements: list[Measurement]
    skipped: list[str]
    server_errors: list[str] = field(default_factory=list)
    """The servers' logged errors (5xx and worse), as logged: the cause of an error in the table."""

    @property
    def bare(self) -> Measurement | None:
        return next((m for m in self.measurements if m.server == BARE), None)

    def lean(self, workers: int, batch: int, name: str = LEAN) -> Measurement | None:
        return next(
            (m for m in self.measurements if (m.server, m.workers, m.batch) == (name, workers, batch)), None
        )

    def ping(self, database: str, workers: int, server: str = "granian") -> Measurement | None:
        return next(
            (
                m
                for m in self.measurements
                if (m.database, m.workers, m.server, m.endpoint) == (database, workers, server, "/ping")
            ),
            None,
        )


def measure(
    *,
    issuance: Limits,
    ping: Limits,
    databases: Sequence[str] = DATABASES,
    workers: Sequence[int] = WORKERS,
    uvicorn: bool = True,
    progress: Callable[[str], None] = lambda _: None,
) -> HttpFigures:
    """Run every (database × workers) setup; PostgreSQL is skipped with a note when it cannot be reached."""
    figures = HttpFigures([], [])
    progress("HTTP: the machine's floor, a bare granian hello world")
    with (
        tempfile.TemporaryDirectory(prefix="cancuoc-bench-") as data_dir,
        bare_granian(Path(data_dir)) as bare,
    ):
        figures.measurements.append(_ping(bare, "none", 1, BARE, ping, path="/"))
    if "sqlite" in databases:
        progress("HTTP: the baseline for issuance, the issue's lean prototype (bench.lean)")
        figures.measurements += _measure_lean(issuance, workers, check_proofs=True)
        figures.measurements += _measure_lean(issuance, [1], check_proofs=False)
    for database in databases:
        if database == "postgresql" and (reason := postgres_unreachable()):
            figures.skipped.append(f"PostgreSQL skipped: unreachable on loopback ({reason})")
            continue
        for count in workers:
            progress(f"HTTP: {database}, {count} worker{'s' * (count > 1)}")
            with _database_url(database) as url:
                measured, errors = _measure_setup(database, url, count, issuance, ping)
                figures.measurements += measured
                figures.server_errors += errors
    if uvicorn:
        progress("HTTP: /ping under uvicorn")
        with (
            tempfile.TemporaryDirectory(prefix="cancuoc-bench-") as data_dir,
            uvicorn_server(Path(data_dir), env={}) as server,
        ):
            figures.measurements.append(_ping(server, "sqlite", 1, "uvicorn", ping))
    return figures


@contextmanager
def _database_url(database: str) -> Iterator[str | None]:
    if database == "sqlite":
        yield None
        return
    with postgres_database() as url:
        yield url


def _measure_setup(
    database: str, url: str | None, workers: int, issuance: Limits, ping: Limits
) -> tuple[list[Measurement], list[str]]:
    """The setup's measurements, and the errors its server logged."""
    env = {"CANCUOC_BATCH_SIZE": str(max(BATCHES))}
    if url is not None:
        env["CANCUOC_DATABASE_URL"] = url
    with (
        tempfile.TemporaryDirectory(prefix="cancuoc-bench-") as data_dir,
        cancuoc_server(Path(data_dir), workers=workers, env=env) as server,
    ):
        citizens = [c["citizen_id"] for c in json.loads(server.command("seed", *SEED_ARGUMENTS))]
        officer = server.create_operator("mps-officer")
        measured = [_ping(server, database, workers, "granian", ping)]
        for batch in BATCHES:
            prepared = _credential_requests(server, officer, citizens, batch, issuance.requests)
            result, cpu = _timed_load(server, prepared, issuance.seconds)
            measured.append(Measurement(database, workers, "granian", "credential", batch, result, cpu))
        return measured, logged_errors(server.data_dir / "server.log")


def logged_errors(log: Path, limit: int = 3) -> list[str]:
    """The first ``limit`` error lines of a server's log (JSON lines; the error logger's carry frames)."""
    errors = []
    with log.open(errors="replace") as lines:
        for line in lines:
            if '"level":"error"' in line or '"level":"critical"' in line:
                errors.append(line.strip())
                if len(errors) == limit:
                    break
    return errors


def _measure_lean(issuance: Limits, workers: Sequence[int], *, check_proofs: bool) -> list[Measurement]:
    """`bench.lean` with each number of workers, on credential requests of each batch size (their
    nonces unchecked: it has no nonce store)."""
    name = LEAN if check_proofs else LEAN_UNCHECKED
    measured = []
    for count in workers:
        with tempfile.TemporaryDirectory(prefix="cancuoc-bench-") as data_dir:
            env = {
                "BENCH_LEAN_DATABASE": str(Path(data_dir) / "lean.sqlite"),
                "BENCH_LEAN_AUDIENCE": LEAN_AUDIENCE,
                "BENCH_LEAN_CHECK_PROOFS": "1" if check_proofs else "0",
            }
            with bare_granian(Path(data_dir), "bench.lean:app", env, workers=count) as lean:
                for batch in BATCHES:
                    requests = [
                        request(
                            "POST",
                            "/credential",
                            host=lean.authority,
                            headers={"Content-Type": "application/json"},
                            body=_credential_body(LEAN_AUDIENCE, secrets.token_urlsafe(16), batch),
                        )
                        for _ in range(issuance.requests)
                    ]
                    result, cpu = _timed_load(lean, requests, issuance.seconds)
                    measured.append(Measurement("sqlite", count, name, "credential", batch, result, cpu))
    return measured


def _ping(
    server: Server, database: str, workers: int, name: str, limits: Limits, *, path: str = "/ping"
) -> Measurement:
    raw = request("GET", path, host=server.authority)
    _load(server, [raw] * min(limits.requests, WARM_UP_REQUESTS), limits.seconds)
    result, cpu = _timed_load(server, [raw] * limits.requests, limits.seconds)
    return Measurement(database, workers, name, path, 0, result, cpu)


def _timed_load(server: Server, requests: Sequence[bytes], seconds: float) -> tuple[LoadResult, float]:
    """The run's result and the server CPU seconds it took."""
    before = server.cpu_seconds()
    result = _load(server, requests, seconds)
    return result, server.cpu_seconds() - before


def _load(
    server: Server, requests: Sequence[bytes], seconds: float, *, keep_bodies: bool = False
) -> LoadResult:
    return asyncio.run(
        run_load(
            HOST, server.port, requests, concurrency=CONCURRENCY, max_seconds=seconds, keep_bodies=keep_bodies
        )
    )


def _credential_requests(
    server: Server, officer: str, citizens: Sequence[str], batch: int, count: int
) -> list[bytes]:
    """Ready-to-send §8.2 requests: tokens, one c_nonce each, and ``batch`` proofs by fresh keys, all made
    before the clock starts."""
    tokens = [
        _access_token(server, officer, citizens[n % len(citizens)])
        for n in range(-(-count // REQUESTS_PER_TOKEN))
    ]
    fetched = _load(
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
        payload = _credential_body(audience, json.loads(body)["c_nonce"], batch)
        headers = {
            "Authorization": f"Bearer {tokens[n // REQUESTS_PER_TOKEN]}",
            "Content-Type": "application/json",
        }
        prepared.append(
            request("POST", f"/{ISSUER}/credential", host=server.authority, headers=headers, body=payload)
        )
    return prepared


def _credential_body(audience: str, nonce: str, batch: int) -> bytes:
    """A §8.2 request for the identity credential with ``batch`` proofs by fresh keys."""
    now = int(time.time())
    proofs = [
        create_proof(generate_private_key(), audience=audience, nonce=nonce, issued_at=now)
        for _ in range(batch)
    ]
    return json.dumps({"credential_identifier": "identity", "proofs": {"jwt": proofs}}).encode()


def _access_token(server: Server, officer: str, citizen_id: str) -> str:
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
