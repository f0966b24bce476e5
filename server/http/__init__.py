"""HTTP controllers: thin handlers that call services; `ROUTES` is what `create_app` registers."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from server.http.health import health, ping
from server.http.metadata import MetadataController

ROUTES: list[ControllerRouterHandler] = [health, ping, MetadataController]
