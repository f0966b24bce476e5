"""Issuance in the database: credential families, status entries, the issuance log.

The statements of the credential endpoint are built once with bind parameters: rebuilding and
re-keying them per request cost more than running them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.dialects import sqlite

from server.store.database import Connection, insert_or_ignore
from server.store.prepared import prepared
from server.store.schema import (
    credential_families,
    issuance_log,
    status_entries,
    status_lists,
)

_NEWEST_LIST = prepared(
    select(status_lists.c.list_id, status_lists.c.size).where(
        status_lists.c.issuer == bindparam("issuer"),
        status_lists.c.list_id
        == select(func.max(status_lists.c.list_id))
        .where(status_lists.c.issuer == bindparam("issuer"))
        .scalar_subquery(),
    )
)
_INSERT_FAMILY = prepared(insert(credential_families))
_INSERT_LOG = prepared(insert(issuance_log))
_CLAIM_ENTRY: dict[str, Any] = {}
"""Dialect name → ``INSERT … ON CONFLICT DO NOTHING RETURNING idx`` of one status entry."""
_CLAIM_ENTRIES = prepared(sqlite.insert(status_entries).on_conflict_do_nothing())
"""SQLite: every wanted entry in one ``executemany``; the row count says whether all were free."""
_FAMILY_ENTRIES = prepared(
    select(status_entries.c.issuer, status_entries.c.list_id, status_entries.c.idx).where(
        status_entries.c.family_id == bindparam("family_id")
    )
)
"""By the family index alone: with the list's key columns in the WHERE, SQLite scans the list instead."""


class StatusListSlot(NamedTuple):
    """The list new status entries go to, and its size."""

    list_id: int
    size: int


class LogEntry(NamedTuple):
    """One issued copy, as the issuance log keeps it: nothing that names the citizen."""

    list_id: int
    idx: int
    credential_hash: str


async def current_status_list(connection: Connection, issuer: str) -> StatusListSlot | None:
    """The issuer's newest status list, if it has one."""
    row = (await connection.execute(_NEWEST_LIST, {"issuer": issuer})).first()
    return None if row is None else StatusListSlot(int(row.list_id), int(row.size))


async def ensure_status_list(connection: Connection, issuer: str, list_id: int, size: int) -> None:
    """Create the list unless it exists (another request may just have made it)."""
    await connection.execute(
        insert_or_ignore(connection, status_lists).values(
            issuer=issuer, list_id=list_id, size=size, version=0
        )
    )


async def insert_family(
    connection: Connection,
    *,
    family_id: str,
    issuer: str,
    citizen_id: str,
    configuration_id: str,
    vct: str,
    now: datetime,
) -> None:
    family = {
        "id": family_id,
        "issuer": issuer,
        "citizen_id": citizen_id,
        "configuration_id": configuration_id,
        "vct": vct,
        "status": 0,
        "issued_at": now,
    }
    await connection.execute(_INSERT_FAMILY, family)


async def claim_status_entries(
    connection: Connection, *, issuer: str, list_id: int, family_id: str, indices: Collection[int]
) -> set[int]:
    """Insert an entry per index; the indices that were free (taken ones are skipped, not fatal)."""
    rows = [{"issuer": issuer, "list_id": list_id, "idx": idx, "family_id": family_id} for idx in indices]
    if connection.dialect.name == "sqlite":
        if (await connection.execute(_CLAIM_ENTRIES, rows)).rowcount == len(rows):
            return set(indices)
        # Rare (a few entries of a list are taken): the family's entries in this list are the ones it holds.
        found = await connection.execute(_FAMILY_ENTRIES, {"family_id": family_id})
        held = {int(row.idx) for row in found if (row.issuer, row.list_id) == (issuer, list_id)}
        return held & set(indices)
    statement = _CLAIM_ENTRY.get(connection.dialect.name)
    if statement is None:
        statement = insert_or_ignore(connection, status_entries).returning(status_entries.c.idx)
        _CLAIM_ENTRY[connection.dialect.name] = statement
    free: set[int] = set()
    for row in rows:
        free.update(int(claimed) for claimed in (await connection.execute(statement, row)).scalars())
    return free


async def append_issue_events(
    connection: Connection,
    *,
    issuer: str,
    family_id: str,
    vct: str,
    kid: str | None,
    entries: Sequence[LogEntry],
    now: datetime,
) -> None:
    """One ``issue`` row per copy: issuer, family, vct, signing key, status entry and credential digest."""
    rows = [
        {
            "event": "issue",
            "issuer": issuer,
            "family_id": family_id,
            "vct": vct,
            "kid": kid,
            "list_id": entry.list_id,
            "idx": entry.idx,
            "credential_hash": entry.credential_hash,
            "at": now,
        }
        for entry in entries
    ]
    await connection.execute(_INSERT_LOG, rows)
