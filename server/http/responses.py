"""OpenAPI descriptions of what a route answers besides success: the one error body, and raw request bodies.

Every error is rendered by `server.app` as ``{"error": code, "error_description": text}``; each route lists
the statuses it can give so that the published document (``/schema``) holds every answer the server sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, Reference, RequestBody, Schema


class ErrorBody(msgspec.Struct):
    """The error answer of every route (RFC 6749 §5.2, OID4VCI §8.3.1.2)."""

    error: str
    error_description: str


ERROR_MEANINGS = {
    400: "Malformed request, or the spec's error for it",
    401: "Missing, unknown or wrong bearer token (with WWW-Authenticate)",
    403: "The token's holder may not do this",
    404: "No such issuer, resource or live transaction",
    409: "Conflicts with the resource's state",
    413: "The request body is too large",
    429: "Too many attempts (with Retry-After)",
    503: "The database is unreachable or the resource is exhausted (with Retry-After)",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The error ``statuses`` a route answers, each with `ErrorBody`; 400 always (a malformed parameter)."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=ERROR_MEANINGS[status], generate_examples=False
        )
        for status in sorted({400, *statuses})
    }


def answer(description: str, data: Any = None, media_type: str = "application/json") -> ResponseSpec:
    """A non-error answer besides the route's main one (e.g. 202 pending, 304 not modified)."""
    return ResponseSpec(
        data_container=data, description=description, media_type=media_type, generate_examples=False
    )


def raw_body(media_type: str, schema: Schema) -> type[Operation]:
    """An `operation_class` that documents the body a handler reads itself from the request."""

    @dataclass
    class RawBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                content={media_type: OpenAPIMediaType(schema=schema)},
                required=True,
                description=schema.description,
            )

    return RawBodyOperation


def text_body(description: str) -> Schema:
    return Schema(type=OpenAPIType.STRING, description=description)


def _object(description: str, required: tuple[str, ...] = (), **properties: Schema | Reference) -> Schema:
    return Schema(
        type=OpenAPIType.OBJECT,
        description=description,
        properties=properties,
        required=list(required) or None,
        additional_properties=False,
    )


_STRING = Schema(type=OpenAPIType.STRING)
_STRINGS = Schema(type=OpenAPIType.ARRAY, items=_STRING)
CREDENTIAL_REQUEST = _object(
    "OID4VCI §8.2 credential request: one identifier and the key proofs",
    credential_configuration_id=_STRING,
    credential_identifier=_STRING,
    proofs=Schema(type=OpenAPIType.OBJECT, properties={"jwt": _STRINGS}),
)
VERIFIER_REGISTRATION = _object(
    "A clinic to register: its P-256 public JWK and the claims it may ask for",
    ("name", "purpose", "public_jwk", "allowed"),
    name=_STRING,
    purpose=_STRING,
    public_jwk=Schema(type=OpenAPIType.OBJECT),
    allowed=Schema(
        type=OpenAPIType.ARRAY,
        items=_object(
            "A credential type and its claim paths",
            ("vct", "claims"),
            vct=_STRING,
            claims=Schema(
                type=OpenAPIType.ARRAY,
                items=Schema(
                    type=OpenAPIType.ARRAY,
                    items=Schema(one_of=[_STRING, Schema(type=OpenAPIType.INTEGER, minimum=0)]),
                ),
            ),
        ),
    ),
)
VP_RESPONSE = _object(
    "OID4VP §8.2 direct_post: vp_token (a JSON object) and state, or error and state",
    ("state",),
    vp_token=_STRING,
    state=_STRING,
    error=_STRING,
    error_description=_STRING,
)
