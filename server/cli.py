"""`cancuoc-server`: run, migrate and administer the issuer backend."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from server.commands import DatabaseUrl, DataDir
from server.commands.operators import operator_app
from server.commands.pki import pki_app
from server.commands.registry import import_records, seed
from server.config import ENV_PREFIX, ISSUERS, ConfigError, ServerConfig, load_config

if TYPE_CHECKING:
    from server.context import ServerContext

app = typer.Typer(
    name="cancuoc-server",
    help="The cancuoc issuer backend: MPS (identity) and VSS (insurance) over OpenID4VCI.\n\n"
    "Example: cancuoc-server serve --data-dir ./data --port 8000",
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(help="Issuer signing keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(operator_app, name="operator")
app.add_typer(pki_app, name="pki")
app.command("seed")(seed)
app.command("import")(import_records)

PublicUrl = Annotated[
    str | None,
    typer.Option("--public-url", envvar="CANCUOC_PUBLIC_URL", help="Base of the issuer identifiers."),
]


def config_from(**flags: object) -> ServerConfig:
    """Flags over environment over defaults; a bad value is one readable line and exit 2."""
    try:
        return load_config(flags)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.callback()
def root() -> None:
    """The cancuoc issuer backend."""


@app.command()
def serve(
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    public_url: PublicUrl = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    log_file: Annotated[
        Path | None,
        typer.Option(
            envvar="CANCUOC_LOG_FILE",
            help="Append the JSON-lines log here instead of writing it to stderr.",
        ),
    ] = None,
) -> None:
    """Run the HTTP server; migrates the database and creates missing keys first.

    The log is one JSON object per line (access lines included), see `server/logs.py`.

    Example: cancuoc-server serve --data-dir ./data --port 8000 --workers 2
    """
    from server.logs import configure_logging, log_event, logging_config

    if public_url is None:
        public_url = f"http://{host}:{port}"
    config = config_from(
        data_dir=data_dir, database_url=database_url, public_url=public_url, log_file=log_file
    )
    configure_logging(config.log_file)
    _prepare(config)
    settings = {
        "DATA_DIR": str(config.data_dir),
        "DATABASE_URL": config.database,
        "PUBLIC_URL": config.public_url,
    }
    if config.log_file is not None:
        settings["LOG_FILE"] = str(config.log_file.absolute())
    for name, value in settings.items():
        os.environ[ENV_PREFIX + name] = value
    from granian.constants import Interfaces
    from granian.server import Server

    log_event("server starting", host=host, port=port, workers=workers, public_url=config.public_url)
    Server(
        "server.asgi:app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        log_dictconfig=logging_config(config.log_file),
        log_access=False,
    ).serve()


@app.command()
def migrate(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Apply the database migrations (also done by `serve` on start).

    Example: cancuoc-server migrate --data-dir ./data
    """
    config = config_from(data_dir=data_dir, database_url=database_url)
    _prepare(config)
    typer.echo("database is at the newest schema")


@keys_app.command("init")
def keys_init(data_dir: DataDir = None) -> None:
    """Create the issuer signing keys that do not exist yet (P-256, mode 0600).

    Example: cancuoc-server keys init --data-dir ./data
    """
    from server.keys import key_path, load_or_create_keys

    config = config_from(data_dir=data_dir)
    keys = load_or_create_keys(config)
    for issuer in ISSUERS:
        typer.echo(f"{issuer}: kid {keys[issuer].kid}  ({key_path(config, issuer)})")


@keys_app.command("show")
def keys_show(
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the public JWKs as JSON.")] = False,
) -> None:
    """Show the issuers' public keys (never the private halves).

    Example: cancuoc-server keys show --json
    """
    import json

    from server.keys import load_or_create_keys

    keys = load_or_create_keys(config_from(data_dir=data_dir))
    public = {issuer: {**key.public.jwk, "kid": key.kid} for issuer, key in keys.items()}
    if as_json:
        typer.echo(json.dumps(public, indent=2))
        return
    for issuer, jwk in public.items():
        typer.echo(f"{issuer}: kid {jwk['kid']}  x={jwk['x']} y={jwk['y']}")


@app.command()
def version() -> None:
    """Print the cancuoc version.

    Example: cancuoc-server version
    """
    from importlib.metadata import version as package_version

    typer.echo(package_version("cancuoc"))


@asynccontextmanager
async def open_context(config: ServerConfig) -> AsyncIterator[ServerContext]:
    """The same context the app uses, for commands that work on the database directly (migrated first)."""
    from server.context import ServerContext
    from server.keys import load_or_create_keys
    from server.store.database import Database
    from server.store.migrate import upgrade

    config.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(config.database)
    try:
        await upgrade(database)
        yield ServerContext(config, database, load_or_create_keys(config))
    finally:
        await database.close()


def _prepare(config: ServerConfig) -> None:
    from datetime import UTC, datetime

    from server.keys import load_or_create_keys
    from server.pki import load_or_create_pki
    from server.store.database import Database
    from server.store.migrate import upgrade

    config.data_dir.mkdir(parents=True, exist_ok=True)
    # Certificates are made (or re-made for a new public URL) once here, before any worker starts.
    load_or_create_pki(config, datetime.now(UTC), load_or_create_keys(config))

    async def run() -> None:
        database = Database(config.database)
        try:
            await upgrade(database)
        finally:
            await database.close()

    asyncio.run(run())


def main() -> None:
    """Console script entry point."""
    app()
