"""`cancuoc wallet` against a real issuer process: receive, list, show, delete; PIN and tamper rules."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_process import RunningServer, running_server
from typer.testing import CliRunner

from client.api import ServerApi
from client.cli import app, main
from client.receive import ReceivedCard, ReceivedCopy
from client.wallet import LockedError, WrongPinError
from client.wallet.store import WALLET_FILE, open_wallet
from shared.encoding import b64url_decode
from shared.errors import MalformedError
from shared.jose import private_jwk, public_key_from_jwk
from shared.sdjwt_vc import TrustedIssuer, trusted_issuer_keys, verify_credential

PIN = "482915"
runner = CliRunner()


@dataclass
class Received:
    """A wallet holding the three credentials of one seeded citizen, and what the test knows about them."""

    home: Path
    server: str
    citizen: dict[str, Any]
    cards: list[dict[str, Any]]

    def wallet(self, *args: str, pin: str = PIN, home: Path | None = None) -> Any:
        env = {"CANCUOC_HOME": str(home or self.home), "CANCUOC_PIN": pin, "COLUMNS": "200"}
        return runner.invoke(app, ["wallet", *args], env=env)

    def card(self, configuration_id: str) -> dict[str, Any]:
        return next(c for c in self.cards if c["configuration_id"] == configuration_id)


def wallet_env(home: Path, pin: str = PIN) -> dict[str, str | None]:
    return {"CANCUOC_HOME": str(home), "CANCUOC_PIN": pin, "COLUMNS": "200"}


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The console script's entry point, with its error mapping: (exit code, stderr)."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    return int(exited.value.code or 0), capsys.readouterr().err


def seeded_citizen(server: RunningServer) -> tuple[dict[str, Any], dict[str, str]]:
    """Seed the server; a citizen who has all three cards, and an officer's token for each issuer."""
    seeded = json.loads(server.command("seed", "--citizens", "3", "--seed", "2", "--json"))
    citizen = next(c for c in seeded if c["has_health_card"] and c["has_social_book"])
    tokens = {issuer: server.create_operator(f"{issuer}-officer") for issuer in ("mps", "vss")}
    return citizen, tokens


def receive_all(
    wallet: Callable[..., Any], server: str, tokens: dict[str, str], citizen_id: str, copies: int
) -> dict[str, str]:
    """Receive each issuer's offer of the citizen's three cards with ``wallet(*args)``: configuration → id."""
    cards: dict[str, str] = {}
    for issuer, configurations in (("mps", ["identity"]), ("vss", ["health_insurance", "social_insurance"])):
        with ServerApi(server, tokens[issuer]) as officer:
            offer = officer.create_offer(issuer, citizen_id, configurations)
        got = wallet(
            "receive", offer.offer_uri, "--tx-code", offer.tx_code or "", "--copies", str(copies), "--json"
        )
        assert got.exit_code == 0, got.output
        cards.update({c["configuration_id"]: c["id"] for c in json.loads(got.stdout)})
    return cards


@pytest.fixture(scope="module")
def received(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Received]:
    with running_server(tmp_path_factory.mktemp("wallet-server")) as server:
        citizen, tokens = seeded_citizen(server)
        home = tmp_path_factory.mktemp("wallet-home")
        state = Received(home, server.base_url, citizen, [])
        assert state.wallet("init").exit_code == 0
        with ServerApi(server.base_url, tokens["mps"]) as officer:
            identity = officer.create_offer("mps", citizen["citizen_id"], ["identity"], by_reference=True)
        with ServerApi(server.base_url, tokens["vss"]) as officer:
            insurance = officer.create_offer(
                "vss", citizen["citizen_id"], ["health_insurance", "social_insurance"]
            )
        offer_file = home.parent / "vss-offer.txt"
        offer_file.write_text(insurance.offer_uri + "\n")
        for where, code in (
            (identity.credential_offer_uri, identity.tx_code),
            (str(offer_file), insurance.tx_code),
        ):
            result = state.wallet("receive", where, "--tx-code", code or "", "--copies", "3", "--json")
            assert result.exit_code == 0, result.output
            state.cards.extend(json.loads(result.stdout))
        yield state


def test_receive_stores_all_three_credentials(received: Received) -> None:
    assert sorted(c["configuration_id"] for c in received.cards) == [
        "health_insurance",
        "identity",
        "social_insurance",
    ]
    assert {c["issuer"] for c in received.cards} == {f"{received.server}/mps", f"{received.server}/vss"}
    assert all(c["copies_left"] == 3 and c["status"] == "unknown" for c in received.cards)


