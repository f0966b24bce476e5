"""A real `cancuoc-server serve` process on a free loopback port, for tests that talk to it over TCP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.server import cancuoc_server

SERVER_COMMAND = Path(sys.executable).parent / "cancuoc-server"
"""The console script installed beside this interpreter (``python -m`` cannot run console scripts)."""


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


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any ``CANCUOC_*`` setting of the developer's, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANCUOC_")}
    return {**env, **(extra or {})}


@contextmanager
def running_server(
    data_dir: Path, *, workers: int = 1, env: Mapping[str, str] | None = None
) -> Iterator[RunningServer]:
    """Start the server on a free port (bench.server starts, waits for and stops it), stop it on exit."""
    with cancuoc_server(data_dir, workers=workers, env=dict(env or {})) as server:
        yield RunningServer(server.base_url, data_dir, server.port, data_dir / "server.log", server.env)
