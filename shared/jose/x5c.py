"""What a validated ``x5c`` chain says (RFC 7515 §4.1.6, HAIP 1.0 §5), and the key resolvers that ask for it.

Loading `cryptography.x509` costs a CLI process some 20 ms, so this module does not: it holds the roles,
the `VerifiedChain` record and the resolvers, and the resolvers import `shared.jose.x509` (path validation
by `cryptography.x509.verification`) only when a chain must actually be validated. A verifier that already
knows a chain (`shared.oid4vp.chains.ChainCache`) never loads it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from shared.encoding import b64url_encode
from shared.errors import UntrustedCertificateError, UntrustedIssuerError
from shared.jose.jws import KeyResolver
from shared.jose.keys import PublicKey

ROLE_URI_PREFIX = "urn:cancuoc:role:"
ROLES = frozenset({"mps", "vss", "status-list", "registrar", "verifier"})
ISSUER_ROLES = frozenset({"mps", "vss"})
STATUS_LIST_ROLE = "status-list"
_PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*)-----END CERTIFICATE-----")


class VerifiedChain(msgspec.Struct, frozen=True):
    """A leaf certificate whose chain to a trust anchor validated, with what it says."""

    leaf: bytes
    key: PublicKey
    roles: frozenset[str]
    uris: tuple[str, ...]
    """The leaf's URI SANs other than its roles (an issuer's identifier)."""
    name: str
    """The subject's common name."""
    not_after: datetime


ChainVerifier = Callable[..., VerifiedChain]
"""`validate_chain` or a stand-in with its signature and results (`shared.oid4vp.chains.ChainCache`)."""


def validate_chain(x5c: object, anchors: Sequence[bytes], *, now: datetime) -> VerifiedChain:
    """`shared.jose.x509.verify_chain`, loaded on first use."""
    from shared.jose.x509 import verify_chain

    return verify_chain(x5c, anchors, now=now)


def x5c_of(chain: Sequence[bytes]) -> list[str]:
    """The ``x5c`` header value (RFC 7515 §4.1.6): standard base64 of each DER certificate, leaf first."""
    return [base64.b64encode(der).decode("ascii") for der in chain]


def pem_armored_der(pem: bytes) -> bytes:
    """The DER inside one PEM certificate's armor (RFC 7468 §5), not parsed: `shared.jose.x509.pem_to_der`
    also checks that it is a certificate; here a bad one fails when a chain is validated against it."""
    match = _PEM_CERTIFICATE.fullmatch(pem.strip())
    if match is None:
        raise UntrustedCertificateError("not a PEM certificate", reason="x5c_malformed")
    try:
        return base64.b64decode(b"".join(match[1].split()), validate=True)
    except binascii.Error as exc:
        raise UntrustedCertificateError("not a PEM certificate", reason="x5c_malformed") from exc


def x509_hash(der: bytes) -> str:
    """base64url(SHA-256(DER)) without padding: the ``x509_hash`` client id value (OID4VP §5.9.3)."""
    return b64url_encode(hashlib.sha256(der).digest())


def x5c_issuer_resolver(
    anchors: Sequence[bytes], *, now: datetime, verify: ChainVerifier = validate_chain
) -> KeyResolver:
    """A key resolver for credentials: the ``x5c`` leaf of an issuer allowed for ``vct``, named by ``iss``."""
    from shared.credentials import ALLOWED_ISSUER_ROLE  # lazy: the credential types are not JOSE's to load

    def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicKey:
        chain = _header_chain(header, anchors, now, verify)
        roles = chain.roles & ISSUER_ROLES
        if not roles:
            raise UntrustedCertificateError("the certificate is not an issuer's", reason="missing_role")
        iss = payload.get("iss")
        if not isinstance(iss, str) or iss not in chain.uris:
            raise UntrustedIssuerError(
                f"iss {iss!r} is not named in the issuer's certificate", reason="iss_not_in_certificate"
            )
        vct = payload.get("vct")
        allowed = ALLOWED_ISSUER_ROLE.get(vct) if isinstance(vct, str) else None
        if allowed is None or allowed not in roles:
            raise UntrustedIssuerError(
                f"a {'/'.join(sorted(roles))} certificate may not issue {vct!r}",
                reason="issuer_not_allowed_for_vct",
            )
        return chain.key

    return resolve


def x5c_status_resolver(
    anchors: Sequence[bytes], *, now: datetime, verify: ChainVerifier = validate_chain
) -> KeyResolver:
    """A key resolver for status list tokens: the ``x5c`` leaf must be the status-list signer's."""

    def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicKey:
        chain = _header_chain(header, anchors, now, verify)
        if STATUS_LIST_ROLE not in chain.roles:
            raise UntrustedCertificateError(
                "the certificate is not the status list signer's", reason="missing_role"
            )
        return chain.key

    return resolve


def _header_chain(
    header: Mapping[str, Any], anchors: Sequence[bytes], now: datetime, verify: ChainVerifier
) -> VerifiedChain:
    if "x5c" not in header:
        raise UntrustedCertificateError("the JWS header has no x5c certificate chain", reason="missing_x5c")
    return verify(header["x5c"], anchors, now=now)
