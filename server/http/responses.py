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
from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
"""On every answer: `server.app` adds them to Litestar's responses, `JsonAnswer` carries them."""
_encode_json = msgspec.json.Encoder().encode


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


class JsonAnswer:
    """A 200 ``application/json`` answer that must not be stored, as an ASGI app.

    The same answer as Litestar's ``Response(content, headers=NO_STORE)``, without what that costs per
    request on a hot endpoint (about 60 µs of a credential request): re-encoding every header into a
    header list, and finding the serializer for the content.
    """

    __slots__ = ("body",)
    HEADERS = (
        (b"content-type", b"application/json"),
        (b"cache-control", b"no-store"),
        *((name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()),
    )

    def __init__(self, content: Any) -> None:
        self.body = _encode_json(content)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 200,
            "headers": [*self.HEADERS, (b"content-length", str(len(self.body)).encode())],
        }
        body: HTTPResponseBodyEvent = {"type": "http.response.body", "body": self.body, "more_body": False}
        await send(start)
        await send(body)


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
