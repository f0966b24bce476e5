"""`cancuoc demo`: the protocol core's story told end to end, in memory, on fresh keys."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from client import output
from shared import jose, statuslist
from shared.credentials import (
    VCT_BY_TYPE,
    CredentialRecord,
    example_health_card,
    example_identity,
    example_social_book,
)
from shared.errors import CredentialError
from shared.sdjwt.present import create_presentation
from shared.sdjwt.verify import KeyBindingPolicy
from shared.sdjwt_vc import TrustedIssuer, issue_credential, trusted_issuer_keys, verify_credential

BASE = "https://cancuoc.demo"
CLINIC = "x509_hash:demo-clinic-bach-mai"
LIST_SIZE = 1 << 17
DAY = 86_400

CHECK_IN = {
    "health_insurance": [("card_number",), ("full_name",), ("valid_until",), ("registered_facility",)],
    "identity": [("full_name",), ("citizen_id",), ("age_over_18",)],
}


@dataclass
class Issuer:
    """An issuer of the demo: its key and its status list (2 bits: valid, revoked, suspended)."""

    name: str
    key: jose.PrivateKey
    status: statuslist.StatusList = field(default_factory=lambda: statuslist.StatusList.new(LIST_SIZE, 2))

    @property
    def identifier(self) -> str:
        return f"{BASE}/{self.name}"

    @property
    def list_uri(self) -> str:
        return f"{BASE}/status/{self.name}/1"

    def status_token(self, now: datetime) -> str:
        return statuslist.sign_status_list_token(
            self.status, self.key, sub=self.list_uri, iat=now, exp=now + timedelta(days=1), ttl=300
        )


def run_demo(*, as_json: bool = False) -> None:
    """Issue, present, verify, revoke, verify again; print each step."""
    now = datetime.now(UTC)
    today, timestamp = now.date(), int(now.timestamp())
    mps = Issuer("mps", jose.generate_private_key(kid="mps-1"))
    vss = Issuer("vss", jose.generate_private_key(kid="vss-1"))
    holder = jose.generate_private_key()
    report: dict[str, Any] = {}

    step(as_json, "MPS and VSS make their P-256 signing keys; the citizen's wallet makes a device key")
    citizen = example_identity()
    card = msgspec.structs.replace(
        example_health_card(citizen), valid_from=date(today.year, 1, 1), valid_until=date(today.year, 12, 31)
    )
    records: dict[str, tuple[Issuer, CredentialRecord]] = {
        "identity": (mps, citizen),
        "health_insurance": (vss, card),
        "social_insurance": (vss, example_social_book(citizen)),
    }
    credentials: dict[str, str] = {}
    indices: dict[str, int] = {}
    for kind, (issuer, record) in records.items():
        indices[kind] = secrets.randbelow(LIST_SIZE)
        credentials[kind] = issue_credential(
            record.to_claims(today=today),
            issuer.key,
            issuer=issuer.identifier,
            vct=VCT_BY_TYPE[kind],
            holder_jwk=holder.public.jwk,
            issued_at=timestamp,
            expires_at=timestamp + 365 * DAY,
            status={"status_list": {"idx": indices[kind], "uri": issuer.list_uri}},
        )
    report["issued"] = {kind: len(sd_jwt) for kind, sd_jwt in credentials.items()}
    step(as_json, f"Issued 3 SD-JWT VCs to {citizen.full_name}, each bound to the device key (cnf.jwk)")
    if not as_json:
        output.table(
            "Issued credentials",
            ["credential", "issuer", "status index", "size"],
            [
                (kind, records[kind][0].name.upper(), indices[kind], f"{len(sd):,} B")
                for kind, sd in credentials.items()
            ],
        )

    nonce = secrets.token_urlsafe(16)
    presentations = {
        kind: create_presentation(
            credentials[kind], paths, holder_key=holder, audience=CLINIC, nonce=nonce, issued_at=timestamp
        )
        for kind, paths in CHECK_IN.items()
    }
    step(as_json, "The clinic asks for the insurance card and identity; the wallet discloses only that")

    trusted = trusted_issuer_keys(
        [
            TrustedIssuer(mps.identifier, (mps.key.public,), frozenset({VCT_BY_TYPE["identity"]})),
            TrustedIssuer(
                vss.identifier,
                (vss.key.public,),
                frozenset({VCT_BY_TYPE["health_insurance"], VCT_BY_TYPE["social_insurance"]}),
            ),
        ]
    )
    policy = KeyBindingPolicy(audience=CLINIC, nonce=nonce)
    report["before_revocation"] = verify_all(presentations, trusted, policy, (mps, vss), now, as_json)

    vss.status.set(indices["health_insurance"], statuslist.INVALID)
    step(as_json, "VSS revokes the health insurance card: one bit pair flips in its signed status list")
    report["after_revocation"] = verify_all(presentations, trusted, policy, (mps, vss), now, as_json)
    if as_json:
        output.json(report)


def verify_all(
    presentations: dict[str, str],
    trusted: Any,
    policy: KeyBindingPolicy,
    issuers: tuple[Issuer, ...],
    now: datetime,
    as_json: bool,
) -> dict[str, Any]:
    """Verify each presentation as the clinic would, status lists fetched (here: signed) fresh."""
    lists = {
        issuer.list_uri: statuslist.verify_status_list_token(
            issuer.status_token(now), issuer.key.public, expected_uri=issuer.list_uri, now=now
        )
        for issuer in issuers
    }

    def status_check(status: Any) -> None:
        reference = statuslist.parse_status_claim(status)
        statuslist.check_status(reference, lists[reference.uri])

    results: dict[str, Any] = {}
    for kind, presentation in presentations.items():
        try:
            credential = verify_credential(
                presentation, trusted, now=now, key_binding=policy, status_check=status_check
            )
        except CredentialError as exc:
            results[kind] = {"valid": False, "code": exc.code, "detail": str(exc)}
            if not as_json:
                output.fail(f"{kind}: INVALID ({exc.code}: {exc})")
            continue
        disclosed = {k: v for k, v in credential.claims.items() if k not in RESERVED_OUTPUT}
        results[kind] = {"valid": True, "claims": disclosed}
        if not as_json:
            output.ok(f"{kind}: VALID, signed by {credential.issuer}, bound to the holder, status valid")
            output.table(f"  disclosed to the clinic ({kind})", ["claim", "value"], sorted(disclosed.items()))
    verdict = all(r["valid"] for r in results.values())
    if not as_json:
        label = "[bold green]VALID[/]" if verdict else "[bold red]INVALID[/]"
        output.console.print(f"  Clinic check-in verdict: {label}")
    return {"valid": verdict, "credentials": results}


RESERVED_OUTPUT = frozenset({"iss", "vct", "iat", "exp", "nbf", "cnf", "status"})


def step(as_json: bool, text: str) -> None:
    if not as_json:
        output.step(text)
