"""JOSE keys (RFC 7517 JWK, RFC 7638 thumbprints): parsed once, each bound to one algorithm."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from shared.encoding import b64url_decode, b64url_encode, json_dumps
from shared.errors import MalformedError, UnsupportedAlgorithmError

ES256 = "ES256"
EDDSA = "EdDSA"
ES256_HALF = 32
"""Bytes in each of r and s of an ES256 signature, and in each P-256 coordinate."""

_P256 = ec.SECP256R1()
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
_P256_KEYS: dict[tuple[str, str, str | None], PublicKey] = {}
"""P-256 keys imported before, by exact JWK ``x``, ``y`` and ``kid`` (a verifier meets holders again)."""
_P256_KEYS_SIZE = 1024

PublicKeyObject: TypeAlias = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
PrivateKeyObject: TypeAlias = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


class PublicKey(msgspec.Struct, frozen=True):
    """A verification key with the one algorithm it may be used with."""

    key: PublicKeyObject
    alg: str
    jwk: dict[str, str]
    kid: str | None = None

    def thumbprint(self) -> str:
        """RFC 7638 JWK thumbprint (SHA-256, base64url)."""
        return jwk_thumbprint(self.jwk)


@dataclass(frozen=True, slots=True)
class PrivateKey:
    """A signing key, its algorithm and its public half."""

    key: PrivateKeyObject = field(repr=False)
    public: PublicKey

    @property
    def alg(self) -> str:
        return self.public.alg

    @property
    def kid(self) -> str | None:
        return self.public.kid


def generate_private_key(alg: str = ES256, *, kid: str | None = None) -> PrivateKey:
    """A fresh key pair (P-256 for ES256, Ed25519 for EdDSA)."""
    if alg == ES256:
        return _wrap_private(ec.generate_private_key(ec.SECP256R1()), kid)
    if alg == EDDSA:
        return _wrap_private(ed25519.Ed25519PrivateKey.generate(), kid)
    raise UnsupportedAlgorithmError(f"cannot generate keys for {alg!r}", reason="unsupported_alg")


def public_key_from_jwk(jwk: Mapping[str, Any], *, kid: str | None = None) -> PublicKey:
    """Import a public JWK; refuses private members (OID4VCI §F.4) and unsupported curves."""
    if type(jwk) is not dict and not isinstance(jwk, Mapping):
        raise MalformedError("a JWK must be a JSON object", reason="bad_jwk")
    if not _PRIVATE_JWK_MEMBERS.isdisjoint(jwk):
        raise MalformedError("a public JWK must not carry private key members", reason="private_jwk")
    kid = kid if kid is not None else _optional_str(jwk.get("kid"))
    if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        # Hot path of every KB-JWT check: decode the point directly; cryptography checks it is on the curve.
        # Only a point that decoded is remembered, by the exact coordinate strings (and kid).
        x, y = jwk.get("x"), jwk.get("y")
        known = _P256_KEYS.get((x, y, kid)) if type(x) is str and type(y) is str else None
        if known is None:
            point = _p256_point(jwk)  # refuses anything but two base64url coordinate strings
            x, y = str(x), str(y)
            known = PublicKey(point, ES256, {"kty": "EC", "crv": "P-256", "x": x, "y": y}, kid)
            if len(_P256_KEYS) >= _P256_KEYS_SIZE:
                _P256_KEYS.clear()
            _P256_KEYS[x, y, kid] = known
        return known
    return wrap_public_key(_load_jwk(jwk), kid)


def private_key_from_jwk(jwk: Mapping[str, Any]) -> PrivateKey:
    """Import a private JWK (EC P-256 or OKP Ed25519)."""
    key = _load_jwk(jwk)
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise MalformedError("the JWK holds no private key", reason="bad_jwk")
    return _wrap_private(key, _optional_str(jwk.get("kid")))


def private_key_from_pem(pem: bytes, *, kid: str | None = None) -> PrivateKey:
    """Load an unencrypted PKCS#8 PEM private key."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise MalformedError(f"not a PEM private key: {exc}", reason="bad_pem") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise UnsupportedAlgorithmError("only P-256 and Ed25519 keys are supported", reason="bad_key_type")
    return _wrap_private(key, kid)


