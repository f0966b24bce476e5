"""`cancuoc wallet backup|restore`: the whole wallet as one file, sealed with scrypt and AES-256-GCM.

The file is one canonical JSON document ``{"ciphertext", "header", "sha256"}``: the header (format,
version, scrypt parameters and salt, nonce) is the associated data of AES-GCM over the payload, and
``sha256`` (over header and ciphertext, keyed by nothing) tells a damaged file from a wrong PIN.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from client.wallet import WalletError, WalletExistsError, WrongPinError
from client.wallet.crypto import NONCE_SIZE, KdfParams, derive_key, new_kdf_params
from client.wallet.log import LogEntry
from client.wallet.store import (
    WALLET_FILE,
    CardSummary,
    StoredCard,
    StoredCopy,
    Wallet,
    create_wallet,
    opened,
)
from shared.encoding import b64url_decode, b64url_encode
from shared.errors import CredentialError
from shared.jose import private_jwk, private_key_from_jwk

BACKUP_FORMAT = "cancuoc-wallet-backup"
BACKUP_VERSION = 1
CIPHER = "AES-256-GCM"
DAMAGED = "backup file is damaged or was altered"
MAX_SCRYPT_N = 2**20
"""Largest scrypt cost a backup may ask for (about 1 GiB of memory): a forged header cannot exhaust us."""


class BackupError(WalletError):
    """A backup file that cannot be used (exit 4, wallet state)."""


class DamagedBackupError(BackupError):
    """A backup whose bytes are not the ones written: truncated, edited or forged."""

    def __init__(self) -> None:
        super().__init__(DAMAGED, hint="restore from another copy of the backup")


class _Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class ScryptHeader(_Strict, frozen=True):
    name: str
    n: int
    r: int
    p: int
    salt: str


class BackupHeader(_Strict, frozen=True):
    """What the file says in clear; all of it is bound to the ciphertext as associated data."""

    format: str
    version: int
    kdf: ScryptHeader
    cipher: str
    nonce: str


class BackupFile(_Strict, frozen=True):
    ciphertext: str
    header: BackupHeader
    sha256: str


class _CopyRecord(msgspec.Struct, frozen=True):
    id: str
    credential: str
    jwk: dict[str, str]
    used_for: str | None
    used_at: str | None


class _CardRecord(msgspec.Struct, frozen=True):
    summary: dict[str, Any]
    claims: dict[str, Any]
    copies: list[_CopyRecord]
    display: dict[str, dict[str, str]] = {}


class _Payload(msgspec.Struct, frozen=True):
    cards: list[_CardRecord]
    presentations: list[LogEntry] = []
    trust_anchor: str | None = None
    """The pinned national root (base64url DER); absent from backups made before presentations."""


@dataclass(frozen=True)
class WalletContents:
    """Everything a backup restores: cards, the presentation log, the pinned root."""

    cards: list[StoredCard]
    presentations: list[LogEntry]
    trust_anchor: bytes | None


def export_backup(wallet: Wallet, pin: str) -> bytes:
    """Every card, copy, key and status of ``wallet``, sealed under a fresh key derived from ``pin``."""
    cards = [wallet.get_card(summary.id) for summary in wallet.list_cards()]
    anchor = wallet.trust_anchor()
    payload = _Payload(
        [_record(card) for card in cards],
        wallet.presentations(),
        None if anchor is None else b64url_encode(anchor),
    )
    params, nonce = new_kdf_params(), os.urandom(NONCE_SIZE)
    kdf = ScryptHeader("scrypt", params.n, params.r, params.p, b64url_encode(params.salt))
    header = BackupHeader(BACKUP_FORMAT, BACKUP_VERSION, kdf, CIPHER, b64url_encode(nonce))
    sealed = AESGCM(derive_key(pin, params)).encrypt(nonce, msgspec.json.encode(payload), _canonical(header))
    ciphertext = b64url_encode(sealed)
    return _canonical(BackupFile(ciphertext, header, _digest(header, ciphertext))) + b"\n"


def read_backup(data: bytes, pin: str) -> WalletContents:
    """What a backup holds; a `DamagedBackupError` for any altered byte, a `WrongPinError` for the PIN."""
    header, sealed = _intact(data)
    if header.format != BACKUP_FORMAT or header.version != BACKUP_VERSION or header.cipher != CIPHER:
        raise BackupError(
            f"not a version {BACKUP_VERSION} cancuoc wallet backup ({header.format} {header.version})",
            hint="restore it with the cancuoc version that wrote it",
        )
    params, nonce = _kdf_params(header.kdf), _decode(header.nonce)
    try:
        plain = AESGCM(derive_key(pin, params)).decrypt(nonce, sealed, _canonical(header))
    except (InvalidTag, ValueError):
        raise WrongPinError(
            "wrong PIN for this backup", hint="the wallet PIN at the time the backup was made"
        ) from None
    try:
        payload = msgspec.json.decode(plain, type=_Payload)
        anchor = None if payload.trust_anchor is None else b64url_decode(payload.trust_anchor)
        return WalletContents([_card(r) for r in payload.cards], payload.presentations, anchor)
    except (msgspec.DecodeError, msgspec.ValidationError, CredentialError, TypeError):
        raise DamagedBackupError from None


def write_backup(path: Path, data: bytes) -> None:
    """Write the file (mode 0600) through a temporary file, so a crash never leaves half a backup."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def refuse_existing(home: Path, *, replace: bool) -> None:
    """Restore goes into an empty CANCUOC_HOME unless the citizen asks to replace the wallet there."""
    if (home / WALLET_FILE).exists() and not replace:
        raise WalletExistsError(
            f"a wallet already exists at {home / WALLET_FILE}",
            hint="restore into another CANCUOC_HOME, or pass --replace to overwrite it",
        )


