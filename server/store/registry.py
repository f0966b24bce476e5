"""The registries in the database: citizens (MPS), health insurance cards and social insurance books (VSS).

Each row's ``record`` is ``msgspec.to_builtins`` of the validated record from ``shared.credentials``; the
tables are keyed by citizen ID and named here by credential configuration id.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select

from server.store.database import Connection
from server.store.prepared import prepared
from server.store.schema import citizens, health_cards, social_books

RECORD_TABLES: Mapping[str, Table] = MappingProxyType(
    {"identity": citizens, "health_insurance": health_cards, "social_insurance": social_books}
)
"""Configuration id → the table holding its records; citizens first, as the others refer to them."""

LOOKUP_CHUNK = 500
"""Citizen IDs per ``IN (...)`` query, well under SQLite's and asyncpg's bound-parameter limits."""

Entry = Mapping[str, Mapping[str, Any]]
"""One citizen's records by configuration id; ``identity`` is always present."""


async def insert_records(connection: Connection, entries: Sequence[Entry], *, now: datetime) -> None:
    """Insert citizens and their VSS records with one multi-row statement per table."""
    for kind, table in RECORD_TABLES.items():
        rows = [
            {"citizen_id": entry["identity"]["citizen_id"], "record": entry[kind]}
            for entry in entries
            if entry.get(kind) is not None
        ]
        if kind == "identity":
            for row in rows:
                row["created_at"] = now
        if rows:
            await connection.execute(insert(table), rows)


async def existing_citizen_ids(connection: Connection, citizen_ids: Collection[str]) -> set[str]:
    """Those of ``citizen_ids`` already in the population registry."""
    wanted, found = list(citizen_ids), set[str]()
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        result = await connection.execute(
            select(citizens.c.citizen_id).where(citizens.c.citizen_id.in_(chunk))
        )
        found.update(result.scalars())
    return found


_FIND_RECORD = {
    kind: prepared(select(table.c.record).where(table.c.citizen_id == bindparam("citizen_id")))
    for kind, table in RECORD_TABLES.items()
}


async def find_record(connection: Connection, kind: str, citizen_id: str) -> dict[str, Any] | None:
    """The stored record of configuration ``kind`` of ``citizen_id`` (``shared.credentials`` parses it)."""
    result = await connection.execute(_FIND_RECORD[kind], {"citizen_id": citizen_id})
    record = result.scalar_one_or_none()
    return None if record is None else dict(record)


async def find_records(
    connection: Connection, citizen_id: str, kinds: Collection[str] = tuple(RECORD_TABLES)
) -> dict[str, dict[str, Any]]:
    """The stored records of ``kinds`` that exist for ``citizen_id``, by configuration id."""
    records = {kind: await find_record(connection, kind, citizen_id) for kind in kinds}
    return {kind: record for kind, record in records.items() if record is not None}


async def registry_holdings(connection: Connection, citizen_id: str) -> frozenset[str] | None:
    """The configurations the registries hold a record of for this citizen; None for an unknown citizen."""
    found = set()
    for kind, table in RECORD_TABLES.items():
        row = (
            await connection.execute(select(table.c.citizen_id).where(table.c.citizen_id == citizen_id))
        ).first()
        if row is not None:
            found.add(kind)
    return frozenset(found) if "identity" in found else None


async def count_records(connection: Connection) -> dict[str, int]:
    """Rows per registry table, by configuration id."""
    counts = {}
    for kind, table in RECORD_TABLES.items():
        counts[kind] = int((await connection.execute(select(func.count()).select_from(table))).scalar_one())
    return counts