def private_key_to_pem(key: PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted (the caller stores it with restrictive permissions)."""
    return key.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def private_jwk(key: PrivateKey) -> dict[str, str]:
    """Export a private key as a JWK (for test fixtures and encrypted wallet storage)."""
    import jwt.algorithms  # lazy: pyjwt costs ~25 ms at start-up; only JWK import/export needs it

    if isinstance(key.key, ec.EllipticCurvePrivateKey):
        exported = jwt.algorithms.ECAlgorithm.to_jwk(key.key, as_dict=True)
    else:
        exported = jwt.algorithms.OKPAlgorithm.to_jwk(key.key, as_dict=True)
    return {k: str(v) for k, v in exported.items()}


def is_private_jwk(jwk: Mapping[str, Any]) -> bool:
    """True when the JWK carries private key material (it must never travel)."""
    return not _PRIVATE_JWK_MEMBERS.isdisjoint(jwk.keys())


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 §3: SHA-256 over the required members, sorted, no whitespace."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None or any(not isinstance(jwk.get(m), str) for m in members):
        raise MalformedError("cannot compute a thumbprint for this JWK", reason="bad_jwk")
    canonical = json_dumps({m: jwk[m] for m in members})
    return b64url_encode(hashlib.sha256(canonical).digest())


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _p256_point(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """The point of a P-256 JWK."""
    encoded = b"\x04" + _coordinate(jwk, "x") + _coordinate(jwk, "y")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(_P256, encoded)
    except ValueError as exc:
        raise MalformedError("the JWK is not a point on P-256", reason="bad_jwk") from exc


def _coordinate(jwk: Mapping[str, Any], member: str) -> bytes:
    value = jwk.get(member)
    if not isinstance(value, str):
        raise MalformedError(f"JWK member {member!r} must be a string", reason="bad_jwk")
    raw = b64url_decode(value, what=f"JWK member {member!r}")
    if len(raw) != ES256_HALF:
        raise MalformedError(f"JWK member {member!r} must be 32 bytes for P-256", reason="bad_jwk")
    return raw


def _load_jwk(jwk: Mapping[str, Any]) -> Any:
    import jwt.algorithms  # lazy, see private_jwk
    import jwt.exceptions

    kty, crv = jwk.get("kty"), jwk.get("crv")
    for member in ("x", "y", "d"):
        if member in jwk:
            value = jwk[member]
            if not isinstance(value, str):
                raise MalformedError(f"JWK member {member!r} must be a string", reason="bad_jwk")
            b64url_decode(value, what=f"JWK member {member!r}")
    try:
        if kty == "EC" and crv == "P-256":
            return jwt.algorithms.ECAlgorithm.from_jwk(dict(jwk))
        if kty == "OKP" and crv == "Ed25519":
            return jwt.algorithms.OKPAlgorithm.from_jwk(dict(jwk))
    except (jwt.exceptions.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise MalformedError(f"invalid JWK: {exc}", reason="bad_jwk") from exc
    raise UnsupportedAlgorithmError(f"unsupported JWK kty={kty!r} crv={crv!r}", reason="bad_key_type")


def wrap_public_key(key: Any, kid: str | None = None) -> PublicKey:
    """A `cryptography` P-256 or Ed25519 public key bound to its algorithm, with its JWK."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise UnsupportedAlgorithmError("only the P-256 curve is supported", reason="bad_key_type")
        numbers = key.public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(numbers.x.to_bytes(ES256_HALF, "big")),
            "y": b64url_encode(numbers.y.to_bytes(ES256_HALF, "big")),
        }
        return PublicKey(key, ES256, jwk, kid)
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return PublicKey(key, EDDSA, {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}, kid)
    raise UnsupportedAlgorithmError("only P-256 and Ed25519 keys are supported", reason="bad_key_type")


def _wrap_private(key: PrivateKeyObject, kid: str | None) -> PrivateKey:
    return PrivateKey(key, wrap_public_key(key.public_key(), kid))
