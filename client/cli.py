"""`cancuoc`: the command line for every role outside the server (wallet, verifier, audit, admin, demo)."""

from __future__ import annotations

import typer

from client import output
from client.admin import admin_app
from client.api import ApiError, ServerError
from client.local_server import LocalServerError
from client.receive import ReceiveError
from client.wallet import WalletError
from client.wallet.commands import wallet_app
from shared.errors import CredentialError

EXIT_CHECK_FAILED = 1
EXIT_MISUSE = 2
EXIT_SERVER = 3
AUTH_HINT = "pass --token or set CANCUOC_OPERATOR_TOKEN (cancuoc-server operator create makes one)"

app = typer.Typer(
    name="cancuoc",
    help="cancuoc: national e-identity wallet, clinic verifier and auditor.\n\nExample: cancuoc demo",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(admin_app, name="admin")
app.add_typer(wallet_app, name="wallet")


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


def main(argv: list[str] | None = None) -> None:
    """Console script entry point: known errors become one readable line and an exit code."""
    try:
        app(args=argv, standalone_mode=True)
    except CredentialError as exc:
        output.error(f"{exc.code}: {exc}")
        raise SystemExit(EXIT_CHECK_FAILED) from None
    except ApiError as exc:
        unauthenticated = isinstance(exc, ServerError) and exc.status == 401
        output.error(str(exc), hint=AUTH_HINT if unauthenticated else None)
        raise SystemExit(EXIT_SERVER) from None
    except WalletError as exc:
        output.error(str(exc), hint=exc.hint)
        raise SystemExit(exc.exit_code) from None
    except ReceiveError as exc:
        output.error(f"offer refused: {exc}")
        raise SystemExit(EXIT_CHECK_FAILED) from None
    except LocalServerError as exc:
        output.error(str(exc))
        raise SystemExit(EXIT_SERVER) from None
