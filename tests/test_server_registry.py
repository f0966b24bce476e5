"""Registries: `cancuoc-server seed` and `import` on SQLite and PostgreSQL; the officers' read endpoint."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import Result
from family_rows import rows, run_on
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from server.cli import app, open_context
from server.commands.registry import import_records
from server.config import load_config
from server.services.registry import load_entries, synthetic_registry, validate_entry
from server.services.synthetic import synthetic_entries
from server.store.schema import citizens, health_cards, social_books
from shared.credentials import (
    example_identity,
    make_citizen_id,
    parse_health_card,
    parse_identity,
    parse_social_book,
)

runner = CliRunner()
Cli = Callable[..., Result]


def today() -> date:
    return datetime.now(UTC).date()


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    """`cancuoc-server ARGS` in-process, on the test's database and the data dir the `client` fixture uses."""

    def invoke(*args: str) -> Result:
        options = ["--data-dir", str(tmp_path / "server"), "--database-url", database_url]
        return runner.invoke(app, [*args, *options])

    return invoke


def stored(database_url: str) -> dict[str, list[dict[str, Any]]]:
    tables = {"identity": citizens, "health_insurance": health_cards, "social_insurance": social_books}
    return run_on(database_url, lambda c: {kind: rows(c, table) for kind, table in tables.items()})


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def as_json(record: Any) -> Any:
    """What a JSON column gives back for ``msgspec.to_builtins(record)`` (tuples become lists)."""
    return json.loads(msgspec.json.encode(record))


def good_lines(count: int, seed: int) -> list[dict[str, Any]]:
    return list(synthetic_entries(count, seed, today()))


