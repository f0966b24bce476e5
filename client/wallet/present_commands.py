"""`cancuoc wallet present|log|trust|refresh`: showing cards to a clinic, and what follows from it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer

from client import output
from client.api import IssuerApi
from client.receive import MAX_COPIES
from client.wallet import WalletError
from client.wallet.backup import write_backup
from client.wallet.commands import (
    CopiesOption,
    JsonOption,
    LangOption,
    TxCodeOption,
    _language,
    _offer_link,
    _summary_json,
    _tx_code,
    _unlock,
    wallet_app,
)
from client.wallet.copies import linkable_warning, low_copies_warning
from client.wallet.present import (
    Answer,
    RequestRefusedError,
    build_response,
    card_label,
    claim_label,
    decline,
    is_offline,
    load_request,
    log_entry,
    plan_answer,
    post_answer,
    verify_request,
)
from client.wallet.refresh import open_refresh, redeem_refresh
from client.wallet.store import opened
from client.wallet.trust import fingerprint, load_trust_anchor
from shared.oid4vp.request import VerifiedRequest


@wallet_app.command()
def present(
    request: Annotated[
        str,
        typer.Argument(help="An openid4vp:// link, a request_uri URL, a file holding one, or a QR image."),
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Share without asking (for scripts).")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the answer to FILE instead of sending it.")
    ] = None,
    lang: LangOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show cards to a clinic: only the claims it asks for, bound to its request, after your consent.

    The request is checked against the national root pinned in the wallet; a request that asks more than
    the clinic is registered for is refused. Offline requests need --out (hand the file or its QR code over).

    Example: cancuoc wallet present 'openid4vp://?client_id=x509_hash%3A...&request_uri=...' --yes
    """
    language = _language(lang)
    now = datetime.now(UTC)
    with opened(_unlock()) as wallet, IssuerApi() as api:
        verified = verify_request(load_request(api, request), wallet.trust_anchor(), now=now)
        if is_offline(verified) and out is None:
            raise RequestRefusedError(
                "this is an offline request: the answer can only be written to a file",
                hint="add --out FILE and hand the file (or its QR code) to the clinic",
            )
        answers = plan_answer(wallet, verified)
        if not as_json:
            _show_request(verified, answers, language)
        if not yes and not typer.confirm(f"Share this with {verified.verifier_name}?", default=False):
            decline(api, verified)
            raise RequestRefusedError("you declined: nothing was shared", hint=None)
        response = build_response(answers, verified, now=now)
        if out is not None:
            write_backup(out, msgspec.json.encode(response.to_json()) + b"\n")
            delivered = "file"
        else:
            post_answer(api, verified, response.to_form())
            delivered = "posted"
        entry = log_entry(answers, verified, delivered=delivered, now=now)
        wallet.record_presentation(entry, verified.client_id)
        left = {a.card.summary.id: wallet.copies_left(a.card.summary.id) for a in answers}
    warnings = [linkable_warning(a.card.summary.id) for a in answers if a.choice.linkable]
    warnings += [w for card_id, n in left.items() if (w := low_copies_warning(card_id, n))]
    if as_json:
        cards = [
            {"query_id": c.query_id, "card_id": c.card_id, "copy_id": c.copy_id, "claims": c.claims}
            for c in entry.cards
        ]
        output.json(
            {**_entry_head(entry), "out": str(out) if out else None, "cards": cards, "warnings": warnings}
        )
        return
    output.ok(f"shared with {verified.verifier_name}" + (f": answer written to {out}" if out else ""))
    if out is not None:
        _print_qr(msgspec.json.encode(response.to_json()).decode(), out)
    for warning in warnings:
        output.plain(f"warning: {warning}", err=True)


