"""`cancuoc wallet status`: each card's Token Status List entry (TSL §8.3), fail closed to "unknown"."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from client.api import ApiError, IssuerApi
from client.wallet.store import StoredCard, Wallet
from shared import statuslist
from shared.errors import (
    CredentialError,
    InvalidStatusListError,
    RevokedError,
    SuspendedError,
    UnknownKeyError,
    UntrustedIssuerError,
)
from shared.jose import KeyResolver, PublicKey, public_key_from_jwk
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
    """Checks cards at ``now``, fetching each issuer's keys and each status list once."""

    api: IssuerApi
    now: datetime
    _keys: dict[str, tuple[PublicKey, ...]] = field(default_factory=dict)
    _lists: dict[str, str] = field(default_factory=dict)

    def check(self, card: StoredCard) -> tuple[CardState, str | None]:
        """valid, suspended or revoked from the issuer's signed list; anything else is "unknown"."""
        try:
            reference = statuslist.parse_status_claim(card.claims.get("status"))
            keys = self._issuer_keys(card.summary.issuer)
            if reference.uri not in self._lists:
                self._lists[reference.uri] = self.api.status_list(reference.uri)
            token = statuslist.verify_status_list_token(
                self._lists[reference.uri], _resolver(keys), expected_uri=reference.uri, now=self.now
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

    def _issuer_keys(self, issuer: str) -> tuple[PublicKey, ...]:
        if issuer not in self._keys:
            document = self.api.get(well_known_url(issuer, "jwt-vc-issuer"), JwtVcIssuerMetadata)
            if document.issuer != issuer:
                raise UntrustedIssuerError(f"the metadata of {issuer} names {document.issuer!r}")
            jwks = document.jwks
            if jwks is None and document.jwks_uri:
                jwks = self.api.get(document.jwks_uri, JwksDocument)
            self._keys[issuer] = tuple(public_key_from_jwk(jwk) for jwk in (jwks.keys if jwks else []))
        return self._keys[issuer]


def _resolver(keys: tuple[PublicKey, ...]) -> KeyResolver:
    """The issuer key a list names by ``kid``, or its only key when the list names none."""

    def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicKey:
        kid = header.get("kid")
        matching = [k for k in keys if kid is None or k.kid == kid]
        if kid is None and len(keys) != 1:
            raise UnknownKeyError("the status list names no key and the issuer has several")
        if not matching:
            raise UnknownKeyError(f"the issuer publishes no key {kid!r}")
        return matching[0]

    if not keys:
        raise InvalidStatusListError("the issuer publishes no keys", reason="no_issuer_keys")
    return resolve


def check_wallet(wallet: Wallet, api: IssuerApi, *, now: datetime) -> list[CardStatus]:
    """Check every card, store each result with the time, and return them in the wallet's order."""
    checker = StatusChecker(api, now)
    results = []
    for summary in wallet.list_cards():
        state, detail = checker.check(wallet.get_card(summary.id))
        wallet.set_status(summary.id, state, checked_at=now, detail=detail)
        results.append(CardStatus(summary.id, summary.vct, summary.issuer, state, now.isoformat(), detail))
    return results
