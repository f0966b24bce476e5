"""A throw-away `cancuoc-server` process for `cancuoc demo` (the client never imports the server)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client.api import ServerApi

STARTUP_SECONDS = 30.0


class LocalServerError(Exception):
    """The local server could not be started or a server command failed."""


@dataclass(frozen=True)
class LocalServer:
    base_url: str
    data_dir: Path
    executable: str

    def run(self, *args: str) -> Any:
        """``cancuoc-server ARGS --data-dir DIR --json``, its JSON output decoded."""
        done = subprocess.run(  # noqa: S603 - our own console script with fixed arguments
            [self.executable, *args, "--data-dir", str(self.data_dir), "--json"],
            env=_environment(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise LocalServerError(f"cancuoc-server {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
        return json.loads(done.stdout)


def console_script(name: str) -> str:
    """The console script ``name`` beside this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise LocalServerError(f"{name} is not installed (run `make demo`, which installs it)")
    return found


@contextmanager
def local_server(data_dir: Path) -> Iterator[LocalServer]:
    """Start `cancuoc-server serve` on a free loopback port; stop it on exit."""
    executable = console_script("cancuoc-server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own console script with fixed arguments
        [executable, "serve", "--data-dir", str(data_dir), "--port", str(port)],
        env=_environment(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_healthy(base_url, process)
        yield LocalServer(base_url, data_dir, executable)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CANCUOC_")}


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalServerError(f"cancuoc-server exited with status {process.returncode} while starting")
        with ServerApi(base_url, timeout=1) as api:
            if api.healthy():
                return
        time.sleep(0.1)
    raise LocalServerError(f"cancuoc-server did not become healthy within {STARTUP_SECONDS:.0f} s")
