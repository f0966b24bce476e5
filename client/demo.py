"""`cancuoc demo`: the main story against a real server process, on embedded defaults and fresh keys.

A local `cancuoc-server` (SQLite, keys made on first start) is seeded with a small registry; MPS and
VSS officers make offers; a holder receives the three credentials over OpenID4VCI; a clinic checks a
presentation (VALID); VSS revokes the card; the same check fails (INVALID, revoked).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from client import output
from client.api import IssuerApi, ServerApi
from client.local_server import LocalServer, LocalServerError, local_server
from client.wallet.store import StoredCopy, open_wallet, opened
from shared import statuslist
from shared.errors import CredentialError, InvalidStatusListError
from shared.jose import public_key_from_jwk
from shared.oid4vci import JwtVcIssuerMetadata, well_known_url
from shared.sdjwt.present import create_presentation
from shared.sdjwt.verify import KeyBindingPolicy
from shared.sdjwt_vc import TrustedIssuer, trusted_issuer_keys, verify_credential

CLINIC = "x509_hash:demo-clinic-bach-mai"
CHECK_IN = {
    "health_insurance": [("card_number",), ("full_name",), ("valid_until",), ("registered_facility",)],
    "identity": [("full_name",), ("citizen_id",), ("age_over_18",)],
}
ISSUER_VCTS = {
    "mps": frozenset({"urn:cancuoc:identity:1"}),
    "vss": frozenset({"urn:cancuoc:health-insurance:1", "urn:cancuoc:social-insurance:1"}),
}


def run_demo(*, as_json: bool = False) -> None:
    """Tell the story step by step (or print one JSON report with ``as_json``)."""
    story = Story(as_json)
    with (
        tempfile.TemporaryDirectory(prefix="cancuoc-demo-") as scratch,
        local_server(Path(scratch)) as server,
    ):
        story.step(f"Started cancuoc-server on {server.base_url} (SQLite and keys in a temporary folder)")
        citizen = pick_citizen(server)
        story.step(f"Seeded the registries; the holder is {citizen['full_name']} ({citizen['citizen_id']})")
        tokens = {
            issuer: server.run(
                "operator", "create", "--role", f"{issuer}-officer", "--name", f"demo {issuer}"
            )["token"]
            for issuer in ("mps", "vss")
        }
        cards = receive_all(story, server, tokens, citizen["citizen_id"])
        nonce = secrets.token_urlsafe(16)
        now = datetime.now(UTC)
        presentations = {
            card.configuration_id: create_presentation(
                card.copy.credential,
                CHECK_IN[card.configuration_id],
                holder_key=card.copy.key,
                audience=CLINIC,
                nonce=nonce,
                issued_at=int(now.timestamp()),
            )
            for card in cards
            if card.configuration_id in CHECK_IN
        }
        story.step("At the clinic the wallet discloses only the asked claims, bound to the clinic's nonce")
        policy = KeyBindingPolicy(audience=CLINIC, nonce=nonce)
        story.report["before_revocation"] = check_in(story, server, presentations, policy)
        with ServerApi(server.base_url, tokens["vss"]) as vss:
            families = vss.list_families("vss", citizen["citizen_id"]).families
            card_family = next(f for f in families if f.configuration_id == "health_insurance")
            vss.set_family_status("vss", card_family.id, "revoked")
        story.step("A VSS officer revokes the health insurance card (every copy: one family, one status)")
        story.report["after_revocation"] = check_in(story, server, presentations, policy)
    if as_json:
        output.json(story.report)


DEMO_PIN = "246810"
"""The demo wallet's PIN (a throw-away wallet in a temporary folder)."""


@dataclass(frozen=True)
class Holding:
    """One card in the citizen's wallet, and the copy the demo presents."""

    configuration_id: str
    copy: StoredCopy


