"""SD-JWT issuance (RFC 9901 §4, §5): conceal the marked claims, add decoys, sign.

`prepare_claims` checks the claims and their `SD` markers once and encodes what never changes; each
`PreparedClaims.issue` then draws new salts and decoys, so copies of the same claims (a batch) share no
disclosure and no digest (§10.1) and cost only their salting, hashing and signature.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from shared.encoding import b64url_encode, b64url_encode_ascii, json_dumps
from shared.errors import InvalidClaimError
from shared.jose import PrivateKey, sign_jws
from shared.sdjwt.disclosure import RESERVED_NAMES, SD_ALG, SaltSource, digest_ascii
from shared.sdjwt.markers import SD


def issue_sd_jwt(
    claims: Mapping[Any, Any],
    key: PrivateKey,
    *,
    typ: str,
    header: Mapping[str, Any] | None = None,
    decoys: int = 0,
    salt: SaltSource | None = None,
) -> str:
    """Sign ``claims`` as an SD-JWT, concealing every member or element wrapped in `SD`.

    ``decoys`` decoy digests are added to each ``_sd`` array (never to objects without
    selectively disclosable members). ``salt`` replaces the CSPRNG salts (tests only).
    Returns the compact form with all disclosures.
    """
    return prepare_claims(claims, decoys=decoys).issue(key, typ=typ, header=header, salt=salt)


def prepare_claims(claims: Mapping[Any, Any], *, decoys: int = 0) -> PreparedClaims:
    """Check ``claims`` once for issuing them many times; raises `InvalidClaimError` as issuing would."""
    return PreparedClaims(_compile_object(claims), decoys)


def decoy_digest() -> str:
    """A digest of random bytes: it matches no disclosure (§4.2.5)."""
    return b64url_encode(os.urandom(32))


class _Object:
    """A JSON object holding `SD` markers somewhere, member by member in order.

    A plain member is ``(name, False, value)``; a concealed one ``(b'"name",', True, value)``, its value
    a node if it holds markers of its own, else its disclosure's tail ``b',"name",<JSON>]'`` (`_Copy`).
    """

    __slots__ = ("members", "names")

    def __init__(self, members: list[tuple[Any, bool, Any]], names: frozenset[str]) -> None:
        self.members = members
        self.names = names
        """Every member's name, concealed or not."""


class _Array:
    """A JSON array holding `SD` markers: ``(concealed, value)`` per element, as in `_Object` (a concealed
    leaf's tail is ``b',<JSON>]'``)."""

    __slots__ = ("items",)

    def __init__(self, items: list[tuple[bool, Any]]) -> None:
        self.items = items


class PreparedClaims:
    """Claims checked once; `issue` signs a fresh SD-JWT of them (new salts, new decoys) each time."""

    __slots__ = ("_decoys", "_root")

    def __init__(self, root: _Object, decoys: int) -> None:
        self._root = root
        self._decoys = decoys

    def issue(
        self,
        key: PrivateKey,
        *,
        typ: str,
        header: Mapping[str, Any] | None = None,
        salt: SaltSource | None = None,
        plain: Mapping[str, Any] | None = None,
    ) -> str:
        """Sign one SD-JWT; ``plain`` adds top-level members in plaintext that differ per copy."""
        copy = _Copy(_SaltPool().take if salt is None else _json_salts(salt), self._decoys)
        payload = copy.object(self._root)
        if plain:
            sd = payload.pop("_sd", None)
            for name, value in plain.items():
                if type(name) is not str or name in RESERVED_NAMES or name in self._root.names:
                    raise InvalidClaimError(
                        f"claim name {name!r} is invalid or given twice", reason="bad_claim_name"
                    )
                payload[name] = _plaintext(value)
            if sd is not None:
                payload["_sd"] = sd
        if copy.disclosures:
            payload["_sd_alg"] = SD_ALG
        jws = sign_jws({"typ": typ, **(header or {})}, json_dumps(payload), key)
        # The compact form of RFC 9901 §4 (`disclosure.serialize`), the disclosures joined as bytes once.
        if not copy.disclosures:
            return jws + "~"
        return f"{jws}~{b'~'.join(copy.disclosures).decode('ascii')}~"


class _SaltPool:
    """Salts of 144 random bits (RFC 9901 §9.3 asks for at least 128), drawn from the OS in batches, each
    as the start of its disclosure's JSON array, ``["<salt>"``.

    18 bytes encode to exactly 24 base64url characters, so one encoded batch slices into salts; the
    base64url alphabet needs no JSON escaping.
    """

    __slots__ = ("salts",)
    BATCH = 16

    def __init__(self) -> None:
        self.salts: list[bytes] = []

    def take(self) -> bytes:
        if not self.salts:
            encoded = b64url_encode_ascii(os.urandom(18 * self.BATCH))
            self.salts = [b'["' + encoded[i : i + 24] + b'"' for i in range(0, 24 * self.BATCH, 24)]
        return self.salts.pop()


def _json_salts(salt: SaltSource) -> Callable[[], bytes]:
    return lambda: b"[" + json_dumps(salt())


