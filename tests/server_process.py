"""A real `cancuoc-server serve` process on a free loopback port, for tests that talk to it over TCP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

SERVER_COMMAND = Path(sys.executable).parent / "cancuoc-server"
"""The console script installed beside this interpreter (``python -m`` cannot run console scripts)."""
STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    data_dir: Path
    port: int
    log: Path
    env: Mapping[str, str]

    @property
    def sqlite_path(self) -> Path:
        """The SQLite database of the server (unless ``CANCUOC_DATABASE_URL`` points elsewhere)."""
        return self.data_dir / "cancuoc.db"

    def command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``cancuoc-server ARGS --data-dir DATA_DIR`` beside the running server."""
        return subprocess.run(  # noqa: S603 - our own console script, fixed arguments
            [str(SERVER_COMMAND), *args, "--data-dir", str(self.data_dir)],
            env=dict(self.env),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )

    def create_operator(self, role: str, name: str | None = None) -> str:
        """A new operator's bearer token, made by ``cancuoc-server operator create --json``."""
        done = self.command("operator", "create", "--role", role, "--name", name or f"test {role}", "--json")
        return str(json.loads(done.stdout)["token"])


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ``CANCUOC_*`` setting of the developer's, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANCUOC_")}
    return {**env, **(extra or {})}


@contextmanager
def running_server(
    data_dir: Path, *, workers: int = 1, env: Mapping[str, str] | None = None
) -> Iterator[RunningServer]:
    """Start the server on a free port, wait until `/health` answers 200, stop it on exit."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port, log = free_port(), data_dir / "server.log"
    full_env = clean_environment(env)
    arguments = ["serve", "--data-dir", str(data_dir), "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
            [str(SERVER_COMMAND), *arguments],
            env=full_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = RunningServer(f"http://127.0.0.1:{port}", data_dir, port, log, full_env)
    try:
        _wait_until_healthy(process, server)
        yield server
    finally:
        _stop(process)


def _wait_until_healthy(process: subprocess.Popen[bytes], server: RunningServer) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"cancuoc-server exited with {process.returncode}:\n{_tail(server.log)}")
        try:
            if httpx.get(f"{server.base_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"cancuoc-server not healthy after {STARTUP_SECONDS} s:\n{_tail(server.log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL to the session it leads (its workers too) if it does not stop in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(STOP_SECONDS)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(STOP_SECONDS)


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
