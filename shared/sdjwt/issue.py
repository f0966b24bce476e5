"""SD-JWT issuance (RFC 9901 §4, §5): conceal the marked claims, add decoys, sign."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from shared.encoding import b64url_encode, json_dumps
from shared.errors import InvalidClaimError
from shared.jose import PrivateKey, sign_jws
from shared.sdjwt.disclosure import RESERVED_NAMES, SD_ALG, SaltSource, digest, encode_disclosure, serialize
from shared.sdjwt.markers import SD


def issue_sd_jwt(
    claims: Mapping[Any, Any],
    key: PrivateKey,
    *,
    typ: str,
    header: Mapping[str, Any] | None = None,
    decoys: int = 0,
    salt: SaltSource | None = None,
) -> str:
    """Sign ``claims`` as an SD-JWT, concealing every member or element wrapped in `SD`.

    ``decoys`` decoy digests are added to each ``_sd`` array (never to objects without
    selectively disclosable members). ``salt`` replaces the CSPRNG salts (tests only).
    Returns the compact form with all disclosures.
    """
    concealer = _Concealer(salt or _SaltPool().take, decoys)
    payload = concealer.object(claims)
    if concealer.disclosures:
        payload["_sd_alg"] = SD_ALG
    jws = sign_jws({"typ": typ, **(header or {})}, json_dumps(payload), key)
    return serialize(jws, concealer.disclosures)


def decoy_digest() -> str:
    """A digest of random bytes: it matches no disclosure (§4.2.5)."""
    return b64url_encode(os.urandom(32))


class _SaltPool:
    """Salts of 144 random bits (RFC 9901 §9.3 asks for at least 128), drawn from the OS in batches.

    18 bytes encode to exactly 24 base64url characters, so one encoded batch slices into salts.
    """

    __slots__ = ("batch", "position")
    BATCH = 16

    def __init__(self) -> None:
        self.batch = ""
        self.position = 0

    def take(self) -> str:
        if self.position >= len(self.batch):
            self.batch = b64url_encode(os.urandom(18 * self.BATCH))
            self.position = 0
        start = self.position
        self.position += 24
        return self.batch[start : self.position]


class _Concealer:
    __slots__ = ("decoys", "disclosures", "salt")

    def __init__(self, salt: SaltSource, decoys: int) -> None:
        self.salt = salt
        self.decoys = decoys
        self.disclosures: list[str] = []

    def value(self, value: Any) -> Any:
        kind = type(value)
        if kind is str or kind is int or kind is bool:
            return value
        if kind is dict or isinstance(value, Mapping):
            return self.object(value)
        if kind is list or kind is tuple:
            return self.array(value)
        if isinstance(value, SD):
            raise InvalidClaimError("SD() marks member names and array elements only", reason="misplaced_sd")
        return value

    def object(self, obj: Mapping[Any, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        hidden: dict[str, str] = {}
        for key, value in obj.items():
            if type(key) is SD:
                name = key.value
                if type(name) is not str or name in hidden:
                    raise InvalidClaimError(
                        f"claim name {name!r} is invalid or repeated", reason="bad_claim_name"
                    )
                kind = type(value)
                plain = value if kind is str or kind is int or kind is bool else self.value(value)
                text = encode_disclosure(self.salt(), name, plain)
                self.disclosures.append(text)
                hidden[name] = digest(text)
            elif type(key) is str:
                kind = type(value)
                out[key] = value if kind is str or kind is int or kind is bool else self.value(value)
            else:
                raise InvalidClaimError(f"claim name {key!r} is not a string", reason="bad_claim_name")
        if RESERVED_NAMES & (out.keys() | hidden.keys()) or not hidden.keys().isdisjoint(out):
            raise InvalidClaimError(
                "a claim name is reserved or both disclosable and plain", reason="bad_claim_name"
            )
        if hidden:
            digests = [*hidden.values(), *(decoy_digest() for _ in range(self.decoys))]
            # Sorting hides the original claim order (§4.2.4.1).
            out["_sd"] = sorted(digests)
        return out

    def array(self, items: list[Any] | tuple[Any, ...]) -> list[Any]:
        out: list[Any] = []
        for item in items:
            if type(item) is SD:
                text = encode_disclosure(self.salt(), None, self.value(item.value))
                self.disclosures.append(text)
                out.append({"...": digest(text)})
            else:
                out.append(self.value(item))
        return out
