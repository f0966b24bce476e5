"""The credential endpoint's ASGI fast path (`server.http.fast_credential`) answers as the Litestar route.

``/mps/credential/`` reaches the same Litestar route (Litestar drops the trailing slash) but not the fast
path, which takes the exact path only: every request here is sent both ways, straight to the ASGI app on
the test client's event loop, and must get the same status, headers, body and access line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from issuance_helpers import BASE, Holder, seed_registry
from litestar.testing import TestClient

from bench.inprocess import http_scope
from server.app import create_app
from server.config import ServerConfig, load_config
from shared.oid4vci import PRE_AUTHORIZED_GRANT

FAST, LITESTAR = "/mps/credential", "/mps/credential/"
JSON = (b"content-type", b"application/json")
HOST = (b"host", b"127.0.0.1:8000")
DIFFER = {"time", "duration_ms", "request_id"}
"""Access line fields that differ from one request to the next."""


class Answer(NamedTuple):
    status: int
    headers: list[tuple[bytes, bytes]]
    """In order, without the per-request ``x-request-id``."""
    body: bytes
    by_litestar: bool
    """Whether Litestar's router saw the request (it records the route handler in the scope)."""


class Setup(NamedTuple):
    client: TestClient[Any]
    config: ServerConfig
    holder: Holder
    token: str


@pytest.fixture
def setup(database_url: str, tmp_path: Path, clock: Any) -> Iterator[Setup]:
    flags = {"data_dir": tmp_path / "server", "database_url": database_url, "log_file": tmp_path / "log"}
    config = load_config(flags, env={})
    with TestClient(create_app(config, clock=clock), base_url=BASE) as client:
        citizen_id, tokens = seed_registry(config, ("mps-officer",))
        body = {"citizen_id": citizen_id, "credential_configuration_ids": ["identity"]}
        made = client.post(
            "/mps/offers", json=body, headers={"Authorization": f"Bearer {tokens['mps-officer']}"}
        )
        grant = made.json()["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]
        holder = Holder(client, "mps")
        token = holder.token(grant["pre-authorized_code"], made.json()["tx_code"]).json()["access_token"]
        yield Setup(client, config, holder, token)


def send(
    client: TestClient[Any],
    path: str,
    headers: list[tuple[bytes, bytes]],
    chunks: list[bytes],
    *,
    disconnect: bool = False,
) -> Answer:
    """One POST straight to the ASGI app: the body in ``chunks``, then (if asked) the client leaves."""
    messages: list[Any] = [
        {"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1 or disconnect}
        for n, chunk in enumerate(chunks)
    ]
    if disconnect:
        messages.append({"type": "http.disconnect"})
    with_host = headers if any(name == b"host" for name, _ in headers) else [HOST, *headers]
    scope = http_scope("POST", path, with_host)
    sent: list[Any] = []

    async def receive() -> Any:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def record(message: Any) -> None:
        sent.append(message)

    async def call() -> None:
        await client.app(scope, receive, record)

    client.blocking_portal.call(call)
    start = sent[0]
    headers = [(k, v) for k, v in start["headers"] if k != b"x-request-id"]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return Answer(start["status"], headers, body, "route_handler" in scope)


def both_ways(setup: Setup, headers: list[tuple[bytes, bytes]], chunks: list[bytes], **how: Any) -> Answer:
    fast = send(setup.client, FAST, headers, chunks, **how)
    slow = send(setup.client, LITESTAR, headers, chunks, **how)
    assert fast._replace(by_litestar=slow.by_litestar) == slow
    lines = [json.loads(line) for line in setup.config.log_file.read_text().splitlines()]  # type: ignore[union-attr]
    fast_line, slow_line = ({k: v for k, v in line.items() if k not in DIFFER} for line in lines[-2:])
    assert fast_line == slow_line
    return fast


def bearer(token: str) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {token}".encode())


def test_refusals_are_answered_the_same_both_ways(setup: Setup, clock: Any) -> None:
    token = bearer(setup.token)
    _, proofs = setup.holder.proofs(1, clock())
    body = json.dumps({"credential_identifier": "identity", "proofs": {"jwt": proofs}}).encode()
    # Litestar answers what the fast path does not take: it hands those requests over (a bad Host is
    # refused before Litestar's routing, so it records no route either way).
    handed_over = {
        "Content-Length not a number",
        "Content-Length over the limit",
        "body over the limit",
        "client leaves",
    }
    cases: dict[str, tuple[list[tuple[bytes, bytes]], list[bytes], dict[str, Any]]] = {
        "no token": ([JSON], [body], {}),
        "unknown token": ([JSON, bearer("x" * 43)], [body], {}),
        "two Authorization headers, the first counts": ([JSON, bearer("x" * 43), token], [body], {}),
        "not JSON": ([(b"content-type", b"text/plain"), token], [body], {}),
        "malformed JSON": ([JSON, token], [b"{"], {}),
        "Content-Length not a number": ([JSON, token, (b"content-length", b"ten")], [body], {}),
        "Content-Length over the limit": ([JSON, token, (b"content-length", b"99999999")], [body], {}),
        "body over the limit": ([JSON, token], [b" " * 40_000, b" " * 40_000], {}),
        "client leaves": ([JSON, token], [body[:10]], {"disconnect": True}),
        "bad Host": ([JSON, token, (b"host", b"a b")], [body], {}),
    }
    expected = {
        "no token": (401, "invalid_token"),
        "unknown token": (401, "invalid_token"),
        "two Authorization headers, the first counts": (401, "invalid_token"),
        "not JSON": (400, "invalid_credential_request"),
        "malformed JSON": (400, "invalid_credential_request"),
        "Content-Length not a number": (400, "invalid_request"),
        "Content-Length over the limit": (413, "payload_too_large"),
        "body over the limit": (413, "payload_too_large"),
        "client leaves": (500, "server_error"),
        "bad Host": (400, "invalid_request"),
    }
    for case, (headers, chunks, how) in cases.items():
        answer = both_ways(setup, headers, chunks, **how)
        assert (answer.status, json.loads(answer.body)["error"]) == expected[case], case
        assert (b"cache-control", b"no-store") in answer.headers, case
        if case != "bad Host":
            assert answer.by_litestar == (case in handed_over), case
        if answer.status == 401:
            assert any(name == b"www-authenticate" for name, _ in answer.headers), case


def test_a_credential_and_a_reused_nonce_are_answered_the_same_both_ways(setup: Setup, clock: Any) -> None:
    token = bearer(setup.token)
    _, fast_proofs = setup.holder.proofs(1, clock())
    _, slow_proofs = setup.holder.proofs(1, clock())
    issued = []
    for path, proofs in ((FAST, fast_proofs), (LITESTAR, slow_proofs)):
        body = json.dumps({"credential_identifier": "identity", "proofs": {"jwt": proofs}}).encode()
        issued.append(send(setup.client, path, [JSON, token], [body]))
    (fast, slow) = issued
    assert fast.status == slow.status == 200
    assert not fast.by_litestar
    # The same headers; the length differs with the random status index.
    assert [h for h in fast.headers if h[0] != b"content-length"] == [
        h for h in slow.headers if h[0] != b"content-length"
    ]
    assert len(json.loads(fast.body)["credentials"]) == len(json.loads(slow.body)["credentials"]) == 1
    # Each proof's nonce is used up now, whichever way it went.
    again = json.dumps({"credential_identifier": "identity", "proofs": {"jwt": fast_proofs}}).encode()
    answer = both_ways(setup, [JSON, token], [again])
    assert (answer.status, json.loads(answer.body)["error"]) == (400, "invalid_nonce")
