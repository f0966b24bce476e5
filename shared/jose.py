"""JOSE adapter (RFC 7515/7517/7518/7638, RFC 8725): the only module that touches pyjwt and cryptography.

Keys are parsed once into `PrivateKey`/`PublicKey`. Compact JWS are split and verified here with
`cryptography` directly (pyjwt's decode spends more time in a pure-Python base64 check than in the
signature), keeping every check pyjwt makes: our algorithm allow-list bound to the key, strict
base64url, `crit`, and explicit `typ`. Every library exception leaves this module as a `CredentialError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import jwt.algorithms
import jwt.exceptions
import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from shared.encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from shared.errors import (
    InvalidSignatureError,
    InvalidTypeError,
    MalformedError,
    TooLargeError,
    UnsupportedAlgorithmError,
)

ES256 = "ES256"
EDDSA = "EdDSA"
DEFAULT_ALGORITHMS: frozenset[str] = frozenset({ES256})
"""Algorithms accepted unless a caller configures more; EdDSA must be opted into."""
MAX_JWS_SIZE = 64 * 1024

_ES256_HALF = 32
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_P256 = ec.SECP256R1()
_HEADER_CACHE: dict[str, dict[str, Any]] = {}
_HEADER_CACHE_SIZE = 256
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}

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


KeyResolver = Callable[[Mapping[str, Any], Mapping[str, Any]], PublicKey]
"""Chooses the trusted key for a JWS from its (header, unverified payload), or raises."""


class Jws(msgspec.Struct, frozen=True):
    """A compact JWS split and decoded, its signature not yet checked unless returned by `verify_jws`."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def generate_private_key(alg: str = ES256, *, kid: str | None = None) -> PrivateKey:
    """A fresh key pair (P-256 for ES256, Ed25519 for EdDSA)."""
    if alg == ES256:
        return _wrap_private(ec.generate_private_key(ec.SECP256R1()), kid)
    if alg == EDDSA:
        return _wrap_private(ed25519.Ed25519PrivateKey.generate(), kid)
    raise UnsupportedAlgorithmError(f"cannot generate keys for {alg!r}", reason="unsupported_alg")


def public_key_from_jwk(jwk: Mapping[str, Any], *, kid: str | None = None) -> PublicKey:
    """Import a public JWK; refuses private members (OID4VCI §F.4) and unsupported curves."""
    if not isinstance(jwk, Mapping):
        raise MalformedError("a JWK must be a JSON object", reason="bad_jwk")
    if _PRIVATE_JWK_MEMBERS & jwk.keys():
        raise MalformedError("a public JWK must not carry private key members", reason="private_jwk")
    kid = kid if kid is not None else _optional_str(jwk.get("kid"))
    if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
        # Hot path of every KB-JWT check: decode the point directly; cryptography checks it is on the curve.
        x, y = _coordinate(jwk, "x"), _coordinate(jwk, "y")
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(_P256, b"\x04" + x + y)
        except ValueError as exc:
            raise MalformedError("the JWK is not a point on P-256", reason="bad_jwk") from exc
        return PublicKey(key, ES256, {"kty": "EC", "crv": "P-256", "x": jwk["x"], "y": jwk["y"]}, kid)
    return _wrap_public(_load_jwk(jwk), kid)


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


