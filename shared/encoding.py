"""Strict wire encodings shared by every token kind: base64url (RFC 9901 §4 ABNF) and JSON (RFC 8725 §3.7).

Python's ``base64.urlsafe_b64decode`` silently drops characters outside the alphabet and accepts
padding, and JSON parsers keep the last of duplicate member names; both hide tampering, so every
decoder here refuses them instead.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import msgspec

from shared.errors import MalformedError, TooLargeError

MAX_DEPTH = 32
"""Deepest nesting of arrays and objects accepted in any decoded JSON value."""

_BASE64URL = re.compile(rb"[A-Za-z0-9_-]*")
_KEY_END = re.compile(rb'"\s*:')
_json_decode = msgspec.json.decode
_json_encode = msgspec.json.encode


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str | bytes, *, what: str = "value") -> bytes:
    """Decode unpadded base64url, refusing padding, other alphabets and non-canonical trailing bits."""
    raw = text.encode("ascii", "replace") if isinstance(text, str) else text
    if not _BASE64URL.fullmatch(raw):
        raise MalformedError(f"{what} is not base64url", reason="bad_base64url")
    if len(raw) % 4 == 1:
        raise MalformedError(f"{what} has an impossible base64url length", reason="bad_base64url")
    decoded = base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
    # Unused low bits of the last character must be zero, else two strings decode to the same bytes.
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != raw:
        raise MalformedError(f"{what} is not canonical base64url", reason="bad_base64url")
    return decoded


def json_dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return _json_encode(value)


def json_loads(raw: bytes, *, what: str = "JSON") -> Any:
    """Parse UTF-8 JSON strictly: no NaN/Infinity, no duplicate member names, at most MAX_DEPTH deep."""
    try:
        value = _json_decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        raise MalformedError(f"{what} is not valid JSON: {exc}", reason="bad_json") from exc
    members = _count_members(value, what)
    # Every member name in the text ends with `"` + whitespace + `:`; the regex counts those and
    # possibly some look-alikes inside strings. Equal counts prove no name was dropped as a duplicate;
    # only a surplus needs the exact (slower) check.
    if members and len(_KEY_END.findall(raw)) != members:
        _refuse_duplicate_members(raw, what)
    return value


def _count_members(value: Any, what: str, depth: int = 0) -> int:
    if depth > MAX_DEPTH:
        raise TooLargeError(f"{what} is nested deeper than {MAX_DEPTH}", reason="too_deep")
    if isinstance(value, dict):
        return len(value) + sum(_count_members(v, what, depth + 1) for v in value.values() if _nests(v))
    if isinstance(value, list):
        return sum(_count_members(v, what, depth + 1) for v in value if _nests(v))
    return 0


def _nests(value: Any) -> bool:
    return isinstance(value, dict | list)


def _refuse_duplicate_members(raw: bytes, what: str) -> None:
    import json

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            raise MalformedError(f"{what} repeats a member name", reason="duplicate_member")
        return dict(pairs)

    json.loads(raw, object_pairs_hook=no_duplicates)
