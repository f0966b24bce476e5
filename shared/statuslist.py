"""Token Status List (draft-ietf-oauth-status-list-20 §4-§8): the list, its JWT and the status check."""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

import msgspec

from shared.encoding import b64url_decode, b64url_encode
from shared.errors import (
    InvalidStatusListError,
    MalformedError,
    RevokedError,
    SuspendedError,
    UnknownStatusError,
)
from shared.jose import DEFAULT_ALGORITHMS, KeyResolver, PrivateKey, PublicKey, sign_jwt, verify_jws

VALID = 0x00
INVALID = 0x01
SUSPENDED = 0x02
APPLICATION_SPECIFIC = frozenset({0x03, 0x0C, 0x0D, 0x0E, 0x0F})
"""Status values each application defines for itself (§7.1); cancuoc defines none, so they are refused."""

STATUS_LIST_TYP = "statuslist+jwt"
BITS = (1, 2, 4, 8)
MAX_LIST_BYTES = 4 * 1024 * 1024
"""Largest decompressed list accepted (32 Mi one-bit entries): the cap against zip bombs (§11.1)."""
MAX_TOKEN_SIZE = 2 * 1024 * 1024
MAX_TTL = 24 * 3600
"""Longest ``ttl`` a verifier honours; larger values are capped, not trusted (§13.7)."""

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[!-~]+")
# Every byte value unpacked into its entries, least significant bits first (§4.1).
_UNPACK = {
    b: tuple(tuple((n >> s) & ((1 << b) - 1) for s in range(0, 8, b)) for n in range(256)) for b in (1, 2, 4)
}


