"""Real server processes on loopback for the HTTP bench, and throw-away PostgreSQL databases for them."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from bench.load import LOOPBACK

SERVER_COMMAND = Path(sys.executable).parent / "cancuoc-server"
"""The console script installed beside this interpreter."""
HOST = "127.0.0.1"
POSTGRES_ADMIN_URL = os.environ.get(
    "CANCUOC_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
STARTUP_SECONDS = 60.0
STOP_SECONDS = 10.0


@dataclass(frozen=True)
class Server:
    """A running server: where it listens, its data directory and the environment it was given."""

    port: int
    data_dir: Path
    env: Mapping[str, str]
    session: int = 0
    """The session its first process leads (that process's pid): granian's workers share it."""

    def cpu_seconds(self) -> float:
        """User + system CPU seconds used so far by the server's live processes, workers included.

        Read from Linux /proc (0 elsewhere): every process of the server's session counts, since the
        server starts in a session of its own; the load generator and the commands beside it do not.
        """
        ticks = 0
        for entry in Path("/proc").glob("[0-9]*"):
            with suppress(OSError, IndexError, ValueError):
                # stat(5) after the command name: state, ppid, pgrp, session, …, utime (14), stime (15)
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if self.session and int(fields[3]) == self.session:
                    ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def authority(self) -> str:
        return f"{HOST}:{self.port}"

    def command(self, *args: str) -> str:
        """``cancuoc-server ARGS --data-dir DATA_DIR`` beside the server; its standard output."""
        done = subprocess.run(  # noqa: S603 - our own console script, fixed arguments
            [str(SERVER_COMMAND), *args, "--data-dir", str(self.data_dir)],
            env=dict(self.env),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout

    def create_operator(self, role: str) -> str:
        output = self.command("operator", "create", "--role", role, "--name", f"bench {role}", "--json")
        return str(json.loads(output)["token"])


@contextmanager
def cancuoc_server(data_dir: Path, *, workers: int, env: Mapping[str, str]) -> Iterator[Server]:
    """``cancuoc-server serve`` (granian) on a free loopback port, until the block ends."""
    port = free_port()
    arguments = ["serve", "--data-dir", str(data_dir), "--host", HOST, "--port", str(port)]
    with _process(
        [str(SERVER_COMMAND), *arguments, "--workers", str(workers)], data_dir, port, env
    ) as server:
        yield server


@contextmanager
def uvicorn_server(data_dir: Path, *, env: Mapping[str, str]) -> Iterator[Server]:
    """The same ASGI app under uvicorn, one worker, for the hello-world comparison."""
    port = free_port()
    settings = {"CANCUOC_DATA_DIR": str(data_dir), "CANCUOC_PUBLIC_URL": f"http://{HOST}:{port}"}
    arguments = ["server.asgi:app", "--host", HOST, "--port", str(port), "--no-access-log"]
    command = [sys.executable, "-m", "uvicorn", *arguments, "--log-level", "warning"]
    with _process(command, data_dir, port, {**env, **settings}) as server:
        yield server


@contextmanager
def bare_granian(
    data_dir: Path, app: str = "bench.hello:app", env: Mapping[str, str] | None = None, *, workers: int = 1
) -> Iterator[Server]:
    """Granian serving a bare ASGI app of the bench (``bench.hello``: no Litestar, no database; or
    ``bench.lean``)."""
    port = free_port()
    root = str(Path(__file__).resolve().parent.parent)
    arguments = ["--interface", "asgi", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    command = [sys.executable, "-m", "granian", *arguments, "--log-level", "warning", app]
    path = {"PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    with _process(command, data_dir, port, {**path, **(env or {})}) as server:
        yield server


@contextmanager
def _process(command: Sequence[str], data_dir: Path, port: int, env: Mapping[str, str]) -> Iterator[Server]:
    data_dir.mkdir(parents=True, exist_ok=True)
    full_env = {**{k: v for k, v in os.environ.items() if not k.startswith("CANCUOC_")}, **env}
    log = data_dir / "server.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
            list(command), env=full_env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        server = Server(port, data_dir, full_env, session=process.pid)
        _wait_until_up(process, server, log)
        yield server
    finally:
        _stop(process)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _wait_until_up(process: subprocess.Popen[bytes], server: Server, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{_tail(log)}")
        with suppress(httpx.TransportError):
            if httpx.get(f"{server.base_url}/ping", timeout=1.0).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the server did not answer within {STARTUP_SECONDS:.0f} s:\n{_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL to the whole session (workers too) if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(STOP_SECONDS)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(STOP_SECONDS)


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def postgres_unreachable() -> str | None:
    """Why the loopback PostgreSQL cannot be used, or None when it answers."""
    if urlsplit(POSTGRES_ADMIN_URL).hostname not in LOOPBACK:
        return f"the bench uses a PostgreSQL on loopback only, not {POSTGRES_ADMIN_URL}"
    try:
        _postgres_admin("SELECT 1")
    except (OSError, SQLAlchemyError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@contextmanager
def postgres_database(prefix: str = "cancuoc_bench") -> Iterator[str]:
    """A fresh database on the loopback PostgreSQL, dropped afterwards (the tests use it too)."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    _postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_admin(statement: str) -> None:
    async def run() -> None:
        engine = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())
