"""`cancuoc demo`: the main story with the real `cancuoc` commands, against a real server process.

A local `cancuoc-server` (SQLite, keys and national root made on first start) is seeded with a small
registry; MPS and VSS officers make offers; the citizen's wallet receives the three credentials over
OpenID4VCI; a registrar certifies a clinic; the clinic's cross-device check-in (OpenID4VP) is VALID; VSS
revokes the card; the same check-in is INVALID (status: revoked). Every role is its own `cancuoc` process
with its own CANCUOC_HOME, as people run it, all in a temporary folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import typer

from client import output
from client.demo_cli import CheckIn, Cli, cross_device_check_in
from client.local_server import LocalServer, local_server

DEMO_PIN = "246810"
"""The demo wallet's PIN (a throw-away wallet in a temporary folder)."""
CLINIC_NAME = "Phòng khám Đa khoa Hà Nội"
CLINIC_PURPOSE = "Tiếp nhận bệnh nhân khám bảo hiểm y tế (check-in with the health insurance card)"
OFFERS = {"mps": ["identity"], "vss": ["health_insurance", "social_insurance"]}
COPIES = "3"


class Story:
    """Each step in one line for a person, or collected with its outcome for `--json`."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.report: dict[str, Any] = {"steps": []}

    def step(self, text: str, **outcome: Any) -> None:
        self.report["steps"].append({"step": text, **outcome})
        if not self.as_json:
            output.step(text)

    def verdict(self, text: str, *, valid: bool, exit_code: int) -> None:
        self.report["steps"].append({"step": text, "valid": valid, "exit_code": exit_code})
        if not self.as_json:
            (output.ok if valid else output.fail)(text)

    def table(self, rows: list[tuple[str, str, str]]) -> None:
        if not self.as_json:
            output.table("  what the clinic saw", ("card", "claim", "value"), rows)


def run_demo(*, as_json: bool = False) -> None:
    """Tell the story step by step (or print one JSON report with ``as_json``); exit 1 if it went wrong."""
    story = Story(as_json)
    with (
        tempfile.TemporaryDirectory(prefix="cancuoc-demo-") as scratch,
        local_server(make_home(scratch, "server")) as server,
    ):
        story.step(
            f"Started cancuoc-server on {server.base_url} (database, keys, national root CA: temp folder)"
        )
        citizen_id = seed(story, server)
        officers = make_operators(story, server, scratch)
        citizen = Cli(make_home(scratch, "citizen"), {"CANCUOC_PIN": DEMO_PIN})
        citizen.run("wallet", "init", "--trust-anchor", f"{server.base_url}/pki/root.pem")
        story.step("The citizen makes a PIN wallet that trusts the national root (`cancuoc wallet init`)")
        receive_all(story, officers, citizen, citizen_id)
        clinic = enroll_clinic(story, server, officers["admin"], make_home(scratch, "clinic"))
        before = check_in(story, clinic, citizen, "before_revocation")
        revoke_card(story, officers["vss"], citizen_id)
        # The clinic trusts a cached status list until its ttl (300 s) runs out: without a sync the
        # revocation would show only after that.
        clinic.run("verifier", "sync")
        story.step("The clinic refreshes its status lists now (`cancuoc verifier sync`), not at their ttl")
        after = check_in(story, clinic, citizen, "after_revocation")
    if as_json:
        output.json(story.report)
    if before.exit_code != 0 or after.exit_code != 1 or failed_check(after) != ("status", "revoked"):
        output.error("the story did not end as it should: VALID, then INVALID with status: revoked")
        raise typer.Exit(1)


def make_home(scratch: str, name: str) -> Path:
    home = Path(scratch) / name
    home.mkdir()
    return home


def seed(story: Story, server: LocalServer) -> str:
    """Seed a small registry; the holder is an adult who holds both VSS records."""
    citizens = server.run("seed", "--citizens", "8", "--seed", "2026")
    holder = next(c for c in citizens if c.get("has_health_card") and c.get("has_social_book"))
    story.step(
        f"Seeded the registries (`cancuoc-server seed`); the holder is {holder['full_name']} "
        f"({holder['citizen_id']})",
        citizen_id=holder["citizen_id"],
    )
    return str(holder["citizen_id"])


def make_operators(story: Story, server: LocalServer, scratch: str) -> dict[str, Cli]:
    """An MPS officer, a VSS officer and a registrar (admin), each with a token in their own `cancuoc`."""
    roles = {"mps": "mps-officer", "vss": "vss-officer", "admin": "admin"}
    officers = {}
    for name, role in roles.items():
        token = server.run("operator", "create", "--role", role, "--name", f"demo {role}")["token"]
        home = make_home(scratch, name)
        officers[name] = Cli(home, {"CANCUOC_SERVER": server.base_url, "CANCUOC_OPERATOR_TOKEN": token})
    story.step(
        "Operators get tokens (`cancuoc-server operator create`): an MPS officer, a VSS officer, a registrar",
        roles=list(roles.values()),
    )
    return officers


def receive_all(story: Story, officers: dict[str, Cli], citizen: Cli, citizen_id: str) -> None:
    """Officers make offers (`cancuoc admin offer`); the wallet receives them (`cancuoc wallet receive`)."""
    received: dict[str, int] = {}
    for issuer, configurations in OFFERS.items():
        credentials = [arg for c in configurations for arg in ("--credential", c)]
        offer = officers[issuer].json(
            "admin", "offer", "--issuer", issuer, "--citizen-id", citizen_id, *credentials
        )
        story.step(
            f"{issuer.upper()} officer makes an offer (`cancuoc admin offer`); "
            f"the code {offer['tx_code']} goes to the citizen by SMS"
        )
        cards = citizen.json(
            "wallet", "receive", offer["offer_uri"], "--tx-code", offer["tx_code"] or "", "--copies", COPIES
        )
        for card in cards:
            received[card["configuration_id"]] = card["copies_left"]
            story.step(
                f"  `cancuoc wallet receive`: {card['configuration_id']}, {card['copies_left']} copies",
                configuration_id=card["configuration_id"],
                copies=card["copies_left"],
            )
    story.report["received"] = received


def enroll_clinic(story: Story, server: LocalServer, registrar: Cli, home: Path) -> Cli:
    """`verifier init` (key, pinned root), `admin verifier register`, `verifier enroll`, `verifier sync`."""
    clinic = Cli(home, {"CANCUOC_SERVER": server.base_url})
    made = clinic.json(
        "verifier", "init", "--name", CLINIC_NAME, "--trust-anchor", f"{server.base_url}/pki/root.pem"
    )
    story.step(f"The clinic {CLINIC_NAME} makes its key and pins the root (`cancuoc verifier init`)")
    reg = registrar.home / "reg.json"
    registered = registrar.json(
        "admin", "verifier", "register", "--name", CLINIC_NAME, "--purpose", CLINIC_PURPOSE,
        "--public-key", made["public_key"], "--allow", "clinic-checkin", "--out", str(reg),
    )  # fmt: skip
    story.step(
        "The registrar certifies it for check-in only (`cancuoc admin verifier register`)",
        client_id=registered["client_id"],
    )
    clinic.run("verifier", "enroll", str(reg))
    clinic.run("verifier", "sync")
    story.step(
        "The clinic stores its certificate (`cancuoc verifier enroll`) and caches status lists (`sync`)"
    )
    return clinic


def check_in(story: Story, clinic: Cli, citizen: Cli, moment: str) -> CheckIn:
    """One cross-device check-in, told in three lines: the link, what the wallet shared, the verdict."""
    done = cross_device_check_in(clinic, citizen)
    again = "The same check-in" if moment == "after_revocation" else "Check-in"
    story.step(f"{again}: the clinic shows a link and QR code (`cancuoc verifier request`)", link=done.link)
    shared: dict[str, list[Any]] = {}
    for card in done.shared["cards"]:
        shared.setdefault(card["query_id"], []).extend(card["claims"])
    story.step(
        f"The wallet checks the clinic's request, shares only what it asks (`cancuoc wallet present`): "
        f"{describe_shared(shared)}",
        shared=shared,
    )
    story.report[moment] = {**done.report, "exit_code": done.exit_code}
    checks = done.report["checks"]
    if done.report["valid"]:
        story.verdict(
            f"VALID (exit {done.exit_code}): {len(checks)} checks passed — right issuers, "
            "presented by its holder just now, not revoked",
            valid=True,
            exit_code=done.exit_code,
        )
        story.table(disclosed_rows(done.report["credentials"]))
    else:
        name, code = failed_check(done) or ("?", "?")
        detail = next(c["detail"] for c in checks if not c["ok"])
        story.verdict(
            f"INVALID (exit {done.exit_code}): check `{name}` failed ({code}) — {detail}",
            valid=False,
            exit_code=done.exit_code,
        )
    return done


def revoke_card(story: Story, vss: Cli, citizen_id: str) -> None:
    """`cancuoc admin families` finds the card's family; `cancuoc admin revoke --family` revokes it."""
    families = vss.json("admin", "families", "--issuer", "vss", "--citizen-id", citizen_id)["families"]
    card = next(f for f in families if f["configuration_id"] == "health_insurance")
    vss.json("admin", "revoke", "--issuer", "vss", "--family", card["id"])
    story.step(
        "A VSS officer revokes the health insurance card, all its copies (`cancuoc admin revoke`)",
        family=card["id"],
    )


def failed_check(done: CheckIn) -> tuple[str, str] | None:
    """The first failed check's name and code."""
    failed = [(c["name"], c["code"]) for c in done.report["checks"] if not c["ok"]]
    return failed[0] if failed else None


def disclosed_rows(credentials: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """The disclosed claims per card; an image as its size, a facility as its name."""
    rows = []
    for credential in credentials:
        card = credential["vct"].split(":")[-2]
        for claim, value in credential["claims"].items():
            if isinstance(value, str) and value.startswith("data:image/"):
                value = "(image)"
            elif isinstance(value, dict) and "name" in value:
                value = value["name"]
            rows.append((card, claim, str(value)))
    return sorted(rows)


def describe_shared(shared: dict[str, list[Any]]) -> str:
    return "; ".join(f"{query}: {', '.join(map(path_text, claims))}" for query, claims in shared.items())


def path_text(path: Any) -> str:
    return "/".join(map(str, path)) if isinstance(path, list) else str(path)
