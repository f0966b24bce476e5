"""HTTP errors: each class carries its status and the spec's `error` code; one handler renders them.

HttpError                                   400 invalid_request (RFC 6749 §5.2)
├── InvalidGrantError                       400 invalid_grant
├── InvalidClientError                      400 invalid_client
├── InvalidCredentialRequestError           400 invalid_credential_request (OID4VCI §8.3.1.2)
├── UnknownCredentialConfigurationError     400 unknown_credential_configuration
├── UnknownCredentialIdentifierError        400 unknown_credential_identifier
├── InvalidProofError                       400 invalid_proof
├── InvalidNonceError                       400 invalid_nonce
├── InvalidTokenError                       401 invalid_token + WWW-Authenticate (RFC 6750 §3)
├── ForbiddenError                          403 access_denied
├── UnauthorizedClientError                 403 unauthorized_client (OID4VP relay: unregistered verifier)
├── NotFoundError                           404 not_found
├── UnknownTransactionError                 404 invalid_request (OID4VP relay: unknown or expired)
├── ConflictError                           409 conflict
├── PayloadTooLargeError                    413 payload_too_large
├── RateLimitedError                        429 invalid_request + Retry-After (RFC 6585 §4)
└── ServiceUnavailableError                 503 temporarily_unavailable + Retry-After
"""

from __future__ import annotations


class HttpError(Exception):
    """An error answered as ``{"error": code, "error_description": text}``."""

    status = 400
    error = "invalid_request"

    def __init__(self, description: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.headers = headers or {}


class InvalidGrantError(HttpError):
    error = "invalid_grant"


class InvalidClientError(HttpError):
    error = "invalid_client"


class InvalidCredentialRequestError(HttpError):
    error = "invalid_credential_request"


class UnknownCredentialConfigurationError(HttpError):
    error = "unknown_credential_configuration"


class UnknownCredentialIdentifierError(HttpError):
    error = "unknown_credential_identifier"


class InvalidProofError(HttpError):
    error = "invalid_proof"


class InvalidNonceError(HttpError):
    error = "invalid_nonce"


class CredentialRequestDeniedError(HttpError):
    """§8.3.1.2: the request is well formed but cannot be granted (e.g. the registry record is gone)."""

    error = "credential_request_denied"


class InvalidEncryptionParametersError(HttpError):
    """§8.3.1.2: this issuer does not encrypt credential responses."""

    error = "invalid_encryption_parameters"


class UnsupportedGrantTypeError(HttpError):
    """RFC 6749 §5.2."""

    error = "unsupported_grant_type"


class InvalidAuthorizationDetailsError(HttpError):
    """RFC 9396 §6.2: authorization details outside what the offer granted."""

    error = "invalid_authorization_details"


class InvalidTokenError(HttpError):
    status = 401
    error = "invalid_token"

    def __init__(self, description: str, *, scheme: str = "Bearer") -> None:
        challenge = f'{scheme} error="invalid_token", error_description="{description}"'
        super().__init__(description, headers={"WWW-Authenticate": challenge})


class ForbiddenError(HttpError):
    status = 403
    error = "access_denied"


class NotFoundError(HttpError):
    status = 404
    error = "not_found"


class ConflictError(HttpError):
    status = 409
    error = "conflict"


class PayloadTooLargeError(HttpError):
    status = 413
    error = "payload_too_large"


class RateLimitedError(HttpError):
    """Too many requests (RFC 6585 §4); OAuth (RFC 6749 §5.2) registers no code of its own for it."""

    status = 429
    error = "invalid_request"

    def __init__(self, description: str, *, retry_after: int) -> None:
        super().__init__(description, headers={"Retry-After": str(retry_after)})


class ServiceUnavailableError(HttpError):
    status = 503
    error = "temporarily_unavailable"

    def __init__(self, description: str, *, retry_after: int = 5) -> None:
        super().__init__(description, headers={"Retry-After": str(retry_after)})


class UnauthorizedClientError(HttpError):
    """OID4VP relay: the request object's client is not a registered verifier."""

    status = 403
    error = "unauthorized_client"


class UnknownTransactionError(HttpError):
    """OID4VP relay: no live transaction (unknown, expired, not ready or its answer taken already)."""

    status = 404
    error = "invalid_request"
