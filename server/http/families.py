"""Operators' view of credential families: list a citizen's, revoke, suspend or reinstate them."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody

from server.context import Context
from server.http.params import NO_STORE, Authorization
from server.http.responses import errors
from server.services.catalog import known_issuer
from server.services.operators import authorize
from server.services.status import StatusChange, change_status, list_families


class FamilyController(Controller):
    path = "/{issuer:str}"

    @post(
        "/families/{family_id:str}/status",
        status_code=200,
        responses=errors(400, 401, 403, 404, 409, 413, 503),
    )
    async def family_status(
        self,
        context: Context,
        issuer: FromPath[str],
        family_id: FromPath[str],
        data: JSONBody[StatusChange],
        authorization: Authorization = None,
    ) -> Response[dict[str, Any]]:
        """Revoke, suspend or reinstate one credential family (all its copies); officer or admin."""
        await authorize(context, authorization, issuer=known_issuer(issuer))
        return Response(await change_status(context, issuer, data, family_id=family_id), headers=NO_STORE)

    @post(
        "/citizens/{citizen_id:str}/status",
        status_code=200,
        responses=errors(400, 401, 403, 404, 409, 413, 503),
    )
    async def citizen_status(
        self,
        context: Context,
        issuer: FromPath[str],
        citizen_id: FromPath[str],
        data: JSONBody[StatusChange],
        authorization: Authorization = None,
    ) -> Response[dict[str, Any]]:
        """Change every family a citizen holds from this issuer; revoked ones stay revoked."""
        await authorize(context, authorization, issuer=known_issuer(issuer))
        return Response(await change_status(context, issuer, data, citizen_id=citizen_id), headers=NO_STORE)

    @get("/citizens/{citizen_id:str}/families", responses=errors(401, 403, 404, 503))
    async def citizen_families(
        self,
        context: Context,
        issuer: FromPath[str],
        citizen_id: FromPath[str],
        authorization: Authorization = None,
    ) -> Response[dict[str, Any]]:
        """The citizen's credential families at this issuer; officer, auditor or admin."""
        await authorize(context, authorization, issuer=known_issuer(issuer), roles=("auditor",))
        return Response(await list_families(context, issuer, citizen_id), headers=NO_STORE)
