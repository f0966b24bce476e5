"""JWS JSON serialization of SD-JWT (RFC 9901 §8): flattened and general, to and from the compact form.

Disclosures and the KB-JWT ride in the first signature's unprotected header (§8.1, §8.3). Checks run
on the compact form rebuilt from that signature, which is also what ``sd_hash`` covers (§8.1).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.encoding import b64url_decode, json_dumps, json_loads
from shared.errors import MalformedError, TooLargeError
from shared.jose import (
    DEFAULT_ALGORITHMS,
    KeyResolver,
    PrivateKey,
    PublicKey,
    decode_jws_unverified,
    sign_jws,
    verify_jws,
)
from shared.sdjwt.disclosure import MAX_SD_JWT_SIZE, serialize, split_compact
from shared.sdjwt.verify import DEFAULT_LEEWAY_SECONDS, KeyBindingPolicy, VerifiedSdJwt, verify_sd_jwt

DISCLOSURES = "disclosures"
KB_JWT = "kb_jwt"
_FLATTENED_MEMBERS = frozenset({"payload", "protected", "header", "signature"})
_GENERAL_MEMBERS = frozenset({"payload", "signatures"})
_SIGNATURE_MEMBERS = frozenset({"protected", "header", "signature"})
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class JsonSignature:
    """A further signature of a general serialization (RFC 7515 §7.2.1)."""

    protected: str
    signature: str
    header: dict[str, Any]


@dataclass(frozen=True, slots=True)
class JsonSdJwt:
    """The rebuilt compact form, the first unprotected header (less disclosures, kb_jwt), the rest."""

    compact: str
    header: dict[str, Any]
    other_signatures: tuple[JsonSignature, ...]
    general: bool


def to_json_serialization(
    compact_sd_jwt: str,
    *,
    general: bool = False,
    header: Mapping[str, Any] | None = None,
    extra_signers: Sequence[PrivateKey] = (),
    other_signatures: Sequence[JsonSignature] = (),
) -> str:
    """Re-express a compact SD-JWT (or SD-JWT+KB) in the flattened or general JSON serialization.

    ``header`` adds unprotected members (e.g. ``kid``) to the first signature. In the general form
    ``other_signatures`` are carried over (a holder keeps the issuer's) and ``extra_signers`` each
    sign the same payload under the first protected header (their own ``alg`` and ``kid``).
    """
    parts = split_compact(compact_sd_jwt)
    jws = decode_jws_unverified(parts.jws, what="issuer-signed JWT")
    protected, payload, signature = parts.jws.split(".")
    first: dict[str, Any] = {**(header or {}), DISCLOSURES: list(parts.disclosures)}
    if parts.kb_jwt is not None:
        first[KB_JWT] = parts.kb_jwt
    if not general:
        if extra_signers or other_signatures:
            raise MalformedError("a flattened serialization has one signature", reason="too_many_signatures")
        return _dumps({"header": first, "payload": payload, "protected": protected, "signature": signature})
    signatures: list[dict[str, Any]] = [{"header": first, "protected": protected, "signature": signature}]
    for other in other_signatures:
        carried = {"protected": other.protected, "signature": other.signature}
        signatures.append({**carried, "header": other.header} if other.header else carried)
    shared_header = {k: v for k, v in jws.header.items() if k not in ("alg", "kid")}
    raw_payload = b64url_decode(payload, what="payload")
    for key in extra_signers:
        extra_protected, _, extra_signature = sign_jws(shared_header, raw_payload, key).split(".")
        signatures.append({"protected": extra_protected, "signature": extra_signature})
    return _dumps({"payload": payload, "signatures": signatures})


def from_json_serialization(text: str, *, max_size: int = MAX_SD_JWT_SIZE) -> JsonSdJwt:
    """Parse strictly (RFC 7515 §7.2, RFC 9901 §8) and rebuild the compact form from the first signature."""
    if not isinstance(text, str):
        raise MalformedError("a JSON serialized SD-JWT must be a string", reason="bad_json_serialization")
    if len(text) > max_size:
        raise TooLargeError(f"SD-JWT is larger than {max_size} bytes", reason="too_large")
    document = json_loads(text.encode("utf-8"), what="JSON serialized SD-JWT")
    if not isinstance(document, dict):
        raise MalformedError("a JSON serialized SD-JWT must be an object", reason="bad_json_serialization")
    general = "signatures" in document
    allowed = _GENERAL_MEMBERS if general else _FLATTENED_MEMBERS
    if not document.keys() <= allowed:
        unknown = sorted(document.keys() - allowed)
        raise MalformedError(f"unexpected members {unknown}", reason="bad_json_serialization")
    payload = _base64url(document.get("payload"), "payload")
    entries = document["signatures"] if general else [{k: document[k] for k in document if k != "payload"}]
    if not isinstance(entries, list) or not entries:
        raise MalformedError("'signatures' must be a non-empty array", reason="bad_json_serialization")
    first, *others = (_parse_signature(entry) for entry in entries)
    if any(DISCLOSURES in s.header or KB_JWT in s.header for s in others):
        raise MalformedError("disclosures and kb_jwt belong to signature 1", reason="misplaced_disclosures")
    header = dict(first.header)
    disclosures = header.pop(DISCLOSURES, [])
    if not isinstance(disclosures, list) or not all(
        isinstance(d, str) and _BASE64URL.fullmatch(d) for d in disclosures
    ):
        raise MalformedError("'disclosures' must be an array of disclosures", reason="bad_disclosures")
    kb_jwt = header.pop(KB_JWT, None)
    if kb_jwt is not None and not (isinstance(kb_jwt, str) and _COMPACT_JWS.fullmatch(kb_jwt)):
        raise MalformedError("'kb_jwt' must be a compact JWT", reason="bad_kb_jwt")
    compact = serialize(f"{first.protected}.{payload}.{first.signature}", disclosures, kb_jwt or "")
    return JsonSdJwt(compact, header, tuple(others), general)


def verify_json_serialization(
    text: str,
    issuer_key: PublicKey | KeyResolver,
    *,
    now: datetime,
    typ: str | Collection[str],
    key_binding: KeyBindingPolicy | None,
    algorithms: Collection[str] = DEFAULT_ALGORITHMS,
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
) -> VerifiedSdJwt:
    """Verify either form; every signature must verify with the key chosen from its whole JOSE header.

    The first signature's compact form goes through `verify_sd_jwt`; a resolver also sees unprotected
    members such as the `kid` of RFC 9901's general example.
    """
    parsed = from_json_serialization(text)
    verified = verify_sd_jwt(
        parsed.compact,
        _with_unprotected(issuer_key, parsed.header),
        now=now,
        typ=typ,
        key_binding=key_binding,
        algorithms=algorithms,
        leeway_seconds=leeway_seconds,
    )
    payload = parsed.compact.split(".")[1]
    for other in parsed.other_signatures:
        verify_jws(
            f"{other.protected}.{payload}.{other.signature}",
            _with_unprotected(issuer_key, other.header),
            typ=typ,
            algorithms=algorithms,
            what="additional issuer signature",
        )
    return verified


def _parse_signature(entry: Any) -> JsonSignature:
    if not isinstance(entry, dict) or not entry.keys() <= _SIGNATURE_MEMBERS:
        raise MalformedError("a signature has protected, header, signature", reason="bad_signature_entry")
    protected = _base64url(entry.get("protected"), "protected")
    signature = _base64url(entry.get("signature"), "signature")
    header = entry.get("header", {})
    if not isinstance(header, dict):
        raise MalformedError("an unprotected header must be an object", reason="bad_json_serialization")
    protected_header = json_loads(b64url_decode(protected, what="protected header"), what="protected header")
    if not isinstance(protected_header, dict):
        raise MalformedError("a protected header must be an object", reason="bad_json_serialization")
    # RFC 7515 §7.2.1: the two headers are disjoint; §4.1.11: `crit` must be integrity protected.
    if protected_header.keys() & header.keys() or "crit" in header:
        raise MalformedError("the unprotected header overlaps the protected one", reason="header_overlap")
    return JsonSignature(protected, signature, header)


def _base64url(value: Any, member: str) -> str:
    if not isinstance(value, str) or not _BASE64URL.fullmatch(value):
        raise MalformedError(f"'{member}' must be a base64url string", reason="bad_json_serialization")
    return value


def _with_unprotected(key: PublicKey | KeyResolver, unprotected: dict[str, Any]) -> PublicKey | KeyResolver:
    if isinstance(key, PublicKey):
        return key

    def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicKey:
        return key({**unprotected, **header}, payload)

    return resolve


def _dumps(value: dict[str, Any]) -> str:
    return json_dumps(value).decode("utf-8")
