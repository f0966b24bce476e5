"""The clinic's files under `CANCUOC_HOME/verifier/`: key, config, pinned root, enrolment, caches, requests.

clinic-key.pem        the clinic's private key (0600), made by `verifier init`
clinic-public.jwk     its public half, for the registrar
config.json           {name, server, client_id}
trust-anchor.pem      the pinned national root
certificate.pem       the clinic's leaf, from the registrar (`verifier enroll`)
registration.jwt      the signed registration record, sent with every request
cache/status/*.json   status list tokens as fetched: {uri, token, fetched_at, ttl}
cache/chains.json     certificate chains validated under the root, and over which interval (a check writes it)
cache/issuers/*.pem   issuer and status-list certificates (`verifier sync`)
cache/display.json    the issuers' display names of credential types and claims
requests/*.jwt        the request objects made, by state

The files a check reads on every answer (config, root, certificate, cached status lists) are kept in memory
while the file stays the same one (inode, size, modification and change times): every write here replaces
the file whole, so a `verifier sync` or `enroll` in another process is seen by the next read.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgspec

from client.verifier import NotSetUpError, SetUpExistsError, UsageError
from shared.oid4vp.chains import KnownChain

VERIFIER_DIR = "verifier"
KEY_FILE = "clinic-key.pem"
PUBLIC_JWK_FILE = "clinic-public.jwk"
CONFIG_FILE = "config.json"
ANCHOR_FILE = "trust-anchor.pem"
CERTIFICATE_FILE = "certificate.pem"
REGISTRATION_FILE = "registration.jwt"
CHAINS_FILE = "cache/chains.json"
INIT_HINT = "run `cancuoc verifier init --name NAME --trust-anchor FILE_OR_URL` first"
ENROLL_HINT = "ask the registrar for reg.json, then run `cancuoc verifier enroll reg.json`"
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_READS = 64
_READS: dict[str, tuple[tuple[int, int, int, int], bytes]] = {}
"""path → (inode, size, mtime_ns, ctime_ns) when read, and the bytes read."""


class Config(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Who the clinic is and which server it uses; ``client_id`` once enrolled."""

    name: str
    server: str
    client_id: str | None = None


class CachedStatusList(msgspec.Struct, frozen=True, kw_only=True):
    """A status list token as fetched (verified before it was stored), with when and its capped ``ttl``."""

    uri: str
    token: str
    fetched_at: float
    ttl: float | None = None