class StatusList:
    """Entries of ``bits`` bits packed into the bytes ``lst``, least significant bits first (§4.1)."""

    __slots__ = ("_mask", "_per", "aggregation_uri", "bits", "lst")

    def __init__(self, bits: int, lst: bytes | bytearray, *, aggregation_uri: str | None = None) -> None:
        _check_bits(bits)
        self.bits = bits
        self.lst = bytearray(lst)
        self.aggregation_uri = aggregation_uri
        self._per = 8 // bits
        self._mask = (1 << bits) - 1

    @classmethod
    def new(cls, size: int, bits: int) -> StatusList:
        """An all-VALID list of ``size`` entries; ``size * bits`` must be a whole number of bytes."""
        _check_bits(bits)
        if type(size) is not int or size < 0 or size * bits % 8:
            raise InvalidStatusListError(f"{size!r} entries are not whole bytes", reason="bad_size")
        return cls(bits, bytearray(size * bits // 8))

    @classmethod
    def from_statuses(cls, values: Iterable[int], bits: int) -> StatusList:
        """A list holding ``values`` in order; their count times ``bits`` must be a whole number of bytes."""
        _check_bits(bits)
        statuses, per = list(values), 8 // bits
        if len(statuses) % per:
            raise InvalidStatusListError(f"{len(statuses)} entries are not whole bytes", reason="bad_size")
        if statuses and (set(map(type, statuses)) != {int} or min(statuses) < 0 or max(statuses) >> bits):
            raise InvalidStatusListError(f"a status does not fit in {bits} bits", reason="value_out_of_range")
        # Entry k of every byte, shifted into place across the whole array at once; no entry crosses a byte.
        packed = sum(int.from_bytes(bytes(statuses[k::per]), "little") << (k * bits) for k in range(per))
        return cls(bits, packed.to_bytes(len(statuses) // per, "little"))

    @property
    def size(self) -> int:
        """Number of entries."""
        return len(self.lst) * self._per

    def get(self, idx: object) -> int:
        """The status at ``idx``: an int in range, never a bool (typed ``object`` so that a compiled build,
        which would read ``True`` as 1, keeps the check)."""
        per = self._per
        if type(idx) is not int or not 0 <= idx < len(self.lst) * per:
            raise InvalidStatusListError(f"index {idx!r} is not in the list", reason="index_out_of_range")
        return (self.lst[idx // per] >> (idx % per * self.bits)) & self._mask

    def set(self, idx: object, value: object) -> None:
        """Store ``value`` at ``idx``; both ints, never bools (see `get`)."""
        self.get(idx)  # the range check
        if type(idx) is not int or type(value) is not int or not 0 <= value <= self._mask:
            raise InvalidStatusListError(f"{value!r} does not fit in the entry", reason="value_out_of_range")
        byte, shift = idx // self._per, idx % self._per * self.bits
        self.lst[byte] = (self.lst[byte] & ~(self._mask << shift)) | (value << shift)

    def encode(self) -> dict[str, Any]:
        """The ``status_list`` JSON object (§4.2): ZLIB at the highest level (§4.1 step 4), base64url."""
        obj: dict[str, Any] = {"bits": self.bits, "lst": b64url_encode(zlib.compress(self.lst, 9))}
        if self.aggregation_uri is not None:
            obj["aggregation_uri"] = self.aggregation_uri
        return obj

    @classmethod
    def decode(cls, obj: Any, *, max_bytes: int = MAX_LIST_BYTES) -> StatusList:
        """Parse a ``status_list`` JSON object strictly; every fault is an `InvalidStatusListError`."""
        if not isinstance(obj, dict):
            raise InvalidStatusListError("status_list must be a JSON object", reason="bad_status_list")
        _check_bits(obj.get("bits"))
        lst, aggregation_uri = obj.get("lst"), obj.get("aggregation_uri")
        if not isinstance(lst, str):
            raise InvalidStatusListError("status_list has no 'lst' string", reason="missing_lst")
        if aggregation_uri is not None and not _is_uri(aggregation_uri):
            raise InvalidStatusListError("aggregation_uri must be a URI", reason="bad_aggregation_uri")
        try:
            compressed = b64url_decode(lst, what="status list 'lst'")
        except MalformedError as exc:
            raise InvalidStatusListError(exc.message, reason="bad_lst") from exc
        return cls(obj["bits"], _inflate(compressed, max_bytes), aggregation_uri=aggregation_uri)

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[int]:
        if self.bits == 8:
            return iter(self.lst)
        return chain.from_iterable(map(_UNPACK[self.bits].__getitem__, self.lst))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatusList):
            return NotImplemented
        return (self.bits, self.lst, self.aggregation_uri) == (other.bits, other.lst, other.aggregation_uri)

    def __repr__(self) -> str:
        return f"StatusList(bits={self.bits}, size={self.size})"


@dataclass(frozen=True, slots=True)
class StatusListToken:
    """A verified Status List Token (§5.1); ``iat``/``exp`` are NumericDates, ``ttl`` is already capped."""

    sub: str
    iat: float
    exp: float | None
    ttl: float | None
    status_list: StatusList


class StatusReference(msgspec.Struct, frozen=True, kw_only=True):
    """A referenced token's ``status.status_list`` (§6.2): its entry ``idx`` in the list served at ``uri``."""

    idx: int
    uri: str

    def to_claim(self) -> dict[str, Any]:
        """The ``status`` claim that carries this reference."""
        return {"status_list": {"idx": self.idx, "uri": self.uri}}


def sign_status_list_token(
    status_list: StatusList,
    key: PrivateKey,
    *,
    sub: str,
    iat: datetime,
    exp: datetime,
    ttl: int,
    iss: str | None = None,
    x5c: Sequence[str] | None = None,
) -> str:
    """Sign ``status_list`` as a ``statuslist+jwt`` (§5.1); ``sub`` is the exact URI it is served at."""
    if type(ttl) is not int or ttl <= 0:
        raise ValueError("ttl must be a positive number of seconds")
    claims: dict[str, Any] = {
        "sub": sub,
        "iat": int(_numeric_date(iat)),
        "exp": int(_numeric_date(exp)),
        "ttl": ttl,
        "status_list": status_list.encode(),
    }
    if iss is not None:
        claims["iss"] = iss
    header = {} if x5c is None else {"x5c": list(x5c)}
    return sign_jwt(claims, key, typ=STATUS_LIST_TYP, **header)


def verify_status_list_token(
    token: str,
    key: PublicKey | KeyResolver,
    *,
    expected_uri: str,
    now: datetime,
    leeway_seconds: int = 60,
    max_ttl: int = MAX_TTL,
    max_bytes: int = MAX_LIST_BYTES,
    algorithms: Collection[str] = DEFAULT_ALGORITHMS,
) -> StatusListToken:
    """Verify a Status List Token fetched from ``expected_uri`` at ``now`` (§8.3 steps 3-5).

    ``typ``, algorithm and signature failures raise the `shared.jose` errors. Every claim failure raises
    `InvalidStatusListError`; a passed ``exp`` too (reason ``expired``, not `ExpiredError`), so a
    verifier can tell a stale list, worth one refetch, from an expired credential. ``ttl`` is capped
    at ``max_ttl`` and the decompressed list at ``max_bytes``.
    """
    what = "status list token"
    jws = verify_jws(
        token, key, typ=STATUS_LIST_TYP, algorithms=algorithms, what=what, max_size=MAX_TOKEN_SIZE
    )
    claims, current = jws.payload, _numeric_date(now)
    sub = claims.get("sub")
    if not isinstance(sub, str):
        raise InvalidStatusListError("status list token has no 'sub'", reason="missing_sub")
    # §8.3 step 4: `sub` MUST equal the referenced `uri`, so no list can stand in for another.
    if sub != expected_uri:
        raise InvalidStatusListError(f"status list token is for {sub!r}", reason="sub_mismatch")
    iat = _number(claims, "iat")
    if iat is None:
        raise InvalidStatusListError("status list token has no 'iat'", reason="missing_iat")
    if iat > current + leeway_seconds:
        raise InvalidStatusListError("status list token is issued in the future", reason="iat_in_future")
    exp = _number(claims, "exp")
    if exp is not None and current - leeway_seconds >= exp:
        raise InvalidStatusListError("status list token has expired", reason="expired")
    ttl = _number(claims, "ttl")
    if ttl is not None and ttl <= 0:
        raise InvalidStatusListError("status list token 'ttl' must be positive", reason="bad_ttl")
    if "status_list" not in claims:
        raise InvalidStatusListError("status list token has no 'status_list'", reason="missing_status_list")
    status_list = StatusList.decode(claims["status_list"], max_bytes=max_bytes)
    return StatusListToken(sub, iat, exp, None if ttl is None else min(ttl, max_ttl), status_list)


def parse_status_claim(status: Any) -> StatusReference:
    """Read the ``status`` claim of a referenced token (§6.2, §8.3 step 1)."""
    reference = status.get("status_list") if isinstance(status, dict) else None
    if not isinstance(reference, dict):
        raise InvalidStatusListError("status claim has no 'status_list' object", reason="bad_status_claim")
    idx, uri = reference.get("idx"), reference.get("uri")
    if idx is None:
        raise InvalidStatusListError("status_list reference has no 'idx'", reason="missing_idx")
    if type(idx) is not int or idx < 0:
        raise InvalidStatusListError("status_list 'idx' must be a non-negative integer", reason="bad_idx")
    if uri is None:
        raise InvalidStatusListError("status_list reference has no 'uri'", reason="missing_uri")
    if not _is_uri(uri):
        raise InvalidStatusListError("status_list 'uri' must be a URI", reason="bad_uri")
    return StatusReference(idx=idx, uri=uri)


def check_status(reference: StatusReference, status_list: StatusListToken | StatusList) -> None:
    """Return if the referenced entry is VALID, else raise the error its status value means (§7, §8.3)."""
    if isinstance(status_list, StatusListToken):
        if status_list.sub != reference.uri:
            raise InvalidStatusListError("the status list is not the referenced one", reason="sub_mismatch")
        status_list = status_list.status_list
    value = status_list.get(reference.idx)
    if value == VALID:
        return
    if value == INVALID:
        raise RevokedError("the credential has been revoked", reason="revoked")
    if value == SUSPENDED:
        raise SuspendedError("the credential is suspended", reason="suspended")
    reason = "application_specific" if value in APPLICATION_SPECIFIC else "reserved_value"
    raise UnknownStatusError(f"status value {value:#04x} has no meaning here", reason=reason)


def _check_bits(bits: Any) -> None:
    if type(bits) is not int or bits not in BITS:
        raise InvalidStatusListError(f"bits must be one of {BITS}, not {bits!r}", reason="bad_bits")


def _is_uri(value: Any) -> bool:
    return isinstance(value, str) and _URI.fullmatch(value) is not None


def _inflate(data: bytes, max_bytes: int) -> bytes:
    if max_bytes < 1:
        raise ValueError("max_bytes must be positive (zlib reads 0 as no limit)")
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(data, max_bytes)
        # Output stopped at the cap with input left: one more byte of output means a list over the cap.
        if inflater.unconsumed_tail and inflater.decompress(inflater.unconsumed_tail, 1):
            raise InvalidStatusListError(f"status list exceeds {max_bytes} bytes", reason="too_large")
    except zlib.error as exc:
        raise InvalidStatusListError("status list 'lst' is not ZLIB data", reason="bad_zlib") from exc
    if not inflater.eof:
        raise InvalidStatusListError("status list 'lst' is a truncated ZLIB stream", reason="bad_zlib")
    if inflater.unused_data:
        raise InvalidStatusListError("status list 'lst' has data after its end", reason="trailing_data")
    return raw


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidStatusListError(f"status list token '{name}' must be a number", reason=f"bad_{name}")
    return value


def _numeric_date(moment: datetime) -> float:
    if moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware")
    return moment.timestamp()
