"""`cancuoc wallet`: the citizen's commands (init, receive, list, show, delete, status, backup, restore).

Presenting (present, log, trust, refresh) lives in `client.wallet.present_commands`, on the same app.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

import typer

from client import output
from client.api import IssuerApi
from client.home import default_home
from client.qr import NoQrCodeError, is_image, read_qr_image
from client.receive import MAX_COPIES, PendingOffer, ReceiveError, open_offer, redeem_offer
from client.wallet import OfferRefusedError, PinFormatError
from client.wallet.backup import BackupError, export_backup, refuse_existing, restore_backup, write_backup
from client.wallet.status import check_wallet
from client.wallet.store import CardSummary, Wallet, create_wallet, open_wallet, opened

MIN_PIN_DIGITS = 6
HIDDEN_CLAIMS = frozenset({"cnf", "status", "_sd_alg"})

wallet_app = typer.Typer(
    help="The citizen's wallet: receive credentials from an issuer, keep them under a PIN, look at them.\n\n"
    "Example: cancuoc wallet receive 'openid-credential-offer://?credential_offer_uri=...'",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
LangOption = Annotated[
    str | None, typer.Option("--lang", help="vi or en: the issuer's names for the claims (default: $LANG).")
]
TxCodeOption = Annotated[
    str | None, typer.Option("--tx-code", help="The transaction code sent to you separately.")
]
CopiesOption = Annotated[
    int, typer.Option("--copies", min=1, max=MAX_COPIES, help="Copies to ask for (one per verifier).")
]


def _home() -> Path:
    return default_home(os.environ)


def _pin(*, new: bool = False) -> str:
    pin = os.environ.get("CANCUOC_PIN")
    if not pin:
        pin = str(typer.prompt("New wallet PIN" if new else "PIN", hide_input=True, confirmation_prompt=new))
    return pin


def _unlock() -> Wallet:
    return open_wallet(_home(), _pin(), now=datetime.now(UTC))


@wallet_app.command()
def init(
    trust_anchor: Annotated[
        str | None,
        typer.Option("--trust-anchor", metavar="FILE_OR_URL", help="Pin the national root certificate."),
    ] = None,
) -> None:
    """Create a wallet under CANCUOC_HOME, protected by a PIN of at least 6 digits (asked twice).

    For scripts, the PIN can come from CANCUOC_PIN. --trust-anchor pins the national root that every
    presentation request must chain to (or later: `cancuoc wallet trust --set`).

    Example: cancuoc wallet init --trust-anchor http://127.0.0.1:8000/pki/root.pem
    """
    from client.wallet.trust import load_trust_anchor

    anchor = None
    if trust_anchor is not None:
        with IssuerApi() as api:
            anchor = load_trust_anchor(trust_anchor, api)
    pin = _pin(new=True)
    if len(pin) < MIN_PIN_DIGITS or not pin.isdigit():
        raise PinFormatError(
            f"the PIN must be at least {MIN_PIN_DIGITS} digits", hint="choose a longer PIN of digits only"
        )
    home = _home()
    with opened(create_wallet(home, pin)) as wallet:
        if anchor is not None:
            wallet.set_trust_anchor(anchor)
    output.ok(f"wallet created in {home}")


@wallet_app.command()
def receive(
    offer: Annotated[
        str, typer.Argument(help="An openid-credential-offer:// link, a credential_offer_uri URL, or a file.")
    ],
    tx_code: TxCodeOption = None,
    copies: CopiesOption = MAX_COPIES,
    as_json: JsonOption = False,
) -> None:
    """Receive the credentials of an offer and keep them in the wallet, each copy bound to a new key.

    Every credential is checked against the issuer's published keys before anything is stored.

    Example: cancuoc wallet receive offer.txt --tx-code 493027 --json
    """
    link = _offer_link(offer)
    with opened(_unlock()) as wallet, IssuerApi() as api:
        try:
            pending = open_offer(api, link)
            if not as_json:
                _show_offer(pending)
            tx_code = _tx_code(pending.needs_tx_code, tx_code)
            now = datetime.now(UTC)
            anchor = wallet.trust_anchor()
            cards = redeem_offer(api, pending, tx_code=tx_code, copies=copies, now=now, anchor=anchor)
        except ReceiveError as exc:
            raise OfferRefusedError(f"offer refused: {exc}", hint="nothing was stored") from exc
        ids = wallet.add_card(cards, now=datetime.now(UTC))
        stored = [s for s in wallet.list_cards() if s.id in ids]
    if as_json:
        output.json([_summary_json(s) for s in stored])
        return
    for summary in stored:
        output.ok(f"stored {summary.configuration_id} as card {summary.id} ({summary.copies_left} copies)")


@wallet_app.command("list")
def list_cards(as_json: JsonOption = False) -> None:
    """List the cards in the wallet with the copies left to present.

    Example: cancuoc wallet list --json
    """
    with opened(_unlock()) as wallet:
        cards = wallet.list_cards()
    if as_json:
        output.json([_summary_json(s) for s in cards])
        return
    rows = [(s.id, s.configuration_id, s.issuer, s.copies_left, s.status) for s in cards]
    output.table("cards in the wallet", ("id", "credential", "issuer", "copies left", "status"), rows)


@wallet_app.command()
def show(
    card_id: Annotated[str, typer.Argument(metavar="ID", help="A card id from `cancuoc wallet list`.")],
    as_json: JsonOption = False,
    raw: Annotated[bool, typer.Option("--raw", help="Print one stored SD-JWT exactly as issued.")] = False,
    lang: LangOption = None,
) -> None:
    """Show the claims of a card with the issuer's display names, or (--raw) one stored credential as issued.

    Example: cancuoc wallet show 3f9a1c02b7de --lang vi
    """
    language = _language(lang)
    with opened(_unlock()) as wallet:
        card = wallet.get_card(card_id)
    if raw:
        unused = [c for c in card.copies if c.used_for is None] or list(card.copies)
        output.plain(unused[0].credential)
        return
    claims = {k: v for k, v in card.claims.items() if k not in HIDDEN_CLAIMS}
    if as_json:
        output.json({**_summary_json(card.summary), "claims": claims})
        return
    names = card.display.get(language, {})
    title = f"{names.get('', card.summary.configuration_id)} — {card.summary.issuer} (card {card.summary.id})"
    label = "thông tin" if language == "vi" else "claim"
    value = "giá trị" if language == "vi" else "value"
    output.table(title, (label, value), [(names.get(k, k), _text(v)) for k, v in sorted(claims.items())])


@wallet_app.command()
def delete(
    card_id: Annotated[str, typer.Argument(metavar="ID", help="A card id from `cancuoc wallet list`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a card and every copy of it from the wallet.

    Example: cancuoc wallet delete 3f9a1c02b7de --yes
    """
    with opened(_unlock()) as wallet:
        wallet.copies_left(card_id)
        if not yes:
            typer.confirm(f"Delete card {card_id} and all its copies?", abort=True)
        wallet.delete_card(card_id)
    output.ok(f"card {card_id} deleted")


