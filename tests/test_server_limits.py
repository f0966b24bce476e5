"""Every limit the server sets on hostile input and load (issue 6): hit, answered, per address, shared.

Body sizes are 413 `payload_too_large`; oversized or too deep tokens and JSON get the endpoint's own
error; rate limits are 429 `invalid_request` with `Retry-After`, count per client address in the
database (two app instances on one database share them) and reset when their window has passed; a
request that runs too long is 503 `temporarily_unavailable` with `Retry-After`.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import relay_support as relay
from issuance_helpers import BASE, FORM, PRE_AUTHORIZED_GRANT, Holder, make_proof, seed_registry
from litestar.testing import TestClient
from relay_support import make_clinic, register

from server.app import create_app
from server.config import ConfigError, ServerConfig, load_config
from server.timeouts import RequestTimeout
from shared.jose import generate_private_key

PEER_HEADER = "x-test-peer"


class PeerFromHeader:
    """Test wrapper: the ASGI client address is taken from a header, as if requests came from many peers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == PEER_HEADER.encode():
                    scope = {**scope, "client": (value.decode(), 40000)}
        await self.app(scope, receive, send)


def make_config(database_url: str, data_dir: Path, **limits: object) -> ServerConfig:
    return load_config({"data_dir": data_dir, "database_url": database_url, **limits}, env={})


@contextmanager
def serve(config: ServerConfig, clock: Any) -> Iterator[TestClient[Any]]:
    app = create_app(config, clock=clock)
    app.asgi_handler = PeerFromHeader(app.asgi_handler)
    with TestClient(app, base_url=BASE) as client:
        yield client


