"""Operator accounts: bearer tokens with a role, stored as SHA-256 hashes only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select

from server.store.database import Connection
from server.store.schema import operators


async def insert_operator(
    connection: Connection, *, name: str, role: str, token_hash: bytes, now: datetime
) -> int:
    result = await connection.execute(
        insert(operators)
        .values(name=name, role=role, token_hash=token_hash, created_at=now)
        .returning(operators.c.id)
    )
    return int(result.scalar_one())


async def find_operator(connection: Connection, token_hash: bytes) -> tuple[int, str, str] | None:
    """(id, name, role) of the enabled operator with this token hash."""
    row = (
        await connection.execute(
            select(operators.c.id, operators.c.name, operators.c.role).where(
                operators.c.token_hash == token_hash, operators.c.disabled_at.is_(None)
            )
        )
    ).first()
    return None if row is None else (int(row.id), str(row.name), str(row.role))
