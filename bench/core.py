"""Protocol core throughput: our issue and verify against the raw ES256 floor and the reference library."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from shared import jose, statuslist
from shared.credentials import example_identity
from shared.sdjwt.markers import SD
from shared.sdjwt.present import create_presentation
from shared.sdjwt.verify import KeyBindingPolicy
from shared.sdjwt_vc import issue_credential, verify_credential

ISSUER = "https://cancuoc.bench/mps"
VCT = "urn:cancuoc:identity:1"
AUDIENCE = "x509_hash:bench-clinic"
NONCE = "bench-nonce-0123456789"
LIST_URI = "https://cancuoc.bench/status/mps/1"
DISCLOSED = [("full_name",), ("citizen_id",), ("birth_date",), ("age_over_18",)]


def compiled() -> bool:
    """Whether this process runs the compiled build (setup.py), as `make bench` and `pytest-compiled` do."""
    from importlib.machinery import EXTENSION_SUFFIXES

    from shared import encoding

    return any(str(encoding.__file__).endswith(suffix) for suffix in EXTENSION_SUFFIXES)


def build() -> str:
    """Which build of the protocol core this process runs, in words."""
    return "compiled with mypyc (make wheel)" if compiled() else "pure Python (editable install)"


def rate(operation: Callable[[], Any], seconds: float, *, runs: int = 3) -> float:
    """Operations per second: the best of ``runs`` runs of about ``seconds`` / ``runs`` each."""
    best = 0.0
    for _ in range(runs):
        count, started = 0, time.perf_counter()
        deadline = started + seconds / runs
        while True:
            for _ in range(20):
                operation()
            count += 20
            elapsed = time.perf_counter() - started
            if elapsed >= seconds / runs or time.perf_counter() > deadline:
                break
        best = max(best, count / elapsed)
    return best


def rates(operations: dict[str, Callable[[], Any]], seconds: float, *, rounds: int = 15) -> dict[str, float]:
    """Operations per second of each, measured in turns (a short run of each per round, ``rounds`` rounds
    over about ``seconds`` in all) and the best run kept: a ratio between them then compares runs made in
    the same moments, whatever else the machine was doing."""
    best = dict.fromkeys(operations, 0.0)
    share = seconds / rounds / len(operations)
    for _ in range(rounds):
        for name, operation in operations.items():
            best[name] = max(best[name], rate(operation, share, runs=1))
    return best


def to_reference_claims(value: Any) -> Any:
    """Our SD markers → the reference library's SDObj markers (same claims, same disclosability)."""
    if isinstance(value, dict):
        return {
            (SDObj(k.value) if isinstance(k, SD) else k): to_reference_claims(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            SDObj(to_reference_claims(v.value)) if isinstance(v, SD) else to_reference_claims(v)
            for v in value
        ]
    return value


def measure(seconds: float) -> dict[str, float]:
    """Run every measurement of the core and return the rates."""
    now = datetime.now(UTC)
    timestamp = int(now.timestamp())
    issuer, holder = jose.generate_private_key(kid="mps-1"), jose.generate_private_key()
    subject = example_identity().to_claims(today=now.date())
    status_list = statuslist.StatusList.new(1 << 20, 2)
    status = {"status_list": {"idx": 4242, "uri": LIST_URI}}

    def issue() -> str:
        return issue_credential(
            subject,
            issuer,
            issuer=ISSUER,
            vct=VCT,
            holder_jwk=holder.public.jwk,
            issued_at=timestamp,
            expires_at=timestamp + 86_400,
            status=status,
        )

    credential = issue()
    presentation = create_presentation(
        credential, DISCLOSED, holder_key=holder, audience=AUDIENCE, nonce=NONCE, issued_at=timestamp
    )
    policy = KeyBindingPolicy(AUDIENCE, NONCE)
    cached_lists = {LIST_URI: status_list}

    def status_check(claim: Any) -> None:
        reference = statuslist.parse_status_claim(claim)
        statuslist.check_status(reference, cached_lists[reference.uri])

    def verify() -> None:
        verify_credential(presentation, issuer.public, now=now, key_binding=policy, status_check=status_check)

    jws_part = credential.split("~")[0]
    signing_input = jws_part.rsplit(".", 1)[0].encode()
    raw_key = issuer.key
    if not isinstance(raw_key, ec.EllipticCurvePrivateKey):
        raise TypeError("the bench issuer key must be P-256")
    der = raw_key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
    public = raw_key.public_key()

    def raw_sign() -> None:
        raw_key.sign(signing_input, ec.ECDSA(hashes.SHA256()))

    def raw_verify_twice() -> None:
        public.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        public.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))

    reference_issuer_key = JWK(**jose.private_jwk(issuer))
    reference_holder_key = JWK(**jose.private_jwk(holder))
    reference_public_holder = JWK(**holder.public.jwk)
    reference_claims = {
        "iss": ISSUER,
        "vct": VCT,
        "iat": timestamp,
        "exp": timestamp + 86_400,
        "status": status,
        **to_reference_claims(subject),
    }

    def reference_issue() -> str:
        return str(
            SDJWTIssuer(
                reference_claims,
                reference_issuer_key,
                holder_key=reference_public_holder,
                extra_header_parameters={"typ": "dc+sd-jwt"},
            ).sd_jwt_issuance
        )

    reference_holder = SDJWTHolder(reference_issue())
    reference_holder.create_presentation(
        {name[0]: True for name in DISCLOSED}, nonce=NONCE, aud=AUDIENCE, holder_key=reference_holder_key
    )
    reference_presentation = reference_holder.sd_jwt_presentation

    def reference_verify() -> None:
        SDJWTVerifier(
            reference_presentation,
            lambda iss, header: reference_issuer_key,
            expected_aud=AUDIENCE,
            expected_nonce=NONCE,
        ).get_verified_payload()

    verify()  # fail loudly before timing anything
    return {
        "claims": float(len(subject)),
        "credential_bytes": float(len(credential)),
        "raw_sign": rate(raw_sign, seconds),
        "raw_verify2": rate(raw_verify_twice, seconds),
        "issue": rate(issue, seconds),
        "verify": rate(verify, seconds),
        "reference_issue": rate(reference_issue, seconds),
        "reference_verify": rate(reference_verify, seconds),
    }