def refused(response: Any, status: int, error: str, retry_after: int | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error, response.text
    assert response.headers["cache-control"] == "no-store"
    if retry_after is not None:
        assert response.headers["retry-after"] == str(retry_after)


def peer(address: str) -> dict[str, str]:
    return {PEER_HEADER: address}


def token_request(client: Any, code: str, tx_code: str | None = None, address: str = "192.0.2.1") -> Any:
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
    if tx_code is not None:
        form["tx_code"] = tx_code
    return client.post("/mps/token", data=form, headers={**FORM, **peer(address)})


def make_offer(client: Any, citizen_id: str, officer: str) -> tuple[str, str]:
    """A by-value identity offer's (pre-authorized code, tx_code)."""
    body = {"citizen_id": citizen_id, "credential_configuration_ids": ["identity"]}
    made = client.post("/mps/offers", json=body, headers={"Authorization": f"Bearer {officer}"}).json()
    return made["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"], made["tx_code"]


def wrong(tx_code: str) -> str:
    return f"{(int(tx_code) + 1) % 1_000_000:06d}"


# Sizes and shapes


def test_every_body_reading_route_refuses_an_oversized_body(
    database_url: str, tmp_path: Path, clock: Any
) -> None:
    config = make_config(database_url, tmp_path / "server")
    with serve(config, clock) as client:
        _, tokens = seed_registry(config, ("mps-officer", "admin"))
        big = b"x" * (config.max_body_bytes + 1)
        routes = {
            "/mps/token": ("application/x-www-form-urlencoded", tokens["mps-officer"]),
            "/mps/credential": ("application/json", "any"),
            "/mps/offers": ("application/json", tokens["mps-officer"]),
            "/mps/families/f1/status": ("application/json", tokens["mps-officer"]),
            "/mps/citizens/c1/status": ("application/json", tokens["mps-officer"]),
            "/verifiers": ("application/json", tokens["admin"]),
        }
        for path, (media_type, token) in routes.items():
            headers = {"Content-Type": media_type, "Authorization": f"Bearer {token}"}
            refused(client.post(path, content=big, headers=headers), 413, "payload_too_large")
        # The relay: a request object has its own, smaller limit; a wallet's answer its own, larger one.
        transaction = client.post("/verifier/transactions").json()
        headers = {
            "Content-Type": "application/oauth-authz-req+jwt",
            "Authorization": f"Bearer {transaction['read_token']}",
        }
        path = f"/verifier/transactions/{transaction['transaction_id']}/request"
        body = b"x" * (config.max_request_object_bytes + 1)
        refused(client.put(path, content=body, headers=headers), 413, "payload_too_large")
        answer = transaction["response_uri"].removeprefix(BASE)
        body = b"x" * (config.vp_max_response_bytes + 1)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        refused(client.post(answer, content=body, headers=headers), 413, "payload_too_large")


def test_proof_size_json_depth_and_batch_size_get_the_spec_errors(
    database_url: str, tmp_path: Path, clock: Any
) -> None:
    config = make_config(database_url, tmp_path / "server", batch_size=2, max_proof_bytes=2048)
    with serve(config, clock) as client:
        citizen_id, tokens = seed_registry(config, ("mps-officer",))
        holder = Holder(client, "mps")
        response = holder.token(*make_offer(client, citizen_id, tokens["mps-officer"]))
        access = response.json()["access_token"]
        pad = {"pad": "x" * config.max_proof_bytes}
        big = make_proof(generate_private_key(), nonce=holder.nonce(), now=clock(), claims=pad)
        request = {"credential_identifier": "identity", "proofs": {"jwt": [big]}}
        refused(holder.credential(access, request), 400, "invalid_proof")
        deep: Any = "identity"
        for _ in range(40):
            deep = [deep]
        request = {"credential_identifier": "identity", "proofs": {"jwt": deep}}
        refused(holder.credential(access, request), 400, "invalid_credential_request")
        request = {"credential_identifier": "identity", "proofs": {"jwt": holder.proofs(3, clock())[1]}}
        refused(holder.credential(access, request), 400, "invalid_credential_request")
        code, tx_code = make_offer(client, citizen_id, tokens["mps-officer"])
        details = json.dumps(deep)
        refused(holder.token(code, tx_code, authorization_details=details), 400, "invalid_request")


# Rate limits


def test_the_token_endpoint_limits_requests_per_address_per_window(
    database_url: str, tmp_path: Path, clock: Any
) -> None:
    config = make_config(database_url, tmp_path / "server", token_rate_limit=3, token_rate_window=60)
    with serve(config, clock) as client:
        for _ in range(3):
            refused(token_request(client, "unknown"), 400, "invalid_grant")
        refused(token_request(client, "unknown"), 429, "invalid_request", retry_after=60)
        refused(token_request(client, "unknown", address="192.0.2.2"), 400, "invalid_grant")
        clock.advance(45)
        refused(token_request(client, "unknown"), 429, "invalid_request", retry_after=15)
        clock.advance(15)
        refused(token_request(client, "unknown"), 400, "invalid_grant")


def test_wrong_tx_codes_are_limited_per_address_across_offers(
    database_url: str, tmp_path: Path, clock: Any
) -> None:
    config = make_config(
        database_url, tmp_path / "server", tx_code_address_max_failures=3, tx_code_address_window=300
    )
    with serve(config, clock) as client:
        citizen_id, tokens = seed_registry(config, ("mps-officer",))
        offers = [make_offer(client, citizen_id, tokens["mps-officer"]) for _ in range(3)]
        for code, tx_code in (offers[0], offers[0], offers[1]):
            refused(token_request(client, code, wrong(tx_code)), 400, "invalid_grant")
        # Out of tries: even the right tx_code of a fresh offer waits for the window to pass ...
        refused(token_request(client, *offers[2]), 429, "invalid_request", retry_after=300)
        # ... a request without a tx_code is not a guess and is not held up ...
        refused(token_request(client, "unknown"), 400, "invalid_grant")
        # ... and another address is not held up either.
        assert token_request(client, *offers[1], address="198.51.100.7").status_code == 200
        clock.advance(300)  # the offers live for 600 s
        assert token_request(client, *offers[2]).status_code == 200
        # The offer's own limit still holds: five wrong tries kill the code whoever makes them.
        code, tx_code = make_offer(client, citizen_id, tokens["mps-officer"])
        for n in range(config.tx_code_max_attempts):
            refused(token_request(client, code, wrong(tx_code), f"203.0.113.{n}"), 400, "invalid_grant")
        refused(token_request(client, code, tx_code, "203.0.113.99"), 400, "invalid_grant")


def test_relay_transactions_are_limited_per_address(database_url: str, tmp_path: Path, clock: Any) -> None:
    config = make_config(database_url, tmp_path / "server", relay_rate_limit=2, relay_rate_window=30)
    with serve(config, clock) as client:
        for _ in range(2):
            assert client.post("/verifier/transactions", headers=peer("192.0.2.1")).status_code == 201
        refused(client.post("/verifier/transactions", headers=peer("192.0.2.1")), 429, "invalid_request", 30)
        assert client.post("/verifier/transactions", headers=peer("192.0.2.2")).status_code == 201
        clock.advance(30)
        assert client.post("/verifier/transactions", headers=peer("192.0.2.1")).status_code == 201


def test_a_relay_under_its_limit_still_serves_a_whole_presentation(
    database_url: str, tmp_path: Path, clock: Any
) -> None:
    """Only creating transactions counts: storing, fetching, answering and polling do not."""
    config = make_config(database_url, tmp_path / "server", relay_rate_limit=1)
    clinic = make_clinic(clock)
    with serve(config, clock) as client:
        register(database_url, clinic, clock)
        transaction = relay.ready(client, clinic)
        assert relay.result(client, transaction).status_code == 202
        assert client.get(transaction["request_uri"].removeprefix(BASE)).status_code == 200
        assert relay.answer(client, transaction, relay.good_answer()).status_code == 200
        assert relay.result(client, transaction).status_code == 200
        refused(client.post("/verifier/transactions"), 429, "invalid_request")


def test_two_app_instances_on_one_database_share_the_counters(
    database_url: str, tmp_path: Path, clock: Any
) -> None:
    limits = {"token_rate_limit": 4, "relay_rate_limit": 2}
    first = make_config(database_url, tmp_path / "one", **limits)
    second = make_config(database_url, tmp_path / "two", **limits)
    with serve(first, clock) as one, serve(second, clock) as two:
        for client in (one, two, one, two):
            refused(token_request(client, "unknown"), 400, "invalid_grant")
        refused(token_request(one, "unknown"), 429, "invalid_request", retry_after=60)
        refused(token_request(two, "unknown"), 429, "invalid_request", retry_after=60)
        assert one.post("/verifier/transactions").status_code == 201
        assert two.post("/verifier/transactions").status_code == 201
        refused(one.post("/verifier/transactions"), 429, "invalid_request")


def test_a_rate_limit_of_zero_is_off(database_url: str, tmp_path: Path, clock: Any) -> None:
    config = make_config(database_url, tmp_path / "server", token_rate_limit=0, relay_rate_limit=0)
    with serve(config, clock) as client:
        for _ in range(5):
            refused(token_request(client, "unknown"), 400, "invalid_grant")
            assert client.post("/verifier/transactions").status_code == 201


def test_limits_come_from_the_environment_and_refuse_nonsense() -> None:
    env = {
        "CANCUOC_TOKEN_RATE_LIMIT": "7",
        "CANCUOC_REQUEST_TIMEOUT": "2.5",
        "CANCUOC_MAX_PROOF_BYTES": "4096",
    }
    config = load_config({"data_dir": Path("unused")}, env=env)
    assert (config.token_rate_limit, config.request_timeout, config.max_proof_bytes) == (7, 2.5, 4096)
    for name in ("TOKEN_RATE_WINDOW", "MAX_REQUEST_OBJECT_BYTES", "TOKEN_RATE_LIMIT"):
        with pytest.raises(ConfigError, match=name.lower()):
            load_config({"data_dir": Path("unused")}, env={f"CANCUOC_{name}": "-1"})


# Request time limit


def test_a_request_over_its_time_limit_is_503_with_retry_after(tmp_path: Path, clock: Any) -> None:
    """The database's write lock is held elsewhere, so the nonce endpoint waits until it is cut off."""
    database = tmp_path / "cancuoc.db"
    config = make_config(f"sqlite:///{database}", tmp_path / "server", request_timeout=0.3)
    with serve(config, clock) as client:
        assert client.post("/mps/nonce").status_code == 200
        blocker = sqlite3.connect(database, isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            response = client.post("/mps/nonce")
        finally:
            blocker.close()
        refused(response, 503, "temporarily_unavailable", retry_after=5)
        assert "longer than 0.3 s" in response.json()["error_description"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-request-id"]
        assert client.post("/mps/nonce").status_code == 200


def test_the_time_limit_cuts_short_an_answer_already_started_and_keeps_other_timeouts() -> None:
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def started_then_stuck(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await asyncio.sleep(10)

    async def own_timeout(scope: Any, receive: Any, send: Any) -> None:
        raise TimeoutError("the application's own")

    scope = {"type": "http", "headers": []}
    asyncio.run(RequestTimeout(started_then_stuck, 0.05, {})(scope, receive, send))
    assert [m["type"] for m in sent] == ["http.response.start"]
    with pytest.raises(TimeoutError, match="own"):
        asyncio.run(RequestTimeout(own_timeout, 5, {})(scope, receive, send))