def test_list_shows_the_cards_with_copies_left(received: Received) -> None:
    listed = received.wallet("list", "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [
        {k: c[k] for k in ("id", "vct", "issuer", "configuration_id", "copies_left", "status")}
        for c in received.cards
    ]
    human = received.wallet("list")
    assert all(c["id"] in human.stdout for c in received.cards)


def test_show_prints_the_claims(received: Received) -> None:
    identity = received.card("identity")["id"]
    shown = received.wallet("show", identity, "--json")
    assert shown.exit_code == 0, shown.output
    claims = json.loads(shown.stdout)["claims"]
    assert claims["full_name"] == received.citizen["full_name"]
    assert claims["citizen_id"] == received.citizen["citizen_id"]
    assert "cnf" not in claims
    human = received.wallet("show", identity)
    assert received.citizen["full_name"] in human.stdout


def test_show_uses_the_issuers_display_names_in_both_languages(received: Received) -> None:
    identity = received.card("identity")["id"]
    vietnamese = received.wallet("show", identity, "--lang", "vi")
    assert vietnamese.exit_code == 0, vietnamese.output
    assert "Căn cước điện tử" in vietnamese.stdout
    assert "Họ, chữ đệm và tên" in vietnamese.stdout
    english = received.wallet("show", identity, "--lang", "en")
    assert "Electronic identity" in english.stdout
    assert "Full name" in english.stdout
    assert received.wallet("show", identity, "--lang", "fr").exit_code == 2


def test_raw_is_the_credential_the_issuer_sent(received: Received) -> None:
    card = received.card("health_insurance")
    raw = received.wallet("show", card["id"], "--raw")
    assert raw.exit_code == 0, raw.output
    credential = raw.stdout.removesuffix("\n")
    assert "\n" not in credential
    jwk = httpx.get(f"{received.server}/.well-known/jwt-vc-issuer/vss").json()["jwks"]["keys"][0]
    trusted = TrustedIssuer(card["issuer"], (public_key_from_jwk(jwk),), frozenset({card["vct"]}))
    verified = verify_credential(
        credential, trusted_issuer_keys([trusted]), now=datetime.now(UTC), key_binding=None
    )
    assert verified.claims["vct"] == card["vct"]
    wallet = open_wallet(received.home, PIN, now=datetime.now(UTC))
    try:
        stored = [copy.credential for copy in wallet.get_card(card["id"]).copies]
    finally:
        wallet.close()
    assert credential == stored[0]
    assert len(set(stored)) == 3


def test_no_file_holds_personal_data_keys_or_credentials_in_clear(received: Received) -> None:
    wallet = open_wallet(received.home, PIN, now=datetime.now(UTC))
    try:
        secrets: list[bytes] = [
            received.citizen["full_name"].encode(),
            received.citizen["citizen_id"].encode(),
        ]
        for card in received.cards:
            for copy in wallet.get_card(card["id"]).copies:
                d = private_jwk(copy.key)["d"]
                secrets += [copy.credential.encode(), copy.credential.split("~")[0].encode()]
                secrets += [d.encode(), b64url_decode(d)]
    finally:
        wallet.close()
    files = [p for p in received.home.rglob("*") if p.is_file()]
    assert files
    for path in files:
        content = path.read_bytes()
        for secret in secrets:
            assert secret not in content, f"{path.name} holds a secret in clear"
    assert (received.home / WALLET_FILE).stat().st_mode & 0o777 == 0o600


def test_delete_removes_a_card_and_its_copies(received: Received, tmp_path: Path) -> None:
    home = copy_wallet(received, tmp_path)
    social = received.card("social_insurance")["id"]
    assert received.wallet("delete", social, "--yes", home=home).exit_code == 0
    listed = json.loads(received.wallet("list", "--json", home=home).stdout)
    assert social not in {c["id"] for c in listed}
    assert len(listed) == 2
    with sqlite3.connect(home / WALLET_FILE) as db:
        assert db.execute("SELECT count(*) FROM copies").fetchone() == (6,)


def test_a_failing_store_leaves_nothing_behind(received: Received, tmp_path: Path) -> None:
    home = copy_wallet(received, tmp_path)
    wallet = open_wallet(home, PIN, now=datetime.now(UTC))
    try:
        good = wallet.get_card(received.card("identity")["id"])
        copies = tuple(ReceivedCopy(c.credential, c.key) for c in good.copies)
        card = ReceivedCard(good.summary.issuer, "identity", good.summary.vct, copies)
        broken = replace(card, copies=(ReceivedCopy("not an sd-jwt", copies[0].key),))
        with pytest.raises(MalformedError):
            wallet.add_card([card, broken], now=datetime.now(UTC))
        assert len(wallet.list_cards()) == 3
    finally:
        wallet.close()


