"""Holder side of SD-JWT (RFC 9901 §7.2): read a stored SD-JWT, choose disclosures, bind to a key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shared.errors import MalformedError
from shared.jose import PrivateKey, decode_jws_unverified, sign_jwt
from shared.sdjwt.disclosure import Disclosure, digest, serialize, split_compact
from shared.sdjwt.process import ClaimPath, process_payload

KB_JWT_TYP = "kb+jwt"


@dataclass(frozen=True, slots=True)
class HolderView:
    """What a holder can read from its own SD-JWT: every claim, and the disclosure behind each path."""

    jws: str
    header: dict[str, Any]
    claims: dict[str, Any]
    disclosures: tuple[tuple[ClaimPath, Disclosure], ...]


def read_unverified(sd_jwt: str) -> HolderView:
    """Open an SD-JWT the holder already holds; the issuer signature is NOT checked here.

    Refuses an SD-JWT+KB, which an issuer must never send (§7.2).
    """
    parts = split_compact(sd_jwt)
    if parts.kb_jwt is not None:
        raise MalformedError(
            "an issued SD-JWT must not carry a Key Binding JWT", reason="unexpected_key_binding"
        )
    jws = decode_jws_unverified(parts.jws, what="issuer-signed JWT")
    processed = process_payload(jws.payload, parts.disclosures)
    return HolderView(parts.jws, jws.header, processed.claims, tuple(processed.placed))


def select_disclosures(view: HolderView, paths: Iterable[ClaimPath]) -> list[str]:
    """The disclosures needed to reveal ``paths``: those on the way to each path and all beneath it."""
    wanted = [tuple(p) for p in paths]
    return [d.text for placed, d in view.disclosures if any(_related(placed, w) for w in wanted)]


def create_presentation(
    sd_jwt: str,
    paths: Iterable[ClaimPath],
    *,
    holder_key: PrivateKey | None = None,
    audience: str | None = None,
    nonce: str | None = None,
    issued_at: int | None = None,
) -> str:
    """Present only the claims at ``paths``; with ``holder_key`` append a KB-JWT (§4.3)."""
    view = read_unverified(sd_jwt)
    presented = serialize(view.jws, select_disclosures(view, paths))
    if holder_key is None:
        return presented
    if audience is None or nonce is None or issued_at is None:
        raise MalformedError(
            "key binding needs audience, nonce and issued_at", reason="bad_key_binding_input"
        )
    return presented + create_key_binding_jwt(presented, holder_key, audience, nonce, issued_at)


def create_key_binding_jwt(presented: str, key: PrivateKey, audience: str, nonce: str, issued_at: int) -> str:
    """KB-JWT over ``presented`` (the SD-JWT ending in ``~``): typ kb+jwt, iat, aud, nonce, sd_hash."""
    claims = {"iat": issued_at, "aud": audience, "nonce": nonce, "sd_hash": digest(presented)}
    return sign_jwt(claims, key, typ=KB_JWT_TYP)


def _related(placed: ClaimPath, wanted: ClaimPath) -> bool:
    """True when one path is a prefix of the other (None in ``wanted`` matches any array index)."""
    return all((w is None and isinstance(p, int)) or w == p for p, w in zip(placed, wanted, strict=False))
