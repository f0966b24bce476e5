"""SD-JWT issuance (RFC 9901 §4, §5): conceal the marked claims, add decoys, sign."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from shared.encoding import b64url_encode, json_dumps
from shared.errors import InvalidClaimError
from shared.jose import PrivateKey, sign_jws
from shared.sdjwt.disclosure import (
    RESERVED_NAMES,
    SD_ALG,
    SaltSource,
    make_disclosure,
    random_salt,
    serialize,
)
from shared.sdjwt.markers import SD


def issue_sd_jwt(
    claims: Mapping[Any, Any],
    key: PrivateKey,
    *,
    typ: str,
    header: Mapping[str, Any] | None = None,
    decoys: int = 0,
    salt: SaltSource = random_salt,
) -> str:
    """Sign ``claims`` as an SD-JWT, concealing every member or element wrapped in `SD`.

    ``decoys`` decoy digests are added to each ``_sd`` array (never to objects without
    selectively disclosable members). Returns the compact form with all disclosures.
    """
    concealer = _Concealer(salt, decoys)
    payload = concealer.object(claims)
    if concealer.disclosures:
        payload["_sd_alg"] = SD_ALG
    jws = sign_jws({"typ": typ, **(header or {})}, json_dumps(payload), key)
    return serialize(jws, concealer.disclosures)


def decoy_digest() -> str:
    """A digest of random bytes: it matches no disclosure (§4.2.5)."""
    return b64url_encode(os.urandom(32))


class _Concealer:
    __slots__ = ("decoys", "disclosures", "salt")

    def __init__(self, salt: SaltSource, decoys: int) -> None:
        self.salt = salt
        self.decoys = decoys
        self.disclosures: list[str] = []

    def value(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return self.object(value)
        if isinstance(value, list | tuple):
            return self.array(value)
        if isinstance(value, SD):
            raise InvalidClaimError("SD() marks member names and array elements only", reason="misplaced_sd")
        return value

    def object(self, obj: Mapping[Any, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        digests: list[str] = []
        hidden: set[str] = set()
        for key, value in obj.items():
            name = key.value if isinstance(key, SD) else key
            if not isinstance(name, str):
                raise InvalidClaimError(f"claim name {name!r} is not a string", reason="bad_claim_name")
            if name in RESERVED_NAMES or name in out or name in hidden:
                raise InvalidClaimError(
                    f"claim name {name!r} is reserved or repeated", reason="bad_claim_name"
                )
            if isinstance(key, SD):
                hidden.add(name)
                disclosure = make_disclosure(self.salt(), name, self.value(value))
                self.disclosures.append(disclosure.text)
                digests.append(disclosure.digest)
            else:
                out[name] = self.value(value)
        if digests:
            digests.extend(decoy_digest() for _ in range(self.decoys))
            # Sorting hides the original claim order (§4.2.4.1).
            out["_sd"] = sorted(digests)
        return out

    def array(self, items: list[Any] | tuple[Any, ...]) -> list[Any]:
        out: list[Any] = []
        for item in items:
            if isinstance(item, SD):
                disclosure = make_disclosure(self.salt(), None, self.value(item.value))
                self.disclosures.append(disclosure.text)
                out.append({"...": disclosure.digest})
            else:
                out.append(self.value(item))
        return out
