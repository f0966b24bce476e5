"""Presenting cards to a verifier over OpenID4VP 1.0 (§5, §8.2) as HAIP profiles it: the wallet's side.

Load the request (link, URL, file or QR image), fetch it without following redirects (P11), verify it against
the pinned national root, plan the answer with DCQL, pick one copy per card for this verifier, and build the
``vp_token`` with only the asked disclosures and a Key Binding JWT for this verifier and nonce.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from client.api import ApiError, IssuerApi, ServerError
from client.qr import NoQrCodeError, is_image, read_qr_image
from client.wallet import WalletError
from client.wallet.copies import CopyChoice, choose_copy
from client.wallet.log import LogEntry, LoggedCard
from client.wallet.store import StoredCard, Wallet
from shared.errors import AccessDeniedError, CredentialError
from shared.oid4vp.dcql import plan
from shared.oid4vp.request import VerifiedRequest, parse_request_link, verify_request_object
from shared.oid4vp.response import VpResponse, presentation_for
from shared.sdjwt.process import ClaimPath

OFFLINE_RESPONSE_URI = "urn:cancuoc:offline"
LINK_SCHEMES = ("openid4vp", "haip-vp")
TRUST_HINT = "pin the national root first: `cancuoc wallet trust --set FILE_OR_URL`"
REFUSED_HINT = "nothing was sent to the verifier"

_PLAIN_REASONS = {
    "over_asking": "the clinic asks for more than its registration allows",
    "client_id_mismatch": "the request's client_id is not the one in the link",
    "x509_hash_mismatch": "the request's client_id does not match its certificate",
    "registration_mismatch": "the clinic's registration is for another verifier",
    "missing_registration": "the request carries no registration of the clinic",
}
_PLAIN_CODES = {
    "invalid_typ": "this is not a signed OpenID4VP request object",
    "invalid_signature": "the request's signature does not verify",
    "unsupported_algorithm": "the request is not signed with an allowed algorithm",
    "untrusted_certificate": "the request is not signed by a clinic certified under your national root",
    "expired": "the request has expired",
    "malformed": "the request cannot be read",
}


class RequestRefusedError(WalletError):
    """A presentation request the wallet refuses; nothing is sent and nothing is logged (exit 1)."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = REFUSED_HINT) -> None:
        super().__init__(message, hint)


@dataclass(frozen=True)
class LoadedRequest:
    """A request object as fetched, and the client id the link named (None for a bare object or URL)."""

    token: str
    outer_client_id: str | None


@dataclass(frozen=True)
class Answer:
    """One credential query answered: the card, the copy chosen, the claim paths to disclose."""

    query_id: str
    card: StoredCard
    choice: CopyChoice
    paths: tuple[ClaimPath, ...]


def load_request(api: IssuerApi, given: str) -> LoadedRequest:
    """The request object behind a link, a request_uri URL, a file (link or JWT), or a QR image."""
    text = given.strip()
    scheme = _scheme(text)
    if scheme not in (*LINK_SCHEMES, "http", "https") and not _looks_like_jwt(text):
        path = Path(text)
        if not path.is_file():
            raise RequestRefusedError(
                f"{given!r} is neither a request link nor a file",
                hint="pass the openid4vp:// link or the file",
            )
        try:
            text = read_qr_image(path) if is_image(path) else path.read_text().strip()
        except (NoQrCodeError, UnicodeDecodeError) as exc:
            raise RequestRefusedError(f"cannot read a request from {path}: {exc}", hint=None) from exc
        scheme = _scheme(text)
    if _looks_like_jwt(text):
        return LoadedRequest(text, None)
    if scheme in ("http", "https") and "request_uri" not in urlsplit(text).query:
        return LoadedRequest(_fetch(api, text), None)
    try:
        link = parse_request_link(text)
    except CredentialError as exc:
        raise RequestRefusedError(f"not a presentation request link: {exc}", hint=None) from exc
    token = link.request if link.request is not None else _fetch(api, link.request_uri or "")
    return LoadedRequest(token, link.client_id)


def verify_request(loaded: LoadedRequest, anchor: bytes | None, *, now: datetime) -> VerifiedRequest:
    """The request checked against the pinned root; every refusal becomes one plain sentence."""
    if anchor is None:
        raise WalletError("no national root is pinned in this wallet", hint=TRUST_HINT)
    try:
        return verify_request_object(loaded.token, [anchor], now=now, outer_client_id=loaded.outer_client_id)
    except CredentialError as exc:
        plain = _PLAIN_REASONS.get(exc.reason) or _PLAIN_CODES.get(exc.code) or "the request is refused"
        raise RequestRefusedError(f"{plain}: {exc} ({exc.code}: {exc.reason})") from exc


