"""Strict wire encodings shared by every token kind: base64url (RFC 9901 §4 ABNF) and JSON (RFC 8725 §3.7).

Python's ``base64.urlsafe_b64decode`` silently drops characters outside the alphabet and accepts
padding, and JSON parsers keep the last of duplicate member names; both hide tampering, so every
decoder here refuses them instead.
"""

from __future__ import annotations

import binascii
import re
from typing import Any

import msgspec

from shared.errors import MalformedError, TooLargeError

MAX_DEPTH = 32
"""Deepest nesting of arrays and objects accepted in any decoded JSON value."""

_PADDING = {0: b"", 2: b"==", 3: b"="}
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
# '+', '/', '=', '"' and '\\' become '!', which the strict decoder refuses: one pass maps and guards the
# alphabet.
_FROM_URLSAFE = bytes.maketrans(b'-_+/="\\', b"+/!!!!!")
# The last character of a 2- or 3-character final group carries 4 or 2 unused bits, which must be zero.
_CANONICAL_LAST = {2: frozenset(b"AQgw"), 3: frozenset(b"AEIMQUYcgkosw048")}
_KEY_END = re.compile(rb'"\s*:')
_LONG_TEXT = 2048
_json_decode = msgspec.json.decode
_b64_decode = msgspec.json.Decoder(bytes).decode
_json_encode = msgspec.json.encode


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return b64url_encode_ascii(data).decode("ascii")


def b64url_encode_ascii(data: bytes) -> bytes:
    """`b64url_encode` as ASCII bytes, for text that is built and hashed in bytes."""
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_TO_URLSAFE)


def b64url_decode(text: str | bytes, *, what: str = "value") -> bytes:
    """Decode unpadded base64url, refusing padding, other alphabets and non-canonical trailing bits."""
    raw = text.encode("ascii", "replace") if isinstance(text, str) else text
    tail = len(raw) % 4
    if tail == 1:
        raise MalformedError(f"{what} is not base64url", reason="bad_base64url")
    # msgspec decodes standard base64 in a JSON string about three times faster than binascii and refuses
    # any character outside the alphabet; the translation turned '"' and '\\', which JSON would read as
    # quote and escape, into '!'.
    try:
        decoded: bytes = _b64_decode(b'"' + raw.translate(_FROM_URLSAFE) + _PADDING[tail] + b'"')
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise MalformedError(f"{what} is not base64url", reason="bad_base64url") from exc
    # Unused low bits of the last character must be zero, else two strings decode to the same bytes.
    if tail and raw[-1] not in _CANONICAL_LAST[tail]:
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
    except RecursionError as exc:
        # msgspec stops near the interpreter's recursion limit (~1000 levels) with a RecursionError.
        raise TooLargeError(f"{what} is nested deeper than {MAX_DEPTH}", reason="too_deep") from exc
    if type(value) is dict or type(value) is list:
        # Fewer than MAX_DEPTH brackets cannot nest deeper; a text without '{' has no member name to
        # repeat; compact JSON as msgspec writes it (ours, most issuers') encodes back to the very same
        # bytes, which a text with a dropped duplicate name cannot. All C-speed: such texts skip the walk.
        if len(raw) < _LONG_TEXT:
            objects, arrays = raw.count(b"{"), raw.count(b"[")
        else:
            objects, arrays = _brackets(raw, b"{"), _brackets(raw, b"[")
        if objects + arrays <= MAX_DEPTH and (not objects or _json_encode(value) == raw):
            return value
        # Every member name in the text ends with `"` + whitespace + `:`; the regex counts those and
        # possibly some look-alikes inside strings. Equal counts prove no name was dropped as a duplicate;
        # only a surplus needs the exact (slower) check. No member at all (arrays and scalars only, or
        # empty objects) leaves no name to repeat, and nothing to count.
        members = _count_members(value, what, 0)
        if members and len(_KEY_END.findall(raw)) != members:
            _refuse_duplicate_members(raw, what)
    return value


def _brackets(raw: bytes, bracket: bytes) -> int:
    """How many times ``bracket`` occurs in ``raw``, counted up to MAX_DEPTH + 1: in a long text, mostly
    strings, ``find`` skips from one to the next faster than ``bytes.count`` reads every byte."""
    found, at = 0, raw.find(bracket)
    while at != -1 and found <= MAX_DEPTH:
        found += 1
        at = raw.find(bracket, at + 1)
    return found


def _count_members(value: dict[str, Any] | list[Any], what: str, depth: int) -> int:
    if depth > MAX_DEPTH:
        raise TooLargeError(f"{what} is nested deeper than {MAX_DEPTH}", reason="too_deep")
    if type(value) is dict:
        count = len(value)
        children = value.values()
    else:
        count = 0
        children = value  # type: ignore[assignment]
    for child in children:
        if type(child) is dict or type(child) is list:
            count += _count_members(child, what, depth + 1)
    return count


def _refuse_duplicate_members(raw: bytes, what: str) -> None:
    import json

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            raise MalformedError(f"{what} repeats a member name", reason="duplicate_member")
        return dict(pairs)

    json.loads(raw, object_pairs_hook=no_duplicates)
