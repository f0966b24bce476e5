"""The wallet's one file: `wallet.db` (SQLite) under CANCUOC_HOME; personal data only in sealed blobs."""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from client.receive import ReceivedCard
from client.wallet import NoWalletError, UnknownCardError, WalletExistsError
from client.wallet.crypto import derive_key, make_pin_check, new_kdf_params, seal, unseal
from client.wallet.log import LogEntry, insert_entry, read_entries
from client.wallet.schema import add_presentation_log, add_status_columns, connect, create_tables
from client.wallet.unlock import INIT_HINT, unlock
from shared.jose import PrivateKey, private_jwk, private_key_from_jwk
from shared.sdjwt.present import read_unverified

WALLET_FILE = "wallet.db"
TRUST_ANCHOR_ROW = "meta:trust_anchor"


@dataclass(frozen=True)
class CardSummary:
    """What the wallet shows without decrypting: no personal data."""

    id: str
    vct: str
    issuer: str
    configuration_id: str
    created_at: str
    copies_left: int
    status: str = "unknown"
    checked_at: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class StoredCopy:
    id: str
    credential: str
    key: PrivateKey
    used_for: str | None
    used_at: str | None


@dataclass(frozen=True)
class StoredCard:
    """A card opened with the PIN: its claims and every copy with its device key."""

    summary: CardSummary
    claims: dict[str, Any]
    copies: tuple[StoredCopy, ...]
    display: dict[str, dict[str, str]] = field(default_factory=dict)


class _CopyBlob(msgspec.Struct, frozen=True):
    credential: str
    jwk: dict[str, str]


class _CardBlob(msgspec.Struct, frozen=True):
    claims: dict[str, Any]
    display: dict[str, dict[str, str]] = {}


def verifier_hash(verifier_id: str) -> str:
    """What `used_for` stores: the verifier is not written in clear."""
    return hashlib.sha256(verifier_id.encode()).hexdigest()


