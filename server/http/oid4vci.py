"""OpenID4VCI 1.0 endpoints of each issuer: token (§6), nonce (§7) and credential (§8)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, HeaderParameter
from litestar.types import ASGIApp

from server.context import Context
from server.http.params import NO_STORE, Authorization
from server.http.responses import CREDENTIAL_REQUEST, JsonAnswer, answer, errors, raw_body
from server.services.catalog import known_issuer
from server.services.issuance import issue_credentials
from server.services.rate_limits import client_address
from server.services.token import exchange_pre_authorized_code, issue_nonce
from shared.oid4vci import CredentialResponse

ContentType = Annotated[str | None, HeaderParameter(name="Content-Type")]
TokenForm = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


class Oid4vciController(Controller):
    path = "/{issuer:str}"

    @post("/token", status_code=200, responses=errors(400, 404, 413, 429, 503))
    async def token(
        self,
        context: Context,
        issuer: FromPath[str],
        data: TokenForm,
        request: Request[Any, Any, Any],
        content_type: ContentType = None,
    ) -> Response[dict[str, Any]]:
        """Pre-authorized code grant: code (+ tx_code) for a Bearer access token."""
        client = client_address(request.client)
        body = await exchange_pre_authorized_code(context, known_issuer(issuer), content_type, data, client)
        return Response(body, headers=NO_STORE)

    @post("/nonce", status_code=200, responses=errors(404, 503))
    async def nonce(self, context: Context, issuer: FromPath[str]) -> Response[dict[str, str]]:
        """A fresh c_nonce for key proofs."""
        return Response(await issue_nonce(context, known_issuer(issuer)), headers=NO_STORE)

    @post(
        "/credential",
        status_code=200,
        responses={200: answer("The credentials, one per proven key", CredentialResponse)}
        | errors(400, 401, 404, 413, 503),
        operation_class=raw_body("application/json", CREDENTIAL_REQUEST),
    )
    async def credential(
        self,
        context: Context,
        issuer: FromPath[str],
        request: Request[Any, Any, Any],
        authorization: Authorization = None,
    ) -> ASGIApp:
        """Credentials for the keys proven in `proofs.jwt`, bound to them, one family per request."""
        content_type, body = request.headers.get("content-type"), await request.body()
        issued = await issue_credentials(context, known_issuer(issuer), authorization, content_type, body)
        return JsonAnswer(issued)
