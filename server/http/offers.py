"""`/{issuer}/offers`: officers make credential offers; wallets fetch by-reference offers (OID4VCI §4.1.3)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody

from server.context import Context
from server.http.params import NO_STORE, Authorization
from server.http.responses import errors
from server.services.catalog import known_issuer
from server.services.offers import OfferRequest, create_offer, fetch_offer
from server.services.operators import authorize


class OfferController(Controller):
    path = "/{issuer:str}/offers"

    @post("/", status_code=201, responses=errors(400, 401, 403, 404, 413, 503))
    async def create(
        self,
        context: Context,
        issuer: FromPath[str],
        data: JSONBody[OfferRequest],
        authorization: Authorization = None,
    ) -> Response[dict[str, Any]]:
        """Offer credentials to a citizen (officer of this issuer or admin); returns the link and tx_code."""
        operator = await authorize(context, authorization, issuer=known_issuer(issuer))
        return Response(
            await create_offer(context, issuer, operator, data), status_code=201, headers=NO_STORE
        )

    @get("/{offer_id:str}", responses=errors(404, 503))
    async def fetch(
        self, context: Context, issuer: FromPath[str], offer_id: FromPath[str]
    ) -> Response[dict[str, Any]]:
        """The offer object of a by-reference offer; it can be fetched once."""
        return Response(await fetch_offer(context, known_issuer(issuer), offer_id), headers=NO_STORE)
