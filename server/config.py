"""Server configuration: one immutable object from flags and `CANCUOC_*` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import msgspec

from shared.urls import is_loopback_host

ENV_PREFIX = "CANCUOC_"
ISSUERS = ("mps", "vss")
Positive = Annotated[int, msgspec.Meta(ge=1)]
NonNegative = Annotated[int, msgspec.Meta(ge=0)]


class ConfigError(Exception):
    """A configuration value that cannot work; the message names the setting."""


class ServerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the server needs to know, with the embedded defaults of a development machine."""

    data_dir: Path
    public_url: str = "http://127.0.0.1:8000"
    database_url: str = ""
    keys_dir: Path | None = None
    pre_authorized_code_ttl: int = 600
    tx_code_max_attempts: int = 5
    access_token_ttl: int = 300
    nonce_ttl: int = 300
    proof_max_age: int = 300
    leeway: int = 60
    batch_size: int = 10
    credential_validity_days: int = 365
    status_list_size: int = 1 << 17
    status_list_ttl: int = 300
    status_list_validity: int = 86_400
    max_body_bytes: int = 64 * 1024
    vp_transaction_ttl: int = 600
    vp_max_response_bytes: int = 512 * 1024
    log_file: Path | None = None
    # Limits on hostile input and load (issue 6). Besides max_body_bytes (413; the relay's wallet answers
    # have vp_max_response_bytes instead), batch_size (400 invalid_credential_request) and
    # tx_code_max_attempts (then the code is dead: 400 invalid_grant). Fixed in shared/: JSON nests at most
    # 32 deep (shared.encoding.MAX_DEPTH: 400 with the endpoint's error), other JWTs are at most 64 KiB
    # (shared.jose.MAX_JWS_SIZE); the server parses no SD-JWT, so the disclosure limits are the wallet's
    # and the verifier's (shared.sdjwt.disclosure).
    max_proof_bytes: Positive = 8 * 1024
    """A key proof JWT longer than this is 400 `invalid_proof`."""
    max_request_object_bytes: Positive = 32 * 1024
    """A clinic's request object stored at the relay: 413 beyond."""
    token_rate_limit: NonNegative = 60
    """Token requests per client address per `token_rate_window` seconds (0: no limit); 429 beyond."""
    token_rate_window: Positive = 60
    tx_code_address_max_failures: NonNegative = 20
    """Wrong tx_codes per client address, over all offers, per `tx_code_address_window` (0: no limit);
    then every token request of that address that carries a tx_code is 429 until the window ends."""
    tx_code_address_window: Positive = 600
    relay_rate_limit: NonNegative = 60
    """New relay transactions per client address per `relay_rate_window` seconds (0: no limit); 429."""
    relay_rate_window: Positive = 60
    request_timeout: Annotated[float, msgspec.Meta(ge=0)] = 30.0
    """Seconds a request may run (body reading included) before 503 `temporarily_unavailable` (0: none)."""

    @property
    def database(self) -> str:
        """The SQLAlchemy URL; SQLite in the data directory unless configured."""
        return self.database_url or f"sqlite:///{self.data_dir / 'cancuoc.db'}"

    @property
    def key_directory(self) -> Path:
        return self.keys_dir or self.data_dir / "keys"

    def issuer_id(self, issuer: str) -> str:
        """The credential issuer identifier, e.g. ``https://id.gov.vn/mps``."""
        return f"{self.public_url}/{issuer}"

    def status_list_uri(self, issuer: str, list_id: int) -> str:
        return f"{self.public_url}/status/{issuer}/{list_id}"


def load_config(
    flags: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None
) -> ServerConfig:
    """Flags win over ``CANCUOC_*`` variables, which win over defaults; refuses values that cannot work."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    for field in msgspec.structs.fields(ServerConfig):
        variable = ENV_PREFIX + field.name.upper()
        if variable in env:
            values[field.name] = env[variable]
    values.update({k: v for k, v in (flags or {}).items() if v is not None})
    values.setdefault("data_dir", Path.cwd() / "cancuoc-data")
    try:
        config = msgspec.convert(values, ServerConfig, strict=False, dec_hook=_decode_path)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid configuration: {exc}") from exc
    _check_public_url(config.public_url.rstrip("/"))
    return msgspec.structs.replace(config, public_url=config.public_url.rstrip("/"))


def _decode_path(kind: type, value: object) -> object:
    if kind is Path and isinstance(value, str | Path):
        return Path(value).expanduser()
    raise NotImplementedError(f"cannot read {kind.__name__} from {value!r}")


def _check_public_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.query or parts.fragment or not parts.hostname:
        raise ConfigError(f"public URL {url!r} must be scheme://host[:port][/path] with no query or fragment")
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return
    raise ConfigError(
        f"public URL {url!r} must use https (http is allowed only on loopback, for development)"
    )