def sign_jws(header: Mapping[str, Any], payload: bytes, key: PrivateKey) -> str:
    """Compact JWS of ``payload``; ``alg`` is always the key's own, ``kid`` defaults to the key's."""
    full_header = {"alg": key.alg, **header}
    full_header["alg"] = key.alg
    if key.kid is not None and "kid" not in full_header:
        full_header["kid"] = key.kid
    signing_input = f"{b64url_encode(json_dumps(full_header))}.{b64url_encode(payload)}"
    signature = _sign(key, signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def sign_jwt(claims: Mapping[str, Any], key: PrivateKey, *, typ: str, **header: Any) -> str:
    """Compact JWS with a JSON claims set and explicit ``typ`` (RFC 8725 §3.11)."""
    return sign_jws({"typ": typ, **header}, json_dumps(claims), key)


def decode_jws_unverified(token: str, *, max_size: int = MAX_JWS_SIZE, what: str = "JWT") -> Jws:
    """Split and decode a compact JWS without checking its signature."""
    if not isinstance(token, str):
        raise MalformedError(f"{what} must be a string", reason="bad_jws")
    if len(token) > max_size:
        raise TooLargeError(f"{what} is larger than {max_size} bytes", reason="too_large")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedError(f"{what} must have three dot-separated parts", reason="bad_jws")
    header = _decode_header(parts[0], what)
    payload = _json_object(b64url_decode(parts[1], what=f"{what} payload"), f"{what} payload")
    signature = b64url_decode(parts[2], what=f"{what} signature")
    signing_input = token[: len(parts[0]) + 1 + len(parts[1])].encode("ascii")
    return Jws(header, payload, signing_input, signature)


def check_typ(header: Mapping[str, Any], expected: str | Collection[str], *, what: str = "JWT") -> None:
    """Explicit typing (RFC 8725 §3.11); media types compare case-insensitively, 'application/' optional."""
    typ = header.get("typ")
    if typ == expected:
        return
    wanted = {expected} if isinstance(expected, str) else set(expected)
    if not isinstance(typ, str) or _media_type(typ) not in {_media_type(t) for t in wanted}:
        raise InvalidTypeError(
            f"{what} typ is {typ!r}, expected {' or '.join(sorted(wanted))}", reason="wrong_typ"
        )


def verify_signature(jws: Jws, key: PublicKey, *, algorithms: Collection[str] = DEFAULT_ALGORITHMS) -> None:
    """Check the JWS signature with ``key``; ``alg`` must be allowed and be the key's own algorithm."""
    alg = jws.header["alg"]
    if alg not in algorithms or alg != key.alg:
        raise UnsupportedAlgorithmError(f"algorithm {alg!r} is not accepted here", reason="alg_not_allowed")
    try:
        if isinstance(key.key, ec.EllipticCurvePublicKey):
            if len(jws.signature) != 2 * _ES256_HALF:
                raise InvalidSignatureError("ES256 signature must be 64 bytes r||s", reason="bad_signature")
            r = int.from_bytes(jws.signature[:_ES256_HALF], "big")
            s = int.from_bytes(jws.signature[_ES256_HALF:], "big")
            key.key.verify(encode_dss_signature(r, s), jws.signing_input, _ECDSA_SHA256)
        else:
            key.key.verify(jws.signature, jws.signing_input)
    except (InvalidSignature, ValueError) as exc:
        raise InvalidSignatureError("signature does not verify", reason="bad_signature") from exc


def verify_jws(
    token: str,
    key: PublicKey | KeyResolver,
    *,
    typ: str | Collection[str],
    algorithms: Collection[str] = DEFAULT_ALGORITHMS,
    what: str = "JWT",
    max_size: int = MAX_JWS_SIZE,
) -> Jws:
    """Decode, type-check and verify a compact JWS; the key may be chosen by a resolver."""
    jws = decode_jws_unverified(token, max_size=max_size, what=what)
    if jws.header["alg"] not in algorithms:
        raise UnsupportedAlgorithmError(
            f"{what} algorithm {jws.header['alg']!r} is not accepted", reason="alg_not_allowed"
        )
    check_typ(jws.header, typ, what=what)
    public = key if isinstance(key, PublicKey) else key(jws.header, jws.payload)
    verify_signature(jws, public, algorithms=algorithms)
    return jws


def _sign(key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key.key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.key.sign(data, _ECDSA_SHA256))
        return r.to_bytes(_ES256_HALF, "big") + s.to_bytes(_ES256_HALF, "big")
    return key.key.sign(data)


def _decode_header(encoded: str, what: str) -> dict[str, Any]:
    """Decode and check a protected header; issuers and holders repeat the same few headers, so cache them."""
    header = _HEADER_CACHE.get(encoded)
    if header is None:
        header = _json_object(b64url_decode(encoded, what=f"{what} header"), f"{what} header")
        alg = header.get("alg")
        if not isinstance(alg, str) or not alg:
            raise MalformedError(f"{what} header has no 'alg'", reason="missing_alg")
        if not isinstance(header.get("kid", ""), str):
            raise MalformedError(f"{what} header 'kid' must be a string (RFC 7515 §4.1.4)", reason="bad_kid")
        if "crit" in header:
            # RFC 7515 §4.1.11: we understand no extension, so any `crit` makes the JWS invalid.
            raise MalformedError(f"{what} header lists critical extensions we do not support", reason="crit")
        if len(_HEADER_CACHE) >= _HEADER_CACHE_SIZE:
            _HEADER_CACHE.clear()
        _HEADER_CACHE[encoded] = header
    return dict(header)


def _media_type(typ: str) -> str:
    lowered = typ.lower()
    return lowered.removeprefix("application/")


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    value = json_loads(raw, what=what)
    if not isinstance(value, dict):
        raise MalformedError(f"{what} must be a JSON object", reason="bad_json")
    return value


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _coordinate(jwk: Mapping[str, Any], member: str) -> bytes:
    value = jwk.get(member)
    if not isinstance(value, str):
        raise MalformedError(f"JWK member {member!r} must be a string", reason="bad_jwk")
    raw = b64url_decode(value, what=f"JWK member {member!r}")
    if len(raw) != _ES256_HALF:
        raise MalformedError(f"JWK member {member!r} must be 32 bytes for P-256", reason="bad_jwk")
    return raw


def _load_jwk(jwk: Mapping[str, Any]) -> Any:
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


def _wrap_public(key: Any, kid: str | None) -> PublicKey:
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise UnsupportedAlgorithmError("only the P-256 curve is supported", reason="bad_key_type")
        numbers = key.public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url_encode(numbers.x.to_bytes(_ES256_HALF, "big")),
            "y": b64url_encode(numbers.y.to_bytes(_ES256_HALF, "big")),
        }
        return PublicKey(key, ES256, jwk, kid)
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return PublicKey(key, EDDSA, {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}, kid)
    raise UnsupportedAlgorithmError("only P-256 and Ed25519 keys are supported", reason="bad_key_type")


def _wrap_private(key: PrivateKeyObject, kid: str | None) -> PrivateKey:
    return PrivateKey(key, _wrap_public(key.public_key(), kid))
