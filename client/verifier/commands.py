"""`cancuoc verifier`: the clinic's commands (init, enroll, show, sync, request, check).

Imported when `cancuoc verifier ...` runs, so it imports only what `check` needs at the top: httpx, rich,
segno and the request-signing code are imported inside the commands that use them.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, ParamSpec, TypeVar

import typer

from client.home import default_home
from client.verifier import UsageError, VerifierError
from client.verifier.args import parse_duration, parse_time
from client.verifier.state import VerifierState

P = ParamSpec("P")
R = TypeVar("R")
Preset = Literal["clinic-checkin", "age-check", "identity", "social-insurance"]

verifier_app = typer.Typer(
    help="The clinic's verifier: ask a wallet for credentials, check the answer against the national root."
    "\n\n"
    "Example: cancuoc verifier request --preset clinic-checkin",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
AtOption = Annotated[
    str | None,
    typer.Option("--at", help="Check as of this ISO 8601 time instead of now (e.g. 2026-03-01T09:00Z)."),
]
StaleOption = Annotated[
    str | None,
    typer.Option(
        "--allow-stale",
        help="Accept a cached status list up to this old when no fresh one can be had (10m, 2h, 1d).",
    ),
]


def guarded(command: Callable[P, R]) -> Callable[P, R]:
    """A verifier error becomes one line with a hint and its exit code (the CLI's `main` maps the rest)."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except VerifierError as exc:
            from client import output

            output.error(str(exc), hint=exc.hint)
            raise typer.Exit(exc.exit_code) from None

    return run


def _state() -> VerifierState:
    return VerifierState.at(default_home(os.environ))


@verifier_app.command()
@guarded
def init(
    name: Annotated[str, typer.Option("--name", help="The clinic's name, as the registrar will certify it.")],
    trust_anchor: Annotated[
        str,
        typer.Option(
            "--trust-anchor",
            help="The national root certificate: a PEM file or a URL (no redirects followed).",
        ),
    ],
    server: Annotated[
        str | None,
        typer.Option(
            "--server", envvar="CANCUOC_SERVER", help="The cancuoc server (default 127.0.0.1:8000)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Make the clinic's key and pin the national root; prints the public key file for the registrar.

    Example: cancuoc verifier init --name "Phòng khám Đa khoa Hà Nội" --trust-anchor http://127.0.0.1:8000/pki/root.pem
    """
    from client import output
    from client.api import DEFAULT_SERVER
    from client.verifier.state import Config
    from client.verifier.trust import read_trust_anchor
    from shared.jose import generate_private_key, private_key_to_pem
    from shared.jose.x5c import x509_hash
    from shared.jose.x509 import der_to_pem

    state = _state()
    anchor = read_trust_anchor(trust_anchor)
    key = generate_private_key()
    config = Config(name=name, server=(server or DEFAULT_SERVER).rstrip("/"))
    state.create(config, private_key_to_pem(key), key.public.jwk, der_to_pem(anchor))
    if as_json:
        output.json(
            {
                "home": str(state.root),
                "public_key": str(state.public_jwk_path),
                "trust_anchor": x509_hash(anchor),
            }
        )
        return
    output.ok(f"verifier for {name} created in {state.root}")
    output.plain(f"root pinned: sha256 {x509_hash(anchor)}")
    output.plain(f"give the registrar this public key: {state.public_jwk_path}")
    output.plain("then run: cancuoc verifier enroll reg.json")


@verifier_app.command()
@guarded
def enroll(
    registration: Annotated[
        Path,
        typer.Argument(metavar="REG.json", help="The registrar's answer (`admin verifier register --json`)."),
    ],
    as_json: JsonOption = False,
) -> None:
    """Store the registrar's certificate and registration record, after checking both are for this clinic.

    The certificate must hold this clinic's key and chain to the pinned root; the registration record must
    be signed by a registrar under the same root and name this certificate's client id.

    Example: cancuoc verifier enroll reg.json
    """
    from client import output
    from client.verifier.enrol import enroll_from_file

    state = _state().require()
    enrolled = enroll_from_file(state, registration, now=datetime.now(UTC))
    if as_json:
        output.json(enrolled)
        return
    output.ok(f"enrolled as {enrolled['name']}")
    output.plain(f"client id: {enrolled['client_id']}")
    output.plain(f"purpose: {enrolled['purpose']}")
    for allowed in enrolled["allowed"]:
        output.plain(f"  {_may_ask(allowed)}")


@verifier_app.command()
@guarded
def show(as_json: JsonOption = False) -> None:
    """Show the clinic's name, server, client id, registration, pinned root and what is cached.

    Example: cancuoc verifier show --json
    """
    from client import output
    from client.verifier.enrol import describe

    summary = describe(_state().require(), now=datetime.now(UTC))
    if as_json:
        output.json(summary)
        return
    rows = [(k, _cell(v)) for k, v in summary.items() if k not in ("status_lists", "allowed")]
    output.table("verifier", ("", ""), rows)
    for allowed in summary.get("allowed", []):
        output.plain(_may_ask(allowed))
    for cached in summary["status_lists"]:
        output.plain(
            f"status list {cached['uri']}: fetched {cached['age_seconds']} s ago, ttl {cached['ttl']}"
        )


@verifier_app.command()
@guarded
def sync(as_json: JsonOption = False) -> None:
    """Download the issuer certificates, current status lists and display names for offline checks.

    Refuses a server whose root is not the pinned trust anchor. Every status list is verified before it
    is cached; `verifier check` uses the cache while each list is fresh (its ttl).

    Example: cancuoc verifier sync
    """
    from client import output
    from client.api import RelayApi
    from client.verifier.trust import sync as sync_trust

    state = _state().require()
    with RelayApi(state.config().server) as api:
        result = sync_trust(state, api, now=datetime.now(UTC))
    if as_json:
        output.json(
            {
                "certificates": {k: str(v) for k, v in result.certificates.items()},
                "status_lists": result.status_lists,
                "failed": result.failed,
                "display_names": result.display_names,
            }
        )
    else:
        output.ok(f"{len(result.certificates)} certificates: {', '.join(result.certificates)}")
        output.ok(f"{len(result.status_lists)} status lists cached")
        for uri, reason in result.failed.items():
            output.fail(f"{uri}: {reason}")
    if result.failed:
        raise typer.Exit(3)


@verifier_app.command()
@guarded
def request(
    preset: Annotated[Preset | None, typer.Option("--preset", help="A named query.")] = None,
    dcql: Annotated[Path | None, typer.Option("--dcql", help="A DCQL query in a JSON file.")] = None,
    offline: Annotated[
        bool,
        typer.Option("--offline", help="Write the request to --out for a wallet to answer through files."),
    ] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Where --offline writes request.jwt.")] = None,
    qr_png: Annotated[
        Path | None, typer.Option("--qr-png", help="Also write the link's QR code as PNG.")
    ] = None,
    timeout: Annotated[int, typer.Option("--timeout", min=1, help="Seconds to wait for the wallet.")] = 120,
    as_json: JsonOption = False,
) -> None:
    """Ask a wallet for credentials: show an openid4vp:// link and QR code, wait for the answer, check it.

    The signed request (nonce, state, the clinic's certificate and registration) is stored at the server's
    relay; the command polls for the wallet's answer and checks it exactly like `verifier check`.
    Exit 0 valid, 1 invalid, 2 misuse, 3 server or no answer in time. With --offline it only writes the
    request to a file (answer it with `cancuoc wallet present request.jwt --out response.json`).

    Example: cancuoc verifier request --preset clinic-checkin --qr-png checkin.png
    """
    from client.verifier.request import OFFLINE_RESPONSE_URI, load_query, sign_request

    state = _state().require()
    query = load_query(preset, dcql)
    if offline:
        if out is None or qr_png is not None:
            raise UsageError(
                "--offline writes the request to --out (and makes no QR code)", hint=_OFFLINE_HINT
            )
        signed = sign_request(state, query, OFFLINE_RESPONSE_URI, now=datetime.now(UTC))
        out.write_text(signed.jwt + "\n")
        _emit({"request": str(out), "state": signed.request.state, "saved": str(signed.saved)}, as_json)
        return
    from client.verifier.report import finish_report
    from client.verifier.request import run_cross_device

    report, signed = run_cross_device(state, query, qr_png=qr_png, timeout=timeout, as_json=as_json)
    finish_report(report, state, as_json=as_json, title=f"answer to request {signed.request.state}")


@verifier_app.command()
@guarded
def check(
    response: Annotated[
        Path, typer.Argument(metavar="RESPONSE", help="The wallet's answer (response.json).")
    ],
    request_file: Annotated[
        Path, typer.Option("--request", metavar="REQUEST", help="The request.jwt it answers.")
    ],
    as_json: JsonOption = False,
    at: AtOption = None,
    allow_stale: StaleOption = None,
    offline: Annotated[
        bool, typer.Option("--offline", help="Never fetch: use only cached status lists.")
    ] = False,
) -> None:
    """Check a wallet's answer to one of this clinic's requests, and report every check.

    Certificate chain to the pinned root, issuer allowed for the type, signature, validity, disclosures,
    key binding (aud, nonce, freshness, sd_hash), status (cached while fresh; fail closed unless
    --allow-stale), exactly the asked claims, and one citizen across credentials.
    Exit 0 valid, 1 invalid, 2 misuse.

    Example: cancuoc verifier check response.json --request request.jwt --offline --json
    """
    from client.verifier.args import read_text
    from client.verifier.check import check_answer
    from client.verifier.report import finish_report

    state = _state().require()
    answer = read_text(response, "response")
    stale = None if allow_stale is None else parse_duration(allow_stale)
    report = check_answer(
        state,
        answer,
        read_text(request_file, "request"),
        now=parse_time(at),
        allow_stale=stale,
        offline=offline,
    )
    finish_report(report, state, as_json=as_json, title=f"answer in {response}")


_OFFLINE_HINT = "cancuoc verifier request --preset clinic-checkin --offline --out request.jwt"


def _emit(value: dict[str, Any], as_json: bool) -> None:
    from client import output

    if as_json:
        output.json(value)
        return
    for key, item in value.items():
        output.plain(f"{key}: {item}")


def _may_ask(allowed: dict[str, Any]) -> str:
    """One type the clinic is registered for, with its claim paths."""
    claims = ", ".join(".".join(map(str, path)) for path in allowed["claims"])
    return f"may ask {allowed['vct']}: {claims}"


def _cell(value: Any) -> str:
    return "—" if value is None else str(value)
