"""The server's share of the national PKI on disk: the root CA and the leaf of every signer (HAIP 1.0 §5).

Files under the key directory: ``root-ca.pem``/``.crt``, ``{mps,vss}-signing.crt`` beside the issuer keys
of `server.keys`, and ``status-signing`` and ``registrar-signing`` key and certificate. Missing ones are
made on first start; each is written whole under a temporary name and linked into place, so two workers
starting at once never read a half-written file and agree on the one that won.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import msgspec

from server.config import ISSUERS, ServerConfig
from server.keys import PRIVATE_FILE_MODE, load_or_create_keys
from shared.errors import CredentialError
from shared.jose import PrivateKey, generate_private_key, private_key_from_pem, private_key_to_pem
from shared.jose.x5c import x5c_of
from shared.jose.x509 import (
    certificate_public_key,
    create_leaf_certificate,
    create_root_certificate,
    der_to_pem,
    pem_to_der,
    verify_chain,
)

ROOT_NAME = "Cancuoc National Root CA"
STATUS_LIST = "status-list"
REGISTRAR = "registrar"
SIGNER_ROLES = (*ISSUERS, STATUS_LIST, REGISTRAR)
"""Every role the server signs as; ``mps`` and ``vss`` use the issuer keys of `server.keys`."""
CERTIFICATE_FILE_MODE = 0o644
RENEW_BEFORE = timedelta(days=30)
"""A leaf this close to its end is re-made at start-up."""

_FILE_STEMS = {STATUS_LIST: "status-signing", REGISTRAR: "registrar-signing"}
_NAMES = {
    "mps": "Bộ Công an (MPS) credential issuer",
    "vss": "Bảo hiểm xã hội Việt Nam (VSS) credential issuer",
    STATUS_LIST: "Cancuoc status list signer",
    REGISTRAR: "Cancuoc verifier registrar",
}


@dataclass(frozen=True, slots=True)
class Signer:
    """A signing key and its certificate chain (leaf first, no anchor)."""

    key: PrivateKey = field(repr=False)
    chain: tuple[bytes, ...]
    encoded: tuple[str, ...] = field(init=False, repr=False)
    """The chain encoded for ``x5c`` once: every credential and status list token carries it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "encoded", tuple(x5c_of(self.chain)))

    @property
    def x5c(self) -> list[str]:
        return list(self.encoded)


@dataclass(frozen=True, slots=True)
class ServerPki:
    """The root (DER and key, to certify verifiers) and one `Signer` per role in `SIGNER_ROLES`."""

    root: bytes
    root_key: PrivateKey = field(repr=False)
    signers: Mapping[str, Signer]

    @property
    def root_pem(self) -> str:
        return der_to_pem(self.root).decode("ascii")

    def certificate_pem(self, role: str) -> str:
        return der_to_pem(self.signers[role].chain[0]).decode("ascii")


def root_key_path(config: ServerConfig) -> Path:
    return config.key_directory / "root-ca.pem"


def certificate_path(config: ServerConfig, role: str) -> Path:
    if role == "root":
        return config.key_directory / "root-ca.crt"
    return config.key_directory / f"{_FILE_STEMS.get(role, role + '-signing')}.crt"


def signer_key_path(config: ServerConfig, role: str) -> Path:
    return config.key_directory / f"{_FILE_STEMS.get(role, role + '-signing')}.pem"


def load_or_create_pki(
    config: ServerConfig, now: datetime, keys: Mapping[str, PrivateKey] | None = None
) -> ServerPki:
    """The root and every signer, making what is missing, stale, expiring or not matching its key."""
    keys = load_or_create_keys(config) if keys is None else keys
    root_key = _load_or_create_key(root_key_path(config))
    root = _load_or_create_root(config, root_key, now)
    signers: dict[str, Signer] = {}
    for role in SIGNER_ROLES:
        key = keys[role] if role in ISSUERS else _load_or_create_key(signer_key_path(config, role))
        uris = (config.issuer_id(role),) if role in ISSUERS else ()
        leaf = _load_or_create_leaf(config, role, key, uris, root_key, root, now)
        signers[role] = Signer(key, (leaf,))
    return ServerPki(root, root_key, signers)


def remove_pki(config: ServerConfig) -> None:
    """Delete the root and every certificate and non-issuer key (``pki init --force``); issuer keys stay."""
    paths = [root_key_path(config), certificate_path(config, "root")]
    paths += [certificate_path(config, role) for role in SIGNER_ROLES]
    paths += [signer_key_path(config, role) for role in SIGNER_ROLES if role not in ISSUERS]
    for path in paths:
        path.unlink(missing_ok=True)


def _load_or_create_root(config: ServerConfig, root_key: PrivateKey, now: datetime) -> bytes:
    path = certificate_path(config, "root")
    if path.exists():
        root = pem_to_der(path.read_bytes())
        if certificate_public_key(root).jwk == root_key.public.jwk:
            return root
    root = create_root_certificate(root_key, name=ROOT_NAME, now=now)
    return pem_to_der(_write_once(path, der_to_pem(root), CERTIFICATE_FILE_MODE, replace=path.exists()))


def _load_or_create_leaf(
    config: ServerConfig,
    role: str,
    key: PrivateKey,
    uris: tuple[str, ...],
    root_key: PrivateKey,
    root: bytes,
    now: datetime,
) -> bytes:
    path = certificate_path(config, role)
    if path.exists() and _is_current(pem_to_der(path.read_bytes()), role, key, uris, root, now):
        return pem_to_der(path.read_bytes())
    leaf = create_leaf_certificate(
        root_key, root, key.public, name=_NAMES[role], role=role, now=now, uris=uris
    )
    return pem_to_der(_write_once(path, der_to_pem(leaf), CERTIFICATE_FILE_MODE, replace=path.exists()))


def _is_current(
    leaf: bytes, role: str, key: PrivateKey, uris: tuple[str, ...], root: bytes, now: datetime
) -> bool:
    """The leaf chains to this root, is this key's, names this role and these URIs, and is not expiring."""
    try:
        chain = verify_chain(x5c_of([leaf]), [root], now=now)
    except CredentialError:
        return False
    return (
        chain.key.jwk == key.public.jwk
        and role in chain.roles
        and set(uris) <= set(chain.uris)
        and chain.not_after > now + RENEW_BEFORE
    )


def _load_or_create_key(path: Path) -> PrivateKey:
    if not path.exists():
        _write_once(path, private_key_to_pem(generate_private_key()), PRIVATE_FILE_MODE)
    key = private_key_from_pem(path.read_bytes())
    return PrivateKey(key.key, msgspec.structs.replace(key.public, kid=key.public.thumbprint()))


def _write_once(path: Path, data: bytes, mode: int, *, replace: bool = False) -> bytes:
    """Write ``data`` to ``path`` whole unless another process got there first; the content that won."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        if replace:
            os.replace(temporary, path)
        else:
            # link() fails when the name exists: the first writer wins, the others read its file.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path.read_bytes()
