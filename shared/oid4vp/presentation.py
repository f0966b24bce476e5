"""One SD-JWT VC presentation checked step by step (SD-JWT VC §2.4, RFC 9901 §7, HAIP §6.1), each named.

Unlike `shared.sdjwt_vc.verify_credential`, which stops at the first failure, this runs every step that
still means something after an earlier one failed, so that a report (or an auditor) sees every finding.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import msgspec

from shared.credentials import ALLOWED_ISSUER_ROLE
from shared.errors import (
    CredentialError,
    InvalidClaimError,
    InvalidKeyBindingError,
    InvalidSignatureError,
    UnsupportedAlgorithmError,
    UntrustedCertificateError,
    UntrustedIssuerError,
)
from shared.jose import (
    DEFAULT_ALGORITHMS,
    Jws,
    check_typ,
    decode_jws_unverified,
    verify_jws,
    verify_signature,
)
from shared.jose.x5c import ISSUER_ROLES, VerifiedChain, validate_chain
from shared.oid4vp.chains import ChainCache
from shared.oid4vp.report import PresentedCredential, Report
from shared.oid4vp.status import StatusLookup, check_credential_status
from shared.sdjwt.disclosure import SD_ALG, CompactSdJwt, digest, split_compact
from shared.sdjwt.present import KB_JWT_TYP
from shared.sdjwt.process import ClaimPath, process_payload
from shared.sdjwt.verify import KeyBindingPolicy, check_validity, holder_public_key
from shared.sdjwt_vc import NEVER_DISCLOSABLE, TYP


class CheckedPresentation(msgspec.Struct, frozen=True):
    """What the checks learned: the processed claims and disclosed paths (None when unreadable)."""

    claims: dict[str, Any] | None
    disclosed_paths: tuple[ClaimPath, ...]
    credential: PresentedCredential | None


class PresentationPolicy(msgspec.Struct, frozen=True):
    """What the verifier holds a presentation to."""

    anchors: Sequence[bytes]
    now: datetime
    status_lookup: StatusLookup | None
    key_binding: KeyBindingPolicy | None
    allow_stale_seconds: float | None = None
    leeway_seconds: int = 60
    algorithms: Collection[str] = DEFAULT_ALGORITHMS
    chains: ChainCache | None = None
    """Chains validated before, for a verifier that checks many presentations (see `chains`)."""


def check_presentation(
    text: str, policy: PresentationPolicy, report: Report, *, query_id: str | None = None
) -> CheckedPresentation:
    """Append the checks of one presentation to ``report``; returns what could be read of it."""
    prefix = f"{query_id}: " if query_id else ""
    try:
        parts = split_compact(text)
        jws = decode_jws_unverified(parts.jws, what="issuer-signed JWT")
    except CredentialError as exc:  # nothing to check a signature on
        report.fail("signature", exc, prefix)
        return CheckedPresentation(None, (), None)
    payload = jws.payload
    chain = report.run(
        "certificate_chain",
        lambda: _issuer_chain(jws, policy),
        "issuer certificate chains to the trust anchor",
        prefix,
    )
    report.run(
        "issuer_allowed", lambda: _issuer_allowed(payload, chain), "issuer may issue this type", prefix
    )
    report.run("typ", lambda: check_typ(jws.header, TYP, what="issuer-signed JWT"), f"typ is {TYP}", prefix)
    signed = report.run(
        "signature", lambda: _signature(jws, chain, policy), "issuer signature verifies", prefix
    )
    processed = report.run(
        "disclosures", lambda: _disclosures(payload, parts.disclosures), "disclosures match digests", prefix
    )
    claims = processed[0] if processed is not None else None
    paths = processed[1] if processed is not None else ()
    report.run(
        "validity",
        lambda: _validity(claims if claims is not None else payload, policy),
        "within its validity period",
        prefix,
    )
    if policy.key_binding is not None:
        _key_binding(text, parts, claims, policy, policy.key_binding, report, prefix)
    status = check_credential_status(claims if claims is not None else payload, policy, report, prefix)
    credential = None
    if signed is not None and claims is not None:
        credential = PresentedCredential(
            query_id,
            str(claims.get("vct")),
            str(claims.get("iss")),
            {k: v for k, v in claims.items() if k not in NEVER_DISCLOSABLE},
            status,
        )
    return CheckedPresentation(claims, paths, credential)


def _issuer_chain(jws: Jws, policy: PresentationPolicy) -> VerifiedChain:
    if "x5c" not in jws.header:  # HAIP §6.1: issuer keys come from x5c
        raise UntrustedCertificateError("the credential has no x5c certificate chain", reason="missing_x5c")
    verify = validate_chain if policy.chains is None else policy.chains.verify
    chain = verify(jws.header["x5c"], policy.anchors, now=policy.now)
    if not chain.roles & ISSUER_ROLES:
        raise UntrustedCertificateError("the certificate is not an issuer's", reason="missing_role")
    return chain


def _issuer_allowed(payload: dict[str, Any], chain: VerifiedChain | None) -> None:
    if chain is None:
        raise UntrustedIssuerError("no trusted issuer certificate", reason="untrusted_chain")
    if payload.get("iss") not in chain.uris:
        raise UntrustedIssuerError(
            "the credential's iss is not in its certificate", reason="iss_not_in_certificate"
        )
    vct = payload.get("vct")
    role = ALLOWED_ISSUER_ROLE.get(vct) if isinstance(vct, str) else None
    if role is None:
        raise UntrustedIssuerError(f"no issuer is allowed to issue {vct!r}", reason="unknown_vct")
    if role not in chain.roles:
        raise UntrustedIssuerError(
            f"a {'/'.join(sorted(chain.roles & ISSUER_ROLES))} issuer may not issue {vct}",
            reason="issuer_not_allowed_for_vct",
        )


def _signature(jws: Jws, chain: VerifiedChain | None, policy: PresentationPolicy) -> bool:
    if chain is None:
        raise InvalidSignatureError("no trusted key to check the signature with", reason="no_trusted_key")
    verify_signature(jws, chain.key, algorithms=policy.algorithms)
    return True


def _disclosures(
    payload: dict[str, Any], disclosures: Sequence[str]
) -> tuple[dict[str, Any], tuple[ClaimPath, ...]]:
    if payload.get("_sd_alg", SD_ALG) != SD_ALG:
        raise UnsupportedAlgorithmError("_sd_alg is not sha-256", reason="unsupported_sd_alg")
    processed = process_payload(payload, disclosures)
    paths = tuple(p for p, _ in processed.placed)
    for path in paths:
        if path[0] in NEVER_DISCLOSABLE:
            raise InvalidClaimError(f"{path[0]!r} must not be disclosed", reason="disclosed_reserved_claim")
    return processed.claims, paths


def _validity(claims: dict[str, Any], policy: PresentationPolicy) -> None:
    check_validity(claims, policy.now.timestamp(), policy.leeway_seconds)
    for name in ("vct", "iss", "exp"):
        if name not in claims:
            raise InvalidClaimError(f"the credential has no {name}", reason=f"missing_{name}")


def _key_binding(
    text: str,
    parts: CompactSdJwt,
    claims: dict[str, Any] | None,
    policy: PresentationPolicy,
    kb: KeyBindingPolicy,
    report: Report,
    prefix: str,
) -> None:
    def verified_kb() -> dict[str, Any]:
        if parts.kb_jwt is None:
            raise InvalidKeyBindingError("the presentation has no Key Binding JWT", reason="kb_missing")
        if claims is None:
            raise InvalidKeyBindingError("no verified cnf key", reason="no_holder_key")
        try:
            jws = verify_jws(parts.kb_jwt, holder_public_key(claims), typ=KB_JWT_TYP, what="KB-JWT")
        except InvalidSignatureError as exc:
            raise InvalidKeyBindingError(
                "KB-JWT is not signed by the credential's cnf key", reason="kb_bad_signature"
            ) from exc
        return jws.payload

    kb_claims = report.run("key_binding", verified_kb, "KB-JWT signed by the holder key", prefix)
    if kb_claims is None:
        return
    now, leeway = policy.now.timestamp(), policy.leeway_seconds
    report.run(
        "audience", lambda: _expect(kb_claims, "aud", kb.audience, "aud_mismatch"), "aud is us", prefix
    )
    report.run(
        "nonce", lambda: _expect(kb_claims, "nonce", kb.nonce, "nonce_mismatch"), "nonce matches", prefix
    )
    report.run(
        "kb_fresh", lambda: _fresh(kb_claims, now, leeway, kb.max_age_seconds), "KB-JWT is fresh", prefix
    )
    presented = text[: len(text) - len(parts.kb_jwt or "")]
    report.run(
        "sd_hash",
        lambda: _expect(kb_claims, "sd_hash", digest(presented), "sd_hash_mismatch"),
        "sd_hash ok",
        prefix,
    )


def _expect(claims: dict[str, Any], name: str, expected: str, reason: str) -> None:
    if claims.get(name) != expected:
        raise InvalidKeyBindingError(f"KB-JWT {name} does not match this request", reason=reason)


def _fresh(claims: dict[str, Any], now: float, leeway: int, max_age: int) -> None:
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise InvalidKeyBindingError("KB-JWT iat is missing", reason="kb_iat_missing")
    if iat > now + leeway:
        raise InvalidKeyBindingError("KB-JWT iat is in the future", reason="kb_iat_in_future")
    if iat < now - max_age - leeway:
        raise InvalidKeyBindingError(f"KB-JWT is {int(now - iat)} s old", reason="kb_stale")
