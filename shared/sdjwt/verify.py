"""Verifier side of SD-JWT: RFC 9901 §7.1 and §7.3, every MUST-reject rule, with an explicit clock."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import msgspec

from shared.errors import (
    ExpiredError,
    InvalidClaimError,
    InvalidKeyBindingError,
    InvalidSignatureError,
    MalformedError,
    NotYetValidError,
    UnsupportedAlgorithmError,
)
from shared.jose import DEFAULT_ALGORITHMS, KeyResolver, PublicKey, public_key_from_jwk, verify_jws
from shared.sdjwt.disclosure import SD_ALG, digest, split_compact
from shared.sdjwt.present import KB_JWT_TYP
from shared.sdjwt.process import ClaimPath, process_payload

DEFAULT_LEEWAY_SECONDS = 60


class KeyBindingPolicy(msgspec.Struct, frozen=True):
    """What this verifier requires of a KB-JWT: its transaction's audience and nonce, and freshness."""

    audience: str
    nonce: str
    max_age_seconds: int = 300


class VerifiedSdJwt(msgspec.Struct, frozen=True):
    """A verified SD-JWT: the issuer header, the processed claims and which paths were disclosed."""

    header: dict[str, Any]
    claims: dict[str, Any]
    disclosed_paths: tuple[ClaimPath, ...]
    key_binding: dict[str, Any] | None


def verify_sd_jwt(
    text: str,
    issuer_key: PublicKey | KeyResolver,
    *,
    now: datetime,
    typ: str | Collection[str],
    key_binding: KeyBindingPolicy | None,
    algorithms: Collection[str] = DEFAULT_ALGORITHMS,
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
) -> VerifiedSdJwt:
    """Verify an SD-JWT (``key_binding=None``) or SD-JWT+KB; whether KB is needed is the caller's policy."""
    parts = split_compact(text)
    if key_binding is not None and parts.kb_jwt is None:
        raise InvalidKeyBindingError("a Key Binding JWT is required", reason="kb_missing")
    if key_binding is None and parts.kb_jwt is not None:
        raise MalformedError("an SD-JWT must end with '~'", reason="unexpected_key_binding")
    jws = verify_jws(parts.jws, issuer_key, typ=typ, algorithms=algorithms, what="issuer-signed JWT")
    sd_alg = jws.payload.get("_sd_alg", SD_ALG)
    if sd_alg != SD_ALG:
        raise UnsupportedAlgorithmError(f"_sd_alg {sd_alg!r} is not supported", reason="unsupported_sd_alg")
    processed = process_payload(jws.payload, parts.disclosures)
    timestamp = now.timestamp()
    check_validity(processed.claims, timestamp, leeway_seconds)
    kb_claims = None
    if key_binding is not None and parts.kb_jwt is not None:
        holder_key = holder_public_key(processed.claims)
        kb_claims = _verify_key_binding(
            parts.kb_jwt,
            holder_key,
            key_binding,
            text[: len(text) - len(parts.kb_jwt)],
            timestamp,
            leeway_seconds,
            algorithms,
        )
    return VerifiedSdJwt(jws.header, processed.claims, tuple(p for p, _ in processed.placed), kb_claims)


def check_validity(claims: dict[str, Any], now: float, leeway_seconds: int) -> None:
    """``exp``, ``nbf`` and ``iat`` (RFC 7519 §4.1), each checked only when present; no ``aud`` at all."""
    if "aud" in claims:
        # RFC 7519 §4.1.3: a JWT whose `aud` the processor cannot identify with MUST be rejected, and
        # this verifier has no audience of its own for a credential (its audience is in the KB-JWT).
        raise InvalidClaimError("the JWT is addressed to an audience", reason="unexpected_aud")
    exp, nbf, iat = _numeric_date(claims, "exp"), _numeric_date(claims, "nbf"), _numeric_date(claims, "iat")
    if exp is not None and now >= exp + leeway_seconds:
        raise ExpiredError("the credential has expired", reason="expired")
    if nbf is not None and now < nbf - leeway_seconds:
        raise NotYetValidError("the credential is not valid yet (nbf)", reason="nbf_in_future")
    if iat is not None and now < iat - leeway_seconds:
        raise NotYetValidError("the credential is issued in the future (iat)", reason="iat_in_future")


def holder_public_key(claims: dict[str, Any]) -> PublicKey:
    """The holder key from ``cnf.jwk`` (RFC 7800); the KB-JWT must be signed by it (§4.3.2)."""
    cnf = claims.get("cnf")
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
        raise InvalidKeyBindingError("the credential has no cnf.jwk holder key", reason="no_holder_key")
    return public_key_from_jwk(cnf["jwk"])


def _verify_key_binding(
    kb_jwt: str,
    holder_key: PublicKey,
    policy: KeyBindingPolicy,
    presented: str,
    now: float,
    leeway_seconds: int,
    algorithms: Collection[str],
) -> dict[str, Any]:
    try:
        jws = verify_jws(kb_jwt, holder_key, typ=KB_JWT_TYP, algorithms=algorithms, what="KB-JWT")
    except InvalidSignatureError as exc:
        raise InvalidKeyBindingError(
            "KB-JWT signature does not verify with the credential's cnf key", reason="kb_bad_signature"
        ) from exc
    claims = jws.payload
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise InvalidKeyBindingError("KB-JWT iat is missing", reason="kb_iat_missing")
    if iat > now + leeway_seconds:
        raise InvalidKeyBindingError("KB-JWT iat is in the future", reason="kb_iat_in_future")
    if iat < now - policy.max_age_seconds - leeway_seconds:
        raise InvalidKeyBindingError("KB-JWT is too old", reason="kb_stale")
    aud = claims.get("aud")
    if not isinstance(aud, str) or aud != policy.audience:
        raise InvalidKeyBindingError("KB-JWT aud is not this verifier", reason="aud_mismatch")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or nonce != policy.nonce:
        raise InvalidKeyBindingError("KB-JWT nonce does not match this transaction", reason="nonce_mismatch")
    if claims.get("sd_hash") != digest(presented):
        raise InvalidKeyBindingError(
            "KB-JWT sd_hash does not match the presentation", reason="sd_hash_mismatch"
        )
    return claims


def _numeric_date(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if not _is_number(value):
        raise InvalidClaimError(f"{name} must be a NumericDate", reason="bad_numeric_date")
    try:
        return float(value)
    except OverflowError as exc:
        raise InvalidClaimError(f"{name} is beyond any NumericDate", reason="bad_numeric_date") from exc


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
