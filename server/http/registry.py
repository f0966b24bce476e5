"""Operators' view of the registries: the records an issuer holds about a citizen."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get
from litestar.params import FromPath, HeaderParameter

from server.context import Context
from server.services.operators import authorize
from server.services.registry import citizen_records
from server.services.status import check_issuer

Authorization = Annotated[str | None, HeaderParameter(name="Authorization")]
NO_STORE = {"Cache-Control": "no-store"}


class RegistryController(Controller):
    path = "/{issuer:str}"

    @get("/citizens/{citizen_id:str}")
    async def citizen(
        self,
        context: Context,
        issuer: FromPath[str],
        citizen_id: FromPath[str],
        authorization: Authorization = None,
    ) -> Response[dict[str, Any]]:
        """MPS: the identity record; VSS: the health insurance card and the social insurance book."""
        await authorize(context, authorization, issuer=check_issuer(issuer))
        return Response(await citizen_records(context, issuer, citizen_id), headers=NO_STORE)
