"""Enrolment: checking and storing the registrar's answer for this clinic; describing the verifier."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from client.verifier import EnrolmentRefusedError, UsageError
from client.verifier.args import read_text
from client.verifier.state import VerifierState
from shared.errors import CredentialError
from shared.jose import private_key_from_pem
from shared.jose.x5c import x5c_of, x509_hash
from shared.jose.x509 import pem_to_der, verify_chain
from shared.oid4vp.registration import verify_registration
from shared.oid4vp.request import VERIFIER_ROLE, X509_HASH

REFUSED_HINT = "ask the registrar to register this clinic's clinic-public.jwk under the pinned root"


class RegistrarAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """`POST /verifiers`'s answer, as `cancuoc admin verifier register --json` writes it."""

    client_id: str
    certificate: str
    registration: str
    chain: list[str] = []


def enroll_from_file(state: VerifierState, path: Path, *, now: datetime) -> dict[str, Any]:
    """Check the registrar's answer in ``path`` against this clinic's key and pinned root, then store it."""
    try:
        answer = msgspec.json.decode(read_text(path, "registration file"), type=RegistrarAnswer)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UsageError(
            f"{path} is not a registrar's answer: {exc}", hint="pass the file it wrote"
        ) from None
    anchor = pem_to_der(state.anchor_pem())
    try:
        leaf = pem_to_der(answer.certificate.encode())
        chain = verify_chain(x5c_of([leaf]), [anchor], now=now)
        registration = verify_registration(answer.registration, [anchor], client_id=answer.client_id, now=now)
    except (CredentialError, ValueError) as exc:
        reason = f"{exc.code}: {exc}" if isinstance(exc, CredentialError) else str(exc)
        raise EnrolmentRefusedError(
            f"the registrar's answer does not verify ({reason})", REFUSED_HINT
        ) from None
    own = private_key_from_pem(state.key_pem()).public
    if chain.key.jwk != own.jwk:
        raise EnrolmentRefusedError("the certificate is for another key than this clinic's", REFUSED_HINT)
    if VERIFIER_ROLE not in chain.roles:
        raise EnrolmentRefusedError("the certificate is not a verifier's", REFUSED_HINT)
    if answer.client_id != X509_HASH + x509_hash(leaf):
        raise EnrolmentRefusedError("the client id is not the certificate's x509_hash", REFUSED_HINT)
    state.enroll(answer.certificate.encode(), answer.registration, answer.client_id)
    return {
        "client_id": answer.client_id,
        "name": registration.name,
        "purpose": registration.purpose,
        "certificate_expires": chain.not_after.isoformat(),
        "registration_expires": registration.expires_at.isoformat(),
        "allowed": [{"vct": a.vct, "claims": [list(p) for p in a.claims]} for a in registration.allowed],
    }


def describe(state: VerifierState, *, now: datetime) -> dict[str, Any]:
    """What `verifier show` prints: configuration, enrolment, pinned root and caches."""
    config = state.config()
    anchor = pem_to_der(state.anchor_pem())
    summary: dict[str, Any] = {
        "name": config.name,
        "server": config.server,
        "home": str(state.root),
        "client_id": config.client_id,
        "enrolled": state.enrolled(),
        "trust_anchor_sha256": x509_hash(anchor),
    }
    if state.enrolled():
        try:
            registration = verify_registration(
                state.registration(), [anchor], client_id=config.client_id or "", now=now
            )
        except CredentialError as exc:
            summary["registration"] = f"{exc.code}: {exc}"
        else:
            summary["purpose"] = registration.purpose
            summary["registration_expires"] = registration.expires_at.isoformat()
            summary["allowed"] = [
                {"vct": a.vct, "claims": [list(p) for p in a.claims]} for a in registration.allowed
            ]
    summary["issuer_certificates"] = sorted(state.issuer_certificates())
    summary["status_lists"] = [
        {"uri": c.uri, "age_seconds": int(now.timestamp() - c.fetched_at), "ttl": c.ttl}
        for c in state.cached_status_lists()
    ]
    return summary
