"""The wallet's trust anchor: the national root certificate, pinned from a file or a URL at `wallet init`.

Also the roles of an issuer's published keys (RFC 7517 §4.7 ``x5c``), which keep a status list signer's key
from passing for an issuer's even when no root is pinned.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from client.api import ApiError, IssuerApi
from client.wallet import WalletError
from shared.errors import CredentialError, UntrustedCertificateError, UntrustedIssuerError
from shared.jose import PublicKey, public_key_from_jwk
from shared.jose.x5c import x509_hash
from shared.jose.x509 import certificate_public_key, pem_to_der, unverified_certificate_roles

PEM_MEDIA_TYPE = "application/x-pem-file"


class TrustAnchorError(WalletError):
    """The root certificate given cannot be read (exit 2, misuse)."""

    exit_code = 2


def load_trust_anchor(source: str, api: IssuerApi) -> bytes:
    """The DER of a root certificate from a PEM or DER file, or a URL serving the PEM (no redirects)."""
    if urlsplit(source).scheme in ("http", "https"):
        try:
            data = api.fetch_text(source, PEM_MEDIA_TYPE).encode()
        except ApiError as exc:
            raise TrustAnchorError(f"cannot fetch the root certificate: {exc}", hint="check the URL") from exc
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise TrustAnchorError(
                f"cannot read the root certificate {source}: {exc.strerror}", hint="check the path"
            ) from None
    try:
        return pem_to_der(data) if b"-----BEGIN" in data else _der(data)
    except CredentialError as exc:
        raise TrustAnchorError(
            f"{source} is not a certificate: {exc}",
            hint="pass the root.pem the server publishes at /pki/root.pem",
        ) from exc


def fingerprint(der: bytes) -> str:
    """How the citizen can compare the pinned root with the one the authority publishes."""
    return x509_hash(der)


def _der(data: bytes) -> bytes:
    if not data.startswith(b"\x30"):
        raise TrustAnchorError("not a PEM or DER certificate", hint="pass the root certificate file")
    return data


@dataclass(frozen=True)
class PublishedKey:
    """A key from an issuer's JWKS and the roles its certificate names (None: the JWK carries no ``x5c``)."""

    key: PublicKey
    roles: frozenset[str] | None


def published_keys(jwks: Sequence[Mapping[str, Any]]) -> tuple[PublishedKey, ...]:
    """Each JWK with the roles of its ``x5c`` leaf, which must hold the same key.

    The certificate is not validated here: without a pinned root this only tells the issuer's key from the
    status list signer's in a document the wallet already trusts; it is a consistency check, not trust.
    """
    keys = []
    for jwk in jwks:
        key = public_key_from_jwk(jwk)
        x5c = jwk.get("x5c")
        if x5c is None:
            keys.append(PublishedKey(key, None))
            continue
        if not isinstance(x5c, list) or not x5c or not isinstance(x5c[0], str):
            raise UntrustedCertificateError("a JWK's x5c is no certificate list", reason="x5c_malformed")
        try:
            leaf = binascii.a2b_base64(x5c[0].encode("ascii"), strict_mode=True)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise UntrustedCertificateError("a JWK's x5c is not base64", reason="x5c_malformed") from exc
        if certificate_public_key(leaf).jwk != key.jwk:
            raise UntrustedCertificateError(
                f"the certificate of key {key.kid!r} holds another key", reason="x5c_key_mismatch"
            )
        keys.append(PublishedKey(key, unverified_certificate_roles(leaf)))
    return tuple(keys)


def require_key_role(published: Sequence[PublishedKey], key: PublicKey, roles: frozenset[str]) -> PublicKey:
    """``key``, one of ``published``, when its certificate names one of ``roles`` or it has none."""
    certified = next((p.roles for p in published if p.key is key), frozenset())
    if certified is not None and not certified & roles:
        raise UntrustedIssuerError(
            f"key {key.kid!r} is certified for {', '.join(sorted(certified)) or 'no role'}, "
            f"not for {' or '.join(sorted(roles))}",
            reason="wrong_key_role",
        )
    return key
