"""Credential offers in the database: hashed pre-authorized codes and tx_codes, redemption, SMS outbox."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import insert, update

from server.store.database import Connection
from server.store.schema import offers, outbox


class OfferGrant(NamedTuple):
    """What a redeemed pre-authorized code grants."""

    offer_id: str
    citizen_id: str
    configuration_ids: list[str]
    tx_code_hash: bytes | None


async def insert_offer(
    connection: Connection,
    *,
    offer_id: str,
    issuer: str,
    citizen_id: str,
    configuration_ids: list[str],
    code_hash: bytes,
    tx_code_hash: bytes,
    created_by: int,
    now: datetime,
    expires_at: datetime,
    fetched_at: datetime | None,
) -> None:
    await connection.execute(
        insert(offers).values(
            id=offer_id,
            issuer=issuer,
            citizen_id=citizen_id,
            configuration_ids=configuration_ids,
            code_hash=code_hash,
            tx_code_hash=tx_code_hash,
            failed_attempts=0,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
            fetched_at=fetched_at,
        )
    )


async def insert_outbox_message(
    connection: Connection, *, offer_id: str, citizen_id: str, channel: str, message: str, now: datetime
) -> None:
    await connection.execute(
        insert(outbox).values(
            offer_id=offer_id, citizen_id=citizen_id, channel=channel, message=message, created_at=now
        )
    )


async def mark_offer_fetched(
    connection: Connection, *, offer_id: str, issuer: str, code_hash: bytes, now: datetime
) -> list[str] | None:
    """Hand out a by-reference offer once: set its code and ``fetched_at``; its configurations, or None.

    One conditional UPDATE, so two concurrent fetches cannot both succeed.
    """
    result = await connection.execute(
        update(offers)
        .where(
            offers.c.id == offer_id,
            offers.c.issuer == issuer,
            offers.c.fetched_at.is_(None),
            offers.c.redeemed_at.is_(None),
            offers.c.expires_at > now,
        )
        .values(fetched_at=now, code_hash=code_hash)
        .returning(offers.c.configuration_ids)
    )
    row = result.first()
    return None if row is None else list(row.configuration_ids)


async def redeem_offer(
    connection: Connection, *, code_hash: bytes, issuer: str, now: datetime, max_attempts: int
) -> OfferGrant | None:
    """Mark the live offer with this code redeemed and return it; None when unknown, used, expired or dead.

    A conditional UPDATE (checked by its returned row) makes the code single use under concurrency; it is
    also the first statement of the transaction, so SQLite takes its write lock before anything is read.
    """
    result = await connection.execute(
        update(offers)
        .where(
            offers.c.code_hash == code_hash,
            offers.c.issuer == issuer,
            offers.c.redeemed_at.is_(None),
            offers.c.expires_at > now,
            offers.c.failed_attempts < max_attempts,
        )
        .values(redeemed_at=now)
        .returning(offers.c.id, offers.c.citizen_id, offers.c.configuration_ids, offers.c.tx_code_hash)
    )
    row = result.first()
    if row is None:
        return None
    tx_code_hash = None if row.tx_code_hash is None else bytes(row.tx_code_hash)
    return OfferGrant(str(row.id), str(row.citizen_id), list(row.configuration_ids), tx_code_hash)


async def count_failed_attempt(connection: Connection, offer_id: str) -> None:
    """Undo a redemption that gave a wrong tx_code and count the attempt (in the same transaction)."""
    await connection.execute(
        update(offers)
        .where(offers.c.id == offer_id)
        .values(redeemed_at=None, failed_attempts=offers.c.failed_attempts + 1)
    )
