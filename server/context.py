"""What every request handler may use: configuration, database, issuer keys and the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeAlias

from litestar.di import NamedDependency

from server.config import ServerConfig
from server.store.database import Database
from shared.jose import PrivateKey

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class ServerContext:
    """Built once by `create_app`; handed to services, never a module global.

    A plain class on purpose: Litestar passes dependencies through as opaque objects only when they
    are not dataclasses or structs it would try to validate field by field.
    """

    __slots__ = ("clock", "config", "database", "keys")

    def __init__(
        self,
        config: ServerConfig,
        database: Database,
        keys: dict[str, PrivateKey],
        clock: Clock = system_clock,
    ) -> None:
        self.config = config
        self.database = database
        self.keys = keys
        self.clock = clock


Context: TypeAlias = NamedDependency[ServerContext]
"""How a handler asks for the context: ``def handler(context: Context)``."""
