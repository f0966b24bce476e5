"""`cancuoc-server pki init|show`: the national root CA and the server's signer certificates."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from server.commands import DataDir

if TYPE_CHECKING:
    from server.config import ServerConfig
    from server.pki import ServerPki

pki_app = typer.Typer(help="The national root CA and the server's signer certificates.", no_args_is_help=True)

PublicUrl = Annotated[
    str | None,
    typer.Option(
        "--public-url",
        envvar="CANCUOC_PUBLIC_URL",
        help="Base of the issuer identifiers named in the certificates.",
    ),
]


@pki_app.command("init")
def init(
    data_dir: DataDir = None,
    public_url: PublicUrl = None,
    force: Annotated[bool, typer.Option("--force", help="Make a new root and new certificates.")] = False,
) -> None:
    """Create the root CA and the signers' certificates that do not exist yet (keys mode 0600).

    With --force the root and every certificate are made anew (issuer signing keys are kept);
    wallets and verifiers must then pin the new root.

    Example: cancuoc-server pki init --data-dir ./data --public-url https://id.gov.vn
    """
    from server.cli import config_from
    from server.pki import remove_pki

    config = config_from(data_dir=data_dir, public_url=public_url)
    if force:
        remove_pki(config)
    _print(config, _load(config), as_json=False)


@pki_app.command("show")
def show(
    data_dir: DataDir = None,
    public_url: PublicUrl = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the certificates (PEM) as JSON.")] = False,
) -> None:
    """Show the root and the signers' certificates (never a private key).

    Example: cancuoc-server pki show --json
    """
    from server.cli import config_from

    config = config_from(data_dir=data_dir, public_url=public_url)
    _print(config, _load(config), as_json=as_json)


def _load(config: ServerConfig) -> ServerPki:
    from server.pki import load_or_create_pki

    return load_or_create_pki(config, datetime.now(UTC))


def _print(config: ServerConfig, pki: ServerPki, *, as_json: bool) -> None:
    from server.pki import SIGNER_ROLES, certificate_path
    from shared.jose.x5c import x5c_of, x509_hash
    from shared.jose.x509 import verify_chain

    if as_json:
        certificates = {role: pki.certificate_pem(role) for role in SIGNER_ROLES}
        typer.echo(json.dumps({"root": pki.root_pem, "certificates": certificates}, indent=2))
        return
    typer.echo(f"{'root':<12} sha256 {x509_hash(pki.root)}  ({certificate_path(config, 'root')})")
    now = datetime.now(UTC)
    for role in SIGNER_ROLES:
        leaf = pki.signers[role].chain[0]
        chain = verify_chain(x5c_of([leaf]), [pki.root], now=now)
        names = "".join(f" {uri}" for uri in chain.uris)
        until = f"{chain.not_after:%Y-%m-%d}"
        typer.echo(f"{role:<12} {chain.name!r} until {until}{names}  ({certificate_path(config, role)})")
