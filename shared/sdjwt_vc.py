"""SD-JWT VC (draft-ietf-oauth-sd-jwt-vc §2): the `dc+sd-jwt` profile every cancuoc credential uses."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from shared.errors import InvalidClaimError, UnknownKeyError, UntrustedIssuerError
from shared.jose import DEFAULT_ALGORITHMS, PrivateKey, PublicKey, is_private_jwk
from shared.sdjwt.disclosure import SaltSource
from shared.sdjwt.issue import PreparedClaims, prepare_claims
from shared.sdjwt.markers import SD
from shared.sdjwt.verify import DEFAULT_LEEWAY_SECONDS, KeyBindingPolicy, VerifiedSdJwt, verify_sd_jwt

TYP = "dc+sd-jwt"
LEGACY_TYP = "vc+sd-jwt"
NEVER_DISCLOSABLE = frozenset(
    {"iss", "vct", "vct#integrity", "aka_vcts", "cnf", "status", "iat", "nbf", "exp"}
)
"""Claims that carry validity or binding; they must stay in plaintext, sub-claims included (§2.2.2)."""

StatusCheck = Callable[[Any], None]
"""Given the credential's ``status`` claim, raises when the status is not VALID (or cannot be known)."""


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An issuer this party trusts: its identifier, its keys and the credential types it may issue."""

    issuer: str
    keys: tuple[PublicKey, ...]
    vcts: frozenset[str]


class VerifiedCredential(msgspec.Struct, frozen=True):
    """A verified SD-JWT VC: who issued it, its type, and the claims as disclosed."""

    issuer: str
    vct: str
    claims: dict[str, Any]
    sd_jwt: VerifiedSdJwt


def issue_credential(
    subject_claims: Mapping[Any, Any],
    key: PrivateKey,
    *,
    issuer: str,
    vct: str,
    holder_jwk: Mapping[str, str],
    issued_at: int,
    expires_at: int,
    not_before: int | None = None,
    status: Mapping[str, Any] | None = None,
    header: Mapping[str, Any] | None = None,
    decoys: int = 0,
    salt: SaltSource | None = None,
) -> str:
    """Issue an SD-JWT VC whose validity and binding claims are always in plaintext.

    ``subject_claims`` carry `SD` markers; any of `NEVER_DISCLOSABLE` among them is refused, since
    those are set from the keyword arguments only.
    """
    template = prepare_credential(
        subject_claims,
        issuer=issuer,
        vct=vct,
        issued_at=issued_at,
        expires_at=expires_at,
        not_before=not_before,
        decoys=decoys,
    )
    return template.issue(key, holder_jwk=holder_jwk, status=status, header=header, salt=salt)


def prepare_credential(
    subject_claims: Mapping[Any, Any],
    *,
    issuer: str,
    vct: str,
    issued_at: int,
    expires_at: int,
    not_before: int | None = None,
    decoys: int = 0,
) -> CredentialTemplate:
    """What the copies of one credential share, checked once: each copy then has its own holder key,
    status entry, salts and decoys (`CredentialTemplate.issue`)."""
    for name in subject_claims:
        plain = name.value if isinstance(name, SD) else name
        if plain in NEVER_DISCLOSABLE:
            raise InvalidClaimError(
                f"{plain!r} is set by the issuer and never disclosable", reason="reserved_claim"
            )
    claims: dict[Any, Any] = {"iss": issuer, "vct": vct, "iat": issued_at, "exp": expires_at}
    if not_before is not None:
        claims["nbf"] = not_before
    claims.update(subject_claims)
    return CredentialTemplate(prepare_claims(claims, decoys=decoys))


class CredentialTemplate:
    """The prepared claims of one credential (`prepare_credential`), for signing copies of it."""

    __slots__ = ("_claims",)

    def __init__(self, claims: PreparedClaims) -> None:
        self._claims = claims

    def issue(
        self,
        key: PrivateKey,
        *,
        holder_jwk: Mapping[str, str],
        status: Mapping[str, Any] | None = None,
        header: Mapping[str, Any] | None = None,
        salt: SaltSource | None = None,
    ) -> str:
        """One copy bound to ``holder_jwk`` (``cnf``) with its ``status`` reference, both in plaintext."""
        if is_private_jwk(holder_jwk):
            raise InvalidClaimError("the holder key must be a public JWK", reason="private_holder_jwk")
        if _contains_sd(status) or _contains_sd(holder_jwk):
            raise InvalidClaimError(
                "nothing inside cnf or status may be disclosable", reason="reserved_claim"
            )
        plain: dict[str, Any] = {"cnf": {"jwk": holder_jwk}}
        if status is not None:
            plain["status"] = status
        return self._claims.issue(key, typ=TYP, header=header, salt=salt, plain=plain)


def trusted_issuer_keys(
    issuers: Iterable[TrustedIssuer],
) -> Callable[[Mapping[str, Any], Mapping[str, Any]], PublicKey]:
    """A key resolver: the ``iss`` must be trusted for the ``vct`` and the ``kid`` one of its keys.

    Keys named by ``jku``, ``x5u`` or ``jwk`` headers are never used (RFC 8725 §3.10).
    """
    by_issuer = {t.issuer: t for t in issuers}

    def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicKey:
        iss, vct = payload.get("iss"), payload.get("vct")
        trusted = by_issuer.get(iss) if isinstance(iss, str) else None
        if trusted is None:
            raise UntrustedIssuerError(f"issuer {iss!r} is not trusted", reason="unknown_issuer")
        if not isinstance(vct, str) or vct not in trusted.vcts:
            raise UntrustedIssuerError(
                f"issuer {trusted.issuer} may not issue {payload.get('vct')!r}",
                reason="issuer_not_allowed_for_vct",
            )
        kid = header.get("kid")
        for key in trusted.keys:
            if kid == key.kid or (kid is None and len(trusted.keys) == 1):
                return key
        raise UnknownKeyError(f"issuer {trusted.issuer} has no key {kid!r}", reason="unknown_kid")

    return resolve


def verify_credential(
    text: str,
    issuer_keys: PublicKey | Callable[[Mapping[str, Any], Mapping[str, Any]], PublicKey],
    *,
    now: datetime,
    key_binding: KeyBindingPolicy | None,
    status_check: StatusCheck | None = None,
    algorithms: Collection[str] = DEFAULT_ALGORITHMS,
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
    accept_legacy_typ: bool = False,
    require_exp: bool = True,
) -> VerifiedCredential:
    """Verify an SD-JWT VC (§2.4): RFC 9901 §7 plus typ, vct, iss, exp, cnf and status rules."""
    typ = (TYP, LEGACY_TYP) if accept_legacy_typ else TYP
    verified = verify_sd_jwt(
        text,
        issuer_keys,
        now=now,
        typ=typ,
        key_binding=key_binding,
        algorithms=algorithms,
        leeway_seconds=leeway_seconds,
    )
    for path in verified.disclosed_paths:
        if path[0] in NEVER_DISCLOSABLE:
            raise InvalidClaimError(
                f"{path[0]!r} must not be selectively disclosed", reason="disclosed_reserved_claim"
            )
    claims = verified.claims
    issuer, vct = claims.get("iss"), claims.get("vct")
    if not isinstance(vct, str) or not vct:
        raise InvalidClaimError("the credential has no vct", reason="missing_vct")
    if not isinstance(issuer, str) or not issuer:
        raise InvalidClaimError("the credential has no iss", reason="missing_iss")
    if require_exp and "exp" not in claims:
        raise InvalidClaimError("the credential has no exp", reason="missing_exp")
    if status_check is not None and "status" in claims:
        status_check(claims["status"])
    return VerifiedCredential(issuer, vct, claims, verified)


def _contains_sd(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is int or value is None:
        return False
    if isinstance(value, SD):
        return True
    if kind is dict or isinstance(value, Mapping):
        return any(_contains_sd(k) or _contains_sd(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_contains_sd(v) for v in value)
    return False
