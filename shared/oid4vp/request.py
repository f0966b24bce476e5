"""OpenID4VP authorization requests (§5) as HAIP signs them: request objects with ``x509_hash`` client ids."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import msgspec

from shared.errors import (
    ExpiredError,
    InvalidRequestError,
    InvalidRequestUriMethodError,
    InvalidTransactionDataError,
    NotYetValidError,
    UntrustedCertificateError,
    VpFormatsNotSupportedError,
)
from shared.jose import PrivateKey, check_typ, decode_jws_unverified, sign_jwt, verify_signature
from shared.jose.x5c import VerifiedChain, validate_chain, x5c_of, x509_hash
from shared.oid4vp.dcql import SD_JWT_FORMAT, DcqlQuery, parse_dcql
from shared.oid4vp.registration import Registration, over_asked, verify_registration
from shared.urls import is_loopback_host

REQUEST_TYP = "oauth-authz-req+jwt"
X509_HASH = "x509_hash:"
STATIC_AUDIENCE = "https://self-issued.me/v2"
LINK_SCHEME = "openid4vp"
VERIFIER_ROLE = "verifier"
OFFLINE_RESPONSE_URI = "urn:cancuoc:offline"
"""The ``response_uri`` of an offline request: the wallet writes its answer to a file, never posts it."""
MIN_NONCE_LENGTH = 22
"""22 characters of the nonce alphabet carry at least 128 bits (errata to §5.2)."""
_NONCE = re.compile(r"[A-Za-z0-9._~-]+")


class AuthorizationRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The request object's claims (§5.1) cancuoc reads and writes; other members are ignored."""

    client_id: str
    response_uri: str
    nonce: str
    dcql_query: dict[str, Any]
    state: str | None = None
    response_type: str = "vp_token"
    response_mode: str = "direct_post"
    client_metadata: dict[str, Any] | None = None
    verifier_info: list[dict[str, Any]] | None = None
    aud: str = STATIC_AUDIENCE
    iat: int | None = None
    exp: int | None = None

    def registration_jwt(self) -> str | None:
        """The registration record in ``verifier_info`` (format ``jwt``), if any."""
        for info in self.verifier_info or ():
            if isinstance(info, dict) and info.get("format") == "jwt" and isinstance(info.get("data"), str):
                data: str = info["data"]
                return data
        return None


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    """A request object that passed every check, with what the wallet shows its user."""

    request: AuthorizationRequest
    dcql: DcqlQuery
    client_id: str
    verifier_name: str
    registration: Registration
    certificate: VerifiedChain

    @property
    def purpose(self) -> str:
        return self.registration.purpose

    @property
    def expires_at(self) -> int | None:
        return self.request.exp


def new_request(
    *,
    client_id: str,
    response_uri: str,
    dcql_query: Mapping[str, Any],
    registration: str,
    now: datetime,
    lifetime_seconds: int = 600,
    token: Callable[[int], str] = secrets.token_urlsafe,
) -> AuthorizationRequest:
    """A fresh request: 256-bit ``nonce`` and ``state``, the registration record in ``verifier_info``."""
    iat = int(now.timestamp())
    return AuthorizationRequest(
        client_id=client_id,
        response_uri=response_uri,
        nonce=token(32),
        state=token(32),
        dcql_query=dict(dcql_query),
        verifier_info=[{"format": "jwt", "data": registration}],
        iat=iat,
        exp=iat + lifetime_seconds,
    )


def create_request_object(request: AuthorizationRequest, key: PrivateKey, chain: Sequence[bytes]) -> str:
    """Sign ``request`` as a request object: ``typ`` oauth-authz-req+jwt, ``x5c`` = ``chain`` (leaf first)."""
    if request.client_id != X509_HASH + x509_hash(chain[0]):
        raise InvalidRequestError("client_id is not the x509_hash of the leaf", reason="x509_hash_mismatch")
    claims = {k: v for k, v in msgspec.to_builtins(request).items() if v is not None}
    return sign_jwt(claims, key, typ=REQUEST_TYP, x5c=x5c_of(chain))


def verify_request_object(
    token: str,
    anchors: Sequence[bytes],
    *,
    now: datetime,
    outer_client_id: str | None = None,
    leeway_seconds: int = 60,
) -> VerifiedRequest:
    """The wallet's checks of a request object (§5, §5.9.3, §5.10.1, HAIP §5; digest P1-P9, P12, P13)."""
    jws = decode_jws_unverified(token, what="request object")
    check_typ(jws.header, REQUEST_TYP, what="request object")  # P1: never process an untyped object
    claims = jws.payload
    client_id = claims.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise InvalidRequestError("the request object has no client_id", reason="missing_client_id")
    if outer_client_id is not None and outer_client_id != client_id:
        raise InvalidRequestError("client_id differs from the request link's", reason="client_id_mismatch")
    if not client_id.startswith(X509_HASH):
        raise InvalidRequestError(
            f"client_id prefix of {client_id!r} is not x509_hash", reason="unsupported_client_id_prefix"
        )
    chain = validate_chain(jws.header.get("x5c"), anchors, now=now)
    if VERIFIER_ROLE not in chain.roles:
        raise UntrustedCertificateError("the certificate is not a verifier's", reason="missing_role")
    if client_id != X509_HASH + x509_hash(chain.leaf):
        raise InvalidRequestError("client_id is not the x509_hash of the leaf", reason="x509_hash_mismatch")
    verify_signature(jws, chain.key)  # the object decoded and typ-checked above
    _check_parameters(claims, now.timestamp(), leeway_seconds)
    try:
        request = msgspec.convert(claims, AuthorizationRequest)
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(f"request object is malformed: {exc}", reason="bad_request") from exc
    dcql = parse_dcql(request.dcql_query)
    if any(not c.require_cryptographic_holder_binding for c in dcql.credentials) and not request.state:
        raise InvalidRequestError("state is required without holder binding", reason="missing_state")
    registration_jwt = request.registration_jwt()
    if registration_jwt is None:
        raise InvalidRequestError("the request carries no registration record", reason="missing_registration")
    registration = verify_registration(
        registration_jwt, anchors, client_id=client_id, now=now, leeway_seconds=leeway_seconds
    )
    excess = over_asked(dcql, registration.allowed)
    if excess:
        asked = ", ".join(f"{vct} {'/'.join(map(str, path)) or '(type)'}" for vct, path in excess)
        raise InvalidRequestError(f"the request asks more than registered: {asked}", reason="over_asking")
    return VerifiedRequest(request, dcql, client_id, chain.name, registration, chain)


