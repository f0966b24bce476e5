"""Status lists and credential families in the database: entries, status changes, the signed-token cache."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import NamedTuple, overload

from sqlalchemy import exists, insert, select, update

from server.store.database import Connection, insert_or_ignore
from server.store.schema import citizens, credential_families, issuance_log, status_entries, status_lists

REVOKED = 1


class StatusListRow(NamedTuple):
    size: int
    version: int
    token: str | None
    token_version: int | None
    token_expires_at: datetime | None


class FamilyRow(NamedTuple):
    id: str
    configuration_id: str
    vct: str
    status: int
    issued_at: datetime
    status_changed_at: datetime | None


async def find_status_list(connection: Connection, issuer: str, list_id: int) -> StatusListRow | None:
    row = (
        await connection.execute(
            select(
                status_lists.c.size,
                status_lists.c.version,
                status_lists.c.token,
                status_lists.c.token_version,
                status_lists.c.token_expires_at,
            ).where(status_lists.c.issuer == issuer, status_lists.c.list_id == list_id)
        )
    ).first()
    if row is None:
        return None
    return StatusListRow(
        int(row.size), int(row.version), row.token, row.token_version, _aware(row.token_expires_at)
    )


async def create_status_list(connection: Connection, issuer: str, list_id: int, size: int) -> None:
    """Create an empty list unless another request just did."""
    statement = insert_or_ignore(connection, status_lists)
    await connection.execute(statement.values(issuer=issuer, list_id=list_id, size=size, version=0))


async def non_valid_entries(connection: Connection, issuer: str, list_id: int) -> list[tuple[int, int]]:
    """(idx, status) of every entry of the list whose family is not valid; the rest read as 0."""
    rows = await connection.execute(
        select(status_entries.c.idx, credential_families.c.status)
        .join(credential_families, credential_families.c.id == status_entries.c.family_id)
        .where(
            status_entries.c.issuer == issuer,
            status_entries.c.list_id == list_id,
            credential_families.c.status != 0,
        )
    )
    return [(int(idx), int(status)) for idx, status in rows]


async def save_status_list_token(
    connection: Connection, issuer: str, list_id: int, *, token: str, version: int, expires_at: datetime
) -> None:
    """Cache a signed token, unless a token of a newer list version is cached already."""
    await connection.execute(
        update(status_lists)
        .where(
            status_lists.c.issuer == issuer,
            status_lists.c.list_id == list_id,
            (status_lists.c.token_version.is_(None)) | (status_lists.c.token_version <= version),
        )
        .values(token=token, token_version=version, token_expires_at=expires_at)
    )


async def citizen_exists(connection: Connection, citizen_id: str) -> bool:
    found = await connection.execute(select(citizens.c.citizen_id).where(citizens.c.citizen_id == citizen_id))
    return found.first() is not None


async def find_families(
    connection: Connection,
    issuer: str,
    *,
    family_id: str | None = None,
    citizen_id: str | None = None,
) -> list[FamilyRow]:
    """The issuer's families with this id, or of this citizen (oldest first)."""
    query = select(
        credential_families.c.id,
        credential_families.c.configuration_id,
        credential_families.c.vct,
        credential_families.c.status,
        credential_families.c.issued_at,
        credential_families.c.status_changed_at,
    ).where(credential_families.c.issuer == issuer)
    if family_id is not None:
        query = query.where(credential_families.c.id == family_id)
    if citizen_id is not None:
        query = query.where(credential_families.c.citizen_id == citizen_id)
    rows = await connection.execute(query.order_by(credential_families.c.issued_at, credential_families.c.id))
    return [
        FamilyRow(
            r.id, r.configuration_id, r.vct, int(r.status), _aware(r.issued_at), _aware(r.status_changed_at)
        )
        for r in rows
    ]


async def change_family_status(
    connection: Connection,
    issuer: str,
    status: int,
    now: datetime,
    *,
    family_id: str | None = None,
    citizen_id: str | None = None,
) -> list[tuple[str, str]]:
    """Set ``status`` on the matching families that are neither in it already nor revoked; (id, vct) of each.

    One conditional UPDATE, so a concurrent revocation can never be undone by a reinstatement that read
    the family before it (and on SQLite the write lock is taken before anything is read).
    """
    statement = update(credential_families).where(
        credential_families.c.issuer == issuer,
        credential_families.c.status != status,
        credential_families.c.status != REVOKED,
    )
    if family_id is not None:
        statement = statement.where(credential_families.c.id == family_id)
    if citizen_id is not None:
        statement = statement.where(credential_families.c.citizen_id == citizen_id)
    result = await connection.execute(
        statement.values(status=status, status_changed_at=now).returning(
            credential_families.c.id, credential_families.c.vct
        )
    )
    return [(str(row.id), str(row.vct)) for row in result]


async def bump_list_versions(connection: Connection, family_ids: Collection[str]) -> None:
    """Mark every list holding an entry of these families as changed, so its token is signed anew."""
    holds_entry = exists().where(
        status_entries.c.issuer == status_lists.c.issuer,
        status_entries.c.list_id == status_lists.c.list_id,
        status_entries.c.family_id.in_(list(family_ids)),
    )
    await connection.execute(
        update(status_lists).where(holds_entry).values(version=status_lists.c.version + 1)
    )


async def append_status_events(
    connection: Connection, event: str, issuer: str, families: Sequence[tuple[str, str]], now: datetime
) -> None:
    """One issuance-log row per family: event, issuer, family id, vct and time; nothing personal."""
    rows = [{"event": event, "issuer": issuer, "family_id": f, "vct": vct, "at": now} for f, vct in families]
    await connection.execute(insert(issuance_log), rows)


@overload
def _aware(moment: datetime) -> datetime: ...
@overload
def _aware(moment: None) -> None: ...
def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; the server stores UTC only."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


async def all_status_lists(connection: Connection) -> list[tuple[str, int]]:
    """(issuer, list id) of every status list, in order: what a verifier may want to download."""
    rows = await connection.execute(
        select(status_lists.c.issuer, status_lists.c.list_id).order_by(
            status_lists.c.issuer, status_lists.c.list_id
        )
    )
    return [(str(issuer), int(list_id)) for issuer, list_id in rows]
