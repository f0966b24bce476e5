"""`cancuoc wallet status|backup|restore` against a real issuer: revocation, fail closed, round trip."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from server_process import RunningServer, running_server
from test_wallet import PIN, receive_all, run_main, runner, seeded_citizen, wallet_env

from client.api import ServerApi
from client.cli import app
from client.wallet.backup import DAMAGED, DamagedBackupError, read_backup
from client.wallet.store import WALLET_FILE


@dataclass
class Holder:
    """A wallet with the three cards of one citizen, and the server (which the last test stops)."""

    home: Path
    server: RunningServer
    citizen_id: str
    vss_token: str
    cards: dict[str, str]
    stack: ExitStack

    def wallet(self, *args: str, pin: str = PIN, home: Path | None = None) -> Any:
        return runner.invoke(app, ["wallet", *args], env=wallet_env(home or self.home, pin))

    def statuses(self) -> dict[str, dict[str, Any]]:
        result = self.wallet("status", "--json")
        assert result.exit_code == 0, result.output
        by_id = {entry["id"]: entry for entry in json.loads(result.stdout)}
        return {name: by_id[card_id] for name, card_id in self.cards.items()}

    def set_status(self, configuration_id: str, status: Any) -> None:
        with ServerApi(self.server.base_url, self.vss_token) as officer:
            families = officer.list_families("vss", self.citizen_id).families
            family = next(f for f in families if f.configuration_id == configuration_id)
            officer.set_family_status("vss", family.id, status)


@pytest.fixture(scope="module")
def holder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Holder]:
    with ExitStack() as stack:
        server = stack.enter_context(running_server(tmp_path_factory.mktemp("status-server")))
        citizen, tokens = seeded_citizen(server)
        state = Holder(
            tmp_path_factory.mktemp("status-home"), server, citizen["citizen_id"], tokens["vss"], {}, stack
        )
        assert state.wallet("init").exit_code == 0
        state.cards = receive_all(state.wallet, server.base_url, tokens, state.citizen_id, copies=2)
        yield state


def test_backup_restores_the_same_cards_byte_for_byte(holder: Holder, tmp_path: Path) -> None:
    assert holder.wallet("status").exit_code == 0
    out = tmp_path / "backup.json"
    made = holder.wallet("backup", "--out", str(out))
    assert made.exit_code == 0, made.output
    assert out.stat().st_mode & 0o777 == 0o600
    fresh = tmp_path / "fresh"
    restored = holder.wallet("restore", str(out), home=fresh)
    assert restored.exit_code == 0, restored.output
    for command in (["list", "--json"], ["list"]):
        assert holder.wallet(*command, home=fresh).stdout == holder.wallet(*command).stdout
    assert {c["status"] for c in json.loads(holder.wallet("list", "--json", home=fresh).stdout)} == {"valid"}
    for card_id in holder.cards.values():
        for command in (["show", card_id, "--raw"], ["show", card_id, "--json"]):
            original = holder.wallet(*command)
            assert original.exit_code == 0
            assert holder.wallet(*command, home=fresh).stdout == original.stdout
    assert not [p.name for p in fresh.iterdir() if p.name != WALLET_FILE]
    raw = holder.wallet("show", holder.cards["identity"], "--raw").stdout.strip()
    for secret in (holder.citizen_id, raw, raw.split("~")[0]):
        assert secret.encode() not in out.read_bytes()


def test_restore_refuses_a_wrong_pin(
    holder: Holder, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "backup.json"
    assert holder.wallet("backup", "--out", str(out)).exit_code == 0
    monkeypatch.setenv("CANCUOC_HOME", str(tmp_path / "fresh"))
    monkeypatch.setenv("CANCUOC_PIN", "999999")
    code, err = run_main(["wallet", "restore", str(out)], capsys)
    assert (code, err.splitlines()[0]) == (4, "error: wrong PIN for this backup")
    assert not (tmp_path / "fresh" / WALLET_FILE).exists()


def test_a_flipped_byte_anywhere_is_refused(
    holder: Holder, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "backup.json"
    assert holder.wallet("backup", "--out", str(out)).exit_code == 0
    data = out.read_bytes()
    header_end = data.index(b'"sha256"')
    positions = sorted({*range(400), *range(header_end - 400, len(data)), *range(0, len(data), 53)})
    for position in positions:
        for mask in (0x01, 0x20):
            spoiled = data[:position] + bytes([data[position] ^ mask]) + data[position + 1 :]
            with pytest.raises(DamagedBackupError):
                read_backup(spoiled, PIN)
    with pytest.raises(DamagedBackupError):
        read_backup(data[:-2] + b"\n", PIN)
    middle = len(data) // 2
    out.write_bytes(data[:middle] + bytes([data[middle] ^ 0x04]) + data[middle + 1 :])
    monkeypatch.setenv("CANCUOC_HOME", str(tmp_path / "fresh"))
    monkeypatch.setenv("CANCUOC_PIN", PIN)
    code, err = run_main(["wallet", "restore", str(out)], capsys)
    assert (code, err.splitlines()[0]) == (4, f"error: {DAMAGED}")
    assert not (tmp_path / "fresh" / WALLET_FILE).exists()


def test_restore_over_a_wallet_needs_replace(
    holder: Holder, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "backup.json"
    assert holder.wallet("backup", "--out", str(out)).exit_code == 0
    other = tmp_path / "other"
    assert holder.wallet("init", home=other).exit_code == 0
    monkeypatch.setenv("CANCUOC_HOME", str(other))
    monkeypatch.setenv("CANCUOC_PIN", PIN)
    code, err = run_main(["wallet", "restore", str(out)], capsys)
    assert code == 4
    assert "already exists" in err
    assert "--replace" in err
    assert json.loads(holder.wallet("list", "--json", home=other).stdout) == []
    assert holder.wallet("restore", str(out), "--replace", home=other).exit_code == 0
    assert holder.wallet("list", "--json", home=other).stdout == holder.wallet("list", "--json").stdout


def test_new_commands_have_help_with_an_example() -> None:
    for command in ("status", "backup", "restore"):
        result = runner.invoke(app, ["wallet", command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0
        assert f"Example: cancuoc wallet {command}" in result.stdout


def test_a_wallet_from_before_status_gains_the_columns(holder: Holder, tmp_path: Path) -> None:
    out, old = tmp_path / "backup.json", tmp_path / "old"
    assert holder.wallet("backup", "--out", str(out)).exit_code == 0
    assert holder.wallet("restore", str(out), home=old).exit_code == 0
    with sqlite3.connect(old / WALLET_FILE) as db:
        for column in ("status_detail", "status_checked_at", "status"):
            db.execute(f"ALTER TABLE cards DROP COLUMN {column}")
    listed = holder.wallet("list", "--json", home=old)
    assert listed.exit_code == 0, listed.output
    assert [c["status"] for c in json.loads(listed.stdout)] == ["unknown"] * 3


def test_status_follows_revocation_and_suspension_and_fails_closed(holder: Holder) -> None:
    """Last in the module: it revokes, suspends, then stops the server."""
    assert {name: s["status"] for name, s in holder.statuses().items()} == dict.fromkeys(
        holder.cards, "valid"
    )
    holder.set_status("health_insurance", "revoked")
    statuses = holder.statuses()
    assert {name: s["status"] for name, s in statuses.items()} == {
        "identity": "valid",
        "health_insurance": "revoked",
        "social_insurance": "valid",
    }
    assert set(statuses["identity"]) == {"id", "vct", "issuer", "status", "checked_at", "detail"}
    listed = {c["id"]: c["status"] for c in json.loads(holder.wallet("list", "--json").stdout)}
    assert listed[holder.cards["health_insurance"]] == "revoked"
    holder.set_status("social_insurance", "suspended")
    assert holder.statuses()["social_insurance"]["status"] == "suspended"
    human = holder.wallet("status")
    assert "revoked" in human.stdout
    assert "suspended" in human.stdout
    holder.stack.close()
    down = holder.statuses()
    assert {s["status"] for s in down.values()} == {"unknown"}
    assert all("cannot reach" in (s["detail"] or "") for s in down.values())
    assert {c["status"] for c in json.loads(holder.wallet("list", "--json").stdout)} == {"unknown"}
