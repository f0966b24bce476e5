"""`cancuoc audit`: an auditor checks any SD-JWT VC on its own, and lists every finding, not the first one."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer

from client.home import default_home
from client.verifier import UsageError
from client.verifier.args import parse_time, read_text
from client.verifier.commands import guarded
from client.verifier.report import finish_report
from client.verifier.state import VerifierState
from shared.errors import CredentialError
from shared.jose import decode_jws_unverified
from shared.oid4vp.presentation import PresentationPolicy, check_presentation
from shared.oid4vp.report import Report
from shared.oid4vp.status import check_credential_status
from shared.sdjwt.disclosure import split_compact

audit_app = typer.Typer(
    help="Audit credentials on your own: certificate chain, signature, issuer, validity and status.\n\n"
    "Example: cancuoc audit check-credential card.sd-jwt --trust-anchor root.pem",
    no_args_is_help=True,
)


def audit_credential(
    text: str,
    anchors: Sequence[bytes],
    *,
    at: datetime,
    now: datetime,
    status_lookup: Callable[[str], str] | None,
    report: Report | None = None,
    query_id: str | None = None,
) -> Report:
    """Every check of one SD-JWT VC (issued or presented) without a request: validity as of ``at``, status
    as of ``now``. The key binding of a presentation is not checked: there is no request to bind it to."""
    report = report if report is not None else Report()
    before = len(report.checks)
    checked = check_presentation(text, PresentationPolicy(anchors, at, None, None), report, query_id=query_id)
    # The status as of ``at`` cannot be known from today's list: replace that check by one as of ``now``.
    report.checks[before:] = [c for c in report.checks[before:] if c.name != "status"]
    prefix = f"{query_id}: " if query_id else ""
    claims = checked.claims if checked.claims is not None else _unverified_payload(text)
    if claims is None:
        return report
    status = check_credential_status(
        claims, PresentationPolicy(anchors, now, status_lookup, None), report, prefix
    )
    if checked.credential is not None:
        report.credentials.append(msgspec.structs.replace(checked.credential, status=status))
    return report


@audit_app.command("check-credential")
@guarded
def check_credential(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="An SD-JWT VC (as issued or presented), or a wallet's response.json."
        ),
    ],
    at: Annotated[
        str | None,
        typer.Option("--at", help="Check validity as of this ISO 8601 time (status is always now)."),
    ] = None,
    trust_anchor: Annotated[
        str | None,
        typer.Option(
            "--trust-anchor", help="The root certificate, PEM file or URL (default: the verifier's)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Check a credential's certificate chain, issuer, signature, validity, disclosures and current status.

    Every finding is listed, not only the first failure. The status list is fetched now (no redirects);
    when it cannot be had, the status is unknown and the audit fails.
    Exit 0 when every check passed, 1 otherwise, 2 misuse.

    Example: cancuoc audit check-credential card.sd-jwt --at 2026-01-01T00:00Z --trust-anchor root.pem
    """
    from client.api import ApiError, RelayApi
    from shared.oid4vp.response import parse_response

    state = VerifierState.at(default_home(os.environ))
    anchor = _anchor(trust_anchor, state)
    text = read_text(file, "credential")
    now = datetime.now(UTC)
    presentations: list[tuple[str | None, str]] = [(None, text)]
    if text.startswith("{"):
        try:
            token = parse_response(text).vp_token or {}
        except CredentialError as exc:
            raise UsageError(f"{file} is neither an SD-JWT nor a wallet's answer: {exc}") from None
        presentations = [(query_id, p) for query_id, items in token.items() for p in items]
    report = Report()
    with RelayApi() as api:

        def fetch(uri: str) -> str:
            try:
                return api.get_text(uri, "application/statuslist+jwt").strip()
            except ApiError as exc:
                raise OSError(str(exc)) from exc

        for query_id, presentation in presentations:
            audit_credential(
                presentation,
                [anchor],
                at=parse_time(at),
                now=now,
                status_lookup=fetch,
                report=report,
                query_id=query_id,
            )
    finish_report(report, state if state.exists() else None, as_json=as_json, title=f"in {file}")


def _anchor(source: str | None, state: VerifierState) -> bytes:
    from client.verifier.trust import read_trust_anchor
    from shared.jose.x509 import pem_to_der

    if source is not None:
        return read_trust_anchor(source)
    if state.exists():
        return pem_to_der(state.anchor_pem())
    raise UsageError("no trust anchor", hint="pass --trust-anchor root.pem (or its URL)")


def _unverified_payload(text: str) -> dict[str, Any] | None:
    try:
        return decode_jws_unverified(split_compact(text).jws).payload
    except CredentialError:
        return None
