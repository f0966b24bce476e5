"""The one error tree of cancuoc's protocol core: every failure has a stable ``code``.

    CredentialError                     (code)
    ├── MalformedError                  malformed            bad base64url, JSON, structure
    │   └── TooLargeError               too_large            over a size, count or depth limit
    ├── UnsupportedAlgorithmError       unsupported_algorithm alg not on our allow-list for the key
    ├── InvalidTypeError                invalid_typ          wrong or missing JOSE `typ`
    ├── InvalidSignatureError           invalid_signature
    ├── UnknownKeyError                 unknown_key          no trusted key for this `kid`
    ├── UntrustedIssuerError            untrusted_issuer     issuer not trusted (for this type)
    ├── ExpiredError                    expired
    ├── NotYetValidError                not_yet_valid
    ├── InvalidClaimError               invalid_claim        required claim missing or of the wrong shape
    ├── InvalidDisclosureError          invalid_disclosure   RFC 9901 §7.1 step 3-5 rules
    ├── InvalidKeyBindingError          invalid_key_binding  RFC 9901 §7.3 step 5 rules
    ├── InvalidStatusListError          invalid_status_list  Token Status List §8.3 rules
    ├── RevokedError                    revoked              status INVALID
    ├── SuspendedError                  suspended            status SUSPENDED
    ├── UnknownStatusError              unknown_status       status value with no defined meaning
    ├── InvalidDataError                invalid_data         credential data that breaks a format rule
    ├── InvalidRequestError             invalid_request      OpenID4VP request the wallet refuses (§8.5)
    │   ├── InvalidRequestUriMethodError  invalid_request_uri_method
    │   ├── InvalidTransactionDataError invalid_transaction_data
    │   └── VpFormatsNotSupportedError  vp_formats_not_supported
    ├── AccessDeniedError               access_denied        no matching credentials, or no consent
    ├── InvalidResponseError            invalid_response     a VP response that does not answer its request
    └── UntrustedCertificateError       untrusted_certificate x5c chain malformed, untrusted, expired

Each raise also names a ``reason``: a short stable identifier of the exact rule that failed
(``nonce_mismatch``, ``duplicate_digest``...), so that tests and reports can tell rules apart
without parsing messages.
"""

from __future__ import annotations


class CredentialError(Exception):
    """Root of every error the protocol core raises."""

    code = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.code

    def __str__(self) -> str:
        return self.message


class MalformedError(CredentialError):
    code = "malformed"


class TooLargeError(MalformedError):
    code = "too_large"


class UnsupportedAlgorithmError(CredentialError):
    code = "unsupported_algorithm"


class InvalidTypeError(CredentialError):
    code = "invalid_typ"


class InvalidSignatureError(CredentialError):
    code = "invalid_signature"


class UnknownKeyError(CredentialError):
    code = "unknown_key"


class UntrustedIssuerError(CredentialError):
    code = "untrusted_issuer"


class ExpiredError(CredentialError):
    code = "expired"


class NotYetValidError(CredentialError):
    code = "not_yet_valid"


class InvalidClaimError(CredentialError):
    code = "invalid_claim"


class InvalidDisclosureError(CredentialError):
    code = "invalid_disclosure"


class InvalidKeyBindingError(CredentialError):
    code = "invalid_key_binding"


class InvalidStatusListError(CredentialError):
    code = "invalid_status_list"


class RevokedError(CredentialError):
    code = "revoked"


class SuspendedError(CredentialError):
    code = "suspended"


class UnknownStatusError(CredentialError):
    code = "unknown_status"


class InvalidDataError(CredentialError):
    """Credential data that breaks a format rule; names the field and the rule."""

    code = "invalid_data"

    def __init__(self, field: str, rule: str, *, reason: str | None = None) -> None:
        super().__init__(f"{field}: {rule}", reason=reason or "invalid_field")
        self.field = field
        self.rule = rule


class InvalidRequestError(CredentialError):
    """An OpenID4VP authorization request the wallet refuses (OID4VP §8.5 ``invalid_request``)."""

    code = "invalid_request"


class InvalidRequestUriMethodError(InvalidRequestError):
    code = "invalid_request_uri_method"


class InvalidTransactionDataError(InvalidRequestError):
    code = "invalid_transaction_data"


class VpFormatsNotSupportedError(InvalidRequestError):
    code = "vp_formats_not_supported"


class AccessDeniedError(CredentialError):
    """The wallet cannot or will not answer: no matching credentials, or no consent (OID4VP §8.5)."""

    code = "access_denied"


class InvalidResponseError(CredentialError):
    """A VP response that does not answer its request: state, ``vp_token`` shape, DCQL (OID4VP §8.6)."""

    code = "invalid_response"


class UntrustedCertificateError(CredentialError):
    """An ``x5c`` chain that does not validate to a trust anchor or lacks the needed role (HAIP §5)."""

    code = "untrusted_certificate"
