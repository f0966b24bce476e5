"""OpenID4VP relay transactions in the database: hashed read tokens, request objects, single-use responses.

Each step is one conditional UPDATE checked by its row count, so two workers (or two requests of one
worker) cannot both store a request object, both answer, or both retrieve the answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import bindparam, delete, insert, select, update

from server.store.database import Connection
from server.store.schema import verifiers, vp_transactions
from shared.jose.x509 import pem_to_der

_FIND = select(
    vp_transactions.c.read_token_hash,
    vp_transactions.c.request_object,
    vp_transactions.c.state,
    vp_transactions.c.response,
    vp_transactions.c.answered_at,
).where(vp_transactions.c.id == bindparam("id"), vp_transactions.c.expires_at > bindparam("now"))


class TransactionRow(NamedTuple):
    """A live transaction as stored; ``response`` is None before the answer and after its retrieval."""

    read_token_hash: bytes
    request_object: str | None
    state: str | None
    response: str | None
    answered_at: datetime | None


async def purge_expired_transactions(connection: Connection, now: datetime) -> None:
    """Forget every expired transaction, with whatever request or answer it still held."""
    await connection.execute(delete(vp_transactions).where(vp_transactions.c.expires_at <= now))


async def insert_transaction(
    connection: Connection,
    *,
    transaction_id: str,
    read_token_hash: bytes,
    now: datetime,
    expires_at: datetime,
) -> None:
    await connection.execute(
        insert(vp_transactions).values(
            id=transaction_id, read_token_hash=read_token_hash, created_at=now, expires_at=expires_at
        )
    )


async def find_transaction(
    connection: Connection, transaction_id: str, now: datetime
) -> TransactionRow | None:
    """The transaction unless it is unknown or expired."""
    row = (await connection.execute(_FIND, {"id": transaction_id, "now": now})).first()
    if row is None:
        return None
    answered_at = row.answered_at
    if answered_at is not None and answered_at.tzinfo is None:
        answered_at = answered_at.replace(tzinfo=UTC)  # SQLite hands back naive datetimes
    return TransactionRow(
        bytes(row.read_token_hash), row.request_object, row.state, row.response, answered_at
    )


async def set_request_object(
    connection: Connection, transaction_id: str, request_object: str, state: str, now: datetime
) -> bool:
    """Attach the signed request object once; False when the transaction has one already or is gone."""
    result = await connection.execute(
        update(vp_transactions)
        .where(
            vp_transactions.c.id == transaction_id,
            vp_transactions.c.request_object.is_(None),
            vp_transactions.c.answered_at.is_(None),
            vp_transactions.c.expires_at > now,
        )
        .values(request_object=request_object, state=state)
    )
    return int(result.rowcount) == 1


async def store_response(connection: Connection, transaction_id: str, response: str, now: datetime) -> bool:
    """Keep the wallet's answer; False when the transaction was answered already or is gone (P19)."""
    result = await connection.execute(
        update(vp_transactions)
        .where(
            vp_transactions.c.id == transaction_id,
            vp_transactions.c.request_object.is_not(None),
            vp_transactions.c.answered_at.is_(None),
            vp_transactions.c.expires_at > now,
        )
        .values(response=response, answered_at=now)
    )
    return int(result.rowcount) == 1


async def take_response(connection: Connection, transaction_id: str, now: datetime) -> str | None:
    """Hand out the answer once: read it, then erase it and the request object; None if there is none.

    The row stays (without its secrets) until it expires, so a late second post is still refused.
    """
    found = await find_transaction(connection, transaction_id, now)
    if found is None or found.response is None:
        return None
    result = await connection.execute(
        update(vp_transactions)
        .where(vp_transactions.c.id == transaction_id, vp_transactions.c.response.is_not(None))
        .values(response=None, request_object=None)
    )
    return found.response if int(result.rowcount) == 1 else None


async def find_verifier_certificate(connection: Connection, client_id: str) -> bytes | None:
    """The DER certificate a verifier was registered with, or None for an unknown client id."""
    statement = select(verifiers.c.certificate).where(verifiers.c.client_id == client_id)
    row = (await connection.execute(statement)).first()
    if row is None:
        return None
    certificate = row.certificate
    if isinstance(certificate, str):
        return pem_to_der(certificate.encode("ascii"))
    certificate = bytes(certificate)
    return pem_to_der(certificate) if certificate.startswith(b"-----BEGIN") else certificate
