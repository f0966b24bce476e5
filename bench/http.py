"""Issuance over HTTP on loopback: credentials/s and latency of `cancuoc-server serve`, beside its /ping."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from bench.credential_load import (
    LEAN_AUDIENCE,
    credential_requests,
    lean_requests,
    load,
    timed_load,
)
from bench.load import LoadResult, request
from bench.server import (
    Server,
    bare_granian,
    cancuoc_server,
    postgres_database,
    postgres_unreachable,
    uvicorn_server,
)

BATCHES = (1, 10)
WORKERS = (1, 2)
DATABASES = ("sqlite", "postgresql")
SEED_ARGUMENTS = ("--citizens", "20", "--seed", "1", "--json")
WARM_UP_REQUESTS = 2_000
BARE = "bare granian"
"""`bench.hello` under granian: no Litestar, no database, the machine's HTTP floor."""
ISSUE_BARE_REQUESTS_PER_SECOND = 29_000
"""What the issue measured for granian's hello world, one worker, on this machine."""
LEAN = "lean prototype"
"""`bench.lean` under granian: the issue's "lean prototype of issue + SQLite insert", on the same load."""
LEAN_UNCHECKED = "lean prototype, proofs unchecked"
"""`bench.lean` signing and inserting without checking the proofs' signatures."""
PARTS = 2
"""Each issuance run is cut into this many parts, alternated with the same parts of the baselines, so
that the machine's drift (a third within minutes, some days) falls on the issuer and its baseline alike."""


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

    def find(self, server: str, **fields: object) -> Measurement | None:
        """The first measurement of ``server`` whose attributes equal ``fields`` (database, workers,
        endpoint, batch), or None."""
        return next(
            (
                m
                for m in self.measurements
                if m.server == server and all(getattr(m, name) == value for name, value in fields.items())
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
    """The setup's measurements, and the errors its server logged. On SQLite the issue's lean
    prototype runs beside it with as many workers (and, with one worker, with its proofs unchecked),
    each issuance run alternated with the lean one in `PARTS`."""
    env = {"CANCUOC_BATCH_SIZE": str(max(BATCHES))}
    if url is not None:
        env["CANCUOC_DATABASE_URL"] = url
    with ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cancuoc-bench-")))
        server = stack.enter_context(cancuoc_server(data_dir / "issuer", workers=workers, env=env))
        baselines = {}
        for name, checked in ((LEAN, True), (LEAN_UNCHECKED, False)):
            if database == "sqlite" and (checked or workers == 1):
                baselines[name] = stack.enter_context(_lean(data_dir / name, workers, checked))
        citizens = [c["citizen_id"] for c in json.loads(server.command("seed", *SEED_ARGUMENTS))]
        officer = server.create_operator("mps-officer")
        measured = [_ping(server, database, workers, "granian", ping)]
        for batch in BATCHES:
            runs = {
                "granian": (server, credential_requests(server, officer, citizens, batch, issuance.requests))
            }
            for name, lean in baselines.items():
                runs[name] = (lean, lean_requests(lean, batch, issuance.requests))
            for name, (result, cpu) in _alternated(runs, issuance.seconds).items():
                measured.append(Measurement(database, workers, name, "credential", batch, result, cpu))
        return measured, logged_errors(server.data_dir / "server.log")


@contextmanager
def _lean(data_dir: Path, workers: int, check_proofs: bool) -> Iterator[Server]:
    env = {
        "BENCH_LEAN_DATABASE": str(data_dir / "lean.sqlite"),
        "BENCH_LEAN_AUDIENCE": LEAN_AUDIENCE,
        "BENCH_LEAN_CHECK_PROOFS": "1" if check_proofs else "0",
    }
    with bare_granian(data_dir, "bench.lean:app", env, workers=workers) as server:
        yield server


def _alternated(
    runs: dict[str, tuple[Server, list[bytes]]], seconds: float
) -> dict[str, tuple[LoadResult, float]]:
    """Each server's requests in `PARTS` parts, the servers taking turns; per server, the parts' load
    results combined and the server CPU seconds they took."""
    totals = {name: (LoadResult(), 0.0) for name in runs}
    for part in range(PARTS):
        for name, (server, requests) in runs.items():
            result, cpu = timed_load(server, requests[part::PARTS], seconds / PARTS)
            total, total_cpu = totals[name]
            totals[name] = (total.combined(result), total_cpu + cpu)
    return totals


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


def _ping(
    server: Server, database: str, workers: int, name: str, limits: Limits, *, path: str = "/ping"
) -> Measurement:
    raw = request("GET", path, host=server.authority)
    load(server, [raw] * min(limits.requests, WARM_UP_REQUESTS), limits.seconds)
    result, cpu = timed_load(server, [raw] * limits.requests, limits.seconds)
    return Measurement(database, workers, name, path, 0, result, cpu)
