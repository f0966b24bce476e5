"""`cancuoc admin` against a real `cancuoc-server serve` process: status changes, listings, offers, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from family_rows import add_citizen, add_family
from server_process import RunningServer, running_server
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from typer.testing import CliRunner

from bench.server import free_port
from client.api import Offer, ServerApi, ServerError
from client.cli import app, main
from shared.jose import public_key_from_jwk
from shared.statuslist import INVALID, SUSPENDED, VALID, verify_status_list_token

runner = CliRunner()


class Server:
    """The running server, its operators and a way to write rows into its SQLite file."""

    def __init__(self, running: RunningServer) -> None:
        self.running = running
        self.url = running.base_url
        self.tokens = {role: running.create_operator(role) for role in ("vss-officer", "mps-officer")}
        self.engine = create_engine(f"sqlite:///{running.sqlite_path}")

    def write(self, action: Any) -> Any:
        with self.engine.begin() as connection:
            return action(connection)

    def admin(self, *args: str, role: str | None = "vss-officer") -> Any:
        """`cancuoc admin ARGS` with the server and token taken from the environment."""
        env = {"CANCUOC_SERVER": self.url, "CANCUOC_OPERATOR_TOKEN": self.tokens[role] if role else None}
        return runner.invoke(app, ["admin", *args], env=env)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("admin-server")) as running:
        wrapped = Server(running)
        yield wrapped
        wrapped.engine.dispose()


class Holder:
    """A citizen with two insurance families at VSS and an identity at MPS, on indices of their own."""

    _next = 100

    def __init__(self, connection: Connection) -> None:
        Holder._next += 10
        base = Holder._next
        self.citizen_id = add_citizen(connection, f"001190{base:06d}")
        self.card_entries = [base, base + 1]
        self.book_entries = [base + 2]
        self.identity_entries = [base]
        common = {"issuer": "vss", "citizen_id": self.citizen_id}
        self.card = add_family(
            connection, **common, configuration_id="health_insurance", entries=_on(1, *self.card_entries)
        )
        self.book = add_family(
            connection, **common, configuration_id="social_insurance", entries=_on(1, *self.book_entries)
        )
        self.identity = add_family(
            connection,
            issuer="mps",
            citizen_id=self.citizen_id,
            configuration_id="identity",
            entries=_on(1, *self.identity_entries),
        )


def _on(list_id: int, *indices: int) -> list[tuple[int, int]]:
    return [(list_id, idx) for idx in indices]


@pytest.fixture
def holder(server: Server) -> Holder:
    return server.write(Holder)  # type: ignore[no-any-return]


def status_of(server: Server, issuer: str, *indices: int) -> list[int]:
    """The entries as a verifier reads them: fetched over HTTP and checked against the published key."""
    # Status lists are signed by the status list signer, whose key follows the issuer's in the JWKS.
    jwk = httpx.get(f"{server.url}/.well-known/jwt-vc-issuer/{issuer}").json()["jwks"]["keys"][1]
    response = httpx.get(f"{server.url}/status/{issuer}/1")
    token = verify_status_list_token(
        response.text,
        public_key_from_jwk(jwk),
        expected_uri=f"{server.url}/status/{issuer}/1",
        now=datetime.now(UTC),
    )
    return [token.status_list.get(idx) for idx in indices]


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The console script's entry point, with its error mapping: (exit code, stderr)."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    return int(exited.value.code or 0), capsys.readouterr().err


def test_families_lists_what_a_citizen_holds(server: Server, holder: Holder) -> None:
    result = server.admin("families", "--issuer", "vss", "--citizen-id", holder.citizen_id)
    assert result.exit_code == 0, result.output
    assert f"vss credential families of citizen {holder.citizen_id}" in result.stdout
    assert holder.card in result.stdout
    assert holder.book in result.stdout
    assert holder.identity not in result.stdout
    assert "health_insurance" in result.stdout


def test_families_json_is_the_servers_answer(server: Server, holder: Holder) -> None:
    result = server.admin("families", "--issuer", "vss", "--citizen-id", holder.citizen_id, "--json")
    assert result.exit_code == 0, result.output
    families = json.loads(result.stdout)["families"]
    assert {(f["id"], f["configuration_id"], f["status"]) for f in families} == {
        (holder.card, "health_insurance", "valid"),
        (holder.book, "social_insurance", "valid"),
    }


def test_revoking_a_family_shows_in_the_published_list(server: Server, holder: Holder) -> None:
    result = server.admin("revoke", "--issuer", "vss", "--family", holder.card)
    assert result.exit_code == 0, result.output
    assert "revoked" in result.stdout
    assert status_of(server, "vss", *holder.card_entries, *holder.book_entries) == [INVALID, INVALID, VALID]


def test_suspending_and_reinstating_a_citizen(server: Server, holder: Holder) -> None:
    result = server.admin("suspend", "--issuer", "vss", "--citizen-id", holder.citizen_id, "--json")
    assert result.exit_code == 0, result.output
    assert {f["status"] for f in json.loads(result.stdout)["families"]} == {"suspended"}
    assert status_of(server, "vss", *holder.card_entries, *holder.book_entries) == [SUSPENDED] * 3
    assert status_of(server, "mps", *holder.identity_entries) == [VALID]
    assert server.admin("reinstate", "--issuer", "vss", "--citizen-id", holder.citizen_id).exit_code == 0
    assert status_of(server, "vss", *holder.card_entries, *holder.book_entries) == [VALID] * 3


def test_a_server_refusal_is_one_line_and_exit_3(
    server: Server, holder: Holder, capsys: pytest.CaptureFixture[str]
) -> None:
    def command(verb: str, family: str, role: str) -> list[str]:
        where = ["--issuer", "vss", "--family", family, "--server", server.url]
        return ["admin", verb, *where, "--token", server.tokens[role]]

    code, err = run_main(command("revoke", holder.card, "mps-officer"), capsys)
    assert code == 3
    assert err == "error: 403 access_denied: operator role mps-officer may not do this\n"

    server.admin("revoke", "--issuer", "vss", "--family", holder.book)
    code, err = run_main(command("reinstate", holder.book, "vss-officer"), capsys)
    assert code == 3
    assert err == f"error: 409 conflict: credential family {holder.book} is revoked; revocation is final\n"


def test_a_missing_token_is_401_with_a_hint(
    server: Server, holder: Holder, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CANCUOC_OPERATOR_TOKEN", raising=False)
    argv = ["admin", "families", "--issuer", "vss", "--citizen-id", holder.citizen_id, "--server", server.url]
    code, err = run_main(argv, capsys)
    assert code == 3
    first, hint = err.splitlines()
    assert first == "error: 401 invalid_token: an operator bearer token is required"
    assert hint.startswith("hint: pass --token or set CANCUOC_OPERATOR_TOKEN")


def test_an_unreachable_server_is_one_line_and_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    argv = ["admin", "revoke", "--issuer", "mps", "--family", "f", "--server", url, "--token", "t"]
    code, err = run_main(argv, capsys)
    assert code == 3
    assert (
        err == f"error: cannot reach the server at {url}: connection refused (is cancuoc-server running?)\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["revoke", "--issuer", "vss"],
        ["suspend", "--issuer", "vss", "--family", "f", "--citizen-id", "001190123456"],
        ["revoke", "--issuer", "police", "--family", "f"],
        ["families", "--issuer", "vss", "--citizen-id", "1", "--server", "http://cancuoc.example"],
        ["families", "--issuer", "vss", "--citizen-id", "1", "--server", "ftp://127.0.0.1"],
    ],
)
def test_misuse_is_exit_2(args: list[str]) -> None:
    result = runner.invoke(app, ["admin", *args], env={"CANCUOC_SERVER": None})
    assert result.exit_code == 2, result.output


def test_every_command_has_help_with_an_example() -> None:
    for command in ("offer", "revoke", "suspend", "reinstate", "families"):
        result = runner.invoke(app, ["admin", command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0
        assert f"Example: cancuoc admin {command}" in result.stdout


def test_the_api_reads_an_offer_answer() -> None:
    answer = {
        "offer_id": "o1",
        "credential_offer": {"credential_issuer": "http://127.0.0.1:8000/mps"},
        "credential_offer_uri": "http://127.0.0.1:8000/mps/offers/o1",
        "offer_uri": "openid-credential-offer://?credential_offer_uri=x",
        "tx_code": "123456",
        "expires_at": "2026-11-24T09:10:00+00:00",
        "later_addition": True,
    }
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json=answer)

    with ServerApi("http://127.0.0.1:8000", "tok", transport=httpx.MockTransport(handle)) as api:
        offer = api.create_offer("mps", "001190123456", ["identity"], by_reference=True)
    assert offer == Offer(**{k: v for k, v in answer.items() if k != "later_addition"})  # type: ignore[arg-type]
    (request,) = seen
    assert request.url.path == "/mps/offers"
    assert request.headers["authorization"] == "Bearer tok"
    assert json.loads(request.content) == {
        "citizen_id": "001190123456",
        "credential_configuration_ids": ["identity"],
        "by_reference": True,
    }


def test_the_api_turns_any_error_answer_into_a_server_error() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>bad gateway</html>")

    with ServerApi(transport=httpx.MockTransport(handle)) as api, pytest.raises(ServerError) as raised:
        api.list_families("vss", "001190123456")
    assert str(raised.value) == "502 http_error: Bad Gateway"


def test_offer_prints_the_link_its_qr_code_and_the_transaction_code(server: Server, holder: Holder) -> None:
    """Needs the offers endpoint (`POST /{issuer}/offers`)."""
    args = ["offer", "--issuer", "mps", "--citizen-id", holder.citizen_id, "--credential", "identity"]
    human = server.admin(*args, role="mps-officer")
    assert human.exit_code == 0, human.output
    assert "openid-credential-offer://?credential_offer=" in human.stdout
    assert "▀" in human.stdout or "▄" in human.stdout
    assert "transaction code: " in human.stdout
    as_json = server.admin(*args, "--by-reference", "--json", role="mps-officer")
    assert as_json.exit_code == 0, as_json.output
    made = json.loads(as_json.stdout)
    assert made["offer_uri"].startswith("openid-credential-offer://?credential_offer_uri=")
    assert made["tx_code"].isdigit()
    assert len(made["tx_code"]) == 6


def test_an_officer_of_the_other_issuer_cannot_make_an_offer(server: Server, holder: Holder) -> None:
    """Needs the offers endpoint (`POST /{issuer}/offers`)."""
    args = ["offer", "--issuer", "mps", "--citizen-id", holder.citizen_id, "--credential", "identity"]
    result = server.admin(*args, role="vss-officer")
    assert result.exit_code == 1
    assert isinstance(result.exception, ServerError)
    assert result.exception.status == 403
