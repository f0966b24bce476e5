"""A §8.2 credential request as the endpoint takes it: its bearer token, its shape and what it asks for,
checked before any database work (OpenID4VCI 1.0)."""

from __future__ import annotations

from typing import NamedTuple

from server.errors import (
    InvalidCredentialRequestError,
    InvalidEncryptionParametersError,
    InvalidProofError,
    InvalidTokenError,
    UnknownCredentialConfigurationError,
    UnknownCredentialIdentifierError,
)
from server.services.offers import hash_secret
from server.store.tokens import AccessGrant
from shared.encoding import json_loads
from shared.errors import CredentialError

JSON_MEDIA_TYPE = "application/json"
MAX_TOKEN_LENGTH = 256


class CredentialRequest(NamedTuple):
    """A §8.2 request, checked for shape: what it asks for and its `jwt` proofs."""

    credential_identifier: str | None
    credential_configuration_id: str | None
    proofs: list[str]


def read_credential_request(content_type: str | None, body: bytes, *, batch_size: int) -> CredentialRequest:
    """Decode a §8.2 request strictly: shape errors are `invalid_credential_request`."""
    if (content_type or "").split(";", 1)[0].strip().lower() != JSON_MEDIA_TYPE:
        raise InvalidCredentialRequestError(f"the credential request must be {JSON_MEDIA_TYPE}")
    try:
        request = json_loads(body, what="credential request")
    except CredentialError as exc:
        raise InvalidCredentialRequestError(str(exc)) from exc
    if not isinstance(request, dict):
        raise InvalidCredentialRequestError("the credential request must be a JSON object")
    if "proof" in request:
        raise InvalidCredentialRequestError(
            "the singular proof parameter is gone in OpenID4VCI 1.0: send proofs"
        )
    if "credential_response_encryption" in request:
        raise InvalidEncryptionParametersError("this issuer does not encrypt credential responses")
    identifier = request.get("credential_identifier")
    configuration_id = request.get("credential_configuration_id")
    if (identifier is None) == (configuration_id is None):
        raise InvalidCredentialRequestError(
            "send exactly one of credential_identifier and credential_configuration_id"
        )
    if not isinstance(identifier if identifier is not None else configuration_id, str):
        raise InvalidCredentialRequestError(
            "credential_identifier or credential_configuration_id must be a string"
        )
    proofs = request.get("proofs")
    if proofs is None:
        raise InvalidProofError("proofs are required: every credential is bound to a key")
    if not isinstance(proofs, dict) or len(proofs) != 1:
        raise InvalidCredentialRequestError("proofs must hold exactly one proof type")
    if "jwt" not in proofs:
        raise InvalidProofError("only the jwt proof type is supported")
    jwts = proofs["jwt"]
    if not isinstance(jwts, list) or not jwts or not all(isinstance(p, str) for p in jwts):
        raise InvalidCredentialRequestError("proofs.jwt must be a non-empty array of JWTs")
    if len(jwts) > batch_size:
        raise InvalidCredentialRequestError(f"at most {batch_size} proofs per request (batch_size)")
    return CredentialRequest(identifier, configuration_id, jwts)


def requested_configuration(request: CredentialRequest, grant: AccessGrant) -> str:
    if request.credential_identifier is not None:
        if request.credential_identifier not in grant.configuration_ids:
            raise UnknownCredentialIdentifierError("this access token grants no such credential_identifier")
        return request.credential_identifier
    if request.credential_configuration_id not in grant.configuration_ids:
        raise UnknownCredentialConfigurationError("this access token does not cover that configuration")
    # §8.2: the token response carried credential_identifiers, so credential_configuration_id MUST NOT
    # be used.
    raise InvalidCredentialRequestError(
        "the token response listed credential_identifiers: send credential_identifier"
    )


def bearer_token_hash(authorization: str | None) -> bytes:
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidTokenError("a Bearer access token from this issuer's token endpoint is required")
    return hash_secret(token)
