"""Issuer signing keys on disk: one P-256 key per issuer, made on first start, private files mode 0600."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from server.config import ISSUERS, ServerConfig
from shared.jose import PrivateKey, generate_private_key, private_key_from_pem, private_key_to_pem

PRIVATE_FILE_MODE = 0o600


def key_path(config: ServerConfig, issuer: str) -> Path:
    return config.key_directory / f"{issuer}-signing.pem"


def load_or_create_keys(config: ServerConfig) -> dict[str, PrivateKey]:
    """Every issuer's signing key, creating the missing ones; ``kid`` is the key's RFC 7638 thumbprint."""
    return {issuer: _load_or_create(key_path(config, issuer)) for issuer in ISSUERS}


def _load_or_create(path: Path) -> PrivateKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = private_key_to_pem(generate_private_key())
        # O_EXCL: two workers starting at once must not both write (and then disagree on) the key.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as file:
                file.write(pem)
    key = private_key_from_pem(path.read_bytes())
    return PrivateKey(key.key, msgspec.structs.replace(key.public, kid=key.public.thumbprint()))
