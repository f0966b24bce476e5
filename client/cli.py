"""`cancuoc`: the command line for every role outside the server (wallet, verifier, audit, admin, demo)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer

EXIT_CHECK_FAILED = 1
EXIT_MISUSE = 2
EXIT_SERVER = 3
AUTH_HINT = "pass --token or set CANCUOC_OPERATOR_TOKEN (cancuoc-server operator create makes one)"

SUB_APPS = {
    "admin": ("client.admin", "admin_app"),
    "wallet": ("client.wallet.commands", "wallet_app"),
    "verifier": ("client.verifier.commands", "verifier_app"),
    "audit": ("client.audit", "audit_app"),
}
"""Each role's commands, imported only when that role runs: a clinic's `verifier check` must start fast."""

root_app = typer.Typer(
    name="cancuoc",
    help="cancuoc: national e-identity wallet, clinic verifier and auditor.\n\nExample: cancuoc demo",
    no_args_is_help=True,
    add_completion=False,
)


@root_app.callback()
def root() -> None:
    """cancuoc: national e-identity wallet, clinic verifier and auditor."""


@root_app.command()
def demo(
    as_json: bool = typer.Option(False, "--json", help="Print the outcome of each step as JSON."),
) -> None:
    """Run the main story end to end against a local cancuoc-server (started and stopped for you).

    Seeds a registry, issues the three credentials to a fresh wallet over OpenID4VCI, presents a
    clinic check-in, revokes the card and checks again. Works in a temporary directory.

    Example: cancuoc demo
    """
    from client.demo import run_demo

    run_demo(as_json=as_json)


def build_app(command: str | None = None) -> typer.Typer:
    """The app with the sub-app ``command`` names registered, or all of them (for help and tests)."""
    for name, (module, attribute) in SUB_APPS.items():
        if command in (None, name) and not any(g.name == name for g in root_app.registered_groups):
            root_app.add_typer(getattr(importlib.import_module(module), attribute), name=name)
    return root_app


def main(argv: list[str] | None = None) -> None:
    """Console script entry point: known errors become one readable line and an exit code."""
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args and args[0] in SUB_APPS else None
    try:
        build_app(command)(args=args, standalone_mode=True, prog_name="cancuoc")
    except Exception as exc:
        code = report(exc)
        if code is None:
            raise
        raise SystemExit(code) from None


def report(exc: Exception) -> int | None:
    """Print a known error as one line (with a hint) and give its exit code; None for a bug."""
    from client import output
    from client.api import ApiError, ServerError
    from client.local_server import LocalServerError
    from client.receive import ReceiveError
    from client.wallet import WalletError
    from shared.errors import CredentialError

    if isinstance(exc, CredentialError):
        output.error(f"{exc.code}: {exc}")
        return EXIT_CHECK_FAILED
    if isinstance(exc, ApiError):
        unauthenticated = isinstance(exc, ServerError) and exc.status == 401
        output.error(str(exc), hint=AUTH_HINT if unauthenticated else None)
        return EXIT_SERVER
    if isinstance(exc, WalletError):
        output.error(str(exc), hint=exc.hint)
        return exc.exit_code
    if isinstance(exc, ReceiveError):
        output.error(f"offer refused: {exc}")
        return EXIT_CHECK_FAILED
    if isinstance(exc, LocalServerError):
        output.error(str(exc))
        return EXIT_SERVER
    return None


def __getattr__(name: str) -> Any:
    # `from client.cli import app` elsewhere (tests) wants every command; `main` registers only what runs.
    if name == "app":
        return build_app()
    raise AttributeError(name)
