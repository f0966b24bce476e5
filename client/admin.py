"""`cancuoc admin`: operators' commands against cancuoc-server (offers, status changes, families, clinics)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
import typer
from rich.markup import escape

from client import output
from client.api import DEFAULT_SERVER, Families, Offer, ServerApi, Status, VerifierRegistration
from shared.urls import is_loopback_host

admin_app = typer.Typer(
    help="Operators' commands against cancuoc-server: make offers, revoke, suspend, reinstate.\n\n"
    "Example: cancuoc admin families --issuer vss --citizen-id 001190123456",
    no_args_is_help=True,
)
verifier_app = typer.Typer(
    help="Register clinics (verifiers): a certificate and a signed list of the claims each may ask.",
    no_args_is_help=True,
)
admin_app.add_typer(verifier_app, name="verifier")


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


@verifier_app.command("register")
def register_verifier(
    name: Annotated[str, typer.Option("--name", help="The clinic's name, shown to citizens.")],
    purpose: Annotated[str, typer.Option("--purpose", help="Why it asks, shown to citizens.")],
    public_key: Annotated[
        Path, typer.Option("--public-key", help="The clinic's public JWK (clinic-public.jwk).")
    ],
    allow: Annotated[
        list[str],
        typer.Option(
            "--allow",
            help="A preset (clinic-checkin, age-check, identity, social-insurance) or a JSON file "
            '[{"vct": ..., "claims": [[path...]]}]; repeatable.',
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", show_default=False, help="Also write the answer (JSON) to this file."),
    ] = None,
    server: ServerOption = DEFAULT_SERVER,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a clinic (admin role): the server certifies its key and signs what it may ask.

    Give the clinic the JSON answer (--json or --out); it runs `cancuoc verifier enroll reg.json`.

    Example: cancuoc admin verifier register --name "Bạch Mai" --purpose "Check-in" \
    --public-key clinic-public.jwk --allow clinic-checkin --json > reg.json
    """
    jwk = read_public_jwk(public_key)
    allowed = read_allowed(allow)
    with ServerApi(server, token) as api:
        registered = api.register_verifier(name=name, purpose=purpose, public_jwk=jwk, allowed=allowed)
    if out is not None:
        out.write_bytes(msgspec.json.encode(registered) + b"\n")
    if as_json:
        output.json(msgspec.to_builtins(registered))
        return
    show_registration(registered, name, allowed, out)


def read_public_jwk(path: Path) -> dict[str, Any]:
    from shared.jose import is_private_jwk

    jwk = _read_json(path, "--public-key")
    if not isinstance(jwk, dict):
        raise typer.BadParameter(f"{path} does not hold a JWK object", param_hint="'--public-key'")
    if is_private_jwk(jwk):
        raise typer.BadParameter(
            f"{path} holds a private key; give the clinic's public JWK", param_hint="'--public-key'"
        )
    return jwk


def read_allowed(values: list[str]) -> list[dict[str, Any]]:
    """Presets and files merged into one allow-list, one entry per vct."""
    from shared.oid4vp.presets import PRESETS, allowed_claims

    merged: dict[str, list[Any]] = {}
    for value in values:
        if value in PRESETS:
            entries: Any = allowed_claims(PRESETS[value])
        elif Path(value).is_file():
            entries = _read_json(Path(value), "--allow")
        else:
            raise typer.BadParameter(
                f"{value!r} is neither a preset ({', '.join(PRESETS)}) nor a file", param_hint="'--allow'"
            )
        if not isinstance(entries, list) or not all(_is_allowed_entry(e) for e in entries):
            raise typer.BadParameter(
                f"{value!r} is neither a preset ({', '.join(PRESETS)}) nor a JSON list of "
                '{"vct": ..., "claims": [[path...]]}',
                param_hint="'--allow'",
            )
        for entry in entries:
            claims = merged.setdefault(entry["vct"], [])
            claims += [path for path in entry["claims"] if path not in claims]
    return [{"vct": vct, "claims": claims} for vct, claims in merged.items()]


def _is_allowed_entry(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("vct"), str)
        and isinstance(entry.get("claims"), list)
        and all(isinstance(path, list) for path in entry["claims"])
    )


def _read_json(path: Path, option: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read JSON from {path}: {exc}", param_hint=f"'{option}'") from None


def show_registration(
    registered: VerifierRegistration, name: str, allowed: list[dict[str, Any]], out: Path | None
) -> None:
    output.step(escape(f"verifier {name!r} registered; its client id:"))
    output.plain(registered.client_id)
    output.step("it may ask for:")
    for entry in allowed:
        claims = ", ".join(".".join("*" if p is None else str(p) for p in path) for path in entry["claims"])
        output.plain(escape(f"  {entry['vct']}: {claims}"))
    where = str(out) if out is not None else "the --json answer"
    output.step(escape(f"give the clinic {where}; it runs `cancuoc verifier enroll FILE`"))
