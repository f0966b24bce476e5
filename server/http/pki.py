"""The national PKI over HTTP: the root certificate and signer leaves (public), and verifier registration."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post

from server.context import Context
from server.http.params import NO_STORE, Authorization
from server.http.responses import VERIFIER_REGISTRATION, errors, raw_body
from server.services.operators import authorize
from server.services.pki import pki_document, root_pem
from server.services.verifiers import register_verifier

PEM_MEDIA_TYPE = "application/x-pem-file"
CACHEABLE = {"Cache-Control": "public, max-age=300"}


class PkiController(Controller):
    path = "/pki"

    @get("/root.pem", sync_to_thread=False, media_type=PEM_MEDIA_TYPE)
    def root(self, context: Context) -> Response[str]:
        """The national root CA certificate (PEM) that wallets and verifiers pin as their trust anchor."""
        return Response(root_pem(context), media_type=PEM_MEDIA_TYPE, headers=CACHEABLE)

    @get("/", responses=errors(503))
    async def certificates(self, context: Context) -> Response[dict[str, Any]]:
        """The root, every signer's leaf and the status list URIs, for a verifier's offline cache."""
        return Response(await pki_document(context), headers=CACHEABLE)


class RegistrarController(Controller):
    path = "/verifiers"

    @post(
        "/",
        status_code=201,
        responses=errors(400, 401, 403, 413, 503),
        operation_class=raw_body("application/json", VERIFIER_REGISTRATION),
    )
    async def register(
        self, context: Context, request: Request[Any, Any, Any], authorization: Authorization = None
    ) -> Response[dict[str, Any]]:
        """Register a clinic (admin): its certificate, `x509_hash` client id and registration record."""
        await authorize(context, authorization)
        body = await register_verifier(context, await request.body())
        return Response(body, status_code=201, headers=NO_STORE)
