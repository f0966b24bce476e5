"""Key proofs of the `jwt` proof type (OpenID4VCI 1.0 §F.1), checked as §F.4 lists, for anonymous pre-auth."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from server.config import ServerConfig
from server.errors import InvalidProofError
from shared.errors import CredentialError, MalformedError
from shared.jose import ES256, PublicKey, is_private_jwk, public_key_from_jwk, verify_jws
from shared.oid4vci import PROOF_TYP

PROOF_ALGORITHMS = frozenset({ES256})
KEY_HEADERS = ("kid", "x5c", "trust_chain", "key_attestation")
"""Header members naming a key some other way; a proof here carries its key in `jwk` alone."""


class ProvenKey(NamedTuple):
    """A holder key whose possession a proof showed, and the c_nonce that proof used."""

    key: PublicKey
    nonce: str


def check_proofs(proofs: list[str], *, audience: str, now: datetime, config: ServerConfig) -> list[ProvenKey]:
    """Check every proof; each must prove a different key (one credential per key, §8.3)."""
    keys = [check_proof(proof, audience=audience, now=now, config=config) for proof in proofs]
    if len({k.key.thumbprint() for k in keys}) != len(keys):
        raise InvalidProofError("two proofs carry the same key; each copy needs its own key")
    return keys


def check_proof(proof: str, *, audience: str, now: datetime, config: ServerConfig) -> ProvenKey:
    """§F.4: typ, ES256, a public `jwk` as the only key, signature, aud, iat window, a nonce, no iss."""
    proven: list[PublicKey] = []

    def header_key(header: Mapping[str, Any], _payload: Mapping[str, Any]) -> PublicKey:
        jwk = header.get("jwk")
        if not isinstance(jwk, dict) or any(name in header for name in KEY_HEADERS):
            raise MalformedError(
                "the proof must carry its public key in jwk, and only there", reason="proof_key"
            )
        if is_private_jwk(jwk):
            raise MalformedError("the proof's jwk carries private key material", reason="private_jwk")
        key = public_key_from_jwk(jwk)
        proven.append(key)
        return key

    try:
        claims = verify_jws(
            proof,
            header_key,
            typ=PROOF_TYP,
            algorithms=PROOF_ALGORITHMS,
            what="key proof",
            max_size=config.max_proof_bytes,
        ).payload
    except CredentialError as exc:
        raise InvalidProofError(f"{exc.code}: {exc}") from exc
    if "iss" in claims:
        raise InvalidProofError("a proof in the anonymous pre-authorized flow must not carry iss")
    if claims.get("aud") != audience:
        raise InvalidProofError(f"the proof's aud must be the credential issuer {audience}")
    iat = claims.get("iat")
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise InvalidProofError("the proof needs an integer iat")
    current = int(now.timestamp())
    if iat < current - config.proof_max_age:
        raise InvalidProofError("the proof is too old (iat); make a new one")
    if iat > current + config.leeway:
        raise InvalidProofError("the proof's iat lies in the future")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise InvalidProofError("the proof needs the c_nonce from the nonce endpoint")
    return ProvenKey(proven[0], nonce)
