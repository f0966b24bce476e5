"""Where the wallet and the clinic's verifier keep their files.

Imports nothing heavy: `cancuoc verifier check` must start fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def default_home(env: Mapping[str, str]) -> Path:
    """CANCUOC_HOME, else `$XDG_DATA_HOME/cancuoc`, else `~/.local/share/cancuoc`."""
    if env.get("CANCUOC_HOME"):
        return Path(env["CANCUOC_HOME"])
    if env.get("XDG_DATA_HOME"):
        return Path(env["XDG_DATA_HOME"]) / "cancuoc"
    return Path.home() / ".local" / "share" / "cancuoc"
