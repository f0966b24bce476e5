"""`/verifier`: the OpenID4VP relay for cross-device presentations (OID4VP 1.0 §5.10, §8.2, §13.3)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath

from server.context import Context
from server.errors import PayloadTooLargeError
from server.http.params import NO_STORE, Authorization
from server.http.responses import VP_RESPONSE, answer, errors, raw_body, text_body
from server.services.rate_limits import client_address
from server.services.relay import (
    REQUEST_OBJECT_MEDIA_TYPE,
    create_transaction,
    fetch_request_object,
    fetch_result,
    post_response,
    put_request_object,
)


class VerifierRelayController(Controller):
    path = "/verifier"

    @post("/transactions", status_code=201, responses=errors(429, 503))
    async def create(self, context: Context, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        """A new transaction: request_uri and response_uri for the wallet, a read token for the clinic."""
        created = await create_transaction(context, client_address(request.client))
        return Response(created, status_code=201, headers=NO_STORE)

    @put(
        "/transactions/{transaction_id:str}/request",
        status_code=204,
        responses=errors(400, 401, 403, 404, 409, 413, 503),
        operation_class=raw_body(REQUEST_OBJECT_MEDIA_TYPE, text_body("The signed request object")),
    )
    async def store_request(
        self,
        context: Context,
        transaction_id: FromPath[str],
        request: Request[Any, Any, Any],
        authorization: Authorization = None,
    ) -> Response[None]:
        """Store the clinic's signed request object (`application/oauth-authz-req+jwt`)."""
        content_type, body = request.headers.get("content-type"), await request.body()
        await put_request_object(context, transaction_id, authorization, content_type, body)
        return Response(None, status_code=204, headers=NO_STORE)

    @get(
        "/transactions/{transaction_id:str}/result",
        responses={202: answer("The wallet has not answered yet", dict[str, str]), **errors(401, 404, 503)},
    )
    async def result(
        self, context: Context, transaction_id: FromPath[str], authorization: Authorization = None
    ) -> Response[dict[str, Any]]:
        """202 while the wallet has not answered; the answer once; then 404."""
        status, body = await fetch_result(context, transaction_id, authorization)
        return Response(body, status_code=status, headers=NO_STORE)

    @get("/request/{transaction_id:str}", media_type=REQUEST_OBJECT_MEDIA_TYPE, responses=errors(404, 503))
    async def request_object(self, context: Context, transaction_id: FromPath[str]) -> Response[bytes]:
        """The wallet fetches the signed request object by its request_uri."""
        body = await fetch_request_object(context, transaction_id)
        return Response(body, media_type=REQUEST_OBJECT_MEDIA_TYPE, headers=NO_STORE)

    @post(
        "/response/{transaction_id:str}",
        status_code=200,
        request_max_body_size=None,
        responses=errors(400, 404, 413, 503),
        operation_class=raw_body("application/x-www-form-urlencoded", VP_RESPONSE),
    )
    async def response(
        self, context: Context, transaction_id: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[dict[str, Any]]:
        """direct_post: the wallet's `vp_token` and `state` (or `error`) as a form; answered `{}`."""
        body = await _read_limited(request, context.config.vp_max_response_bytes)
        answer = await post_response(context, transaction_id, request.headers.get("content-type"), body)
        return Response(answer, headers=NO_STORE)


async def _read_limited(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` bytes (this route has its own limit)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"a response may have at most {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"a response may have at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
