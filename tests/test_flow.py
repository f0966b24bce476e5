"""The whole story, the first test a newcomer reads: issue → hold → present → verify → revoke → fails.

Everything here is the pure protocol core with explicit keys and an explicit clock; the server and the
wallet (later issues) wrap exactly these calls.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from typer.testing import CliRunner
from vp_support import asked_claims

from client.cli import app
from shared import jose, statuslist
from shared.credentials import VCT_BY_TYPE, example_health_card, example_identity
from shared.errors import RevokedError, SuspendedError
from shared.sdjwt.present import create_presentation, read_unverified
from shared.sdjwt.verify import KeyBindingPolicy
from shared.sdjwt_vc import TrustedIssuer, issue_credential, trusted_issuer_keys, verify_credential

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
VSS = "https://cancuoc.test/vss"
LIST_URI = "https://cancuoc.test/status/vss/1"
CLINIC = "x509_hash:bach-mai-front-desk"


def test_a_health_card_is_issued_presented_verified_and_revoked() -> None:
    # 1. VSS signs with its key; the citizen's wallet has a device key of its own.
    vss_key, device_key = jose.generate_private_key(kid="vss-1"), jose.generate_private_key()
    status = statuslist.StatusList.new(1 << 17, 2)

    # 2. VSS issues the card from its registry record, bound to the device key, with a status entry.
    card_record = example_health_card(example_identity())
    card = issue_credential(
        card_record.to_claims(today=NOW.date()),
        vss_key,
        issuer=VSS,
        vct=VCT_BY_TYPE["health_insurance"],
        holder_jwk=device_key.public.jwk,
        issued_at=int(NOW.timestamp()),
        expires_at=int((NOW + timedelta(days=365)).timestamp()),
        status={"status_list": {"idx": 90210, "uri": LIST_URI}},
    )

    # 3. The wallet can read every claim of its own card.
    assert read_unverified(card).claims["card_number"] == card_record.card_number

    # 4. At the clinic it discloses two claims, bound to the clinic's nonce by its device key.
    nonce = "clinic-nonce-3f9a1c"
    presentation = create_presentation(
        card,
        [("card_number",), ("valid_until",)],
        holder_key=device_key,
        audience=CLINIC,
        nonce=nonce,
        issued_at=int(NOW.timestamp()),
    )

    # 5. The clinic trusts VSS for insurance cards only, and reads the signed status list.
    trusted = trusted_issuer_keys(
        [TrustedIssuer(VSS, (vss_key.public,), frozenset({VCT_BY_TYPE["health_insurance"]}))]
    )

    def status_check(claim: object) -> None:
        token = statuslist.sign_status_list_token(
            status, vss_key, sub=LIST_URI, iat=NOW, exp=NOW + timedelta(hours=12), ttl=300
        )
        checked = statuslist.verify_status_list_token(token, vss_key.public, expected_uri=LIST_URI, now=NOW)
        statuslist.check_status(statuslist.parse_status_claim(claim), checked)

    def verify() -> dict[str, object]:
        return verify_credential(
            presentation,
            trusted,
            now=NOW,
            key_binding=KeyBindingPolicy(audience=CLINIC, nonce=nonce),
            status_check=status_check,
        ).claims

    claims = verify()
    assert claims["card_number"] == card_record.card_number
    assert claims["valid_until"] == card_record.valid_until.isoformat()
    assert "full_name" not in claims
    assert "citizen_id" not in claims

    # 6. VSS suspends, then revokes: the same presentation now fails with the matching code.
    status.set(90210, statuslist.SUSPENDED)
    with pytest.raises(SuspendedError):
        verify()
    status.set(90210, statuslist.INVALID)
    with pytest.raises(RevokedError) as revoked:
        verify()
    assert revoked.value.code == "revoked"


def test_demo_command_checks_in_at_the_clinic_valid_then_invalid_after_the_revocation() -> None:
    # `cancuoc demo` runs the real commands as processes: server, officers, wallet, registrar, clinic.
    result = CliRunner().invoke(app, ["demo", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["received"] == {"identity": 3, "health_insurance": 3, "social_insurance": 3}
    steps = [step["step"] for step in report["steps"]]
    told = [
        "cancuoc wallet init",
        "cancuoc wallet receive",
        "cancuoc verifier init",
        "cancuoc admin verifier register",
        "cancuoc verifier enroll",
        "cancuoc verifier request",
        "cancuoc wallet present",
        "cancuoc admin revoke",
        "cancuoc verifier sync",
        "cancuoc verifier request",
        "cancuoc wallet present",
    ]
    commands = iter(steps)
    assert all(any(f"`{command}" in step for step in commands) for command in told), steps
    assert all("\n" not in step for step in steps)
    assert [(s["valid"], s["exit_code"]) for s in report["steps"] if "valid" in s] == [(True, 0), (False, 1)]

    before = report["before_revocation"]
    assert (before["valid"], before["exit_code"]) == (True, 0)
    assert all(check["ok"] for check in before["checks"])
    disclosed = {c["vct"]: c["claims"] for c in before["credentials"]}
    assert {vct: set(claims) for vct, claims in disclosed.items()} == asked_claims("clinic-checkin")
    card = disclosed[VCT_BY_TYPE["health_insurance"]]
    assert date.fromisoformat(card["valid_until"]) >= datetime.now(UTC).date()

    after = report["after_revocation"]
    assert (after["valid"], after["exit_code"]) == (False, 1)
    assert [(c["name"], c["code"]) for c in after["checks"] if not c["ok"]] == [("status", "revoked")]
    assert {c["vct"]: c["status"] for c in after["credentials"]}[VCT_BY_TYPE["health_insurance"]] == "revoked"
