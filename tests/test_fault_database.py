"""Issue 6, faults: the database becomes unreachable under a running server, then comes back.

While it is gone, requests that need it get 503 `temporarily_unavailable` with `Retry-After` (never a 500),
`/health` says the database is unreachable, and requests that do not need it still work; when it returns,
the same server process (no restart) serves again. PostgreSQL is cut off by a TCP proxy in front of it;
SQLite by another process holding the database's write lock for longer than the server waits for it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fault_support import proxied_postgres
from issuance_helpers import FORM, PRE_AUTHORIZED_GRANT, make_proof
from server_process import RunningServer, running_server

from server.store.database import SQLITE_BUSY_TIMEOUT_MS
from shared.jose import generate_private_key

RESUME_SECONDS = 20.0
WAIT_SECONDS = SQLITE_BUSY_TIMEOUT_MS / 1000 + 10


Send = Callable[[httpx.Client], httpx.Response]


def prepare_credential_request(
    http: httpx.Client, server: RunningServer, officer: str, citizen_id: str
) -> Send:
    """Offer, token and c_nonce of one identity credential over plain HTTP; its credential request."""
    made = http.post(
        "/mps/offers",
        json={"citizen_id": citizen_id, "credential_configuration_ids": ["identity"], "by_reference": False},
        headers={"Authorization": f"Bearer {officer}"},
    )
    assert made.status_code == 201, made.text
    code = made.json()["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    form = {
        "grant_type": PRE_AUTHORIZED_GRANT,
        "pre-authorized_code": code,
        "tx_code": made.json()["tx_code"],
    }
    token = http.post("/mps/token", data=form, headers=FORM)
    assert token.status_code == 200, token.text
    nonce = http.post("/mps/nonce").json()["c_nonce"]
    proof = make_proof(
        generate_private_key(), nonce=nonce, now=datetime.now(UTC), aud=f"{server.base_url}/mps"
    )
    return lambda client: client.post(
        "/mps/credential",
        json={"credential_identifier": "identity", "proofs": {"jwt": [proof]}},
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )


def database_requests(officer: str, citizen_id: str, credential: Send) -> list[Send]:
    """Requests that each need the database: a credential, an operator's offer, a nonce, a token, a status
    list."""
    return [
        credential,
        lambda http: http.post(
            "/mps/offers",
            json={"citizen_id": citizen_id, "credential_configuration_ids": ["identity"]},
            headers={"Authorization": f"Bearer {officer}"},
        ),
        lambda http: http.post("/mps/nonce"),
        lambda http: http.post(
            "/mps/token",
            data={"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": "x" * 43, "tx_code": "123456"},
            headers=FORM,
        ),
        lambda http: http.get("/status/mps/1"),
    ]


def assert_unavailable(http: httpx.Client, requests: list[Send]) -> None:
    """Every request (and /health) at once: 503 with the OAuth-style error and Retry-After; no 500."""
    with ThreadPoolExecutor(len(requests) + 1) as pool:
        health = pool.submit(http.get, "/health")
        answers = list(pool.map(lambda send: send(http), requests))
        health_answer = health.result()
    for answer in answers:
        assert answer.status_code == 503, (answer.request.url, answer.status_code, answer.text)
        body: dict[str, Any] = answer.json()
        assert body["error"] == "temporarily_unavailable"
        assert body["error_description"]
        assert int(answer.headers["Retry-After"]) > 0
        assert answer.headers["Cache-Control"] == "no-store"
    assert health_answer.status_code == 503
    assert health_answer.json() == {"status": "degraded", "database": "unreachable"}
    assert http.get("/ping").text == "pong"
    assert http.get("/.well-known/openid-credential-issuer/mps").status_code == 200


def wait_until_healthy(http: httpx.Client) -> None:
    deadline = time.monotonic() + RESUME_SECONDS
    while http.get("/health").status_code != 200:
        assert time.monotonic() < deadline, "the server did not find its database again by itself"
        time.sleep(0.2)


def outage_round_trip(server: RunningServer, outage: Callable[[], Any]) -> None:
    """Issue, cut the database (the context manager `outage`), check the 503 contract, restore, issue.

    The credential request refused during the outage is sent again afterwards and succeeds: the refused
    attempt used up nothing (its transaction never committed), as `Retry-After` promises.
    """
    officer = server.create_operator("mps-officer")
    citizen_id = json.loads(server.command("seed", "--citizens", "1", "--json"))[0]["citizen_id"]
    with httpx.Client(base_url=server.base_url, timeout=WAIT_SECONDS) as http:
        issued = prepare_credential_request(http, server, officer, citizen_id)(http)
        assert issued.status_code == 200, issued.text
        retried = prepare_credential_request(http, server, officer, citizen_id)
        with outage():
            assert_unavailable(http, database_requests(officer, citizen_id, retried))
        wait_until_healthy(http)
        issued = retried(http)
        assert issued.status_code == 200, issued.text
        issued = prepare_credential_request(http, server, officer, citizen_id)(http)
        assert issued.status_code == 200, issued.text
    log = server.log.read_text()
    assert '"status":500' not in log.replace(" ", ""), log[-3000:]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgres_outage_is_503_and_heals(database_url: str, tmp_path: Path) -> None:
    with (
        proxied_postgres(database_url) as (proxy, url),
        running_server(tmp_path / "server", env={"CANCUOC_DATABASE_URL": url}) as server,
    ):

        @contextmanager
        def cut() -> Iterator[None]:
            proxy.stop()
            try:
                yield
            finally:
                proxy.start()

        outage_round_trip(server, cut)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_locked_is_503_and_heals(database_url: str, tmp_path: Path) -> None:
    with running_server(tmp_path / "server", env={"CANCUOC_DATABASE_URL": database_url}) as server:
        path = database_url.removeprefix("sqlite:///")

        @contextmanager
        def lock() -> Iterator[None]:
            # Another process (this one) holds the write lock, e.g. an operator's sqlite3 shell or a backup.
            holder = sqlite3.connect(path, isolation_level=None, timeout=30)
            holder.execute("BEGIN EXCLUSIVE")
            try:
                yield
            finally:
                holder.rollback()
                holder.close()

        outage_round_trip(server, lock)