class _Copy:
    """One SD-JWT's concealment: its salts, disclosures (ASCII bytes) and digests.

    A disclosure's JSON is built from two parts: ``["<salt>"`` (`_SaltPool`) and its tail,
    ``,"name",value]`` or ``,value]``, made once by `prepare_claims` unless the value holds markers.
    """

    __slots__ = ("decoys", "disclosures", "salt")

    def __init__(self, salt: Callable[[], bytes], decoys: int) -> None:
        self.salt = salt
        self.decoys = decoys
        self.disclosures: list[bytes] = []

    def value(self, value: Any) -> Any:
        kind = type(value)
        if kind is _Object:
            return self.object(value)
        if kind is _Array:
            return [{"...": self.element(v)} if concealed else self.value(v) for concealed, v in value.items]
        return value

    def object(self, node: _Object) -> dict[str, Any]:
        out: dict[str, Any] = {}
        digests: list[str] = []
        for name, concealed, value in node.members:
            if concealed:
                # The value first, then its salt: salts are drawn in the order of the reference issuer.
                tail = value if type(value) is bytes else _tail(name, self.value(value))
                digests.append(self.disclose(self.salt(), tail))
            else:
                out[name] = self.value(value)
        if digests:
            digests += [decoy_digest() for _ in range(self.decoys)]
            # Sorting hides the original claim order (§4.2.4.1).
            out["_sd"] = sorted(digests)
        return out

    def element(self, value: Any) -> str:
        salt = self.salt()
        return self.disclose(salt, value if type(value) is bytes else _tail(b"", self.value(value)))

    def disclose(self, salt: bytes, tail: bytes) -> str:
        """Disclose ``salt + tail`` (a JSON array, see the class), as `disclosure.encode_disclosure` does
        but kept in bytes; returns its digest."""
        text = b64url_encode_ascii(salt + tail)
        self.disclosures.append(text)
        return digest_ascii(text)


def _compile(value: Any) -> Any:
    """A value as `_Copy` renders it: plain data as is (containers copied), or a node if it holds `SD`."""
    kind = type(value)
    if kind is str or kind is int or kind is bool:
        return value
    if kind is dict or isinstance(value, Mapping):
        node = _compile_object(value)
        if any(concealed or _is_node(v) for _, concealed, v in node.members):
            return node
        return {name: v for name, _, v in node.members}
    if kind is list or kind is tuple:
        items = [_compile_element(item) for item in value]
        return (
            _Array(items)
            if any(concealed or _is_node(v) for concealed, v in items)
            else [v for _, v in items]
        )
    if isinstance(value, SD):
        raise InvalidClaimError("SD() marks member names and array elements only", reason="misplaced_sd")
    return value


def _compile_element(item: Any) -> tuple[bool, Any]:
    if type(item) is SD:
        compiled = _compile(item.value)
        return True, compiled if _is_node(compiled) else _tail(b"", compiled)
    return False, _compile(item)


def _compile_object(obj: Mapping[Any, Any]) -> _Object:
    members: list[tuple[Any, bool, Any]] = []
    plain: set[str] = set()
    hidden: set[str] = set()
    for key, value in obj.items():
        if type(key) is SD:
            name = key.value
            if type(name) is not str or name in hidden:
                raise InvalidClaimError(
                    f"claim name {name!r} is invalid or repeated", reason="bad_claim_name"
                )
            hidden.add(name)
            prefix, compiled = json_dumps(name) + b",", _compile(value)
            tail = compiled if _is_node(compiled) else _tail(prefix, compiled)
            members.append((prefix, True, tail))
        elif type(key) is str:
            plain.add(key)
            members.append((key, False, _compile(value)))
        else:
            raise InvalidClaimError(f"claim name {key!r} is not a string", reason="bad_claim_name")
    if RESERVED_NAMES & (plain | hidden) or not hidden.isdisjoint(plain):
        raise InvalidClaimError(
            "a claim name is reserved or both disclosable and plain", reason="bad_claim_name"
        )
    return _Object(members, frozenset(plain | hidden))


def _tail(prefix: bytes, value: Any) -> bytes:
    """A disclosure's JSON after its salt: ``,"name",<value>]`` (``prefix`` is ``"name",``) or
    ``,<value>]`` for an array element (``prefix`` empty)."""
    return b"," + prefix + json_dumps(value) + b"]"


def _is_node(value: Any) -> bool:
    return type(value) is _Object or type(value) is _Array


def _plaintext(value: Any) -> Any:
    """A per-copy plaintext value, copied, with the checks `prepare_claims` makes; `SD` has no place in it."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict or isinstance(value, Mapping):
        out = {}
        for name, member in value.items():
            if type(name) is not str or name in RESERVED_NAMES:
                raise InvalidClaimError(
                    f"claim name {name!r} is invalid or reserved", reason="bad_claim_name"
                )
            out[name] = _plaintext(member)
        return out
    if isinstance(value, list | tuple):
        return [_plaintext(item) for item in value]
    if isinstance(value, SD):
        raise InvalidClaimError("a per-copy plaintext claim holds SD()", reason="misplaced_sd")
    return value
