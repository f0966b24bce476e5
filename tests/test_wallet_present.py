"""`cancuoc wallet present|log|refresh|trust` with real credentials from a real issuer and signed requests.

The requests are made with the shared OpenID4VP code under a national root the test owns (pinned in the
wallet); the answers are checked with the verifier's own `verify_response` against the server's root.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from present_support import (
    UNUSED_URI,
    Holder,
    clinic_server,
    disclosed_names,
    holder,
    home,
    log_of,
    present_to,
    run,
)
from test_wallet import PIN

from client.wallet.store import WALLET_FILE, open_wallet
from shared.jose.x5c import x509_hash
from shared.oid4vp.presets import PRESETS
from shared.oid4vp.request import request_link
from shared.oid4vp.verify import verify_response

__all__ = ["holder", "home"]


def test_offline_answer_verifies_and_discloses_exactly_the_asked_claims(
    holder: Holder, home: Path, tmp_path: Path
) -> None:
    clinic = holder.clinic("Bệnh viện Bạch Mai")
    token, request = clinic.request("clinic-checkin", response_uri=UNUSED_URI)
    (tmp_path / "request.jwt").write_text(token)
    out = tmp_path / "response.json"
    result = holder.wallet("present", str(tmp_path / "request.jwt"), "--yes", "--out", str(out), home=home)
    assert result.exit_code == 0, result.output
    assert "too large for a QR code" in result.stdout
    answer = json.loads(out.read_text())
    assert set(answer) == {"vp_token", "state"}
    assert answer["state"] == request.state
    assert out.stat().st_mode & 0o777 == 0o600
    for query in PRESETS["clinic-checkin"]["credentials"]:
        (presentation,) = answer["vp_token"][query["id"]]
        assert disclosed_names(presentation) == {c["path"][0] for c in query["claims"]}
    if holder.server_root is None:
        pytest.skip("the server publishes no root yet (PKI)")
    report = verify_response(
        answer,
        request,
        anchors=[holder.server_root],
        now=datetime.now(UTC),
        status_lookup=lambda uri: httpx.get(uri).text,
    )
    assert report.valid, [c for c in report.checks if not c.ok]
    assert {c.vct for c in report.credentials} == {
        q["meta"]["vct_values"][0] for q in PRESETS["clinic-checkin"]["credentials"]
    }


def test_cross_device_link_is_fetched_verified_and_posted(holder: Holder, home: Path) -> None:
    clinic = holder.clinic("Phòng khám Hoàn Mỹ")
    with clinic_server() as endpoint:
        token, request = clinic.request("age-check", response_uri=f"{endpoint.base}/response")
        endpoint.requests["1"] = token
        link = request_link(clinic.client_id, f"{endpoint.base}/request/1")
        result = holder.wallet("present", link, input="y\n", home=home)
    assert result.exit_code == 0, result.output
    assert "Phòng khám Hoàn Mỹ asks to see your cards" in result.stdout
    assert "age-check at Phòng khám Hoàn Mỹ" in result.stdout
    assert "- Aged 18 or over" in result.stdout
    (posted,) = endpoint.posts
    assert posted["state"] == request.state
    (presentation,) = json.loads(posted["vp_token"])["identity"]
    assert disclosed_names(presentation) == {"age_over_18"}
    (entry,) = log_of(holder, home)
    assert entry["clinic"] == "Phòng khám Hoàn Mỹ"
    assert entry["client_id"] == clinic.client_id
    assert entry["delivered"] == "posted"
    assert [(c["card_id"], c["claims"]) for c in entry["cards"]] == [
        (holder.cards["identity"], [["age_over_18"]])
    ]


def test_one_copy_per_verifier_then_warnings(
    holder: Holder, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    identity = holder.cards["identity"]
    a, b, c, d = (holder.clinic(n) for n in ("Clinic A", "Clinic B", "Clinic C", "Clinic D"))
    first, _warned = present_to(holder, home, a, tmp_path, capsys)
    assert first["warnings"] == [
        f"card {identity} has 2 copies left: run `cancuoc wallet refresh {identity}`"
    ]
    again, _ = present_to(holder, home, a, tmp_path, capsys)
    assert again["cards"][0]["copy_id"] == first["cards"][0]["copy_id"]
    other, _ = present_to(holder, home, b, tmp_path, capsys)
    assert other["cards"][0]["copy_id"] != first["cards"][0]["copy_id"]
    last, _ = present_to(holder, home, c, tmp_path, capsys)
    assert f"card {identity} has 0 copies left" in last["warnings"][0]
    used = {first["cards"][0]["copy_id"], other["cards"][0]["copy_id"], last["cards"][0]["copy_id"]}
    assert len(used) == 3
    linked, _ = present_to(holder, home, d, tmp_path, capsys)
    assert linked["cards"][0]["copy_id"] == first["cards"][0]["copy_id"]  # the least recently used
    assert "can link these presentations" in linked["warnings"][0]
    entries = log_of(holder, home)
    assert [e["clinic"] for e in entries] == ["Clinic A", "Clinic A", "Clinic B", "Clinic C", "Clinic D"]
    assert [e["cards"][0]["linkable"] for e in entries] == [False] * 4 + [True]


def test_the_log_is_sealed_like_the_cards(
    holder: Holder, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = holder.clinic("Bệnh viện Chợ Rẫy")
    present_to(holder, home, clinic, tmp_path, capsys)
    human = holder.wallet("log", home=home)
    assert "Bệnh viện Chợ Rẫy" in human.stdout
    assert "age_over_18" in human.stdout
    content = (home / WALLET_FILE).read_bytes()
    for secret in (
        clinic.name,
        clinic.client_id,
        x509_hash(clinic.leaf),
        "age_over_18",
        holder.citizen["full_name"],
    ):
        assert secret.encode() not in content
    with sqlite3.connect(home / WALLET_FILE) as db:
        (entry_id, blob) = db.execute("SELECT id, blob FROM presentations").fetchone()
        db.execute(
            "UPDATE presentations SET blob = ? WHERE id = ?",
            (blob[:20] + bytes([blob[20] ^ 1]) + blob[21:], entry_id),
        )
    code, _, err = run(home, ["wallet", "log"], capsys)
    assert code == 4
    assert err.startswith("error: the wallet's data was altered (presentations row)")


def test_refresh_adds_copies_and_drops_used_ones(
    holder: Holder, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    identity = holder.cards["identity"]
    present_to(holder, home, holder.clinic("Clinic A"), tmp_path, capsys)
    wrong_offer, wrong_code = holder.offer("vss", "health_insurance")
    code, _, err = run(home, ["wallet", "refresh", identity, wrong_offer, "--tx-code", wrong_code], capsys)
    assert code == 1
    assert f"this offer is not for card {identity}" in err
    offer, tx_code = holder.offer("mps", "identity")
    result = holder.wallet(
        "refresh", identity, offer, "--tx-code", tx_code, "--copies", "4", "--json", home=home
    )
    assert result.exit_code == 0, result.output
    (summary,) = json.loads(result.stdout)
    assert summary["id"] == identity
    assert summary["copies_left"] == 6
    wallet = open_wallet(home, PIN, now=datetime.now(UTC))
    try:
        copies = wallet.get_card(identity).copies
    finally:
        wallet.close()
    assert len(copies) == 6
    assert all(c.used_for is None for c in copies)
    assert len(log_of(holder, home)) == 1


def test_backup_keeps_the_log_and_the_pinned_root(
    holder: Holder, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    present_to(holder, home, holder.clinic("Clinic A"), tmp_path, capsys)
    backup = tmp_path / "backup.json"
    assert holder.wallet("backup", "--out", str(backup), home=home).exit_code == 0
    restored = tmp_path / "restored"
    assert holder.wallet("restore", str(backup), home=restored).exit_code == 0
    assert log_of(holder, restored) == log_of(holder, home)
    shown = holder.wallet("trust", "--show", home=restored)
    assert x509_hash(holder.authority.root) in shown.stdout


def test_a_wallet_from_before_presentations_is_upgraded_on_open(holder: Holder, home: Path) -> None:
    with sqlite3.connect(home / WALLET_FILE) as db:
        db.execute("DROP TABLE presentations")
        db.execute("ALTER TABLE meta DROP COLUMN trust_anchor")
    assert log_of(holder, home) == []
    assert holder.wallet("trust", "--set", str(holder.anchor_file), home=home).exit_code == 0


def test_every_new_command_has_help_with_an_example(holder: Holder) -> None:
    for command in ("present", "log", "trust", "refresh"):
        result = holder.wallet(command, "--help")
        assert result.exit_code == 0
        assert f"Example: cancuoc wallet {command}" in result.stdout
