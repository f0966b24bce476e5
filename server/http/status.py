"""`/status/{issuer}/{list_id}`: the Token Status List, cacheable (draft-ietf-oauth-status-list §8.1-8.2)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get
from litestar.params import FromPath, HeaderParameter

from server.context import Context
from server.http.responses import answer, errors
from server.services.status import etag_matches, status_list_token

MEDIA_TYPE = "application/statuslist+jwt"


class StatusListController(Controller):
    path = "/status"

    @get(
        "/{issuer:str}/{list_id:int}",
        media_type=MEDIA_TYPE,
        responses={304: answer("The list has not changed (If-None-Match)"), **errors(400, 404, 503)},
    )
    async def status_list(
        self,
        context: Context,
        issuer: FromPath[str],
        list_id: FromPath[int],
        if_none_match: Annotated[str | None, HeaderParameter(name="If-None-Match")] = None,
    ) -> Response[bytes]:
        """The issuer's signed list: 2 bits per entry, ETag and `Cache-Control` from the token's `ttl`."""
        signed = await status_list_token(context, issuer, list_id)
        headers = {
            "ETag": signed.etag,
            "Cache-Control": f"public, max-age={context.config.status_list_ttl}",
            "Access-Control-Allow-Origin": "*",
        }
        if etag_matches(if_none_match, signed.etag):
            return Response(b"", status_code=304, headers=headers)
        return Response(signed.token.encode("ascii"), media_type=MEDIA_TYPE, headers=headers)
