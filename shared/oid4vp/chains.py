"""Certificate chains validated once per verifier: `validate_chain` remembered per exact ``x5c`` and anchors.

A clinic sees the same few issuer and status-list chains in every presentation; path validation costs more
than the ES256 signature it unlocks, and in a new process loading `cryptography.x509` costs more than the
whole check. A chain that validated at two moments validated at every moment in between (each
certificate's validity is one interval), so the cache validates a new chain also at its leaf's ``notAfter``
and, if that holds too, answers for any ``now`` in between without validating again. Failures are never
remembered: outside a known-good interval `validate_chain` runs and raises as it always does.

The cache holds no clock and no file: `known` and `remember` hand its entries over as `KnownChain` records,
which the caller may keep between processes where it keeps its trust anchors.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec

from shared.errors import CredentialError
from shared.jose.jws import KeyResolver
from shared.jose.keys import public_key_from_jwk
from shared.jose.x5c import VerifiedChain, validate_chain, x5c_status_resolver

MAX_CHAINS = 256
"""Distinct (chain, anchors) pairs kept; a full cache starts over (a clinic trusts a handful of signers)."""

_Key = tuple[tuple[str, ...], tuple[bytes, ...]]


class KnownChain(msgspec.Struct, frozen=True, kw_only=True):
    """One remembered chain as plain data: the ``x5c`` and anchors it validated with, from when to when
    (POSIX seconds), and what its leaf says."""

    x5c: tuple[str, ...]
    anchors: tuple[str, ...]
    """Standard base64 of each anchor's DER."""
    start: float
    end: float
    leaf: str
    """Standard base64 of the leaf's DER."""
    jwk: dict[str, str]
    roles: tuple[str, ...]
    uris: tuple[str, ...]
    name: str
    not_after: float


@dataclass
class _Entry:
    chain: VerifiedChain
    start: datetime
    """The earliest moment the chain validated at."""
    end: datetime
    """The latest moment it validated at (the leaf's ``notAfter`` once probed)."""
    probed: bool = False


@dataclass
class ChainCache:
    """`validate_chain`, answered from memory while ``now`` lies between two moments it validated at."""

    max_chains: int = MAX_CHAINS
    changed: bool = False
    """Whether an entry was added or widened since the cache was made (or the caller last cleared this)."""
    _entries: dict[_Key, _Entry] = field(default_factory=dict, repr=False)

    def verify(self, x5c: object, anchors: Sequence[bytes], *, now: datetime) -> VerifiedChain:
        """The same result as ``validate_chain(x5c, anchors, now=now)``, or the same error."""
        if not isinstance(x5c, list) or not all(isinstance(c, str) for c in x5c):
            return validate_chain(x5c, anchors, now=now)  # malformed: let it say why
        key = (tuple(x5c), tuple(anchors))
        entry = self._entries.get(key)
        if entry is not None and entry.start <= now <= entry.end:
            return entry.chain
        chain = validate_chain(x5c, anchors, now=now)
        if entry is None:
            if len(self._entries) >= self.max_chains:
                self._entries.clear()
            self._entries[key] = entry = _Entry(chain, now, now)
        else:
            entry.start, entry.end = min(entry.start, now), max(entry.end, now)
        self.changed = True
        if not entry.probed and entry.end < chain.not_after:
            entry.probed = True
            try:
                validate_chain(x5c, anchors, now=chain.not_after)
            except CredentialError:
                pass  # another certificate ends sooner: keep the moments seen
            else:
                entry.end = chain.not_after
        return chain

    def status_resolver(self, anchors: Sequence[bytes], *, now: datetime) -> KeyResolver:
        """`shared.jose.x5c.x5c_status_resolver` over this cache: the x5c leaf must be the status signer."""
        return x5c_status_resolver(anchors, now=now, verify=self.verify)

    def known(self) -> list[KnownChain]:
        """Every entry, as records `remember` takes back."""
        return [
            KnownChain(
                x5c=x5c,
                anchors=tuple(_b64(a) for a in anchors),
                start=entry.start.timestamp(),
                end=entry.end.timestamp(),
                leaf=_b64(entry.chain.leaf),
                jwk=dict(entry.chain.key.jwk),
                roles=tuple(sorted(entry.chain.roles)),
                uris=entry.chain.uris,
                name=entry.chain.name,
                not_after=entry.chain.not_after.timestamp(),
            )
            for (x5c, anchors), entry in self._entries.items()
        ]

    def remember(self, records: Iterable[KnownChain]) -> None:
        """Take back entries from `known` (of this process or an earlier one), keeping what is known now
        where both know a chain; a record that does not decode is skipped."""
        for record in records:
            try:
                anchors = tuple(base64.b64decode(a, validate=True) for a in record.anchors)
                chain = VerifiedChain(
                    leaf=base64.b64decode(record.leaf, validate=True),
                    key=public_key_from_jwk(record.jwk),
                    roles=frozenset(record.roles),
                    uris=record.uris,
                    name=record.name,
                    not_after=datetime.fromtimestamp(record.not_after, UTC),
                )
                start = datetime.fromtimestamp(record.start, UTC)
                end = datetime.fromtimestamp(record.end, UTC)
            except (ValueError, OverflowError, CredentialError):
                continue
            key = (record.x5c, anchors)
            if key not in self._entries and len(self._entries) < self.max_chains:
                self._entries[key] = _Entry(chain, start, end, probed=True)


def _b64(der: bytes) -> str:
    return base64.b64encode(der).decode("ascii")
