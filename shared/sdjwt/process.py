"""Replacing digests by disclosed values: RFC 9901 §7.1 steps 3 to 5, run by holders and verifiers alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from shared.encoding import MAX_DEPTH
from shared.errors import InvalidDisclosureError, MalformedError, TooLargeError
from shared.sdjwt.disclosure import Disclosure, decode_disclosure

ClaimPath = tuple[str | int | None, ...]
"""A claims path as in SD-JWT VC and DCQL: member names, array indices, None for every element."""


class Processed(msgspec.Struct):
    """The payload with every presented disclosure applied, and where each disclosure landed."""

    claims: dict[str, Any]
    placed: list[tuple[ClaimPath, Disclosure]]


def process_payload(payload: dict[str, Any], disclosure_texts: Sequence[str]) -> Processed:
    """Apply the disclosures to the signed payload, enforcing every MUST-reject rule of §7.1."""
    by_digest: dict[str, Disclosure] = {}
    for text in disclosure_texts:
        disclosure = decode_disclosure(text)
        if disclosure.digest in by_digest:
            raise InvalidDisclosureError(
                "the same disclosure is presented twice", reason="duplicate_disclosure"
            )
        by_digest[disclosure.digest] = disclosure
    walk = _Walk(by_digest)
    claims = walk.object(payload, (), 0)
    claims.pop("_sd_alg", None)
    if walk.found != len(by_digest):
        raise InvalidDisclosureError(
            "a disclosure is not referenced by any digest in the SD-JWT", reason="unreferenced_disclosure"
        )
    return Processed(claims, walk.placed)


class _Walk:
    __slots__ = ("by_digest", "found", "placed", "seen")

    def __init__(self, by_digest: dict[str, Disclosure]) -> None:
        self.by_digest = by_digest
        self.seen: set[str] = set()
        self.found = 0
        self.placed: list[tuple[ClaimPath, Disclosure]] = []

    def value(self, value: Any, path: ClaimPath, depth: int) -> Any:
        kind = type(value)
        if kind is dict:
            return self.object(value, path, depth + 1)
        if kind is list:
            return self.array(value, path, depth + 1)
        return value

    def object(self, obj: dict[str, Any], path: ClaimPath, depth: int) -> dict[str, Any]:
        if depth > MAX_DEPTH:
            raise TooLargeError(f"claims are nested deeper than {MAX_DEPTH}", reason="too_deep")
        out: dict[str, Any] = {}
        digests: list[Any] = []
        for name, v in obj.items():
            kind = type(v)
            if kind is not dict and kind is not list:
                out[name] = v
            elif kind is list and name == "_sd":
                digests = v
            else:
                out[name] = self.value(v, (*path, name), depth)
        if "_sd" in out:
            raise MalformedError("'_sd' must be an array of digest strings", reason="bad_sd_array")
        if "..." in out:
            raise MalformedError(
                "'...' may only appear in an array element digest", reason="misplaced_ellipsis"
            )
        if depth and "_sd_alg" in out:
            raise MalformedError("'_sd_alg' may only appear at the top level", reason="nested_sd_alg")
        for d in digests:
            if type(d) is not str:
                raise MalformedError("'_sd' must be an array of digest strings", reason="bad_sd_array")
            disclosure = self._lookup(d)
            if disclosure is None:
                continue
            member = disclosure.name
            if member is None:
                raise InvalidDisclosureError(
                    "an array-element disclosure is referenced from '_sd'", reason="bad_shape"
                )
            if member in out:
                raise InvalidDisclosureError(
                    f"claim {member!r} is disclosed twice", reason="claim_name_conflict"
                )
            member_path = (*path, member)
            out[member] = self.value(disclosure.value, member_path, depth)
            self.placed.append((member_path, disclosure))
        return out

    def array(self, items: list[Any], path: ClaimPath, depth: int) -> list[Any]:
        if depth > MAX_DEPTH:
            raise TooLargeError(f"claims are nested deeper than {MAX_DEPTH}", reason="too_deep")
        out: list[Any] = []
        for item in items:
            if isinstance(item, dict) and "..." in item:
                d = item["..."]
                if len(item) != 1 or not isinstance(d, str):
                    raise MalformedError(
                        "an array digest must be {'...': digest} alone", reason="bad_array_digest"
                    )
                disclosure = self._lookup(d)
                if disclosure is None:
                    continue
                if disclosure.name is not None:
                    raise InvalidDisclosureError(
                        "an object-member disclosure is referenced from an array", reason="bad_shape"
                    )
                index = len(out)
                out.append(self.value(disclosure.value, (*path, index), depth))
                self.placed.append(((*path, index), disclosure))
            else:
                out.append(self.value(item, (*path, len(out)), depth))
        return out

    def _lookup(self, d: str) -> Disclosure | None:
        seen = self.seen
        if d in seen:
            raise InvalidDisclosureError("a digest appears more than once", reason="duplicate_digest")
        seen.add(d)
        disclosure = self.by_digest.get(d)
        if disclosure is not None:
            self.found += 1
        return disclosure
