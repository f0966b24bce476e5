"""What the relay checks before it serves a clinic's request object (OID4VP 1.0 §5, §5.9.3 x509_hash).

The relay is no wallet: it checks only that the object is signed by a verifier registered here, under
the `x509_hash` client id of that verifier's certificate, and that answers will come back to this
transaction with a `state` to match. The signature is checked with the key of the certificate kept at
registration, so no chain validation is needed here; wallets validate the chain themselves.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from server.errors import HttpError, UnauthorizedClientError
from server.store.database import Connection
from server.store.relay import find_verifier_certificate
from shared.errors import CredentialError
from shared.jose import check_typ, decode_jws_unverified, verify_signature
from shared.jose.x5c import x509_hash
from shared.jose.x509 import certificate_public_key

REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
X509_HASH_PREFIX = "x509_hash:"
MAX_STATE_LENGTH = 128
DIRECT_POST = "direct_post"


async def check_request_object(
    connection: Connection, body: bytes, *, expected_response_uri: str, max_size: int
) -> tuple[str, str]:
    """(the compact request object, its `state`) once it passes; 400 ``invalid_request`` or 403."""
    try:
        text = body.decode("ascii").strip()
        jws = decode_jws_unverified(text, max_size=max_size, what="request object")
        check_typ(jws.header, REQUEST_OBJECT_TYP, what="request object")
    except (UnicodeDecodeError, CredentialError) as exc:
        raise HttpError(f"not a signed request object: {exc}") from exc
    client_id = jws.payload.get("client_id")
    if not isinstance(client_id, str) or not client_id.startswith(X509_HASH_PREFIX):
        raise HttpError(f"client_id must use the {X509_HASH_PREFIX} prefix")
    leaf = _leaf(jws.header.get("x5c"))
    if not hmac.compare_digest(x509_hash(leaf), client_id.removeprefix(X509_HASH_PREFIX)):
        raise HttpError("client_id is not the x509_hash of the x5c leaf certificate")
    registered = await find_verifier_certificate(connection, client_id)
    if registered is None or registered != leaf:
        raise UnauthorizedClientError(f"{client_id} is not a verifier registered here")
    try:
        verify_signature(jws, certificate_public_key(registered))
    except CredentialError as exc:
        raise HttpError(f"the request object's signature does not verify: {exc}") from exc
    payload = jws.payload
    if payload.get("response_mode") != DIRECT_POST:
        raise HttpError(f"response_mode must be {DIRECT_POST}")
    if payload.get("response_uri") != expected_response_uri:
        raise HttpError(f"response_uri must be {expected_response_uri}")
    state = payload.get("state")
    if not isinstance(state, str) or not state or len(state) > MAX_STATE_LENGTH:
        raise HttpError(f"state is required (a string of at most {MAX_STATE_LENGTH} characters)")
    return text, state


def _leaf(x5c: object) -> bytes:
    """The first certificate of the ``x5c`` header (RFC 7515 §4.1.6: standard base64 DER)."""
    if not isinstance(x5c, list) or not x5c or not isinstance(x5c[0], str):
        raise HttpError("the request object's header must carry an x5c certificate chain")
    try:
        return base64.b64decode(x5c[0], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise HttpError("x5c must hold standard base64 DER certificates") from exc
