"""`cancuoc`: the command line for every role outside the server (wallet, verifier, audit, admin, demo)."""

from __future__ import annotations

import typer

from client import output
from shared.errors import CredentialError

EXIT_CHECK_FAILED = 1
EXIT_MISUSE = 2

app = typer.Typer(
    name="cancuoc",
    help="cancuoc: national e-identity wallet, clinic verifier and auditor.\n\nExample: cancuoc demo",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def root() -> None:
    """cancuoc: national e-identity wallet, clinic verifier and auditor."""


@app.command()
def demo(
    as_json: bool = typer.Option(False, "--json", help="Print the outcome of each step as JSON."),
) -> None:
    """Run the core story: issue three credentials, present a subset, verify, revoke, verify again.

    Everything happens in memory with fresh keys; nothing is written to disk.

    Example: cancuoc demo
    """
    from client.demo import run_demo

    run_demo(as_json=as_json)


def main() -> None:
    """Console script entry point: known errors become one readable line and an exit code."""
    try:
        app(standalone_mode=True)
    except CredentialError as exc:
        output.error(f"{exc.code}: {exc}")
        raise SystemExit(EXIT_CHECK_FAILED) from None
