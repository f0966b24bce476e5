"""The wallet file's SQLite schema: creating it, connecting to it, and bringing older wallets up to date."""

from __future__ import annotations

import sqlite3
from pathlib import Path

STATUS_COLUMNS = {
    "status": "TEXT NOT NULL DEFAULT 'unknown'",
    "status_checked_at": "TEXT",
    "status_detail": "TEXT",
}
"""The last `wallet status` of each card: not personal data, so in clear; added to older wallets on open."""

SCHEMA = """
CREATE TABLE meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    scrypt_n INTEGER NOT NULL, scrypt_r INTEGER NOT NULL, scrypt_p INTEGER NOT NULL, salt BLOB NOT NULL,
    pin_check BLOB NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0
);
CREATE TABLE cards (
    id TEXT PRIMARY KEY, vct TEXT NOT NULL, issuer TEXT NOT NULL, configuration_id TEXT NOT NULL,
    created_at TEXT NOT NULL, blob BLOB NOT NULL
);
CREATE TABLE copies (
    id TEXT PRIMARY KEY, card_id TEXT NOT NULL REFERENCES cards (id) ON DELETE CASCADE,
    blob BLOB NOT NULL, used_for TEXT, used_at TEXT
);
CREATE INDEX copies_by_card ON copies (card_id);
"""

PRESENTATIONS = """
CREATE TABLE IF NOT EXISTS presentations (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, blob BLOB NOT NULL)
"""
"""The wallet log: one sealed row per presentation made (to whom, which claims, which copies)."""

META_COLUMNS = {"trust_anchor": "BLOB"}
"""The pinned national root certificate, sealed like every other row (a swapped anchor is tampering)."""


def connect(path: Path) -> sqlite3.Connection:
    """The wallet file with foreign keys on, deleted data overwritten, and every commit synced to disk."""
    connection = sqlite3.connect(path, isolation_level="DEFERRED")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA secure_delete = ON")
    connection.execute("PRAGMA synchronous = FULL")
    return connection


def create_tables(connection: sqlite3.Connection) -> None:
    """Every table of a new wallet, inside the caller's open transaction."""
    for statement in filter(str.strip, SCHEMA.split(";")):
        connection.execute(statement)
    for name, declaration in STATUS_COLUMNS.items():
        connection.execute(f"ALTER TABLE cards ADD COLUMN {name} {declaration}")
    connection.execute(PRESENTATIONS)
    for name, declaration in META_COLUMNS.items():
        connection.execute(f"ALTER TABLE meta ADD COLUMN {name} {declaration}")


def add_status_columns(connection: sqlite3.Connection) -> None:
    """Bring a wallet made before `wallet status` existed up to date (a no-op on newer wallets)."""
    present = {row[1] for row in connection.execute("PRAGMA table_info(cards)")}
    with connection:
        for name, declaration in STATUS_COLUMNS.items():
            if name not in present:
                connection.execute(f"ALTER TABLE cards ADD COLUMN {name} {declaration}")


def add_presentation_log(connection: sqlite3.Connection) -> None:
    """Bring a wallet made before `wallet present` existed up to date: the log table, the anchor column."""
    present = {row[1] for row in connection.execute("PRAGMA table_info(meta)")}
    with connection:
        connection.execute(PRESENTATIONS)
        for name, declaration in META_COLUMNS.items():
            if name not in present:
                connection.execute(f"ALTER TABLE meta ADD COLUMN {name} {declaration}")