def test_no_wallet_is_one_line_with_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CANCUOC_HOME", str(tmp_path))
        env.setenv("CANCUOC_PIN", PIN)
        code, err = run_main(["wallet", "list"], capsys)
    assert code == 4
    first, hint = err.splitlines()
    assert first == f"error: no wallet here ({tmp_path})"
    assert "cancuoc wallet init" in hint


def test_init_refuses_a_short_pin_and_an_existing_wallet(tmp_path: Path) -> None:
    short = runner.invoke(app, ["wallet", "init"], env=wallet_env(tmp_path, "12345"))
    assert short.exit_code == 1
    assert getattr(short.exception, "exit_code", None) == 2
    assert not (tmp_path / WALLET_FILE).exists()
    prompted = runner.invoke(app, ["wallet", "init"], env=wallet_env(tmp_path, ""), input="654321\n654321\n")
    assert prompted.exit_code == 0, prompted.output
    assert "654321" not in prompted.output
    again = runner.invoke(app, ["wallet", "init"], env=wallet_env(tmp_path))
    assert "already exists" in str(again.exception)


def test_wrong_pins_are_counted_and_the_sixth_try_waits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert runner.invoke(app, ["wallet", "init"], env=wallet_env(tmp_path)).exit_code == 0
    errors = []
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CANCUOC_HOME", str(tmp_path))
        for pin in ["111111"] * 5 + [PIN]:
            env.setenv("CANCUOC_PIN", pin)
            code, err = run_main(["wallet", "list"], capsys)
            assert code == 4
            errors.append(err.splitlines()[0])
    assert errors[0] == "error: wrong PIN: 4 tries left before the wallet locks"
    assert errors[3] == "error: wrong PIN: 1 try left before the wallet locks"
    assert errors[4] == "error: the wallet is locked after too many wrong PINs: try again in 30 s"
    assert errors[5].startswith("error: the wallet is locked after too many wrong PINs: try again in ")
    later = datetime.now(UTC) + timedelta(seconds=31)
    with pytest.raises(LockedError) as locked:
        open_wallet(tmp_path, "111111", now=later)
    assert locked.value.seconds == 60
    open_wallet(tmp_path, PIN, now=later + timedelta(seconds=61)).close()
    with pytest.raises(WrongPinError, match="4 tries left"):
        open_wallet(tmp_path, "111111", now=later + timedelta(seconds=61))


@pytest.mark.parametrize("attack", ["flip_copy", "swap_copies", "move_copy", "edit_card", "flip_card"])
def test_a_tampered_row_is_refused(
    received: Received, tmp_path: Path, capsys: pytest.CaptureFixture[str], attack: str
) -> None:
    home = copy_wallet(received, tmp_path)
    health, social = received.card("health_insurance")["id"], received.card("social_insurance")["id"]
    with sqlite3.connect(home / WALLET_FILE) as db:
        (first, blob_a), (second, blob_b) = db.execute(
            "SELECT id, blob FROM copies WHERE card_id = ? LIMIT 2", (health,)
        ).fetchall()
        if attack == "flip_copy":
            flipped = bytes([blob_a[20] ^ 1])
            db.execute(
                "UPDATE copies SET blob = ? WHERE id = ?", (blob_a[:20] + flipped + blob_a[21:], first)
            )
        elif attack == "swap_copies":
            db.execute("UPDATE copies SET blob = ? WHERE id = ?", (blob_b, first))
            db.execute("UPDATE copies SET blob = ? WHERE id = ?", (blob_a, second))
        elif attack == "move_copy":
            db.execute("UPDATE copies SET card_id = ? WHERE id = ?", (social, first))
        elif attack == "edit_card":
            db.execute("UPDATE cards SET vct = 'urn:forged' WHERE id = ?", (health,))
        else:
            (card_blob,) = db.execute("SELECT blob FROM cards WHERE id = ?", (health,)).fetchone()
            flipped_card = card_blob[:30] + bytes([card_blob[30] ^ 0x80]) + card_blob[31:]
            db.execute("UPDATE cards SET blob = ? WHERE id = ?", (flipped_card, health))
    target = social if attack == "move_copy" else health
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CANCUOC_HOME", str(home))
        env.setenv("CANCUOC_PIN", PIN)
        code, err = run_main(["wallet", "show", target, "--raw"], capsys)
    assert code == 4
    assert err.startswith("error: the wallet's data was altered")


def test_every_command_has_help_with_an_example() -> None:
    for command in ("init", "receive", "list", "show", "delete"):
        result = runner.invoke(app, ["wallet", command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0
        assert f"Example: cancuoc wallet {command}" in result.stdout


def copy_wallet(received: Received, tmp_path: Path) -> Path:
    """A copy of the received wallet to spoil without touching the shared one."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy2(received.home / WALLET_FILE, home / WALLET_FILE)
    return home
