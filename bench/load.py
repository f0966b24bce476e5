"""A small closed-loop HTTP/1.1 load generator over keep-alive connections, for loopback benchmarks only."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

LOOPBACK = ("127.0.0.1", "localhost", "::1")
CONNECTION_LOST = 0
"""The status recorded when the server closes a connection instead of answering."""


@dataclass
class LoadResult:
    """What a run measured: completed requests, failures, wall time and per-request latencies."""

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    bodies: list[bytes] = field(default_factory=list)
    """Response bodies of 2xx answers, in completion order, when the run keeps them."""

    @property
    def succeeded(self) -> int:
        return self.requests - self.errors

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        """Latency in milliseconds at ``fraction`` (0.5 → p50, 0.99 → p99)."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    def combined(self, other: LoadResult) -> LoadResult:
        """Two runs as one: their requests, errors, times, latencies, statuses and bodies together."""
        statuses = dict(self.statuses)
        for status, count in other.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
        return LoadResult(
            self.requests + other.requests,
            self.errors + other.errors,
            self.seconds + other.seconds,
            self.latencies + other.latencies,
            statuses,
            self.bodies + other.bodies,
        )

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies) * 1000 if self.latencies else 0.0


def request(
    method: str, path: str, *, host: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    """Raw HTTP/1.1 request bytes."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length) if length else b""


async def _worker(
    host: str,
    port: int,
    queue: asyncio.Queue[bytes],
    result: LoadResult,
    deadline: float,
    keep_bodies: bool,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            try:
                raw = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            started = time.perf_counter()
            writer.write(raw)
            try:
                status, body = await _read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                status, body = CONNECTION_LOST, b""
            result.latencies.append(time.perf_counter() - started)
            result.requests += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if not 200 <= status < 300:
                result.errors += 1
            elif keep_bodies:
                result.bodies.append(body)
            if status == CONNECTION_LOST:
                return
    finally:
        writer.close()


async def run_load(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    concurrency: int = 64,
    max_seconds: float = 60.0,
    keep_bodies: bool = False,
) -> LoadResult:
    """Send ``requests`` over ``concurrency`` connections; stops when all are answered or time is up.

    A connection the server drops counts as one error with status 0 and ends that connection's loop.
    """
    if host not in LOOPBACK:
        raise ValueError("load tests target loopback only")
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for raw in requests:
        queue.put_nowait(raw)
    result = LoadResult()
    started = time.perf_counter()
    deadline = started + max_seconds
    await asyncio.gather(
        *(_worker(host, port, queue, result, deadline, keep_bodies) for _ in range(concurrency))
    )
    result.seconds = time.perf_counter() - started
    return result
