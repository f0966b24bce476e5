"""`cancuoc admin`: operators' commands against cancuoc-server (offers, status changes, families)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit

import msgspec
import typer
from rich.markup import escape

from client import output
from client.api import DEFAULT_SERVER, Families, Offer, ServerApi, Status
from shared.urls import is_loopback_host

admin_app = typer.Typer(
    help="Operators' commands against cancuoc-server: make offers, revoke, suspend, reinstate.\n\n"
    "Example: cancuoc admin families --issuer vss --citizen-id 001190123456",
    no_args_is_help=True,
)


class Issuer(StrEnum):
    mps = "mps"
    vss = "vss"


def check_server(url: str) -> str:
    """The bearer token travels with every call: https, or http on loopback only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise typer.BadParameter(f"{url!r} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise typer.BadParameter(f"{url!r}: use https (plain http only to this machine)")
    return url.rstrip("/")


ServerOption = Annotated[
    str,
    typer.Option(
        "--server", envvar="CANCUOC_SERVER", callback=check_server, help="Base URL of cancuoc-server."
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="CANCUOC_OPERATOR_TOKEN",
        show_default=False,
        help="Operator bearer token (from `cancuoc-server operator create`).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the server's answer as JSON.")]
IssuerOption = Annotated[Issuer, typer.Option("--issuer", help="mps (identity) or vss (insurance).")]
FamilyOption = Annotated[
    str | None, typer.Option("--family", show_default=False, help="One credential family (all its copies).")
]
CitizenOption = Annotated[
    str | None, typer.Option("--citizen-id", show_default=False, help="Every family the citizen holds.")
]


@admin_app.command()
def offer(
    issuer: IssuerOption,
    citizen_id: Annotated[str, typer.Option("--citizen-id", help="The citizen's 12-digit ID.")],
    credential: Annotated[
        list[str],
        typer.Option("--credential", help="Credential configuration: identity, health_insurance, ..."),
    ],
    by_reference: Annotated[
        bool, typer.Option("--by-reference", help="Put the offer's URL in the QR code, not the offer.")
    ] = False,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Offer credentials to a citizen: prints the offer link, its QR code and the transaction code.

    Example: cancuoc admin offer --issuer vss --citizen-id 001190123456 --credential health_insurance
    """
    with ServerApi(server, token) as api:
        made = api.create_offer(issuer.value, citizen_id, credential, by_reference=by_reference)
    if as_json:
        output.json(msgspec.to_builtins(made))
        return
    show_offer(made, citizen_id)


@admin_app.command()
def revoke(
    issuer: IssuerOption,
    family: FamilyOption = None,
    citizen_id: CitizenOption = None,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a credential family, or everything a citizen holds from the issuer. Revocation is final.

    Example: cancuoc admin revoke --issuer vss --family 2d5b2fbca00b398b2fa7d49d62bb5db5
    """
    change_status("revoked", issuer, family, citizen_id, server, token, as_json)


@admin_app.command()
def suspend(
    issuer: IssuerOption,
    family: FamilyOption = None,
    citizen_id: CitizenOption = None,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Suspend a credential family, or everything a citizen holds from the issuer, until reinstated.

    Example: cancuoc admin suspend --issuer vss --citizen-id 001190123456
    """
    change_status("suspended", issuer, family, citizen_id, server, token, as_json)


@admin_app.command()
def reinstate(
    issuer: IssuerOption,
    family: FamilyOption = None,
    citizen_id: CitizenOption = None,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make suspended credentials valid again (revoked ones stay revoked).

    Example: cancuoc admin reinstate --issuer vss --citizen-id 001190123456
    """
    change_status("valid", issuer, family, citizen_id, server, token, as_json)


@admin_app.command()
def families(
    issuer: IssuerOption,
    citizen_id: Annotated[str, typer.Option("--citizen-id", help="The citizen's 12-digit ID.")],
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the credential families a citizen holds from the issuer, with their status.

    Example: cancuoc admin families --issuer vss --citizen-id 001190123456 --json
    """
    with ServerApi(server, token) as api:
        found = api.list_families(issuer.value, citizen_id)
    show_families(found, f"{issuer.value} credential families of citizen {citizen_id}", as_json)


def change_status(
    status: Status,
    issuer: Issuer,
    family: str | None,
    citizen_id: str | None,
    server: str,
    token: str | None,
    as_json: bool,
) -> None:
    if (family is None) == (citizen_id is None):
        raise typer.BadParameter("give exactly one of the two", param_hint="'--family' / '--citizen-id'")
    with ServerApi(server, token) as api:
        if family is not None:
            changed = api.set_family_status(issuer.value, family, status)
            title = f"{issuer.value} credential family {family}"
        else:
            changed = api.set_citizen_status(issuer.value, str(citizen_id), status)
            title = f"{issuer.value} credential families of citizen {citizen_id}"
    show_families(changed, title, as_json)


def show_offer(made: Offer, citizen_id: str) -> None:
    from client.qr import terminal_qr

    output.step(escape(f"offer {made.offer_id} for citizen {citizen_id}; scan it with the wallet:"))
    output.plain(terminal_qr(made.offer_uri))
    output.plain(made.offer_uri)
    if made.tx_code:
        output.step(
            escape(f"transaction code: {made.tx_code} (tell the citizen separately, not with the QR)")
        )
    output.step(escape(f"expires at {made.expires_at}"))


def show_families(found: Families, title: str, as_json: bool) -> None:
    if as_json:
        output.json(msgspec.to_builtins(found))
        return
    output.step(escape(f"{title}:" if found.families else f"{title}: none"))
    for family in found.families:
        since = family.status_changed_at or family.issued_at
        line = f"  {family.id}  {family.configuration_id:<17} {family.status:<9}"
        output.plain(f"{line} since {since}" if since else line.rstrip())
