"""Operators' view of the registries: the records an issuer holds about a citizen."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get
from litestar.params import FromPath

from server.context import Context
from server.http.params import NO_STORE, Authorization
from server.http.responses import errors
from server.services.catalog import known_issuer
from server.services.operators import authorize
from server.services.registry import citizen_records


class RegistryController(Controller):
    path = "/{issuer:str}"

    @get("/citizens/{citizen_id:str}", responses=errors(401, 403, 404, 503))
    async def citizen(
        self,
        context: Context,
        issuer: FromPath[str],
        citizen_id: FromPath[str],
        authorization: Authorization = None,
    ) -> Response[dict[str, Any]]:
        """MPS: the identity record; VSS: the health insurance card and the social insurance book."""
        await authorize(context, authorization, issuer=known_issuer(issuer))
        return Response(await citizen_records(context, issuer, citizen_id), headers=NO_STORE)