@dataclass(frozen=True)
class VerifierState:
    """The files of one clinic's verifier, in ``root``."""

    root: Path

    @classmethod
    def at(cls, home: Path) -> VerifierState:
        return cls(home / VERIFIER_DIR)

    def exists(self) -> bool:
        return os.path.isfile(self._path(CONFIG_FILE))

    def require(self) -> VerifierState:
        """Self, or `NotSetUpError` when `verifier init` has not run."""
        if not self.exists():
            raise NotSetUpError(f"no verifier in {self.root}", hint=INIT_HINT)
        return self

    def create(
        self, config: Config, key_pem: bytes, public_jwk: Mapping[str, str], anchor_pem: bytes
    ) -> None:
        """Write a new verifier; never overwrites a key."""
        if (self.root / KEY_FILE).exists() or self.exists():
            raise SetUpExistsError(
                f"a verifier already exists in {self.root}", hint="use another CANCUOC_HOME, or keep this one"
            )
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write(self.root / KEY_FILE, key_pem, mode=0o600)
        _write(self.root / PUBLIC_JWK_FILE, msgspec.json.encode(dict(public_jwk)) + b"\n")
        _write(self.root / ANCHOR_FILE, anchor_pem)
        self.write_config(config)

    @property
    def public_jwk_path(self) -> Path:
        return self.root / PUBLIC_JWK_FILE

    def config(self) -> Config:
        try:
            raw = read_file(self._path(CONFIG_FILE))
        except OSError:
            self.require()
            raise
        return msgspec.json.decode(raw, type=Config)

    def write_config(self, config: Config) -> None:
        _write(self.root / CONFIG_FILE, msgspec.json.format(msgspec.json.encode(config)) + b"\n")

    def key_pem(self) -> bytes:
        return self.require()._read(KEY_FILE, remember=False)

    def anchor_pem(self) -> bytes:
        return self.require()._read(ANCHOR_FILE)

    def enrolled(self) -> bool:
        return os.path.isfile(self._path(CERTIFICATE_FILE)) and os.path.isfile(self._path(REGISTRATION_FILE))

    def certificate_pem(self) -> bytes:
        if not self.require().enrolled():
            raise NotSetUpError("this verifier is not enrolled yet", hint=ENROLL_HINT)
        return self._read(CERTIFICATE_FILE)

    def registration(self) -> str:
        if not self.require().enrolled():
            raise NotSetUpError("this verifier is not enrolled yet", hint=ENROLL_HINT)
        return self._read(REGISTRATION_FILE).decode().strip()

    def checking(self) -> tuple[Config, bytes, bytes]:
        """What a check needs of an enrolled clinic: its config, its own public JWK and the pinned root
        (`anchor_pem`), with `certificate_pem`'s errors when it is not enrolled."""
        config = self.config()
        if not self.enrolled():
            self.certificate_pem()  # says why
        return config, self._read(PUBLIC_JWK_FILE), self._read(ANCHOR_FILE)

    def enroll(self, certificate_pem: bytes, registration: str, client_id: str) -> None:
        """Store the registrar's answer and the client id it gives."""
        _write(self.root / CERTIFICATE_FILE, certificate_pem)
        _write(self.root / REGISTRATION_FILE, registration.encode() + b"\n")
        self.write_config(msgspec.structs.replace(self.config(), client_id=client_id))

    # -- caches -------------------------------------------------------------------------------------------

    def cached_status(self, uri: str) -> CachedStatusList | None:
        path = self._path(_status_name(uri))
        try:
            cached = _decoded_status(read_file(path))
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return None
        return cached if cached.uri == uri else None

    def cache_status(self, cached: CachedStatusList) -> None:
        _write(self._status_path(cached.uri), msgspec.json.encode(cached))

    def cached_status_lists(self) -> list[CachedStatusList]:
        found = []
        for path in sorted((self.root / "cache" / "status").glob("*.json")):
            cached = msgspec.json.decode(path.read_bytes(), type=CachedStatusList)
            found.append(cached)
        return found

    def known_chains(self) -> list[KnownChain]:
        """The chains a check validated before (`shared.oid4vp.chains`); none when unreadable."""
        try:
            return msgspec.json.decode(read_file(self._path(CHAINS_FILE)), type=list[KnownChain])
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return []

    def remember_chains(self, chains: list[KnownChain]) -> None:
        _write(self.root / CHAINS_FILE, msgspec.json.encode(chains))

    def cache_issuer_certificate(self, role: str, pem: bytes) -> Path:
        if not _SAFE_NAME.fullmatch(role):
            raise UsageError(f"the server names a certificate {role!r}", hint="check the server")
        path = self.root / "cache" / "issuers" / f"{role}.pem"
        _write(path, pem)
        return path

    def issuer_certificates(self) -> dict[str, bytes]:
        folder = self.root / "cache" / "issuers"
        return {p.stem: p.read_bytes() for p in sorted(folder.glob("*.pem"))}

    def display_names(self) -> dict[str, Any]:
        """The issuers' display names from `verifier sync` (see `trust.sync`); empty when never synced."""
        try:
            names: dict[str, Any] = msgspec.json.decode((self.root / "cache" / "display.json").read_bytes())
        except (OSError, msgspec.DecodeError):
            return {}
        return names

    def cache_display_names(self, names: Mapping[str, Any]) -> None:
        _write(self.root / "cache" / "display.json", msgspec.json.encode(dict(names)))

    def save_request(self, state: str, request_jwt: str) -> Path:
        if not _SAFE_NAME.fullmatch(state):
            raise UsageError(f"state {state!r} cannot name a file")
        path = self.root / "requests" / f"{state}.jwt"
        _write(path, request_jwt.encode() + b"\n")
        return path

    def _status_path(self, uri: str) -> Path:
        return self.root / _status_name(uri)

    def _path(self, name: str) -> str:
        return os.path.join(self.root, name)

    def _read(self, name: str, *, remember: bool = True) -> bytes:
        try:
            return read_file(self._path(name)) if remember else (self.root / name).read_bytes()
        except OSError as exc:
            raise NotSetUpError(f"cannot read {self.root / name}: {exc.strerror}", hint=INIT_HINT) from None


def _status_name(uri: str) -> str:
    return f"cache/status/{hashlib.sha256(uri.encode()).hexdigest()[:32]}.json"


@lru_cache(maxsize=MAX_READS)
def _decoded_status(raw: bytes) -> CachedStatusList:
    """The bytes `read_file` returned again (the same object, its hash kept): the same frozen value."""
    return msgspec.json.decode(raw, type=CachedStatusList)


def read_file(path: str | Path) -> bytes:
    """The file's bytes, from memory while it is the same file as when read (see the module docstring)."""
    name = os.fspath(path)
    st = os.stat(name)
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    known = _READS.get(name)
    if known is not None and known[0] == stamp:
        return known[1]
    with open(name, "rb") as file:
        data = file.read()
    if len(_READS) >= MAX_READS:
        _READS.clear()
    _READS[name] = (stamp, data)
    return data


def _write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write whole or not at all: a temporary file in the same folder (one per process, as two checks may
    write the chain cache at once), then renamed over."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as file:
        os.fchmod(file.fileno(), mode)
        file.write(data)
    os.replace(temporary, path)
