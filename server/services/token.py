"""Token endpoint (OpenID4VCI 1.0 §6, pre-authorized code grant) and nonce endpoint (§7)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from server.context import ServerContext
from server.errors import (
    HttpError,
    InvalidAuthorizationDetailsError,
    InvalidGrantError,
    UnsupportedGrantTypeError,
)
from server.services import rate_limits
from server.services.offers import hash_secret, hash_tx_code
from server.store.database import Connection
from server.store.offers import OfferGrant, count_failed_attempt, redeem_offer
from server.store.tokens import insert_access_token, insert_nonce
from shared.encoding import json_loads
from shared.errors import MalformedError
from shared.oid4vci import PRE_AUTHORIZED_GRANT

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
MAX_CODE_LENGTH = 256
CREDENTIAL_DETAIL_TYPE = "openid_credential"


async def exchange_pre_authorized_code(
    context: ServerContext, issuer: str, content_type: str | None, form: Mapping[str, str], client: str
) -> dict[str, Any]:
    """Redeem a pre-authorized code (single use, tx_code checked) for a Bearer access token.

    ``client`` is the client's address: its requests, and its wrong tx_codes over all offers, are
    rate limited (`server.services.rate_limits`), besides each offer's own limit on wrong tx_codes.
    """
    await _limit_rate(context, client, tx_code_sent="tx_code" in form)
    if _media_type(content_type) != FORM_MEDIA_TYPE:
        raise HttpError(f"the token request must be {FORM_MEDIA_TYPE}")
    grant_type = form.get("grant_type")
    if not grant_type:
        raise HttpError("grant_type is required")
    if grant_type != PRE_AUTHORIZED_GRANT:
        raise UnsupportedGrantTypeError(f"only the {PRE_AUTHORIZED_GRANT} grant is supported")
    code = form.get("pre-authorized_code")
    if not code:
        raise HttpError("pre-authorized_code is required")
    tx_code = form.get("tx_code")
    requested = _requested_configurations(form.get("authorization_details"))
    config = context.config
    access_token = secrets.token_urlsafe(32)
    async with context.database.transaction() as connection:
        configuration_ids = await _redeem(
            context, connection, issuer, code, tx_code, requested, access_token, client
        )
    if configuration_ids is None:
        raise InvalidGrantError("wrong tx_code")
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": config.access_token_ttl,
        "authorization_details": [
            {
                "type": CREDENTIAL_DETAIL_TYPE,
                "credential_configuration_id": configuration_id,
                "credential_identifiers": [configuration_id],
            }
            for configuration_id in configuration_ids
        ],
    }


async def issue_nonce(context: ServerContext, issuer: str) -> dict[str, str]:
    """A fresh, unpredictable c_nonce for key proofs, valid for ``nonce_ttl`` seconds and single use."""
    nonce = secrets.token_urlsafe(32)
    expires_at = context.clock() + timedelta(seconds=context.config.nonce_ttl)
    async with context.database.transaction() as connection:
        await insert_nonce(connection, hash_secret(nonce), issuer, expires_at)
    return {"c_nonce": nonce}


async def _redeem(
    context: ServerContext,
    connection: Connection,
    issuer: str,
    code: str,
    tx_code: str | None,
    requested: list[str] | None,
    access_token: str,
    client: str,
) -> list[str] | None:
    """Redeem the code and store the token; None (with the attempt counted) when the tx_code is wrong."""
    config, now = context.config, context.clock()
    grant = None
    if len(code) <= MAX_CODE_LENGTH:
        grant = await redeem_offer(
            connection,
            code_hash=hash_secret(code),
            issuer=issuer,
            now=now,
            max_attempts=config.tx_code_max_attempts,
        )
    if grant is None:
        raise InvalidGrantError("the pre-authorized code is unknown, expired or used")
    # Raising rolls the redemption back: a request with a missing or unexpected tx_code uses nothing up.
    if (tx_code is None) != (grant.tx_code_hash is None):
        raise HttpError(
            "tx_code is required by this offer" if tx_code is None else "tx_code was not expected"
        )
    if not _tx_code_matches(grant, tx_code):
        await count_failed_attempt(connection, grant.offer_id)
        await rate_limits.count(connection, config, rate_limits.wrong_tx_codes(config), client, now)
        return None
    configuration_ids = _narrow(grant.configuration_ids, requested)
    await insert_access_token(
        connection,
        token_hash=hash_secret(access_token),
        offer_id=grant.offer_id,
        issuer=issuer,
        citizen_id=grant.citizen_id,
        configuration_ids=configuration_ids,
        expires_at=now + timedelta(seconds=config.access_token_ttl),
    )
    return configuration_ids


async def _limit_rate(context: ServerContext, client: str, *, tx_code_sent: bool) -> None:
    """429 for a client over its token request limit, or (when it sends a tx_code) out of tx_code tries.

    Its own transaction, committed before the request goes on: a request refused later for a wrong code
    still counts.
    """
    config = context.config
    requests, wrong = rate_limits.token_requests(config), rate_limits.wrong_tx_codes(config)
    if not requests.max_hits and not (tx_code_sent and wrong.max_hits):
        return
    now = context.clock()
    async with context.database.transaction() as connection:
        await rate_limits.hit(connection, config, requests, client, now)
        if tx_code_sent:
            await rate_limits.refuse_if_used_up(connection, wrong, client, now)


def _tx_code_matches(grant: OfferGrant, tx_code: str | None) -> bool:
    if grant.tx_code_hash is None:
        return True
    return tx_code is not None and hmac.compare_digest(
        hash_tx_code(grant.offer_id, tx_code), grant.tx_code_hash
    )


def _requested_configurations(details: str | None) -> list[str] | None:
    """The configuration ids of ``openid_credential`` authorization details (RFC 9396), if any were sent."""
    if details is None:
        return None
    try:
        parsed = json_loads(details.encode(), what="authorization_details")
    except MalformedError as exc:
        raise HttpError(str(exc)) from exc
    if not isinstance(parsed, list) or not parsed:
        raise HttpError("authorization_details must be a non-empty JSON array")
    requested = []
    for detail in parsed:
        if not isinstance(detail, dict) or detail.get("type") != CREDENTIAL_DETAIL_TYPE:
            raise InvalidAuthorizationDetailsError(
                f"each authorization detail must be of type {CREDENTIAL_DETAIL_TYPE}"
            )
        configuration_id = detail.get("credential_configuration_id")
        if not isinstance(configuration_id, str):
            raise InvalidAuthorizationDetailsError(
                "each authorization detail needs a credential_configuration_id"
            )
        requested.append(configuration_id)
    return list(dict.fromkeys(requested))


def _narrow(offered: list[str], requested: list[str] | None) -> list[str]:
    """§6.1.1: the token may be narrowed to some of the offered configurations, never widened."""
    if requested is None:
        return offered
    if extra := [c for c in requested if c not in offered]:
        raise InvalidAuthorizationDetailsError(f"not offered: {', '.join(extra)}")
    return requested


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()
