"""The wallet's trust anchor: the national root certificate, pinned from a file or a URL at `wallet init`."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from client.api import ApiError, IssuerApi
from client.wallet import WalletError
from shared.errors import CredentialError
from shared.jose.x509 import pem_to_der, x509_hash

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
