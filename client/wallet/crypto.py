"""Wallet encryption: a PIN-derived key (scrypt) and AES-GCM blobs bound to their database row."""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from client.wallet import TamperedError

SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SALT_SIZE = 16
NONCE_SIZE = 12
KEY_SIZE = 32
PIN_CHECK = b"cancuoc wallet pin check v1"
PIN_CHECK_ROW = "meta:pin_check"


@dataclass(frozen=True)
class KdfParams:
    """The scrypt parameters and salt stored with the wallet."""

    n: int
    r: int
    p: int
    salt: bytes


def new_kdf_params() -> KdfParams:
    """Today's parameters with a fresh random salt."""
    return KdfParams(SCRYPT_N, SCRYPT_R, SCRYPT_P, os.urandom(SALT_SIZE))


def derive_key(pin: str, params: KdfParams) -> bytes:
    """The 256-bit AES key of the wallet, from the PIN."""
    kdf = Scrypt(salt=params.salt, length=KEY_SIZE, n=params.n, r=params.r, p=params.p)
    return kdf.derive(pin.encode())


def seal(key: bytes, plaintext: bytes, row: str) -> bytes:
    """nonce ‖ AES-GCM(plaintext), with the row's identity as associated data."""
    nonce = os.urandom(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, row.encode())


def unseal(key: bytes, blob: bytes, row: str) -> bytes:
    """The plaintext of a blob sealed for ``row``; anything else is a `TamperedError`."""
    try:
        return AESGCM(key).decrypt(blob[:NONCE_SIZE], blob[NONCE_SIZE:], row.encode())
    except (InvalidTag, ValueError) as exc:
        raise TamperedError(
            f"the wallet's data was altered ({row.split(':')[0]} row); it will not be used",
            hint="restore the wallet from a backup, or delete that card and receive it again",
        ) from exc


def make_pin_check(key: bytes) -> bytes:
    """A blob only the right key opens: tells a wrong PIN from tampered data."""
    return seal(key, PIN_CHECK, PIN_CHECK_ROW)


def pin_matches(key: bytes, check: bytes) -> bool:
    """True when ``key`` (from the typed PIN) opens the wallet's PIN check."""
    try:
        return unseal(key, check, PIN_CHECK_ROW) == PIN_CHECK
    except TamperedError:
        return False
