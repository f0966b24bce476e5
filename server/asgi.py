"""ASGI entry point for workers: configuration comes from the `CANCUOC_*` variables that `serve` sets."""

from __future__ import annotations

import gc

from server.app import create_app
from server.config import load_config

app = create_app(load_config(), migrate=False)
# What start-up made (modules, routes, keys, the schema) lives as long as the worker: frozen, the cyclic
# collector's older generations no longer walk it again and again while requests run (~10% of the CPU of
# a credential request).
gc.freeze()