@wallet_app.command()
def status(as_json: JsonOption = False) -> None:
    """Check every card against its issuer's signed status list: valid, suspended, revoked or unknown.

    A list that cannot be fetched or verified leaves the card "unknown", never "valid".

    Example: cancuoc wallet status --json
    """
    now = datetime.now(UTC)
    with opened(_unlock()) as wallet, IssuerApi() as api:
        results = check_wallet(wallet, api, now=now)
    if as_json:
        output.json(
            [
                {k: getattr(r, k) for k in ("id", "vct", "issuer", "status", "checked_at", "detail")}
                for r in results
            ]
        )
        return
    rows = [(r.id, r.issuer, r.status, r.checked_at) for r in results]
    output.table("card status", ("card", "issuer", "status", "checked at"), rows)
    for r in results:
        if r.detail:
            output.plain(f"{r.id}: {r.detail}")


@wallet_app.command()
def backup(
    out: Annotated[Path, typer.Option("--out", help="The backup file to write (encrypted with your PIN).")],
) -> None:
    """Write an encrypted backup of the whole wallet: cards, copies, keys and statuses.

    Example: cancuoc wallet backup --out ~/wallet-backup.json
    """
    pin = _pin()
    with opened(open_wallet(_home(), pin, now=datetime.now(UTC))) as wallet:
        data = export_backup(wallet, pin)
    write_backup(out, data)
    output.ok(f"backup written to {out}")


@wallet_app.command()
def restore(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A file written by `cancuoc wallet backup`.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite the wallet already under CANCUOC_HOME.")
    ] = False,
) -> None:
    """Restore a wallet from a backup into CANCUOC_HOME, with the PIN the backup was made with.

    Example: cancuoc wallet restore ~/wallet-backup.json
    """
    home = _home()
    refuse_existing(home, replace=replace)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise BackupError(f"cannot read {file}: {exc.strerror}", hint="check the path") from None
    count = restore_backup(home, data, _pin(), replace=replace)
    output.ok(f"restored {count} cards into {home}")


def _offer_link(offer: str) -> str:
    """A link as given, a file holding one, an image of its QR code, or a bare `credential_offer_uri` URL."""
    text = offer.strip()
    scheme = urlsplit(text).scheme
    if scheme not in ("openid-credential-offer", "haip-vci", "http", "https"):
        path = Path(text)
        if not path.is_file():
            raise OfferRefusedError(
                f"{offer!r} is neither an offer link nor a file", hint="pass the link or the file it is in"
            )
        try:
            text = read_qr_image(path) if is_image(path) else path.read_text().strip()
        except (NoQrCodeError, UnicodeDecodeError) as exc:
            raise OfferRefusedError(
                f"cannot read an offer from {path}: {exc}", hint="pass the link itself"
            ) from exc
        scheme = urlsplit(text).scheme
    if scheme in ("http", "https") and "credential_offer" not in urlsplit(text).query:
        return f"openid-credential-offer://?credential_offer_uri={quote(text, safe='')}"
    return text


def _tx_code(needed: bool, given: str | None) -> str | None:
    """The code given, else asked for when the offer needs one."""
    if needed and not given:
        return str(typer.prompt("Transaction code"))
    return given


def _language(lang: str | None) -> str:
    language = lang or ("vi" if os.environ.get("LANG", "").lower().startswith("vi") else "en")
    if language not in ("vi", "en"):
        raise typer.BadParameter("--lang must be vi or en")
    return language


def _show_offer(pending: PendingOffer) -> None:
    metadata = pending.metadata
    issuer = next((d.name for d in metadata.display if d.name), metadata.credential_issuer)
    output.step(f"offer from {issuer} ({metadata.credential_issuer})")
    for configuration_id in pending.offer.credential_configuration_ids:
        configuration = metadata.credential_configurations_supported[configuration_id]
        shown = configuration.credential_metadata.display if configuration.credential_metadata else []
        name = next((d.name for d in shown if d.name), configuration_id)
        output.plain(f"  {name} ({configuration_id})")


def _summary_json(summary: CardSummary) -> dict[str, Any]:
    return {
        "id": summary.id,
        "vct": summary.vct,
        "issuer": summary.issuer,
        "configuration_id": summary.configuration_id,
        "copies_left": summary.copies_left,
        "status": summary.status,
    }


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


from client.wallet import present_commands  # noqa: E402  (registers its commands on wallet_app)

__all__ = ["present_commands", "wallet_app"]
