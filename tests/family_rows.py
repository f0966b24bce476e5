"""Rows written straight into the server's database: citizens, operators, credential families, status entries.

Plain synchronous SQLAlchemy Core, so one helper serves an async test (``connection.run_sync``) and a
test against a server process's SQLite file alike.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from server.store.schema import citizens, credential_families, operators, status_entries, status_lists
from shared.credentials import VCT_BY_TYPE, example_identity

T = TypeVar("T")
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LIST_SIZE = 1 << 17


def add_citizen(connection: Connection, citizen_id: str | None = None) -> str:
    """A registry row built from the example identity, under ``citizen_id`` if given."""
    record = msgspec.to_builtins(example_identity())
    if citizen_id is not None:
        record["citizen_id"] = citizen_id
    connection.execute(
        insert(citizens).values(citizen_id=record["citizen_id"], record=record, created_at=NOW)
    )
    return str(record["citizen_id"])


def add_operator(connection: Connection, role: str) -> str:
    """An operator with ``role``; returns its bearer token."""
    token = f"test-{role}-{secrets.token_hex(8)}"
    connection.execute(
        insert(operators).values(
            name=f"test {role}", role=role, token_hash=hashlib.sha256(token.encode()).digest(), created_at=NOW
        )
    )
    return token


def add_family(
    connection: Connection,
    *,
    issuer: str,
    citizen_id: str,
    configuration_id: str,
    entries: Sequence[tuple[int, int]],
    status: int = 0,
    list_size: int = LIST_SIZE,
) -> str:
    """A credential family with one status entry per (list_id, idx); missing lists are created."""
    family_id = secrets.token_hex(16)
    connection.execute(
        insert(credential_families).values(
            id=family_id,
            issuer=issuer,
            citizen_id=citizen_id,
            configuration_id=configuration_id,
            vct=VCT_BY_TYPE[configuration_id],
            status=status,
            issued_at=NOW,
        )
    )
    for list_id in sorted({list_id for list_id, _ in entries}):
        exists = connection.execute(
            select(status_lists.c.list_id).where(
                status_lists.c.issuer == issuer, status_lists.c.list_id == list_id
            )
        ).first()
        if exists is None:
            connection.execute(
                insert(status_lists).values(issuer=issuer, list_id=list_id, size=list_size, version=0)
            )
    connection.execute(
        insert(status_entries),
        [{"issuer": issuer, "list_id": lst, "idx": idx, "family_id": family_id} for lst, idx in entries],
    )
    return family_id


def run_on(database_url: str, action: Callable[[Connection], T]) -> T:
    """Run ``action`` in one committed transaction on the database at ``database_url``."""
    from server.store.database import Database

    async def run() -> T:
        database = Database(database_url)
        try:
            return await database.run_sync(action)
        finally:
            await database.close()

    return asyncio.run(run())


def rows(connection: Connection, table: Any) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in connection.execute(select(table))]
