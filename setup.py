"""The optional compiled build; the project's metadata lives in pyproject.toml.

With ``CANCUOC_COMPILE=1`` the modules listed under ``[tool.cancuoc] compiled`` are compiled with mypyc (as
black ships its wheels): the same typed source runs about twice as fast, which the verifier's hot path
needs (`make bench`). Without it, as in editable installs and `make test`'s main run, all is pure Python.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from setuptools import setup


def compiled_extensions() -> list[Any]:
    if os.environ.get("CANCUOC_COMPILE") != "1":
        return []
    from mypyc.build import mypycify

    config = tomllib.loads(Path(__file__).with_name("pyproject.toml").read_text(encoding="utf-8"))
    return mypycify(config["tool"]["cancuoc"]["compiled"], opt_level="3")


setup(ext_modules=compiled_extensions())
