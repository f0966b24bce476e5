"""`cancuoc-server operator create`: make an operator account and print its token once."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from server.commands import DatabaseUrl, DataDir
from server.services.operators import ROLES

operator_app = typer.Typer(help="Operator accounts (bearer tokens with a role).", no_args_is_help=True)


@operator_app.command("create")
def create(
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    name: Annotated[str, typer.Option(help="Who holds the token, e.g. 'Officer Lê Văn Tám, C06 Hà Nội'.")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"token": ...}.')] = False,
) -> None:
    """Create an operator; the token is printed once and only its hash is stored.

    Example: cancuoc-server operator create --role mps-officer --name "Lê Văn Tám" --json
    """
    from server.cli import config_from, open_context
    from server.errors import HttpError
    from server.services.operators import create_operator

    if role not in ROLES:
        typer.echo(f"error: role must be one of {', '.join(ROLES)}", err=True)
        raise typer.Exit(2)
    config = config_from(data_dir=data_dir, database_url=database_url)

    async def run() -> str:
        async with open_context(config) as context:
            return await create_operator(context, name=name, role=role)

    try:
        token = asyncio.run(run())
    except HttpError as exc:
        typer.echo(f"error: {exc.description}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps({"token": token, "role": role, "name": name}, ensure_ascii=False))
    else:
        typer.echo(f"operator {name!r} ({role}) created; this token is shown once:\n{token}")
