"""Issuance in the database: registry reads, credential families, status entries, the issuance log."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, insert, select

from server.store.database import Connection, insert_or_ignore
from server.store.schema import (
    credential_families,
    issuance_log,
    status_entries,
    status_lists,
)


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
    newest = select(func.max(status_lists.c.list_id)).where(status_lists.c.issuer == issuer).scalar_subquery()
    row = (
        await connection.execute(
            select(status_lists.c.list_id, status_lists.c.size).where(
                status_lists.c.issuer == issuer, status_lists.c.list_id == newest
            )
        )
    ).first()
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
    await connection.execute(
        insert(credential_families).values(
            id=family_id,
            issuer=issuer,
            citizen_id=citizen_id,
            configuration_id=configuration_id,
            vct=vct,
            status=0,
            issued_at=now,
        )
    )


async def claim_status_entries(
    connection: Connection, *, issuer: str, list_id: int, family_id: str, indices: Collection[int]
) -> set[int]:
    """Insert an entry per index in one statement; the indices that were free (taken ones are skipped)."""
    rows = [{"issuer": issuer, "list_id": list_id, "idx": idx, "family_id": family_id} for idx in indices]
    result = await connection.execute(
        insert_or_ignore(connection, status_entries).values(rows).returning(status_entries.c.idx)
    )
    return {int(idx) for idx in result.scalars()}


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
    await connection.execute(insert(issuance_log), rows)
