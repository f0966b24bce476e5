"""`cancuoc-server` sub-commands beyond serving; the options every command shares are declared once here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", envvar="CANCUOC_DATA_DIR", help="Holds the SQLite database and generated keys."
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", envvar="CANCUOC_DATABASE_URL", help="SQLAlchemy URL (default: SQLite)."),
]
