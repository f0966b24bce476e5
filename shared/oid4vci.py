"""OpenID4VCI 1.0 wire messages and the wallet's pure steps: read an offer, build key proofs, read replies."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec

from shared.errors import MalformedError, TooLargeError
from shared.jose import PrivateKey, sign_jwt

OFFER_SCHEME = "openid-credential-offer"
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
MAX_OFFER_SIZE = 16 * 1024


class Wire(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, forbid_unknown_fields=False):
    """Base of every OpenID4VCI message: unknown members are ignored, as the spec requires."""


class TxCode(Wire, frozen=True, kw_only=True, omit_defaults=True):
    input_mode: str = "numeric"
    length: int | None = None
    description: str | None = None


class PreAuthorizedCodeGrant(Wire, frozen=True, kw_only=True, omit_defaults=True):
    pre_authorized_code: str = msgspec.field(name="pre-authorized_code")
    tx_code: TxCode | None = None


class Grants(Wire, frozen=True, kw_only=True, omit_defaults=True):
    pre_authorized_code: PreAuthorizedCodeGrant | None = msgspec.field(
        name=PRE_AUTHORIZED_GRANT, default=None
    )


class CredentialOffer(Wire, frozen=True, kw_only=True, omit_defaults=True):
    """OID4VCI §4.1.1."""

    credential_issuer: str
    credential_configuration_ids: list[str]
    grants: Grants | None = None


class AuthorizationDetail(Wire, frozen=True, kw_only=True, omit_defaults=True):
    type: str
    credential_configuration_id: str | None = None
    credential_identifiers: list[str] = []


class TokenResponse(Wire, frozen=True, kw_only=True, omit_defaults=True):
    """OID4VCI §6.2 (RFC 6749 §5.1)."""

    access_token: str
    token_type: str
    expires_in: int | None = None
    authorization_details: list[AuthorizationDetail] = []


class NonceResponse(Wire, frozen=True, kw_only=True, omit_defaults=True):
    c_nonce: str


class IssuedCredential(Wire, frozen=True, kw_only=True, omit_defaults=True):
    credential: str


class CredentialResponse(Wire, frozen=True, kw_only=True, omit_defaults=True):
    """OID4VCI §8.3: immediate issuance only (no deferred transaction)."""

    credentials: list[IssuedCredential]
    notification_id: str | None = None


class OfferReference(msgspec.Struct, frozen=True):
    """What an offer link carries: the offer itself, or the URL to fetch it from."""

    offer: CredentialOffer | None
    offer_uri: str | None


def parse_offer_link(link: str) -> OfferReference:
    """Read ``openid-credential-offer://?credential_offer=…`` or ``…?credential_offer_uri=…`` (§4.1).

    Exactly one of the two parameters must be present; the URI must be https (http only on loopback
    is left to the caller's policy, which knows whether it runs in development).
    """
    if len(link) > MAX_OFFER_SIZE:
        raise MalformedError("the credential offer is too large", reason="offer_too_large")
    try:
        parts = urlsplit(link.strip())
    except ValueError as exc:  # an unbalanced '[' in the authority, or one that NFKC changes
        raise MalformedError(f"not a credential offer link: {exc}", reason="bad_offer_link") from exc
    if parts.scheme not in (OFFER_SCHEME, "haip-vci", "https", "http"):
        raise MalformedError(f"not a credential offer link: scheme {parts.scheme!r}", reason="bad_offer_link")
    query = parse_qs(parts.query, strict_parsing=False)
    by_value, by_reference = query.get("credential_offer"), query.get("credential_offer_uri")
    if bool(by_value) == bool(by_reference):
        raise MalformedError(
            "an offer link carries exactly one of credential_offer and credential_offer_uri",
            reason="bad_offer_link",
        )
    if by_reference:
        return OfferReference(None, by_reference[0])
    return OfferReference(decode_offer(by_value[0].encode() if by_value else b""), None)


def decode_offer(raw: bytes) -> CredentialOffer:
    """Decode and check a credential offer object (§4.1.1)."""
    try:
        offer = msgspec.json.decode(raw, type=CredentialOffer)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise MalformedError(f"invalid credential offer: {exc}", reason="bad_offer") from exc
    except RecursionError as exc:  # msgspec gives up near the interpreter's recursion limit
        raise TooLargeError("the credential offer is nested too deeply", reason="too_deep") from exc
    ids = offer.credential_configuration_ids
    if not ids or len(set(ids)) != len(ids):
        raise MalformedError("credential_configuration_ids must be non-empty and unique", reason="bad_offer")
    return offer


def decode_message(raw: bytes, kind: type[Any], what: str) -> Any:
    """Decode a JSON response into its wire type, or a `MalformedError` naming it."""
    try:
        return msgspec.json.decode(raw, type=kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise MalformedError(f"invalid {what}: {exc}", reason="bad_response") from exc
    except RecursionError as exc:
        raise TooLargeError(f"{what} is nested too deeply", reason="too_deep") from exc


def create_proof(key: PrivateKey, *, audience: str, nonce: str, issued_at: int) -> str:
    """A `jwt` key proof (§F.1): typ openid4vci-proof+jwt, the public key in `jwk`, no `iss` (anonymous)."""
    claims = {"aud": audience, "iat": issued_at, "nonce": nonce}
    return sign_jwt(claims, key, typ=PROOF_TYP, jwk=key.public.jwk, kid=None)


class ProofTypeJwt(Wire, frozen=True, kw_only=True, omit_defaults=True):
    proof_signing_alg_values_supported: list[str] = []


class ProofTypes(Wire, frozen=True, kw_only=True, omit_defaults=True):
    jwt: ProofTypeJwt | None = None


class Display(Wire, frozen=True, kw_only=True, omit_defaults=True):
    name: str | None = None
    locale: str | None = None


class ClaimDescription(Wire, frozen=True, kw_only=True, omit_defaults=True):
    path: list[str | int | None]
    display: list[Display] = []


class CredentialMetadata(Wire, frozen=True, kw_only=True, omit_defaults=True):
    display: list[Display] = []
    claims: list[ClaimDescription] = []


class CredentialConfiguration(Wire, frozen=True, kw_only=True, omit_defaults=True):
    format: str
    vct: str | None = None
    scope: str | None = None
    proof_types_supported: ProofTypes | None = None
    credential_metadata: CredentialMetadata | None = None


class BatchIssuance(Wire, frozen=True, kw_only=True, omit_defaults=True):
    batch_size: int


class IssuerMetadata(Wire, frozen=True, kw_only=True, omit_defaults=True):
    """OID4VCI §12.2.4 (the members a wallet uses)."""

    credential_issuer: str
    credential_endpoint: str
    credential_configurations_supported: dict[str, CredentialConfiguration]
    nonce_endpoint: str | None = None
    authorization_servers: list[str] = []
    batch_credential_issuance: BatchIssuance | None = None
    display: list[Display] = []


class AuthorizationServerMetadata(Wire, frozen=True, kw_only=True, omit_defaults=True):
    issuer: str
    token_endpoint: str


class JwksDocument(Wire, frozen=True, kw_only=True, omit_defaults=True):
    keys: list[dict[str, Any]]


class JwtVcIssuerMetadata(Wire, frozen=True, kw_only=True, omit_defaults=True):
    """SD-JWT VC §3.2: exactly one of ``jwks`` and ``jwks_uri``; we use ``jwks``."""

    issuer: str
    jwks: JwksDocument | None = None
    jwks_uri: str | None = None


def well_known_url(identifier: str, suffix: str) -> str:
    """Insert ``/.well-known/<suffix>`` between host and path (OID4VCI §12.2.2, RFC 8414 §3, SD-JWT VC §3)."""
    parts = urlsplit(identifier)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}/.well-known/{suffix}{path}"
