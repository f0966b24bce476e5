"""Unlocking the wallet with its PIN: wrong PINs are counted in the file and lock it for a growing delay."""

from __future__ import annotations

import sqlite3

from client.wallet import LockedError, NoWalletError, WrongPinError
from client.wallet.crypto import KdfParams, derive_key, pin_matches

FREE_TRIES = 5
FIRST_LOCK_SECONDS = 30
INIT_HINT = "run `cancuoc wallet init` (or set CANCUOC_HOME to where your wallet is)"


def unlock(connection: sqlite3.Connection, pin: str, now: float) -> bytes:
    """The wallet key if ``pin`` is right; otherwise count the try and raise (locking after 5)."""
    row = connection.execute(
        "SELECT scrypt_n, scrypt_r, scrypt_p, salt, pin_check, failed_attempts, locked_until FROM meta"
    ).fetchone()
    if row is None:
        raise NoWalletError("the wallet file has no settings", hint=INIT_HINT)
    n, r, p, salt, check, failed, locked_until = row
    if locked_until > now:
        raise LockedError(int(locked_until - now + 0.999))
    key = derive_key(pin, KdfParams(n, r, p, salt))
    if pin_matches(key, check):
        if failed:
            with connection:
                connection.execute("UPDATE meta SET failed_attempts = 0, locked_until = 0")
        return key
    with connection:
        failed = connection.execute(
            "UPDATE meta SET failed_attempts = failed_attempts + 1 RETURNING failed_attempts"
        ).fetchone()[0]
        if failed >= FREE_TRIES:
            seconds = FIRST_LOCK_SECONDS * 2 ** (failed - FREE_TRIES)
            connection.execute("UPDATE meta SET locked_until = ?", (now + seconds,))
    if failed >= FREE_TRIES:
        raise LockedError(seconds)
    left = FREE_TRIES - failed
    raise WrongPinError(
        f"wrong PIN: {left} {'try' if left == 1 else 'tries'} left before the wallet locks",
        hint="the PIN you chose at `cancuoc wallet init`",
    )
