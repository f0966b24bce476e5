"""`verifier request`: the clinic's signed request object, offline to a file or through the server's relay."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from client.verifier import NoAnswerError, UsageError
from client.verifier.args import read_json
from client.verifier.state import VerifierState
from shared.errors import CredentialError
from shared.jose import private_key_from_pem
from shared.jose.x509 import pem_to_der
from shared.oid4vp.dcql import parse_dcql
from shared.oid4vp.presets import PRESETS
from shared.oid4vp.registration import over_asked, verify_registration
from shared.oid4vp.request import AuthorizationRequest, create_request_object, new_request

if TYPE_CHECKING:
    from client.api import RelayApi, Transaction
    from shared.oid4vp.report import Report

OFFLINE_RESPONSE_URI = "urn:cancuoc:offline"
"""The ``response_uri`` of a request answered through files: a wallet writes its answer, never posts it."""
POLL_SECONDS = 1.0


class SignedRequest(NamedTuple):
    """A request object as signed, and where this clinic keeps a copy."""

    request: AuthorizationRequest
    jwt: str
    saved: Path


def load_query(preset: str | None, dcql_file: Path | None) -> dict[str, Any]:
    """The DCQL query of a preset or of a JSON file; exactly one of them."""
    if dcql_file is None or preset is not None:
        if preset is None or dcql_file is not None:
            raise UsageError("pass exactly one of --preset and --dcql", hint=f"presets: {', '.join(PRESETS)}")
        if preset not in PRESETS:
            raise UsageError(f"no preset {preset!r}", hint=f"presets: {', '.join(PRESETS)}")
        return dict(PRESETS[preset])
    query = read_json(dcql_file, "DCQL query")
    try:
        parse_dcql(query)
    except CredentialError as exc:
        raise UsageError(f"{dcql_file} is not a valid DCQL query: {exc}", hint="see OpenID4VP §6") from None
    if not isinstance(query, dict):
        raise UsageError(f"{dcql_file} is not a JSON object")
    return query


def sign_request(
    state: VerifierState, query: dict[str, Any], response_uri: str, *, now: datetime
) -> SignedRequest:
    """Sign a fresh request (new nonce, state) for ``query``; refuse what the registration does not allow."""
    config = state.config()
    registration = state.registration()
    certificate = pem_to_der(state.certificate_pem())
    anchor = pem_to_der(state.anchor_pem())
    client_id = config.client_id or ""
    try:
        allowed = verify_registration(registration, [anchor], client_id=client_id, now=now).allowed
    except CredentialError as exc:
        raise UsageError(f"this clinic's registration does not verify: {exc}", hint="enroll again") from None
    excess = over_asked(parse_dcql(query), allowed)
    if excess:
        asked = ", ".join(f"{vct} {'/'.join(map(str, path)) or '(type)'}" for vct, path in excess)
        raise UsageError(
            f"the registration does not allow asking {asked}",
            hint="ask only for registered claims (`cancuoc verifier show`), or register again",
        )
    request = new_request(
        client_id=client_id, response_uri=response_uri, dcql_query=query, registration=registration, now=now
    )
    jwt = create_request_object(request, private_key_from_pem(state.key_pem()), [certificate])
    return SignedRequest(request, jwt, state.save_request(request.state or "", jwt))


def wait_for_answer(
    api: RelayApi,
    transaction: Transaction,
    *,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll the relay for the wallet's answer until ``timeout`` seconds have passed."""
    deadline = clock() + timeout
    while True:
        answer = api.result(transaction)
        if answer is not None:
            return answer
        if clock() >= deadline:
            raise NoAnswerError(
                f"no answer from a wallet within {timeout:g} s",
                hint="make a new request (--timeout N waits longer)",
            )
        sleep(POLL_SECONDS)


def run_cross_device(
    state: VerifierState, query: dict[str, Any], *, qr_png: Path | None, timeout: int, as_json: bool
) -> tuple[Report, SignedRequest]:
    """Store a signed request at the relay, show its link and QR code, wait for the answer and check it.

    With ``as_json`` the link and QR code go to stderr, so that stdout holds only the report.
    """
    from client import output
    from client.api import RelayApi
    from client.qr import terminal_qr
    from client.verifier.check import check_answer
    from shared.oid4vp.request import request_link

    with RelayApi(state.config().server) as api:
        transaction = api.create_transaction()
        signed = sign_request(state, query, transaction.response_uri, now=datetime.now(UTC))
        api.put_request(transaction, signed.jwt)
        link = request_link(signed.request.client_id, transaction.request_uri)
        output.plain(link, err=as_json)
        output.plain(terminal_qr(link), err=as_json)
        if qr_png is not None:
            import segno

            segno.make_qr(link).save(str(qr_png), scale=8, border=4)
            output.plain(f"QR code written to {qr_png}", err=as_json)
        with output.errors.status(f"waiting for the wallet (up to {timeout} s)..."):
            answer = wait_for_answer(api, transaction, timeout=timeout)
    report = check_answer(state, answer, signed.jwt, now=datetime.now(UTC))
    return report, signed
