"""Shared fixtures: server tests run against SQLite and PostgreSQL (required when CI=true)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.server import postgres_database, postgres_unreachable


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a throw-away PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cancuoc.db'}"
        return
    unreachable = postgres_unreachable()
    if unreachable is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is unreachable: {unreachable}")
        pytest.skip(f"PostgreSQL unreachable: {unreachable}")
    with postgres_database(prefix="cancuoc_test") as url:
        yield url


class Clock:
    """A clock the test moves by hand (the server takes its `now` from it)."""

    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server_config(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    from server.config import load_config

    return load_config({"data_dir": tmp_path / "server", "database_url": database_url}, env={})


@pytest.fixture
def client(server_config, clock: Clock):  # type: ignore[no-untyped-def]
    """Litestar's test client (an httpx.Client) on the real app, its database migrated on startup."""
    from litestar.testing import TestClient

    from server.app import create_app

    with TestClient(create_app(server_config, clock=clock), base_url="http://127.0.0.1:8000") as test_client:
        yield test_client
