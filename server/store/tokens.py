"""Access tokens and c_nonces in the database, stored only as SHA-256 hashes."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select, update

from server.store.database import Connection
from server.store.prepared import prepared
from server.store.registry import RECORD_TABLES
from server.store.schema import access_tokens, nonces

# Built once: the hot path of every credential request should not rebuild and re-key its statements.
_FIND_ACCESS_TOKEN = prepared(
    select(access_tokens.c.citizen_id, access_tokens.c.configuration_ids).where(
        access_tokens.c.token_hash == bindparam("token_hash"),
        access_tokens.c.issuer == bindparam("issuer"),
        access_tokens.c.expires_at > bindparam("now"),
    )
)
_CONSUME_NONCES = prepared(
    update(nonces)
    .where(
        nonces.c.nonce_hash.in_(bindparam("hashes", expanding=True)),
        nonces.c.issuer == bindparam("nonce_issuer"),
        nonces.c.used_at.is_(None),
        nonces.c.expires_at > bindparam("now"),
    )
    .values(used_at=bindparam("now"))
)


_FIND_ACCESS_TOKEN_AND_RECORD = {
    kind: prepared(
        select(access_tokens.c.citizen_id, access_tokens.c.configuration_ids, table.c.record)
        .select_from(access_tokens.outerjoin(table, table.c.citizen_id == access_tokens.c.citizen_id))
        .where(
            access_tokens.c.token_hash == bindparam("token_hash"),
            access_tokens.c.issuer == bindparam("issuer"),
            access_tokens.c.expires_at > bindparam("now"),
        )
    )
    for kind, table in RECORD_TABLES.items()
}
"""The credential endpoint's first read: the grant and, in the same round trip, the record it asks for."""


class AccessGrant(NamedTuple):
    """What a live access token lets its bearer obtain."""

    citizen_id: str
    configuration_ids: list[str]


async def insert_access_token(
    connection: Connection,
    *,
    token_hash: bytes,
    offer_id: str,
    issuer: str,
    citizen_id: str,
    configuration_ids: list[str],
    expires_at: datetime,
) -> None:
    await connection.execute(
        insert(access_tokens).values(
            token_hash=token_hash,
            offer_id=offer_id,
            issuer=issuer,
            citizen_id=citizen_id,
            configuration_ids=configuration_ids,
            expires_at=expires_at,
        )
    )


async def find_access_token(
    connection: Connection, token_hash: bytes, issuer: str, now: datetime
) -> AccessGrant | None:
    """The grant of an unexpired token issued by ``issuer``."""
    parameters = {"token_hash": token_hash, "issuer": issuer, "now": now}
    row = (await connection.execute(_FIND_ACCESS_TOKEN, parameters)).first()
    return None if row is None else AccessGrant(str(row.citizen_id), list(row.configuration_ids))


async def find_access_token_and_record(
    connection: Connection, token_hash: bytes, issuer: str, now: datetime, kind: str
) -> tuple[AccessGrant | None, dict[str, Any] | None]:
    """`find_access_token`, and the holder's stored record of configuration ``kind`` if there is one.

    The record is read whether or not the grant covers ``kind``: the caller checks that before using it.
    """
    statement = _FIND_ACCESS_TOKEN_AND_RECORD.get(kind)
    if statement is None:
        return await find_access_token(connection, token_hash, issuer, now), None
    parameters = {"token_hash": token_hash, "issuer": issuer, "now": now}
    row = (await connection.execute(statement, parameters)).first()
    if row is None:
        return None, None
    grant = AccessGrant(str(row.citizen_id), list(row.configuration_ids))
    return grant, None if row.record is None else dict(row.record)


async def insert_nonce(connection: Connection, nonce_hash: bytes, issuer: str, expires_at: datetime) -> None:
    await connection.execute(
        insert(nonces).values(nonce_hash=nonce_hash, issuer=issuer, expires_at=expires_at)
    )


async def consume_nonces(
    connection: Connection, nonce_hashes: Collection[bytes], issuer: str, now: datetime
) -> int:
    """Mark these live, unused nonces of ``issuer`` used; how many were (all of them, or the caller fails)."""
    parameters = {"hashes": list(nonce_hashes), "nonce_issuer": issuer, "now": now}
    result = await connection.execute(_CONSUME_NONCES, parameters)
    return int(result.rowcount)
