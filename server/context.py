"""What every request handler may use: configuration, database, issuer keys, PKI material and the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeAlias

from litestar.di import NamedDependency

from server.config import ServerConfig
from server.pki import ServerPki, load_or_create_pki
from server.store.database import Database
from server.store.issuance import StatusListSlot
from shared.jose import PrivateKey

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class ServerContext:
    """Built once by `create_app`; handed to services, never a module global.

    A plain class on purpose: Litestar passes dependencies through as opaque objects only when they
    are not dataclasses or structs it would try to validate field by field.
    """

    __slots__ = ("_pki", "clock", "config", "database", "keys", "status_lists")

    def __init__(
        self,
        config: ServerConfig,
        database: Database,
        keys: dict[str, PrivateKey],
        clock: Clock = system_clock,
        *,
        pki: ServerPki | None = None,
    ) -> None:
        self.config = config
        self.database = database
        self.keys = keys
        self.clock = clock
        self._pki = pki
        self.status_lists: dict[str, StatusListSlot] = {}
        """Per issuer, the newest status list this worker saw in a committed issuance: where new copies'
        entries are drawn (a hint; the database decides which entries are free)."""

    @property
    def pki(self) -> ServerPki:
        """The root and the signers' chains; loaded (or made) on first use when not given."""
        if self._pki is None:
            self._pki = load_or_create_pki(self.config, self.clock(), self.keys or None)
        return self._pki


Context: TypeAlias = NamedDependency[ServerContext]
"""How a handler asks for the context: ``def handler(context: Context)``."""
