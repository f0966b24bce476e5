"""Well-known metadata: OpenID4VCI issuer (§12.2), RFC 8414 server, JWT VC issuer (SD-JWT VC §3)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get
from litestar.params import FromPath

from server.context import Context
from server.http.responses import errors
from server.pki import STATUS_LIST, Signer
from server.services.catalog import authorization_server_metadata, credential_issuer_metadata, known_issuer

CACHEABLE = {"Cache-Control": "public, max-age=300"}


class MetadataController(Controller):
    path = "/.well-known"

    @get("/openid-credential-issuer/{issuer:str}", sync_to_thread=False, responses=errors(404))
    def credential_issuer(self, context: Context, issuer: FromPath[str]) -> Response[dict[str, Any]]:
        """OpenID4VCI credential issuer metadata of `mps` or `vss`."""
        issuer_id = context.config.issuer_id(known_issuer(issuer))
        body = credential_issuer_metadata(issuer_id, issuer, context.config.batch_size)
        return Response(body, headers=CACHEABLE)

    @get("/oauth-authorization-server/{issuer:str}", sync_to_thread=False, responses=errors(404))
    def authorization_server(self, context: Context, issuer: FromPath[str]) -> Response[dict[str, Any]]:
        """RFC 8414 metadata: each issuer is its own authorization server."""
        body = authorization_server_metadata(context.config.issuer_id(known_issuer(issuer)))
        return Response(body, headers=CACHEABLE)

    @get("/jwt-vc-issuer/{issuer:str}", sync_to_thread=False, responses=errors(404))
    def jwt_vc_issuer(self, context: Context, issuer: FromPath[str]) -> Response[dict[str, Any]]:
        """SD-JWT VC issuer metadata: the issuer's key, then the status list signer's (`kid` = RFC 7638).

        Each JWK carries its certificate chain (`x5c`, RFC 7517 §4.7), whose role tells the two apart.
        """
        roles = (known_issuer(issuer), STATUS_LIST)
        jwks = [_jwk(context.pki.signers[role]) for role in roles]
        body = {"issuer": context.config.issuer_id(issuer), "jwks": {"keys": jwks}}
        return Response(body, headers=CACHEABLE)


def _jwk(signer: Signer) -> dict[str, Any]:
    key = signer.key
    return {**key.public.jwk, "kid": key.kid, "use": "sig", "alg": key.alg, "x5c": signer.x5c}