@wallet_app.command("log")
def show_log(as_json: JsonOption = False) -> None:
    """Every presentation made: when, to which clinic, which claims (names, not values), which cards.

    Example: cancuoc wallet log --json
    """
    with opened(_unlock()) as wallet:
        entries = wallet.presentations()
    if as_json:
        output.json([{**_entry_head(e), "cards": msgspec.to_builtins(e.cards)} for e in entries])
        return
    rows = [
        (
            e.at,
            f"{e.clinic} ({e.client_id})",
            "; ".join(f"{c.card_id}: {', '.join(_path(p) for p in c.claims)}" for c in e.cards),
            e.delivered,
        )
        for e in entries
    ]
    output.table("presentations", ("when", "to", "card: claims", "sent"), rows)


@wallet_app.command()
def trust(
    set_to: Annotated[
        str | None, typer.Option("--set", metavar="FILE_OR_URL", help="Pin this national root certificate.")
    ] = None,
    show: Annotated[
        bool, typer.Option("--show", help="Print the pinned root certificate's fingerprint.")
    ] = False,
) -> None:
    """Pin (--set) or show (--show) the national root certificate requests must chain to.

    Example: cancuoc wallet trust --set http://127.0.0.1:8000/pki/root.pem
    """
    with opened(_unlock()) as wallet:
        if set_to is not None:
            with IssuerApi() as api:
                wallet.set_trust_anchor(load_trust_anchor(set_to, api))
        anchor = wallet.trust_anchor()
    if anchor is None:
        raise WalletError(
            "no national root is pinned in this wallet", hint="`cancuoc wallet trust --set FILE_OR_URL`"
        )
    if set_to is not None or show:
        output.ok(f"pinned national root: x509_hash {fingerprint(anchor)}")


@wallet_app.command()
def refresh(
    card_id: Annotated[str, typer.Argument(metavar="ID", help="The card to get new copies of.")],
    offer: Annotated[
        str, typer.Argument(help="A new offer of the same credential (link, URL, file, QR image).")
    ],
    tx_code: TxCodeOption = None,
    copies: CopiesOption = MAX_COPIES,
    as_json: JsonOption = False,
) -> None:
    """Add new copies to a card from a new offer of the same credential by the same issuer; used copies go.

    Example: cancuoc wallet refresh 3f9a1c02b7de offer.txt --tx-code 493027
    """
    link = _offer_link(offer)
    with opened(_unlock()) as wallet, IssuerApi() as api:
        summary = next((s for s in wallet.list_cards() if s.id == card_id), None)
        if summary is None:
            wallet.copies_left(card_id)
            return
        pending = open_refresh(api, summary, link)
        tx_code = _tx_code(pending.needs_tx_code, tx_code)
        redeem_refresh(wallet, api, summary, pending, tx_code=tx_code, copies=copies, now=datetime.now(UTC))
        refreshed = next(s for s in wallet.list_cards() if s.id == card_id)
    if as_json:
        output.json([_summary_json(refreshed)])
        return
    output.ok(f"card {card_id} refreshed: {refreshed.copies_left} copies left")


def _show_request(verified: VerifiedRequest, answers: list[Answer], language: str) -> None:
    output.step(f"{verified.verifier_name} asks to see your cards")
    output.plain(f"  purpose: {verified.purpose}")
    output.plain(f"  client id: {verified.client_id}")
    for answer in answers:
        output.plain(f"  {card_label(answer.card, language)} (card {answer.card.summary.id}):")
        for path in answer.paths:
            output.plain(f"    - {claim_label(answer.card, path, language)}")


def _print_qr(text: str, out: Path) -> None:
    import segno

    from client.qr import terminal_qr

    try:
        output.plain(terminal_qr(text))
    except segno.DataOverflowError:
        output.plain(f"the answer is too large for a QR code: hand {out} over as a file")


def _entry_head(entry: Any) -> dict[str, Any]:
    keys = ("id", "at", "client_id", "clinic", "purpose", "delivered")
    return {k: getattr(entry, k) for k in keys}


def _path(path: list[Any]) -> str:
    return "/".join("*" if p is None else str(p) for p in path)
