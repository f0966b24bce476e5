"""`cancuoc wallet status`: each card's Token Status List entry (TSL §8.3), fail closed to "unknown".

A list must be signed by the status list signer: with a pinned national root, its ``x5c`` chains to the root
with the status-list role; without one, the key the issuer publishes under its ``kid`` must not be certified
for another role (a consistency check only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from client.api import ApiError, IssuerApi
from client.wallet.store import StoredCard, Wallet
from client.wallet.trust import PublishedKey, published_keys, require_key_role
from shared import statuslist
from shared.errors import (
    CredentialError,
    InvalidStatusListError,
    RevokedError,
    SuspendedError,
    UnknownKeyError,
    UntrustedIssuerError,
)
from shared.jose import KeyResolver, PublicKey
from shared.jose.x5c import STATUS_LIST_ROLE, x5c_status_resolver
from shared.oid4vci import JwksDocument, JwtVcIssuerMetadata, well_known_url

CardState = Literal["valid", "suspended", "revoked", "unknown"]


@dataclass(frozen=True)
class CardStatus:
    """The outcome of checking one card: ``detail`` says why it is not plainly valid."""

    id: str
    vct: str
    issuer: str
    status: CardState
    checked_at: str
    detail: str | None


@dataclass
class StatusChecker:
    """Checks cards at ``now``, fetching each issuer's keys and each status list once.

    With an ``anchor`` (the pinned national root, DER) lists are verified by their ``x5c`` chain to it.
    """

    api: IssuerApi
    now: datetime
    anchor: bytes | None = None
    _keys: dict[str, tuple[PublishedKey, ...]] = field(default_factory=dict)
    _lists: dict[str, str] = field(default_factory=dict)

    def check(self, card: StoredCard) -> tuple[CardState, str | None]:
        """valid, suspended or revoked from the issuer's signed list; anything else is "unknown"."""
        try:
            reference = statuslist.parse_status_claim(card.claims.get("status"))
            if self.anchor is not None:
                resolver = x5c_status_resolver([self.anchor], now=self.now)
            else:
                resolver = _resolver(self._issuer_keys(card.summary.issuer))
            if reference.uri not in self._lists:
                self._lists[reference.uri] = self.api.status_list(reference.uri)
            token = statuslist.verify_status_list_token(
                self._lists[reference.uri], resolver, expected_uri=reference.uri, now=self.now
            )
            statuslist.check_status(reference, token)
        except RevokedError:
            return "revoked", None
        except SuspendedError:
            return "suspended", None
        except CredentialError as exc:
            return "unknown", f"{exc.code}: {exc}"
        except ApiError as exc:
            return "unknown", str(exc)
        return "valid", None

    def _issuer_keys(self, issuer: str) -> tuple[PublishedKey, ...]:
        if issuer not in self._keys:
            document = self.api.get(well_known_url(issuer, "jwt-vc-issuer"), JwtVcIssuerMetadata)
            if document.issuer != issuer:
                raise UntrustedIssuerError(f"the metadata of {issuer} names {document.issuer!r}")
            jwks = document.jwks
            if jwks is None and document.jwks_uri:
                jwks = self.api.get(document.jwks_uri, JwksDocument)
            self._keys[issuer] = published_keys(jwks.keys if jwks else [])
        return self._keys[issuer]


def _resolver(published: tuple[PublishedKey, ...]) -> KeyResolver:
    """The published key a list names by ``kid`` (or the only one), unless certified for another role."""
    keys = [p.key for p in published]

    def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicKey:
        kid = header.get("kid")
        matching = [k for k in keys if kid is None or k.kid == kid]
        if kid is None and len(keys) != 1:
            raise UnknownKeyError("the status list names no key and the issuer has several")
        if not matching:
            raise UnknownKeyError(f"the issuer publishes no key {kid!r}")
        return require_key_role(published, matching[0], frozenset({STATUS_LIST_ROLE}))

    if not keys:
        raise InvalidStatusListError("the issuer publishes no keys", reason="no_issuer_keys")
    return resolve


def check_wallet(wallet: Wallet, api: IssuerApi, *, now: datetime) -> list[CardStatus]:
    """Check every card, store each result with the time, and return them in the wallet's order."""
    checker = StatusChecker(api, now, wallet.trust_anchor())
    results = []
    for summary in wallet.list_cards():
        state, detail = checker.check(wallet.get_card(summary.id))
        wallet.set_status(summary.id, state, checked_at=now, detail=detail)
        results.append(CardStatus(summary.id, summary.vct, summary.issuer, state, now.isoformat(), detail))
    return results
