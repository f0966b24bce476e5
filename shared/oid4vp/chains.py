"""Certificate chains validated once per verifier: `verify_chain` remembered per exact ``x5c`` and anchor set.

A clinic sees the same few issuer and status-list chains in every presentation, and path validation costs
more than the ES256 signature it unlocks. A chain that validated at two moments validated at every moment in
between (each certificate's validity is one interval), so after a second use the cache validates the chain
once more at the leaf's ``notAfter`` and, if that holds too, answers for any ``now`` in between without
validating again. Failures are never remembered: outside a known-good interval `verify_chain` runs and raises
as it always does. The cache holds no clock; it is a plain value the caller keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shared.errors import CredentialError
from shared.jose.jws import KeyResolver
from shared.jose.x509 import VerifiedChain, verify_chain, x5c_status_resolver

MAX_CHAINS = 256
"""Distinct (chain, anchors) pairs kept; a full cache starts over (a clinic trusts a handful of signers)."""

_Key = tuple[tuple[str, ...], tuple[bytes, ...]]


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
    """`verify_chain`, answered from memory while ``now`` lies between two moments the chain validated at."""

    max_chains: int = MAX_CHAINS
    _entries: dict[_Key, _Entry] = field(default_factory=dict, repr=False)

    def verify(self, x5c: object, anchors: Sequence[bytes], *, now: datetime) -> VerifiedChain:
        """The same result as ``verify_chain(x5c, anchors, now=now)``, or the same error."""
        if not isinstance(x5c, list) or not all(isinstance(c, str) for c in x5c):
            return verify_chain(x5c, anchors, now=now)  # malformed: let it say why
        key = (tuple(x5c), tuple(anchors))
        entry = self._entries.get(key)
        if entry is not None and entry.start <= now <= entry.end:
            return entry.chain
        chain = verify_chain(x5c, anchors, now=now)
        if entry is None:
            if len(self._entries) >= self.max_chains:
                self._entries.clear()
            self._entries[key] = _Entry(chain, now, now)
        else:  # used again: widen the interval
            entry.start, entry.end = min(entry.start, now), max(entry.end, now)
            if not entry.probed and entry.end < chain.not_after:
                entry.probed = True
                try:
                    verify_chain(x5c, anchors, now=chain.not_after)
                except CredentialError:
                    pass  # another certificate ends sooner: keep the moments seen
                else:
                    entry.end = chain.not_after
        return chain

    def status_resolver(self, anchors: Sequence[bytes], *, now: datetime) -> KeyResolver:
        """`shared.jose.x509.x5c_status_resolver` over this cache: the x5c leaf must be the status signer."""
        return x5c_status_resolver(anchors, now=now, verify=self.verify)
