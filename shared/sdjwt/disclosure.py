"""SD-JWT disclosures and digests (RFC 9901 §4.2) and the compact serialization (RFC 9901 §4)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import Any

import msgspec

from shared.encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from shared.errors import InvalidDisclosureError, MalformedError, TooLargeError

SD_ALG = "sha-256"
"""The only `_sd_alg` we issue and accept; every implementation must support it (RFC 9901 §4.1.1)."""
MAX_SD_JWT_SIZE = 1024 * 1024
MAX_DISCLOSURES = 512
RESERVED_NAMES = frozenset({"_sd", "..."})
_sha256 = hashlib.sha256

SaltSource = Callable[[], str]


def random_salt() -> str:
    """128 bits from the OS CSPRNG, base64url (RFC 9901 §9.3)."""
    return b64url_encode(os.urandom(16))


def digest(disclosure: str) -> str:
    """base64url(SHA-256(ASCII(disclosure))): the string is hashed, not its decoded bytes (§4.2.3)."""
    return digest_ascii(disclosure.encode("ascii"))


def digest_ascii(disclosure: bytes) -> str:
    """`digest` of a disclosure held as its ASCII bytes."""
    return b64url_encode(_sha256(disclosure).digest())


class Disclosure(msgspec.Struct, frozen=True):
    """One decoded disclosure: ``name`` is None for an array element (§4.2.2)."""

    text: str
    digest: str
    salt: str
    name: str | None
    value: Any


def encode_disclosure(salt: str, name: str | None, value: Any) -> str:
    """Encode a disclosure for an object member (``name``) or an array element (``name=None``)."""
    return b64url_encode(json_dumps([salt, value] if name is None else [salt, name, value]))


def decode_disclosure(text: str) -> Disclosure:
    """Decode one disclosure strictly: base64url, JSON array of 2 or 3, string salt and name."""
    content = json_loads(b64url_decode(text, what="disclosure"), what="disclosure")
    size = len(content) if type(content) is list else 0
    if size != 2 and size != 3:
        raise InvalidDisclosureError(
            "a disclosure must be a JSON array of 2 or 3 elements", reason="bad_shape"
        )
    salt = content[0]
    if type(salt) is not str:
        raise InvalidDisclosureError("a disclosure salt must be a string", reason="bad_salt")
    if size == 2:
        return Disclosure(text, digest(text), salt, None, content[1])
    name = content[1]
    if type(name) is not str:
        raise InvalidDisclosureError("a disclosure claim name must be a string", reason="bad_claim_name")
    if name in RESERVED_NAMES:
        raise InvalidDisclosureError(f"a disclosure may not be named {name!r}", reason="reserved_claim_name")
    return Disclosure(text, digest(text), salt, name, content[2])


class CompactSdJwt(msgspec.Struct, frozen=True):
    """An SD-JWT split into its parts; ``kb_jwt`` is None when the last component is empty."""

    jws: str
    disclosures: tuple[str, ...]
    kb_jwt: str | None

    @property
    def without_key_binding(self) -> str:
        """The ``<JWS>~<D1>~...~<Dn>~`` string that a KB-JWT's ``sd_hash`` covers (§4.3.1)."""
        return serialize(self.jws, self.disclosures)


def serialize(jws: str, disclosures: tuple[str, ...] | list[str], kb_jwt: str = "") -> str:
    """``<JWS>~<D1>~...~<Dn>~[<KB-JWT>]``; the trailing ``~`` is always there (§4)."""
    return "~".join((jws, *disclosures, kb_jwt))


def split_compact(
    text: str, *, max_size: int = MAX_SD_JWT_SIZE, max_disclosures: int = MAX_DISCLOSURES
) -> CompactSdJwt:
    """Split the compact serialization without decoding anything."""
    if not isinstance(text, str):
        raise MalformedError("an SD-JWT must be a string", reason="bad_sd_jwt")
    if len(text) > max_size:
        raise TooLargeError(f"SD-JWT is larger than {max_size} bytes", reason="too_large")
    parts = text.split("~")
    if len(parts) < 2:
        raise MalformedError("an SD-JWT must contain '~' after the issuer-signed JWT", reason="bad_sd_jwt")
    disclosures = tuple(parts[1:-1])
    if len(disclosures) > max_disclosures:
        raise TooLargeError(f"more than {max_disclosures} disclosures", reason="too_many_disclosures")
    if not all(disclosures):
        raise MalformedError("an SD-JWT has an empty disclosure between '~'", reason="bad_sd_jwt")
    return CompactSdJwt(parts[0], disclosures, parts[-1] or None)
