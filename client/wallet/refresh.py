"""`cancuoc wallet refresh`: new copies of a card running out, from a new offer of the same credential."""

from __future__ import annotations

from datetime import datetime

from client.api import IssuerApi
from client.receive import PendingOffer, ReceivedCard, ReceiveError, open_offer, redeem_offer
from client.wallet import OfferRefusedError
from client.wallet.store import CardSummary, Wallet


def open_refresh(api: IssuerApi, summary: CardSummary, link: str) -> PendingOffer:
    """Read the offer and refuse it before redeeming when it is not for the same credential and issuer."""
    try:
        pending = open_offer(api, link)
    except ReceiveError as exc:
        raise OfferRefusedError(f"offer refused: {exc}", hint="nothing was stored") from exc
    offered = pending.offer.credential_configuration_ids
    configurations = pending.metadata.credential_configurations_supported
    vcts = {configurations[c].vct for c in offered}
    if pending.offer.credential_issuer != summary.issuer or vcts != {summary.vct} or len(offered) != 1:
        raise _mismatch(summary, pending.offer.credential_issuer, ", ".join(sorted(map(str, vcts))))
    return pending


def redeem_refresh(
    wallet: Wallet,
    api: IssuerApi,
    summary: CardSummary,
    pending: PendingOffer,
    *,
    tx_code: str | None,
    copies: int,
    now: datetime,
) -> ReceivedCard:
    """Redeem the offer, check every credential is the same card again, and add the copies to the card."""
    try:
        cards = redeem_offer(
            api, pending, tx_code=tx_code, copies=copies, now=now, anchor=wallet.trust_anchor()
        )
    except ReceiveError as exc:
        raise OfferRefusedError(f"offer refused: {exc}", hint="nothing was stored") from exc
    if len(cards) != 1 or cards[0].issuer != summary.issuer or cards[0].vct != summary.vct:
        got = ", ".join(f"{c.vct} from {c.issuer}" for c in cards)
        raise _mismatch(summary, cards[0].issuer if cards else "", got)
    wallet.refresh_card(summary.id, cards[0])
    return cards[0]


def _mismatch(summary: CardSummary, issuer: str, vct: str) -> OfferRefusedError:
    return OfferRefusedError(
        f"this offer is not for card {summary.id}: it offers {vct or 'nothing'} from {issuer}, "
        f"the card is {summary.vct} from {summary.issuer}",
        hint="ask the issuer of the card for a new offer of the same credential; nothing was stored",
    )