def plan_answer(wallet: Wallet, verified: VerifiedRequest) -> list[Answer]:
    """For each credential query to answer: the card, a copy for this verifier, the paths to disclose."""
    cards = [wallet.get_card(summary.id) for summary in wallet.list_cards()]
    usable = [c for c in cards if c.summary.status not in ("revoked",)]
    try:
        matches = plan(verified.dcql, [(c.summary.vct, c.claims) for c in usable])
    except AccessDeniedError as exc:
        raise RequestRefusedError(
            f"the wallet holds no card that answers this request: {exc}",
            hint="`cancuoc wallet list` shows your cards; nothing was sent",
        ) from exc
    answers = []
    for query_id, match in matches.items():
        card = usable[match.candidate]
        answers.append(Answer(query_id, card, choose_copy(card.copies, verified.client_id), match.paths))
    return answers


def build_response(answers: list[Answer], verified: VerifiedRequest, *, now: datetime) -> VpResponse:
    """``{query id: [SD-JWT+KB]}``: only the asked disclosures, bound to this verifier and nonce (§8.1)."""
    vp_token = {
        a.query_id: [
            presentation_for(
                a.choice.copy.credential,
                a.paths,
                a.choice.copy.key,
                client_id=verified.client_id,
                nonce=verified.request.nonce,
                issued_at=int(now.timestamp()),
            )
        ]
        for a in answers
    }
    return VpResponse(vp_token=vp_token, state=verified.request.state)


def is_offline(verified: VerifiedRequest) -> bool:
    """A request made without a relay: the answer can only travel as a file."""
    return verified.request.response_uri == OFFLINE_RESPONSE_URI


def post_answer(api: IssuerApi, verified: VerifiedRequest, form: dict[str, str]) -> None:
    """direct_post to the verifier's response_uri; a redirect or an error answer is a refusal to accept."""
    try:
        api.post_vp_response(verified.request.response_uri, form)
    except ServerError as exc:
        if exc.error == "redirect_refused":
            raise RequestRefusedError(
                f"the verifier answered with a redirect (HTTP {exc.status}): not followed",
                hint="the presentation was not accepted and no copy was marked used",
            ) from exc
        raise


def decline(api: IssuerApi, verified: VerifiedRequest) -> None:
    """Tell a waiting verifier that the citizen said no (§8.5 access_denied); best effort."""
    if is_offline(verified):
        return
    form = VpResponse(
        error="access_denied", error_description="the holder declined", state=verified.request.state
    ).to_form()
    with contextlib.suppress(ApiError):  # the refusal stands whether or not the verifier heard it
        api.post_vp_response(verified.request.response_uri, form)


def log_entry(answers: list[Answer], verified: VerifiedRequest, *, delivered: str, now: datetime) -> LogEntry:
    """The wallet log's record of a presentation: names and copies, never values."""
    cards = [
        LoggedCard(
            query_id=a.query_id,
            card_id=a.card.summary.id,
            copy_id=a.choice.copy.id,
            vct=a.card.summary.vct,
            issuer=a.card.summary.issuer,
            claims=[list(p) for p in a.paths],
            linkable=a.choice.linkable,
        )
        for a in answers
    ]
    return LogEntry(
        id=secrets.token_hex(8),
        at=now.isoformat(),
        client_id=verified.client_id,
        clinic=verified.verifier_name,
        purpose=verified.purpose,
        delivered=delivered,
        cards=cards,
    )


def claim_label(card: StoredCard, path: ClaimPath, language: str) -> str:
    """A claim in plain words: the issuer's display name when it has one, else its path."""
    names = card.display.get(language) or card.display.get("en") or {}
    first = path[0] if path else None
    if len(path) == 1 and isinstance(first, str) and first in names:
        return names[first]
    return " › ".join("any" if p is None else str(p) for p in path)


def card_label(card: StoredCard, language: str) -> str:
    names = card.display.get(language) or card.display.get("en") or {}
    return names.get("", card.summary.configuration_id)


def _fetch(api: IssuerApi, url: str) -> str:
    try:
        return api.fetch_request_object(url)
    except ServerError as exc:
        if exc.error == "redirect_refused":
            raise RequestRefusedError(
                f"the request_uri answered with a redirect (HTTP {exc.status}): refused, "
                "a wallet never follows a redirect to fetch a request"
            ) from exc
        raise


def _scheme(text: str) -> str:
    """The URL scheme of ``text``, or "" when it is no URL (urlsplit refuses e.g. an unbalanced '[')."""
    try:
        return urlsplit(text).scheme
    except ValueError:
        return ""


def _looks_like_jwt(text: str) -> bool:
    parts = text.split(".")
    return len(parts) == 3 and all(p and p.replace("-", "").replace("_", "").isalnum() for p in parts[:2])
