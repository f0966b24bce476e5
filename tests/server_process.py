"""A real `cancuoc-server serve` process on a free loopback port, for tests that talk to it over TCP."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.server import Server, cancuoc_server


@dataclass(frozen=True)
class RunningServer(Server):
    """bench.server's running server, plus where its log and SQLite file are."""

    @property
    def log(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def sqlite_path(self) -> Path:
        """The SQLite database of the server (unless ``CANCUOC_DATABASE_URL`` points elsewhere)."""
        return self.data_dir / "cancuoc.db"


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
        yield RunningServer(server.port, server.data_dir, server.env)
