"""`cancuoc wallet log`: one sealed row per presentation made — when, to whom, which claims, which copies.

Claim names only, never values: the log tells the citizen what was shared without keeping a second copy.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import msgspec

from client.wallet.crypto import seal, unseal

ClaimPathJson = list[str | int | None]


class LoggedCard(msgspec.Struct, frozen=True, kw_only=True):
    """One credential presented: the DCQL query it answered, the card and copy used, the claim paths shown."""

    query_id: str
    card_id: str
    copy_id: str
    vct: str
    issuer: str
    claims: list[ClaimPathJson]
    linkable: bool = False
    """The copy had already been shown to another verifier (no unused copy was left)."""


class LogEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One presentation, as `wallet log --json` prints it."""

    id: str
    at: str
    client_id: str
    clinic: str
    purpose: str
    delivered: str
    """``posted`` to the verifier's response_uri, or written to a ``file``."""
    cards: list[LoggedCard]


def insert_entry(db: sqlite3.Connection, key: bytes, entry: LogEntry) -> None:
    """Seal ``entry`` into the log, inside the caller's transaction."""
    blob = seal(key, msgspec.json.encode(entry), _row(entry.id, entry.at))
    db.execute(
        "INSERT INTO presentations (id, created_at, blob) VALUES (?, ?, ?)", (entry.id, entry.at, blob)
    )


def read_entries(db: sqlite3.Connection, key: bytes) -> list[LogEntry]:
    """Every logged presentation, oldest first; an altered row is a `TamperedError`."""
    rows = db.execute(
        "SELECT id, created_at, CAST(blob AS BLOB) FROM presentations ORDER BY created_at, rowid"
    ).fetchall()
    entries = []
    for entry_id, at, blob in rows:
        entry = msgspec.json.decode(unseal(key, blob, _row(entry_id, at)), type=LogEntry)
        entries.append(entry)
    return entries


def restore_entries(db: sqlite3.Connection, key: bytes, entries: Sequence[LogEntry]) -> None:
    """Put back the log of a backup, inside the caller's transaction."""
    for entry in entries:
        insert_entry(db, key, entry)


def _row(entry_id: str, at: str) -> str:
    return f"presentations:{entry_id}|{at}"
