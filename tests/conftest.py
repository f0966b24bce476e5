"""Shared fixtures: server tests run against SQLite and PostgreSQL (required when CI=true)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "CANCUOC_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def _postgres_admin(statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run() -> None:
        engine = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a throw-away PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cancuoc.db'}"
        return
    name = f"cancuoc_test_{secrets.token_hex(6)}"
    try:
        _postgres_admin(f'CREATE DATABASE "{name}"')
    except OSError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