def create_wallet(home: Path, pin: str) -> Wallet:
    """A new empty wallet file (mode 0600) under ``home``; never overwrites one."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = home / WALLET_FILE
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise WalletExistsError(
            f"a wallet already exists at {path}", hint="delete it first, or use another CANCUOC_HOME"
        ) from None
    params = new_kdf_params()
    key = derive_key(pin, params)
    connection = connect(path)
    try:
        with connection:
            connection.execute("BEGIN")
            create_tables(connection)
            connection.execute(
                "INSERT INTO meta (id, scrypt_n, scrypt_r, scrypt_p, salt, pin_check) "
                "VALUES (1, ?, ?, ?, ?, ?)",
                (params.n, params.r, params.p, params.salt, make_pin_check(key)),
            )
    except BaseException:
        connection.close()
        path.unlink(missing_ok=True)
        raise
    return Wallet(connection, key)


def open_wallet(home: Path, pin: str, *, now: datetime) -> Wallet:
    """Open with the PIN; a wrong PIN is counted in the file, and after 5 the wallet locks for a while."""
    path = home / WALLET_FILE
    if not path.is_file():
        raise NoWalletError(f"no wallet here ({home})", hint=INIT_HINT)
    connection = connect(path)
    try:
        key = unlock(connection, pin, now.timestamp())
        add_status_columns(connection)
        add_presentation_log(connection)
        return Wallet(connection, key)
    except BaseException:
        connection.close()
        raise


class Wallet:
    """An unlocked wallet: the open file and the key derived from the PIN."""

    def __init__(self, connection: sqlite3.Connection, key: bytes) -> None:
        self._db = connection
        self._key = key

    def add_card(self, cards: Sequence[ReceivedCard], *, now: datetime) -> list[str]:
        """Store every card with all its copies in ONE transaction; their new ids, in order."""
        ids = []
        with self._db:
            for card in cards:
                card_id = secrets.token_hex(6)
                claims = read_unverified(card.copies[0].credential).claims
                plain_card = msgspec.json.encode(_CardBlob(claims, card.display))
                blob = seal(self._key, plain_card, _card_row(card_id, card))
                self._db.execute(
                    "INSERT INTO cards (id, vct, issuer, configuration_id, created_at, blob) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (card_id, card.vct, card.issuer, card.configuration_id, now.isoformat(), blob),
                )
                self._insert_copies(card_id, card)
                ids.append(card_id)
        return ids

    def list_cards(self) -> list[CardSummary]:
        """Every card, oldest first, without decrypting anything."""
        rows = self._db.execute(
            "SELECT c.id, c.vct, c.issuer, c.configuration_id, c.created_at, "
            "(SELECT count(*) FROM copies WHERE card_id = c.id AND used_for IS NULL), "
            "c.status, c.status_checked_at, c.status_detail "
            "FROM cards c ORDER BY c.created_at, c.rowid"
        ).fetchall()
        return [CardSummary(*row) for row in rows]

    def get_card(self, card_id: str) -> StoredCard:
        """A card and all its copies, decrypted; any altered row is a `TamperedError`."""
        summary = self._summary(card_id)
        (blob,) = self._db.execute("SELECT CAST(blob AS BLOB) FROM cards WHERE id = ?", (card_id,)).fetchone()
        claims = msgspec.json.decode(unseal(self._key, blob, _card_row(card_id, summary)), type=_CardBlob)
        copies = []
        rows = self._db.execute(
            "SELECT id, CAST(blob AS BLOB), used_for, used_at FROM copies WHERE card_id = ? ORDER BY rowid",
            (card_id,),
        )
        for copy_id, sealed, used_for, used_at in rows:
            plain = unseal(self._key, sealed, _copy_row(copy_id, card_id))
            copy = msgspec.json.decode(plain, type=_CopyBlob)
            key = private_key_from_jwk(copy.jwk)
            copies.append(StoredCopy(copy_id, copy.credential, key, used_for, used_at))
        return StoredCard(summary, claims.claims, tuple(copies), claims.display)

    def set_status(self, card_id: str, status: str, *, checked_at: datetime, detail: str | None) -> None:
        """Record the result of a status check of a card."""
        with self._db:
            self._db.execute(
                "UPDATE cards SET status = ?, status_checked_at = ?, status_detail = ? WHERE id = ?",
                (status, checked_at.isoformat(), detail, card_id),
            )

    def restore_cards(self, cards: Sequence[StoredCard]) -> None:
        """Put back cards exported from another wallet (same ids, copies, statuses) in ONE transaction."""
        with self._db:
            for card in cards:
                s = card.summary
                plain_card = msgspec.json.encode(_CardBlob(card.claims, card.display))
                blob = seal(self._key, plain_card, _card_row(s.id, s))
                self._db.execute(
                    "INSERT INTO cards (id, vct, issuer, configuration_id, created_at, blob, status, "
                    "status_checked_at, status_detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        s.id,
                        s.vct,
                        s.issuer,
                        s.configuration_id,
                        s.created_at,
                        blob,
                        s.status,
                        s.checked_at,
                        s.detail,
                    ),
                )
                for copy in card.copies:
                    plain = msgspec.json.encode(_CopyBlob(copy.credential, private_jwk(copy.key)))
                    self._db.execute(
                        "INSERT INTO copies (id, card_id, blob, used_for, used_at) VALUES (?, ?, ?, ?, ?)",
                        (
                            copy.id,
                            s.id,
                            seal(self._key, plain, _copy_row(copy.id, s.id)),
                            copy.used_for,
                            copy.used_at,
                        ),
                    )

    def delete_card(self, card_id: str) -> None:
        """Remove a card and every copy of it."""
        self._summary(card_id)
        with self._db:
            self._db.execute("DELETE FROM copies WHERE card_id = ?", (card_id,))
            self._db.execute("DELETE FROM cards WHERE id = ?", (card_id,))

    def copies_left(self, card_id: str) -> int:
        """Copies never used for a presentation."""
        return self._summary(card_id).copies_left

    def refresh_card(self, card_id: str, card: ReceivedCard) -> None:
        """Add the copies of a new issuance of card ``card_id``, drop its used copies, take the new claims."""
        summary = self._summary(card_id)
        claims = read_unverified(card.copies[0].credential).claims
        plain_card = msgspec.json.encode(_CardBlob(claims, card.display or self.get_card(card_id).display))
        with self._db:
            self._db.execute("DELETE FROM copies WHERE card_id = ? AND used_for IS NOT NULL", (card_id,))
            self._db.execute(
                "UPDATE cards SET blob = ?, status = 'unknown', status_checked_at = NULL, "
                "status_detail = NULL WHERE id = ?",
                (seal(self._key, plain_card, _card_row(card_id, summary)), card_id),
            )
            self._insert_copies(card_id, card)

    def record_presentation(self, entry: LogEntry, verifier_id: str) -> None:
        """Mark the copies of ``entry`` used for ``verifier_id`` and log it, in ONE transaction."""
        with self._db:
            for card in entry.cards:
                self._db.execute(
                    "UPDATE copies SET used_for = ?, used_at = ? WHERE id = ? AND card_id = ?",
                    (verifier_hash(verifier_id), entry.at, card.copy_id, card.card_id),
                )
            insert_entry(self._db, self._key, entry)

    def presentations(self) -> list[LogEntry]:
        """The wallet log, oldest first."""
        return read_entries(self._db, self._key)

    def restore_presentations(self, entries: Sequence[LogEntry]) -> None:
        """Put back the log of a backup."""
        with self._db:
            for entry in entries:
                insert_entry(self._db, self._key, entry)

    def trust_anchor(self) -> bytes | None:
        """The pinned national root certificate (DER), if one was pinned."""
        (blob,) = self._db.execute("SELECT CAST(trust_anchor AS BLOB) FROM meta").fetchone()
        return None if blob is None else unseal(self._key, blob, TRUST_ANCHOR_ROW)

    def set_trust_anchor(self, certificate: bytes) -> None:
        """Pin ``certificate`` (DER) as the root every request and credential must chain to."""
        with self._db:
            self._db.execute(
                "UPDATE meta SET trust_anchor = ?", (seal(self._key, certificate, TRUST_ANCHOR_ROW),)
            )

    def close(self) -> None:
        self._db.close()

    def _insert_copies(self, card_id: str, card: ReceivedCard) -> None:
        for copy in card.copies:
            copy_id = secrets.token_hex(8)
            plain = msgspec.json.encode(_CopyBlob(copy.credential, private_jwk(copy.key)))
            self._db.execute(
                "INSERT INTO copies (id, card_id, blob) VALUES (?, ?, ?)",
                (copy_id, card_id, seal(self._key, plain, _copy_row(copy_id, card_id))),
            )

    def _summary(self, card_id: str) -> CardSummary:
        for summary in self.list_cards():
            if summary.id == card_id:
                return summary
        raise UnknownCardError(
            f"no card {card_id!r} in this wallet", hint="`cancuoc wallet list` shows the ids"
        )


@contextmanager
def opened(wallet: Wallet) -> Iterator[Wallet]:
    """Close the wallet file when done."""
    with closing(wallet):
        yield wallet


def _card_row(card_id: str, card: ReceivedCard | CardSummary) -> str:
    return f"cards:{card_id}|{card.vct}|{card.issuer}|{card.configuration_id}"


def _copy_row(copy_id: str, card_id: str) -> str:
    return f"copies:{copy_id}|{card_id}"
