"""Verifier registration records: the registrar's signed statement of who a verifier is and what it may ask.

Carried in a request object's ``verifier_info`` (OpenID4VP §5.11) as ``{"format": "jwt", "data": <JWT>}``;
the JWT has ``typ: verifier-registration+jwt`` and the registrar's certificate chain in ``x5c``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from shared.errors import ExpiredError, InvalidRequestError, NotYetValidError, UntrustedCertificateError
from shared.jose import PrivateKey, sign_jwt, verify_jws
from shared.jose.x5c import validate_chain, x5c_of
from shared.oid4vp.dcql import DcqlQuery
from shared.sdjwt.process import ClaimPath

REGISTRATION_TYP = "verifier-registration+jwt"
REGISTRAR_ROLE = "registrar"


class AllowedCredential(msgspec.Struct, frozen=True, kw_only=True):
    """One credential type a verifier may ask for, and the claim paths (and everything beneath) it may ask."""

    vct: str
    claims: tuple[ClaimPath, ...]


class _Payload(msgspec.Struct, frozen=True, kw_only=True):
    iss: str
    sub: str
    name: str
    purpose: str
    allowed: tuple[AllowedCredential, ...]
    iat: int | float
    exp: int | float


@dataclass(frozen=True, slots=True)
class Registration:
    """A verified registration record."""

    issuer: str
    client_id: str
    name: str
    purpose: str
    allowed: tuple[AllowedCredential, ...]
    expires_at: datetime


def sign_registration(
    key: PrivateKey,
    chain: Sequence[bytes],
    *,
    issuer: str,
    client_id: str,
    name: str,
    purpose: str,
    allowed: Iterable[Mapping[str, Any]],
    now: datetime,
    days: int = 365,
) -> str:
    """The registrar signs a registration record (``typ`` verifier-registration+jwt, ``x5c`` = ``chain``)."""
    claims = {
        "iss": issuer,
        "sub": client_id,
        "name": name,
        "purpose": purpose,
        "allowed": [{"vct": a["vct"], "claims": [list(p) for p in a["claims"]]} for a in allowed],
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(days=days)).timestamp()),
    }
    return sign_jwt(claims, key, typ=REGISTRATION_TYP, x5c=x5c_of(chain))


def verify_registration(
    token: str, anchors: Sequence[bytes], *, client_id: str, now: datetime, leeway_seconds: int = 60
) -> Registration:
    """Verify a registration record: registrar chain to an anchor, signature, ``sub`` and lifetime."""

    def registrar_key(header: Mapping[str, Any], payload: Mapping[str, Any]) -> Any:
        chain = validate_chain(header.get("x5c"), anchors, now=now)
        if REGISTRAR_ROLE not in chain.roles:
            raise UntrustedCertificateError(
                "the registration is not signed by a registrar", reason="missing_role"
            )
        return chain.key

    jws = verify_jws(token, registrar_key, typ=REGISTRATION_TYP, what="registration record")
    try:
        payload = msgspec.convert(jws.payload, _Payload)
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(
            f"registration record is malformed: {exc}", reason="bad_registration"
        ) from exc
    if payload.sub != client_id:
        raise InvalidRequestError("the registration is for another verifier", reason="registration_mismatch")
    timestamp = now.timestamp()
    if timestamp >= payload.exp + leeway_seconds:
        raise ExpiredError("the verifier's registration has expired", reason="registration_expired")
    if timestamp < payload.iat - leeway_seconds:
        raise NotYetValidError("the registration is issued in the future", reason="iat_in_future")
    expires_at = datetime.fromtimestamp(payload.exp, tz=now.tzinfo)
    return Registration(payload.iss, payload.sub, payload.name, payload.purpose, payload.allowed, expires_at)


def over_asked(query: DcqlQuery, allowed: Iterable[AllowedCredential]) -> list[tuple[str, ClaimPath]]:
    """Every (vct, path) ``query`` asks that no allowed (vct, path prefix) covers."""
    by_vct: dict[str, list[ClaimPath]] = {}
    for entry in allowed:
        by_vct.setdefault(entry.vct, []).extend(entry.claims)
    found: list[tuple[str, ClaimPath]] = []
    for cq in query.credentials:
        for vct in cq.vct_values or ("",):
            if vct not in by_vct:
                found.append((vct, ()))
                continue
            found.extend(
                (vct, path)
                for path in cq.requested_paths()
                if not any(_covers(prefix, path) for prefix in by_vct[vct])
            )
    return found


def _covers(prefix: ClaimPath, path: ClaimPath) -> bool:
    """An allowed path covers a requested one it is a prefix of; an allowed None covers any index."""
    return len(prefix) <= len(path) and all(a is None or a == p for a, p in zip(prefix, path, strict=False))
