"""`cancuoc-server`: the issuer backend's command line (the HTTP service itself arrives with issue #3)."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="cancuoc-server",
    help="The cancuoc issuer backend (MPS identity, VSS insurance).\n\nExample: cancuoc-server version",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def root() -> None:
    """The cancuoc issuer backend (MPS identity, VSS insurance)."""


@app.command()
def version() -> None:
    """Print the cancuoc version.

    Example: cancuoc-server version
    """
    from importlib.metadata import version as package_version

    typer.echo(package_version("cancuoc"))


def main() -> None:
    """Console script entry point."""
    app()