class CitizenWallet:
    """`cancuoc wallet …` as a separate process with its own CANCUOC_HOME and PIN, as a citizen runs it."""

    def __init__(self, home: Path, pin: str) -> None:
        self.home, self.pin = home, pin

    def run(self, *args: str) -> Any:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CANCUOC_")}
        environment.update(CANCUOC_HOME=str(self.home), CANCUOC_PIN=self.pin)
        done = subprocess.run(  # noqa: S603 - our own console script with fixed arguments
            [str(Path(sys.executable).parent / "cancuoc"), "wallet", *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise LocalServerError(f"cancuoc wallet {args[0]} failed: {done.stderr.strip()[-500:]}")
        return json.loads(done.stdout) if "--json" in args else None


class Story:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.report: dict[str, Any] = {}

    def step(self, text: str) -> None:
        if not self.as_json:
            output.step(text)


def pick_citizen(server: LocalServer) -> dict[str, Any]:
    """A seeded adult who holds both VSS records."""
    citizens = server.run("seed", "--citizens", "8", "--seed", "2026")
    for citizen in citizens:
        if citizen.get("has_health_card") and citizen.get("has_social_book"):
            return dict(citizen)
    raise RuntimeError("the seeded registry has no citizen with both VSS records")


def receive_all(story: Story, server: LocalServer, tokens: dict[str, str], citizen_id: str) -> list[Holding]:
    """The citizen's part through the real wallet CLI (`cancuoc wallet init|receive`), non-interactively."""
    home = server.data_dir / "citizen-wallet"
    wallet = CitizenWallet(home, DEMO_PIN)
    wallet.run("init")
    story.step("The citizen activates a PIN-protected wallet (`cancuoc wallet init`)")
    offers = {"mps": ["identity"], "vss": ["health_insurance", "social_insurance"]}
    stored: list[dict[str, Any]] = []
    for issuer, configurations in offers.items():
        with ServerApi(server.base_url, tokens[issuer]) as officer:
            offer = officer.create_offer(issuer, citizen_id, configurations)
        story.step(
            f"{issuer.upper()} officer makes an offer; the code {offer.tx_code} goes to the citizen by SMS"
        )
        received = wallet.run(
            "receive", offer.offer_uri, "--tx-code", offer.tx_code or "", "--copies", "3", "--json"
        )
        for card in received:
            story.step(
                f"  `cancuoc wallet receive`: {card['configuration_id']}, {card['copies_left']} copies"
            )
        stored.extend(received)
    story.report["received"] = {card["configuration_id"]: card["copies_left"] for card in stored}
    with opened(open_wallet(home, DEMO_PIN, now=datetime.now(UTC))) as opened_wallet:
        return [
            Holding(card["configuration_id"], opened_wallet.get_card(card["id"]).copies[0]) for card in stored
        ]


def check_in(
    story: Story, server: LocalServer, presentations: dict[str, str], policy: KeyBindingPolicy
) -> dict[str, Any]:
    """Verify as the clinic does: issuer keys from their metadata, status from signed status lists."""
    now = datetime.now(UTC)
    with IssuerApi() as api:
        trusted = [
            published_issuer(api, f"{server.base_url}/{name}", vcts) for name, vcts in ISSUER_VCTS.items()
        ]
        # The status list signer's key is published after each issuer's own in its JWKS.
        status_keys = {
            f"{server.base_url}/status/{name}/": t.keys[-1]
            for name, t in zip(ISSUER_VCTS, trusted, strict=True)
        }

        def status_check(claim: Any) -> None:
            reference = statuslist.parse_status_claim(claim)
            key = next((k for prefix, k in status_keys.items() if reference.uri.startswith(prefix)), None)
            if key is None:
                raise InvalidStatusListError(
                    f"no trusted signer for {reference.uri}", reason="untrusted_list"
                )
            token = api.status_list(reference.uri)
            verified = statuslist.verify_status_list_token(token, key, expected_uri=reference.uri, now=now)
            statuslist.check_status(reference, verified)

        results: dict[str, Any] = {}
        for kind, presentation in presentations.items():
            try:
                credential = verify_credential(
                    presentation,
                    trusted_issuer_keys(trusted),
                    now=now,
                    key_binding=policy,
                    status_check=status_check,
                )
            except CredentialError as exc:
                results[kind] = {"valid": False, "code": exc.code, "detail": str(exc)}
                if not story.as_json:
                    output.fail(f"{kind}: INVALID ({exc.code}: {exc})")
                continue
            shown = {k: v for k, v in credential.claims.items() if k not in HIDDEN}
            results[kind] = {"valid": True, "claims": shown}
            if not story.as_json:
                output.ok(
                    f"{kind}: VALID — signed by {credential.issuer}, presented by its holder, not revoked"
                )
                output.table(f"  disclosed to the clinic ({kind})", ["claim", "value"], sorted(shown.items()))
    verdict = all(r["valid"] for r in results.values())
    if not story.as_json:
        label = "[bold green]VALID[/]" if verdict else "[bold red]INVALID[/]"
        output.console.print(f"  Clinic check-in verdict: {label}")
    return {"valid": verdict, "credentials": results}


def published_issuer(api: IssuerApi, issuer: str, vcts: frozenset[str]) -> TrustedIssuer:
    document = api.get(well_known_url(issuer, "jwt-vc-issuer"), JwtVcIssuerMetadata)
    keys = tuple(public_key_from_jwk(jwk) for jwk in (document.jwks.keys if document.jwks else []))
    return TrustedIssuer(issuer, keys, vcts)


HIDDEN = frozenset({"iss", "vct", "iat", "exp", "nbf", "cnf", "status"})