def test_seed_makes_valid_unique_citizens_deterministically_and_idempotently(
    cli: Cli, database_url: str
) -> None:
    first = cli("seed", "--citizens", "50", "--seed", "7", "--json")
    assert first.exit_code == 0, first.output
    seeded = json.loads(first.stdout)
    assert len({c["citizen_id"] for c in seeded}) == 50
    assert {tuple(c) for c in seeded} == {("citizen_id", "full_name", "has_health_card", "has_social_book")}
    assert any(c["has_health_card"] for c in seeded)
    assert any(c["has_social_book"] for c in seeded)
    assert sum(any(ord(letter) > 127 for letter in c["full_name"]) for c in seeded) > 40
    expected = [entry.citizen_id for entry in synthetic_registry(50, 7, today=today())]
    assert [c["citizen_id"] for c in seeded] == expected

    records = stored(database_url)
    assert len(records["identity"]) == 50
    for row in records["identity"]:
        identity = parse_identity(row["record"], today=today())
        assert as_json(identity) == row["record"]
        assert identity.citizen_id == row["citizen_id"]
    for row in records["health_insurance"]:
        assert parse_health_card(row["record"], today=today()).valid_until >= today()
    for row in records["social_insurance"]:
        assert as_json(parse_social_book(row["record"], today=today())) == row["record"]
    assert len(records["health_insurance"]) == sum(c["has_health_card"] for c in seeded)

    again = cli("seed", "--citizens", "50", "--seed", "7", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == seeded
    assert "50 of these citizens were already registered" in again.stderr
    other = cli("seed", "--citizens", "5", "--seed", "8")
    assert other.exit_code == 0, other.output
    assert "seeded 5 new citizens" in other.stdout
    assert len(stored(database_url)["identity"]) == 55


def test_import_loads_a_good_file_completely(cli: Cli, database_url: str, tmp_path: Path) -> None:
    lines = good_lines(30, seed=3)
    path = write_lines(
        tmp_path / "good.jsonl", [json.dumps(line, ensure_ascii=False) for line in lines] + [""]
    )
    result = cli("import", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"loaded": 30, "skipped": 0}
    records = stored(database_url)
    assert len(records["identity"]) == 30
    assert len(records["health_insurance"]) == sum("health_insurance" in line for line in lines)
    assert len(records["social_insurance"]) == sum("social_insurance" in line for line in lines)
    by_id = {row["citizen_id"]: row["record"] for row in records["identity"]}
    for line in lines:
        identity = parse_identity(line["identity"])
        assert by_id[identity.citizen_id] == as_json(identity)


def test_import_with_bad_lines_loads_nothing_and_names_each(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    lines = good_lines(8, seed=11)
    bad_province = {
        **lines[1],
        "identity": {**lines[1]["identity"], "citizen_id": "999" + lines[1]["identity"]["citizen_id"][3:]},
    }
    carded = next(line for line in lines[2:] if "health_insurance" in line)
    card = carded["health_insurance"]
    mismatched_card = {
        **carded,
        "health_insurance": {**card, "card_number": card["card_number"][:5] + "0000000000"},
    }
    stranger = make_citizen_id("079", date.fromisoformat(card["birth_date"]), "male", 4242)
    wrong_owner = {**carded, "health_insurance": {**card, "citizen_id": stranger}}
    text = [json.dumps(line, ensure_ascii=False) for line in lines]
    text[1] = json.dumps(bad_province, ensure_ascii=False)
    text[2] = json.dumps(mismatched_card, ensure_ascii=False)
    text[3] = '{"identity": {"citizen_id": '
    text[4] = text[0]
    text[5] = json.dumps(wrong_owner, ensure_ascii=False)
    path = write_lines(tmp_path / "bad.jsonl", text)

    result = cli("import", str(path))
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert errors[0] == f"{path}:2: identity.citizen_id: province code 999 does not exist"
    assert errors[1].startswith(f"{path}:3: health_insurance.card_number: social insurance number 0000000000")
    assert errors[2].startswith(f"{path}:4: record: line is not valid JSON")
    assert (
        errors[3] == f"{path}:5: identity.citizen_id: {lines[0]['identity']['citizen_id']} is also on line 1"
    )
    assert errors[4].startswith(f"{path}:6: health_insurance.citizen_id: {stranger} does not match identity")
    assert errors[5] == "5 line(s) refused; nothing was loaded"
    assert result.stdout == ""
    assert stored(database_url)["identity"] == []

    as_json = json.loads(cli("import", str(path), "--json").stdout)
    assert as_json["error_count"] == 5
    assert as_json["errors"][0] == {
        "line": 2,
        "field": "identity.citizen_id",
        "rule": "province code 999 does not exist",
    }


def test_import_refuses_registered_citizens_unless_skip_existing(
    cli: Cli, database_url: str, tmp_path: Path
) -> None:
    assert cli("seed", "--citizens", "3", "--seed", "5").exit_code == 0
    lines = good_lines(3, seed=5)[1:] + good_lines(4, seed=6)
    path = write_lines(tmp_path / "mixed.jsonl", [json.dumps(line, ensure_ascii=False) for line in lines])

    refused = cli("import", str(path))
    assert refused.exit_code == 1
    assert (
        f"{path}:1: identity.citizen_id: {lines[0]['identity']['citizen_id']} is already registered"
        in refused.stderr
    )
    assert f"{path}:2: identity.citizen_id:" in refused.stderr
    assert len(stored(database_url)["identity"]) == 3

    skipping = cli("import", str(path), "--skip-existing", "--json")
    assert skipping.exit_code == 0, skipping.output
    assert json.loads(skipping.stdout) == {"loaded": 4, "skipped": 2}
    assert len(stored(database_url)["identity"]) == 7


def test_a_database_error_midway_rolls_back_the_whole_load(database_url: str, tmp_path: Path) -> None:
    entries = synthetic_registry(1001, 21, today=today())
    numbered = list(enumerate([*entries, entries[0]], start=1))
    config = load_config({"data_dir": tmp_path / "server", "database_url": database_url}, env={})

    async def load() -> None:
        async with open_context(config) as context:
            await load_entries(context, numbered)

    with pytest.raises(IntegrityError):
        asyncio.run(load())
    assert stored(database_url) == {"identity": [], "health_insurance": [], "social_insurance": []}


def test_the_import_help_example_is_a_valid_line() -> None:
    doc = import_records.__doc__ or ""
    example = doc.split("Example line (a single line in the file):")[1].split("\n\n")[0]
    entry = validate_entry(json.loads(" ".join(example.split())), today=today())
    assert entry.identity.full_name == "Trần Thị Bích Ngọc"


def test_officers_read_the_records_their_issuer_holds(cli: Cli, client: Any, tmp_path: Path) -> None:
    seeded = json.loads(cli("seed", "--citizens", "20", "--seed", "2", "--json").stdout)
    full = next(c for c in seeded if c["has_health_card"] and c["has_social_book"])
    bare = example_identity()
    path = write_lines(tmp_path / "bare.jsonl", [json.dumps({"identity": as_json(bare)}, ensure_ascii=False)])
    assert cli("import", str(path)).exit_code == 0
    tokens = {}
    for role in ("mps-officer", "vss-officer", "auditor", "admin"):
        created = cli("operator", "create", "--role", role, "--name", f"Cán bộ {role}", "--json")
        tokens[role] = {"Authorization": f"Bearer {json.loads(created.stdout)['token']}"}

    identity = client.get(f"/mps/citizens/{full['citizen_id']}", headers=tokens["mps-officer"])
    assert identity.status_code == 200
    assert identity.headers["cache-control"] == "no-store"
    assert set(identity.json()) == {"citizen_id", "identity"}
    assert identity.json()["identity"]["full_name"] == full["full_name"]
    insurance = client.get(f"/vss/citizens/{full['citizen_id']}", headers=tokens["vss-officer"]).json()
    assert set(insurance) == {"citizen_id", "health_insurance", "social_insurance"}
    parse_health_card(insurance["health_insurance"])
    parse_social_book(insurance["social_insurance"])
    assert client.get(f"/vss/citizens/{full['citizen_id']}", headers=tokens["admin"]).status_code == 200

    for issuer, role in (("mps", "vss-officer"), ("vss", "mps-officer"), ("mps", "auditor")):
        refused = client.get(f"/{issuer}/citizens/{full['citizen_id']}", headers=tokens[role])
        assert (refused.status_code, refused.json()["error"]) == (403, "access_denied")
    anonymous = client.get(f"/mps/citizens/{full['citizen_id']}")
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "invalid_token")
    assert anonymous.headers["www-authenticate"].startswith("Bearer")

    absent = make_citizen_id("001", date(1990, 1, 1), "male", 1)
    assert client.get(f"/mps/citizens/{absent}", headers=tokens["mps-officer"]).status_code == 404
    assert client.get(f"/mps/citizens/{bare.citizen_id}", headers=tokens["mps-officer"]).status_code == 200
    assert client.get(f"/vss/citizens/{bare.citizen_id}", headers=tokens["vss-officer"]).status_code == 404
    malformed = client.get("/mps/citizens/12345", headers=tokens["mps-officer"])
    assert (malformed.status_code, malformed.json()["error"]) == (400, "invalid_request")
    assert client.get(f"/police/citizens/{absent}", headers=tokens["admin"]).status_code == 404
