"""The soak's two flows as raw HTTP/1.1 requests, each step checked for its status and its answer, and the
keep-alive connection they go over."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.credential_load import ISSUER
from bench.load import request
from bench.server import HOST
from shared.jose import PrivateKey, generate_private_key
from shared.oid4vci import PRE_AUTHORIZED_GRANT, create_proof
from shared.oid4vp.presets import PRESETS
from shared.oid4vp.request import create_request_object, new_request

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
REQUEST_OBJECT = "application/oauth-authz-req+jwt"
PRESET = "clinic-checkin"
REQUEST_TIMEOUT = 10.0
"""A request unanswered after this many seconds counts as an error (status 0) and its connection closes."""
STEPS = {
    "issuance": ("offer", "token", "nonce", "credential"),
    "relay": ("create", "put request", "get request", "post response", "get result"),
}

Send = Callable[..., Awaitable[Any]]
"""``send(step, raw_request, expected_status, read=...)``: ``read(body)`` once the status is right (a
ValueError, KeyError or TypeError from ``read`` makes the step an error), or None after any error."""


@dataclass(frozen=True)
class Clinic:
    """A clinic registered through `POST /verifiers`: its key, client id, chain and registration JWT."""

    key: PrivateKey
    client_id: str
    chain: list[bytes]
    registration: str


class Flows:
    """Issuance and relay round trips against one server, as a citizen, an officer, a wallet and a clinic."""

    def __init__(
        self,
        authority: str,
        issuer_url: str,
        citizens: Sequence[str],
        officer: str,
        clinic: Clinic,
        presentation: str,
    ) -> None:
        self.authority, self.issuer_url, self.citizens = authority, issuer_url, list(citizens)
        self.officer, self.clinic = officer, clinic
        self.vp_token = json.dumps({query["id"]: [presentation] for query in PRESETS[PRESET]["credentials"]})
        self.turns = itertools.count()

    def steps(self, kind: str) -> int:
        return len(STEPS[kind])

    async def run(self, kind: str, send: Send) -> bool:
        """One whole flow; False as soon as a step fails (that step is recorded as the error)."""
        return await (self.issuance(send) if kind == "issuance" else self.relay(send))

    def _request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        media_type: str | None = None,
        token: str | None = None,
    ) -> bytes:
        headers = {"Content-Type": media_type} if media_type else {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return request(method, path, host=self.authority, headers=headers, body=body)

    async def issuance(self, send: Send) -> bool:
        """Offer (officer) → token (pre-authorized code + tx_code) → nonce → credential (one proof)."""
        citizen = self.citizens[next(self.turns) % len(self.citizens)]
        offer = {"citizen_id": citizen, "credential_configuration_ids": ["identity"], "by_reference": False}
        raw = self._request("POST", f"/{ISSUER}/offers", _json(offer), JSON, self.officer)
        made = await send("offer", raw, 201, json.loads)
        if made is None:
            return False
        code = made["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code, "tx_code": made["tx_code"]}
        raw = self._request("POST", f"/{ISSUER}/token", urlencode(form).encode(), FORM)
        token = await send("token", raw, 200, lambda body: str(json.loads(body)["access_token"]))
        if token is None:
            return False
        raw = self._request("POST", f"/{ISSUER}/nonce")
        nonce = await send("nonce", raw, 200, lambda body: str(json.loads(body)["c_nonce"]))
        if nonce is None:
            return False
        proof = create_proof(
            generate_private_key(), audience=self.issuer_url, nonce=nonce, issued_at=int(time.time())
        )
        wanted = {"credential_identifier": "identity", "proofs": {"jwt": [proof]}}
        raw = self._request("POST", f"/{ISSUER}/credential", _json(wanted), JSON, token)
        issued = await send("credential", raw, 200, _one_credential)
        return issued is not None

    async def relay(self, send: Send) -> bool:
        """Create → PUT the signed request object → wallet GET → wallet POST (direct_post) → clinic result."""
        created = await send("create", self._request("POST", "/verifier/transactions"), 201, json.loads)
        if created is None:
            return False
        transaction, read_token = created["transaction_id"], created["read_token"]
        clinic = self.clinic
        wanted = new_request(
            client_id=clinic.client_id,
            response_uri=created["response_uri"],
            dcql_query=PRESETS[PRESET],
            registration=clinic.registration,
            now=datetime.now(UTC),
        )
        signed = create_request_object(wanted, clinic.key, clinic.chain)
        path = f"/verifier/transactions/{transaction}/request"
        raw = self._request("PUT", path, signed.encode(), REQUEST_OBJECT, read_token)
        if await send("put request", raw, 204) is None:
            return False
        raw = self._request("GET", _path(created["request_uri"]))
        if await send("get request", raw, 200, lambda body: _same(body.decode(), signed)) is None:
            return False
        form = urlencode({"vp_token": self.vp_token, "state": wanted.state}).encode()
        if (
            await send(
                "post response", self._request("POST", _path(created["response_uri"]), form, FORM), 200
            )
            is None
        ):
            return False
        expected = {"vp_token": json.loads(self.vp_token), "state": wanted.state}
        raw = self._request("GET", f"/verifier/transactions/{transaction}/result", token=read_token)
        result = await send("get result", raw, 200, lambda body: _same(json.loads(body), expected))
        return result is not None


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _one_credential(body: bytes) -> bool:
    credentials = json.loads(body)["credentials"]
    if not isinstance(credentials, list) or len(credentials) != 1:
        raise ValueError(f"expected one credential, got {credentials!r:.100}")
    return True


def _same(got: Any, expected: Any) -> bool:
    if got != expected:
        raise ValueError(f"unexpected answer {got!r:.200}")
    return True


def _path(url: str) -> str:
    """The path of one of the server's own URLs (request_uri, response_uri)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Connection:
    """One keep-alive HTTP/1.1 connection to the server from ``source`` (a loopback address), reopened
    after a transport error."""

    def __init__(self, port: int, source: str) -> None:
        self.port, self.source = port, source
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, raw: bytes) -> tuple[int, bytes]:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                if self.streams is None:
                    self.streams = await asyncio.open_connection(HOST, self.port, local_addr=(self.source, 0))
                reader, writer = self.streams
                writer.write(raw)
                status, body, closing = await _read_response(reader)
        except BaseException:
            self.close()
            raise
        if closing:
            self.close()
        return status, body

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, whether the server closes the connection); Content-Length bodies only."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        raise EOFError("the server closed the connection") from exc
    status, length, closing = int(head[9:12]), 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            closing = value.strip().lower() == b"close"
        elif name == b"transfer-encoding":
            raise ValueError(f"unexpected Transfer-Encoding: {value.strip()!r}")
    try:
        return status, await reader.readexactly(length) if length else b"", closing
    except asyncio.IncompleteReadError as exc:
        raise EOFError("the server closed the connection mid-body") from exc
