"""Registered verifiers in the database: the certificate and registration record the registrar issued."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import insert, select

from server.store.database import Connection
from server.store.schema import verifiers


class VerifierRow(NamedTuple):
    client_id: str
    name: str
    purpose: str
    allowed: list[dict[str, Any]]
    certificate: bytes
    registration: str
    created_at: datetime


async def insert_verifier(connection: Connection, row: VerifierRow) -> None:
    await connection.execute(insert(verifiers).values(**row._asdict()))


async def find_verifier(connection: Connection, client_id: str) -> VerifierRow | None:
    found = (await connection.execute(select(verifiers).where(verifiers.c.client_id == client_id))).first()
    if found is None:
        return None
    return VerifierRow(
        client_id=str(found.client_id),
        name=str(found.name),
        purpose=str(found.purpose),
        allowed=list(found.allowed),
        certificate=bytes(found.certificate),
        registration=str(found.registration),
        created_at=found.created_at,
    )
