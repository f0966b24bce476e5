"""Compact JWS (RFC 7515, RFC 8725): sign, split and verify with our algorithm allow-list and explicit `typ`.

Verification runs on `cryptography` directly (pyjwt's decode spends more time in a pure-Python base64
check than in the signature) and keeps every check pyjwt makes: the algorithm bound to the key, strict
base64url, `crit`, a string `kid`; tests/test_jose_parity.py holds it to that.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, cast

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
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
from shared.jose.keys import ES256, ES256_HALF, PrivateKey, PublicKey

DEFAULT_ALGORITHMS: frozenset[str] = frozenset({ES256})
"""Algorithms accepted unless a caller configures more; EdDSA must be opted into."""
MAX_JWS_SIZE = 64 * 1024

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_HEADER_CACHE: dict[str, dict[str, Any]] = {}
_HEADER_CACHE_SIZE = 256


class Jws(msgspec.Struct, frozen=True):
    """A compact JWS split and decoded, its signature not yet checked unless returned by `verify_jws`."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


KeyResolver = Callable[[Mapping[str, Any], Mapping[str, Any]], PublicKey]
"""Chooses the trusted key for a JWS from its (header, unverified payload), or raises."""


def sign_jws(header: Mapping[str, Any], payload: bytes, key: PrivateKey) -> str:
    """Compact JWS of ``payload``; ``alg`` is always the key's own, ``kid`` defaults to the key's.

    A header member given as None is left out (``kid=None`` signs without a ``kid``).
    """
    full_header = {"alg": key.alg, **header}
    full_header["alg"] = key.alg
    if key.kid is not None and "kid" not in full_header:
        full_header["kid"] = key.kid
    full_header = {name: value for name, value in full_header.items() if value is not None}
    signing_input = f"{b64url_encode(json_dumps(full_header))}.{b64url_encode(payload)}"
    signature = _sign(key, signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def sign_jwt(claims: Mapping[str, Any], key: PrivateKey, *, typ: str | None, **header: Any) -> str:
    """Compact JWS with a JSON claims set and explicit ``typ`` (RFC 8725 §3.11); None only in tests of
    untyped tokens."""
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
        if key.alg == ES256:  # a PublicKey's alg is bound to its key type (`shared.jose.keys`)
            if len(jws.signature) != 2 * ES256_HALF:
                raise InvalidSignatureError("ES256 signature must be 64 bytes r||s", reason="bad_signature")
            r = int.from_bytes(jws.signature[:ES256_HALF], "big")
            s = int.from_bytes(jws.signature[ES256_HALF:], "big")
            ec_key = cast(ec.EllipticCurvePublicKey, key.key)
            ec_key.verify(encode_dss_signature(r, s), jws.signing_input, _ECDSA_SHA256)
        else:
            cast(ed25519.Ed25519PublicKey, key.key).verify(jws.signature, jws.signing_input)
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
        return r.to_bytes(ES256_HALF, "big") + s.to_bytes(ES256_HALF, "big")
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
