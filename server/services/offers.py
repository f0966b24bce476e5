"""Credential offers (OpenID4VCI 1.0 §4.1): a pre-authorized code and a tx_code sent out of band."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta, timezone
from typing import Any
from urllib.parse import quote

import msgspec

from server.context import ServerContext
from server.errors import HttpError, NotFoundError, UnknownCredentialConfigurationError
from server.services.catalog import CONFIGURATIONS_BY_ISSUER, CREDENTIAL_NAMES, ISSUER_NAMES
from server.services.operators import Operator
from server.store.offers import insert_offer, insert_outbox_message, mark_offer_fetched
from server.store.registry import registry_holdings
from shared.encoding import json_dumps
from shared.oid4vci import OFFER_SCHEME, PRE_AUTHORIZED_GRANT

TX_CODE_LENGTH = 6
TX_CODE_DESCRIPTION = "Nhập mã 6 chữ số đã gửi qua SMS / Enter the 6-digit code sent to you by SMS"
VIETNAM = timezone(timedelta(hours=7), "ICT")
_CITIZEN_ID = re.compile(r"[0-9]{12}")


class OfferRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An officer's request: whom to offer which credential configurations, and how to hand the offer over."""

    citizen_id: str
    credential_configuration_ids: list[str]
    by_reference: bool = False


def hash_secret(value: str) -> bytes:
    """SHA-256 of a code, token or nonce: the only form in which the database keeps it."""
    return hashlib.sha256(value.encode()).digest()


def hash_tx_code(offer_id: str, tx_code: str) -> bytes:
    """SHA-256 of the tx_code salted with its offer id, so one table of 10^6 hashes fits no two offers."""
    return hashlib.sha256(f"{offer_id}:{tx_code}".encode()).digest()


async def create_offer(
    context: ServerContext, issuer: str, operator: Operator, request: OfferRequest
) -> dict[str, Any]:
    """Make an offer for a citizen; the tx_code goes to the outbox (SMS) and back to the officer."""
    configuration_ids = _check_request(issuer, request)
    async with context.database.transaction() as connection:
        holdings = await registry_holdings(connection, request.citizen_id)
    if holdings is None:
        raise NotFoundError(f"no citizen {request.citizen_id} in the registry")
    if missing := [c for c in configuration_ids if c not in holdings]:
        raise NotFoundError(f"the registry holds no {', '.join(missing)} record for this citizen")
    config, now = context.config, context.clock()
    offer_id = secrets.token_urlsafe(32)
    # OpenID4VCI §4.1.1: at least 128 bits of randomness; a by-reference offer gets its code when fetched,
    # so until then no usable code exists anywhere.
    code = secrets.token_urlsafe(32)
    tx_code = f"{secrets.randbelow(10**TX_CODE_LENGTH):0{TX_CODE_LENGTH}d}"
    expires_at = now + timedelta(seconds=config.pre_authorized_code_ttl)
    async with context.database.transaction() as connection:
        await insert_offer(
            connection,
            offer_id=offer_id,
            issuer=issuer,
            citizen_id=request.citizen_id,
            configuration_ids=configuration_ids,
            code_hash=hash_secret(code if not request.by_reference else secrets.token_urlsafe(32)),
            tx_code_hash=hash_tx_code(offer_id, tx_code),
            created_by=operator.id,
            now=now,
            expires_at=expires_at,
            # A by-value offer travels inside its link: it counts as fetched, and its URI serves nothing.
            fetched_at=None if request.by_reference else now,
        )
        await insert_outbox_message(
            connection,
            offer_id=offer_id,
            citizen_id=request.citizen_id,
            channel="sms",
            message=_sms(
                issuer, configuration_ids, tx_code, expires_at.astimezone(VIETNAM).strftime("%H:%M")
            ),
            now=now,
        )
    issuer_id = config.issuer_id(issuer)
    offer_url = f"{issuer_id}/offers/{offer_id}"
    if request.by_reference:
        offer = credential_offer(issuer_id, configuration_ids, None)
        link = f"{OFFER_SCHEME}://?credential_offer_uri={quote(offer_url, safe='')}"
    else:
        offer = credential_offer(issuer_id, configuration_ids, code)
        link = f"{OFFER_SCHEME}://?credential_offer={quote(json_dumps(offer), safe='')}"
    return {
        "offer_id": offer_id,
        "credential_offer": offer,
        "credential_offer_uri": offer_url,
        "offer_uri": link,
        "tx_code": tx_code,
        "expires_at": expires_at.isoformat(),
    }


async def fetch_offer(context: ServerContext, issuer: str, offer_id: str) -> dict[str, Any]:
    """Serve a by-reference offer once, minting its pre-authorized code now; a second fetch is 404 (C29)."""
    code = secrets.token_urlsafe(32)
    configuration_ids = None
    if len(offer_id) <= 64:
        async with context.database.transaction() as connection:
            configuration_ids = await mark_offer_fetched(
                connection, offer_id=offer_id, issuer=issuer, code_hash=hash_secret(code), now=context.clock()
            )
    if configuration_ids is None:
        raise NotFoundError("no such offer: unknown, expired, made by value or fetched already")
    return credential_offer(context.config.issuer_id(issuer), configuration_ids, code)


def credential_offer(issuer_id: str, configuration_ids: list[str], code: str | None) -> dict[str, Any]:
    """The §4.1.1 offer object; without ``code`` it shows what a by-reference offer will hold."""
    grant: dict[str, Any] = {
        "tx_code": {"input_mode": "numeric", "length": TX_CODE_LENGTH, "description": TX_CODE_DESCRIPTION}
    }
    if code is not None:
        grant = {"pre-authorized_code": code, **grant}
    return {
        "credential_issuer": issuer_id,
        "credential_configuration_ids": configuration_ids,
        "grants": {PRE_AUTHORIZED_GRANT: grant},
    }


def _check_request(issuer: str, request: OfferRequest) -> list[str]:
    if not _CITIZEN_ID.fullmatch(request.citizen_id):
        raise HttpError("citizen_id must be 12 digits")
    ids = request.credential_configuration_ids
    if not ids or len(set(ids)) != len(ids):
        raise HttpError("credential_configuration_ids must be a non-empty list without repeats")
    for configuration_id in ids:
        if configuration_id not in CONFIGURATIONS_BY_ISSUER[issuer]:
            raise UnknownCredentialConfigurationError(
                f"{issuer} does not offer {configuration_id!r}; it offers "
                + ", ".join(CONFIGURATIONS_BY_ISSUER[issuer])
            )
    return list(ids)


def _sms(issuer: str, configuration_ids: list[str], tx_code: str, until: str) -> str:
    names = ", ".join(CREDENTIAL_NAMES[c]["vi"] for c in configuration_ids)
    return (
        f"{ISSUER_NAMES[issuer]['vi']}: mã giao dịch để nhận {names} vào ví điện tử là {tx_code}, "
        f"hiệu lực đến {until}. Không chia sẻ mã này với bất kỳ ai."
    )
