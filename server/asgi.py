"""ASGI entry point for workers: configuration comes from the `CANCUOC_*` variables that `serve` sets."""

from __future__ import annotations

from server.app import create_app
from server.config import load_config

app = create_app(load_config(), migrate=False)
