"""Rate limits per client address (issue 6): token requests, wrong tx_codes and relay transactions.

Each limit allows ``max_hits`` in a fixed window of ``window`` seconds that starts with the first hit;
past it the server answers 429 `invalid_request` (RFC 6585 §4; RFC 6749 §5.2 has no code of its own for
this) with `Retry-After` set to the seconds left in the window. A limit of 0 is off. The counters live
in the database (`server.store.rate_limits`), so all workers and servers on one database share them.

The client address is the peer of the TCP connection (the ASGI scope's `client`): behind a reverse
proxy every client would share the proxy's address, and trusting `X-Forwarded-For` from configured
proxies is not implemented yet.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any, NamedTuple

from server.config import ServerConfig
from server.errors import RateLimitedError
from server.store import rate_limits as store
from server.store.database import Connection

PURGE_EVERY = 1000
"""Each worker forgets ended windows once in this many counted hits."""
MAX_ADDRESS_LENGTH = 64
UNKNOWN_ADDRESS = "unknown"
_hits = itertools.count(1)


class Limit(NamedTuple):
    """One rate limit: what it counts, how many hits a window allows (0: no limit) and the window."""

    name: str
    what: str
    max_hits: int
    window: int


def token_requests(config: ServerConfig) -> Limit:
    return Limit("token", "token requests", config.token_rate_limit, config.token_rate_window)


def wrong_tx_codes(config: ServerConfig) -> Limit:
    return Limit(
        "tx_code", "wrong tx_codes", config.tx_code_address_max_failures, config.tx_code_address_window
    )


def relay_transactions(config: ServerConfig) -> Limit:
    return Limit("relay", "new transactions", config.relay_rate_limit, config.relay_rate_window)


def client_address(client: Any) -> str:
    """The peer address of an ASGI scope's ``client`` (host, port), or ``unknown`` without one."""
    host = getattr(client, "host", None) or (client[0] if isinstance(client, tuple) and client else None)
    return str(host)[:MAX_ADDRESS_LENGTH] if host else UNKNOWN_ADDRESS


async def hit(
    connection: Connection, config: ServerConfig, limit: Limit, address: str, now: datetime
) -> None:
    """Count one hit from ``address``; 429 when it passes the limit.

    Raised inside the caller's transaction, the refusal rolls its own hit back: the count stays at the
    limit and every further hit in the window is refused the same way.
    """
    if not limit.max_hits:
        return
    window = await _count(connection, config, limit, address, now)
    if window.hits > limit.max_hits:
        raise _refusal(limit, window, now)


async def refuse_if_used_up(connection: Connection, limit: Limit, address: str, now: datetime) -> None:
    """429 when ``address`` has used up the limit in the current window (nothing is counted)."""
    if not limit.max_hits:
        return
    window = await store.current(connection, _key(limit, address), now=_seconds(now), window=limit.window)
    if window is not None and window.hits >= limit.max_hits:
        raise _refusal(limit, window, now)


async def count(
    connection: Connection, config: ServerConfig, limit: Limit, address: str, now: datetime
) -> None:
    """Count one hit without refusing this request (the next one is checked by `refuse_if_used_up`)."""
    if limit.max_hits:
        await _count(connection, config, limit, address, now)


async def _count(
    connection: Connection, config: ServerConfig, limit: Limit, address: str, now: datetime
) -> store.Window:
    seconds = _seconds(now)
    window = await store.hit(connection, _key(limit, address), now=seconds, window=limit.window)
    if next(_hits) % PURGE_EVERY == 0:
        await store.purge(connection, before=seconds - _longest_window(config))
    return window


def _refusal(limit: Limit, window: store.Window, now: datetime) -> RateLimitedError:
    retry_after = max(1, window.started + limit.window - _seconds(now))
    return RateLimitedError(
        f"too many {limit.what} from this address: at most {limit.max_hits} in {limit.window} s; "
        f"retry after {retry_after} s",
        retry_after=retry_after,
    )


def _key(limit: Limit, address: str) -> str:
    return f"{limit.name}:{address}"


def _longest_window(config: ServerConfig) -> int:
    return max(limit(config).window for limit in (token_requests, wrong_tx_codes, relay_transactions))


def _seconds(now: datetime) -> int:
    return int(now.timestamp())