def _check_parameters(claims: Mapping[str, Any], now: float, leeway: int) -> None:
    if "transaction_data" in claims:  # §5.1: a wallet without support MUST refuse it (P12)
        raise InvalidTransactionDataError("transaction_data is not supported", reason="transaction_data")
    if claims.get("response_type") != "vp_token":
        raise InvalidRequestError("response_type must be vp_token", reason="unsupported_response_type")
    if claims.get("response_mode") != "direct_post":
        raise InvalidRequestError("response_mode must be direct_post", reason="unsupported_response_mode")
    if "redirect_uri" in claims:  # §8.2 (P7)
        raise InvalidRequestError("redirect_uri must not be present with direct_post", reason="redirect_uri")
    if not _acceptable_response_uri(claims.get("response_uri")):
        raise InvalidRequestError(
            "response_uri must be https (http on loopback) or the offline marker", reason="bad_response_uri"
        )
    has_dcql, has_scope = "dcql_query" in claims, "scope" in claims
    if has_dcql and has_scope:  # §5.1 (P8): exactly one of them
        raise InvalidRequestError("both dcql_query and scope are present", reason="dcql_and_scope")
    if not has_dcql:
        raise InvalidRequestError("the request has no dcql_query", reason="missing_dcql_query")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or len(nonce) < MIN_NONCE_LENGTH or not _NONCE.fullmatch(nonce):
        raise InvalidRequestError("nonce is missing, too short or has bad characters", reason="bad_nonce")
    state = claims.get("state")
    if state is not None and (not isinstance(state, str) or not state):
        raise InvalidRequestError("state must be a non-empty string", reason="bad_state")
    aud = claims.get("aud")
    if aud is not None and aud != STATIC_AUDIENCE:
        raise InvalidRequestError("the request object is addressed to another wallet", reason="wrong_aud")
    _check_times(claims, now, leeway)
    formats = (claims.get("client_metadata") or {}).get("vp_formats_supported")
    if isinstance(formats, dict) and SD_JWT_FORMAT not in formats:
        raise VpFormatsNotSupportedError("the verifier supports no format we have", reason="vp_formats")


def _acceptable_response_uri(uri: Any) -> bool:
    if uri == OFFLINE_RESPONSE_URI:
        return True
    if not isinstance(uri, str):
        return False
    parts = urlsplit(uri)
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname))


def _check_times(claims: Mapping[str, Any], now: float, leeway: int) -> None:
    exp, iat = claims.get("exp"), claims.get("iat")
    for name, value in (("exp", exp), ("iat", iat)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidRequestError(f"{name} must be a NumericDate", reason="bad_numeric_date")
    if exp is None:
        raise InvalidRequestError("the request object has no exp", reason="missing_exp")
    if now >= exp + leeway:
        raise ExpiredError("the request has expired", reason="request_expired")
    if iat is not None and now < iat - leeway:
        raise NotYetValidError("the request is issued in the future", reason="iat_in_future")


def check_request_uri_method(value: str | None) -> str:
    """``request_uri_method`` (§5.1): ``get`` (default) or ``post``, case-sensitive (P9)."""
    if value is None:
        return "get"
    if value not in ("get", "post"):
        raise InvalidRequestUriMethodError(f"request_uri_method {value!r}", reason="bad_request_uri_method")
    return value


@dataclass(frozen=True, slots=True)
class RequestLink:
    """What an ``openid4vp://`` link carries: the request by value or by reference."""

    client_id: str
    request: str | None
    request_uri: str | None
    request_uri_method: str


def request_link(client_id: str, request_uri: str) -> str:
    """A cross-device link to a request object stored at ``request_uri`` (§5.10)."""
    return f"{LINK_SCHEME}://?" + urlencode({"client_id": client_id, "request_uri": request_uri})


def parse_request_link(link: str) -> RequestLink:
    """Read an ``openid4vp://`` (or any URL's) query: ``client_id`` and exactly one of request/request_uri."""
    try:
        query = urlsplit(link).query
    except ValueError as exc:  # an unbalanced '[' in the authority, or one that NFKC changes
        raise InvalidRequestError(f"not a request link: {exc}", reason="bad_link") from exc
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    client_id, request, request_uri = (
        params.get("client_id"),
        params.get("request"),
        params.get("request_uri"),
    )
    if not client_id:
        raise InvalidRequestError("the link has no client_id", reason="missing_client_id")
    if (request is None) == (request_uri is None):
        raise InvalidRequestError("the link needs one of request or request_uri", reason="bad_link")
    method = check_request_uri_method(params.get("request_uri_method"))
    return RequestLink(client_id, request, request_uri, method)