def restore_backup(home: Path, data: bytes, pin: str, *, replace: bool = False) -> int:
    """Rebuild the wallet of a backup under ``home`` with the backup's PIN; the number of cards."""
    refuse_existing(home, replace=replace)
    contents = read_backup(data, pin)
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(dir=home, prefix=".restore-"))
    try:
        with opened(create_wallet(staging, pin)) as wallet:
            wallet.restore_cards(contents.cards)
            wallet.restore_presentations(contents.presentations)
            if contents.trust_anchor is not None:
                wallet.set_trust_anchor(contents.trust_anchor)
        refuse_existing(home, replace=replace)
        os.replace(staging / WALLET_FILE, home / WALLET_FILE)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return len(contents.cards)


def _intact(data: bytes) -> tuple[BackupHeader, bytes]:
    """The header and sealed payload of a file exactly as `export_backup` writes it, or damaged."""
    try:
        document = msgspec.json.decode(data, type=BackupFile)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise DamagedBackupError from None
    expected = _digest(document.header, document.ciphertext)
    if _canonical(document) + b"\n" != data or not hmac.compare_digest(document.sha256, expected):
        raise DamagedBackupError
    return document.header, _decode(document.ciphertext)


def _kdf_params(kdf: ScryptHeader) -> KdfParams:
    salt = _decode(kdf.salt)
    sane = 2 <= kdf.n <= MAX_SCRYPT_N and kdf.n & (kdf.n - 1) == 0 and 1 <= kdf.r <= 32 and 1 <= kdf.p <= 16
    if kdf.name != "scrypt" or not sane or len(salt) < 16:
        raise BackupError(
            f"unsupported key derivation in the backup: {kdf.name}", hint="nothing was restored"
        )
    return KdfParams(kdf.n, kdf.r, kdf.p, salt)


def _decode(text: str) -> bytes:
    try:
        return b64url_decode(text)
    except CredentialError:
        raise DamagedBackupError from None


def _canonical(value: Any) -> bytes:
    return msgspec.json.encode(value, order="sorted")


def _digest(header: BackupHeader, ciphertext: str) -> str:
    return hashlib.sha256(_canonical(header) + b"." + ciphertext.encode()).hexdigest()


def _record(card: StoredCard) -> _CardRecord:
    copies = [_CopyRecord(c.id, c.credential, private_jwk(c.key), c.used_for, c.used_at) for c in card.copies]
    return _CardRecord(msgspec.to_builtins(card.summary), card.claims, copies, card.display)


def _card(record: _CardRecord) -> StoredCard:
    copies = tuple(
        StoredCopy(c.id, c.credential, private_key_from_jwk(c.jwk), c.used_for, c.used_at)
        for c in record.copies
    )
    return StoredCard(CardSummary(**record.summary), record.claims, copies, record.display)
