"""OpenID4VP relay (OID4VP 1.0 §5.10 request_uri, §8.2 direct_post, §13.3): the cross-device meeting point.

A clinic creates a transaction, stores its signed request object under it, and polls for the result with
the transaction's read token; the wallet fetches the request object and posts its answer. Everything lives
in the database, so any worker can serve any step; the answer is handed out once and then erased.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import Any

from server.context import ServerContext
from server.errors import (
    ConflictError,
    HttpError,
    InvalidTokenError,
    PayloadTooLargeError,
    UnknownTransactionError,
)
from server.services import rate_limits
from server.services.relay_request import check_request_object
from server.services.relay_response import parse_response
from server.store.relay import (
    TransactionRow,
    find_transaction,
    insert_transaction,
    purge_expired_transactions,
    set_request_object,
    store_response,
    take_response,
)
from shared.encoding import json_loads

REQUEST_OBJECT_MEDIA_TYPE = "application/oauth-authz-req+jwt"
_TRANSACTION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PENDING = {"status": "pending"}


def request_uri(context: ServerContext, transaction_id: str) -> str:
    return f"{context.config.public_url}/verifier/request/{transaction_id}"


def response_uri(context: ServerContext, transaction_id: str) -> str:
    return f"{context.config.public_url}/verifier/response/{transaction_id}"


async def create_transaction(context: ServerContext, client: str) -> dict[str, Any]:
    """A fresh transaction: its id (in both URIs) and the read token that alone may store and read it.

    ``client`` is the creator's address: each may create ``relay_rate_limit`` per window (429 beyond).
    """
    config, now = context.config, context.clock()
    # ≥128 bits each (OID4VP §13.3): the id is public (it is in the QR code), the read token is not.
    transaction_id, read_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    ttl = config.vp_transaction_ttl
    async with context.database.transaction() as connection:
        await rate_limits.hit(connection, config, rate_limits.relay_transactions(config), client, now)
        await purge_expired_transactions(connection, now)
        await insert_transaction(
            connection,
            transaction_id=transaction_id,
            read_token_hash=_hash(read_token),
            now=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    return {
        "transaction_id": transaction_id,
        "request_uri": request_uri(context, transaction_id),
        "response_uri": response_uri(context, transaction_id),
        "read_token": read_token,
        "expires_in": ttl,
    }


async def put_request_object(
    context: ServerContext,
    transaction_id: str,
    authorization: str | None,
    content_type: str | None,
    body: bytes,
) -> None:
    """Store the clinic's signed request object once (the same object again is accepted, another is 409)."""
    await _authorized(context, transaction_id, authorization)
    limit = context.config.max_request_object_bytes
    if len(body) > limit:
        raise PayloadTooLargeError(f"a request object may have at most {limit} bytes")
    if _media_type(content_type) != REQUEST_OBJECT_MEDIA_TYPE:
        raise HttpError(f"the request object must be sent as {REQUEST_OBJECT_MEDIA_TYPE}")
    now = context.clock()
    async with context.database.transaction() as connection:
        request_object, state = await check_request_object(
            connection, body, expected_response_uri=response_uri(context, transaction_id), max_size=limit
        )
        if await set_request_object(connection, transaction_id, request_object, state, now):
            return
        found = await find_transaction(connection, transaction_id, now)
    if found is None:
        raise UnknownTransactionError("unknown or expired transaction")
    if found.request_object != request_object:
        raise ConflictError("this transaction holds another request object already")


async def fetch_request_object(context: ServerContext, transaction_id: str) -> bytes:
    """The request object for the wallet (OID4VP §5.10), while the transaction waits for its answer."""
    found = await _live(context, transaction_id)
    if found.request_object is None or found.answered_at is not None:
        raise UnknownTransactionError("no request object waits under this transaction")
    return found.request_object.encode("ascii")


async def post_response(
    context: ServerContext, transaction_id: str, content_type: str | None, body: bytes
) -> dict[str, Any]:
    """Take the wallet's direct_post answer (OID4VP §8.2): once, for a live request, with its `state`."""
    document, state = parse_response(content_type, body)
    now = context.clock()
    async with context.database.transaction() as connection:
        found = (
            await find_transaction(connection, transaction_id, now) if _well_formed(transaction_id) else None
        )
        if found is not None and found.answered_at is not None:
            raise HttpError("this request has been answered already")
        if found is None or found.request_object is None or found.state is None:
            raise UnknownTransactionError("no request waits for an answer under this transaction")
        if not hmac.compare_digest(state.encode(), found.state.encode()):
            raise HttpError("state does not match the request")
        if not await store_response(connection, transaction_id, document, now):
            raise HttpError("this request has been answered already")
    return {}


async def fetch_result(
    context: ServerContext, transaction_id: str, authorization: str | None
) -> tuple[int, dict[str, Any]]:
    """(202, pending) until the wallet answers; then (200, the answer) once; then 404."""
    found = await _authorized(context, transaction_id, authorization)
    if found.answered_at is None:
        return 202, dict(_PENDING)
    async with context.database.transaction() as connection:
        response = await take_response(connection, transaction_id, context.clock())
    if response is None:
        raise UnknownTransactionError("the answer to this transaction has been retrieved already")
    result: dict[str, Any] = json_loads(response.encode(), what="stored response")
    return 200, result


async def _live(context: ServerContext, transaction_id: str) -> TransactionRow:
    found = None
    if _well_formed(transaction_id):
        async with context.database.transaction() as connection:
            found = await find_transaction(connection, transaction_id, context.clock())
    if found is None:
        raise UnknownTransactionError("unknown or expired transaction")
    return found


async def _authorized(
    context: ServerContext, transaction_id: str, authorization: str | None
) -> TransactionRow:
    """The live transaction whose read token is presented as ``Authorization: Bearer`` (RFC 6750 §2.1)."""
    if not authorization or not authorization.startswith("Bearer ") or len(authorization) > 200:
        raise InvalidTokenError("the transaction's read token is required")
    found = await _live(context, transaction_id)
    token = authorization.removeprefix("Bearer ").strip()
    if not hmac.compare_digest(_hash(token), found.read_token_hash):
        raise InvalidTokenError("wrong read token for this transaction")
    return found


def _well_formed(transaction_id: str) -> bool:
    return _TRANSACTION_ID.fullmatch(transaction_id) is not None


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()
