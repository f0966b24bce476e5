"""Crash safety: a `wallet receive` killed while storing leaves a wallet that opens, card whole or absent."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from server_process import clean_environment, running_server
from typer.testing import CliRunner

from client.api import ServerApi
from client.cli import app
from client.wallet.store import WALLET_FILE, open_wallet, opened
from shared.oid4vci import well_known_url

PIN = "482915"
WALLET_COMMAND = Path(sys.executable).parent / "cancuoc"

KILLER = '''
"""Run the cancuoc console script, SIGKILLing this process at one point inside the wallet's add_card."""
import os, runpy, signal, sys

point, script = sys.argv[1], sys.argv[2]
sys.argv = sys.argv[2:]
inside, executed = False, 0


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def profile(frame, event, arg):
    global inside, executed
    code = frame.f_code
    in_store = code.co_name == "add_card" and code.co_filename.endswith(os.path.join("wallet", "store.py"))
    if event == "call" and in_store:
        inside = True
        if point == "entry":
            die()
    elif event == "return" and in_store and point == "return":
        die()
    elif inside and event == "c_return" and getattr(arg, "__name__", "") == "execute":
        executed += 1
        if point == str(executed):
            die()


sys.setprofile(profile)
runpy.run_path(script, run_name="__main__")
'''
"""A wrapper around the unmodified console script: it only watches calls (sys.setprofile) and kills itself."""


@dataclass(frozen=True)
class Issuer:
    base_url: str
    citizen_id: str
    officer_token: str
    batch_size: int


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issuer]:
    with running_server(tmp_path_factory.mktemp("crash-server")) as server:
        seeded = json.loads(server.command("seed", "--citizens", "1", "--seed", "3", "--json"))
        metadata = httpx.get(well_known_url(f"{server.base_url}/mps", "openid-credential-issuer")).json()
        yield Issuer(
            server.base_url,
            seeded[0]["citizen_id"],
            server.create_operator("mps-officer"),
            metadata["batch_credential_issuance"]["batch_size"],
        )


def kill_during_receive(issuer: Issuer, home: Path, point: str) -> subprocess.CompletedProcess[str]:
    """Init a wallet in ``home``, then run `cancuoc wallet receive` until the kill at ``point``."""
    env = {"CANCUOC_HOME": str(home), "CANCUOC_PIN": PIN}
    assert CliRunner().invoke(app, ["wallet", "init"], env=env).exit_code == 0
    with ServerApi(issuer.base_url, issuer.officer_token) as officer:
        offer = officer.create_offer("mps", issuer.citizen_id, ["identity"])
    killer = home / "killer.py"
    killer.write_text(KILLER)
    arguments = [str(WALLET_COMMAND), "wallet", "receive", offer.offer_uri, "--tx-code", offer.tx_code or ""]
    return subprocess.run(  # noqa: S603 - our own console script under a wrapper the test wrote
        [sys.executable, str(killer), point, *arguments],
        env=clean_environment(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("point", "mid_transaction", "stored"),
    [
        ("entry", False, False),
        ("1", True, False),  # the card row inserted, no copy yet
        ("2", True, False),  # the card and its first copy
        ("all", True, False),  # every row inserted, not committed
        ("return", False, True),  # committed
    ],
)
def test_a_receive_killed_while_storing_leaves_a_consistent_wallet(
    issuer: Issuer, tmp_path: Path, point: str, mid_transaction: bool, stored: bool
) -> None:
    if point == "all":
        point = str(1 + issuer.batch_size)
    done = kill_during_receive(issuer, tmp_path, point)
    assert done.returncode == -signal.SIGKILL, done.stderr
    # A hot rollback journal proves the process died inside the store's transaction.
    assert (tmp_path / f"{WALLET_FILE}-journal").exists() == mid_transaction

    with opened(open_wallet(tmp_path, PIN, now=datetime.now(UTC))) as wallet:
        cards = wallet.list_cards()
        assert len(cards) == (1 if stored else 0)
        for summary in cards:
            card = wallet.get_card(summary.id)
            assert len(card.copies) == summary.copies_left == issuer.batch_size
            assert card.summary.configuration_id == "identity"
    with sqlite3.connect(tmp_path / WALLET_FILE) as db:
        assert db.execute("SELECT count(*) FROM copies").fetchone() == ((issuer.batch_size if stored else 0),)
        assert db.execute("SELECT failed_attempts FROM meta").fetchone() == (0,)
