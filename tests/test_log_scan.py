"""Issue 6, secrets and privacy: after a full flow against a real server, its log is JSON lines naming nobody.

The server runs as its own process (granian) on SQLite and on PostgreSQL. A citizen's wallet receives the
three credentials through the `cancuoc` command; the same credentials are then fetched over plain HTTP so
that every secret the server hands out (pre-authorized codes, tx_codes, access tokens, c_nonces) is known
here; a clinic does a relay round trip; bad requests follow. Every byte the server wrote is then scanned.
"""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from issuance_helpers import FORM, PRE_AUTHORIZED_GRANT, make_proof
from relay_support import Clinic, put_request
from server_process import RunningServer, clean_environment, running_server

from server.logs import JsonFormatter
from shared.jose import generate_private_key
from shared.jose.x509 import pem_to_der

CANCUOC = Path(sys.executable).parent / "cancuoc"
PIN = "582914"
ROLES = ("mps-officer", "vss-officer", "admin")
OFFERS = (
    ("mps", "mps-officer", ["identity"]),
    ("vss", "vss-officer", ["health_insurance", "social_insurance"]),
)
CITIZEN_CLAIMS = {"full_name", "citizen_id", "card_number", "social_insurance_number"}


@dataclass
class Flow:
    """One server, an HTTP client on it, and every string that must never reach the log."""

    server: RunningServer
    http: httpx.Client
    work: Path
    secrets: set[str] = field(default_factory=set)
    claims_seen: set[str] = field(default_factory=set)
    last_code: str = ""

    def keep(self, *values: str) -> None:
        self.secrets.update(v for v in values if v)

    def cancuoc(self, home: Path, *args: str, token: str | None = None) -> Any:
        extra = {"CANCUOC_HOME": str(home), "CANCUOC_PIN": PIN, "CANCUOC_SERVER": self.server.base_url}
        if token:
            extra["CANCUOC_OPERATOR_TOKEN"] = token
        done = subprocess.run(  # noqa: S603 - our own console script, fixed arguments
            [str(CANCUOC), *args],
            env=clean_environment(extra),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"cancuoc {args[:2]}: {done.returncode}\n{done.stderr}"
        return json.loads(done.stdout) if "--json" in args else done.stdout

    def wallet_receives_three(self, citizen_id: str, tokens: dict[str, str]) -> None:
        home = self.work / "citizen"
        self.cancuoc(home, "wallet", "init", "--trust-anchor", f"{self.server.base_url}/pki/root.pem")
        for issuer, officer, configurations in OFFERS:
            for configuration in configurations:
                made = self.cancuoc(
                    self.work,
                    *("admin", "offer", "--issuer", issuer, "--citizen-id", citizen_id),
                    *("--credential", configuration, "--json"),
                    token=tokens[officer],
                )
                for offer in parse_qs(urlsplit(made["offer_uri"]).query).get("credential_offer", []):
                    self.keep(json.loads(offer)["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"])
                self.keep(made["tx_code"])
                link, tx_code = made["offer_uri"], made["tx_code"]
                self.cancuoc(home, "wallet", "receive", link, "--tx-code", tx_code, "--copies", "2", "--json")

    def issue_over_http(self, citizen_id: str, tokens: dict[str, str]) -> list[str]:
        """The three credentials again, by reference, with a wrong tx_code tried first; the credentials."""
        credentials = []
        for issuer, officer, configurations in OFFERS:
            made = self.expect(
                201,
                "POST",
                f"/{issuer}/offers",
                json={
                    "citizen_id": citizen_id,
                    "credential_configuration_ids": configurations,
                    "by_reference": True,
                },
                headers=bearer(tokens[officer]),
            )
            self.keep(made["tx_code"], made["offer_id"])
            offer = self.expect(200, "GET", urlsplit(made["credential_offer_uri"]).path)
            code = offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
            self.keep(code)
            self.last_code = code
            wrong = f"{(int(made['tx_code']) + 1) % 10**6:06d}"
            self.expect(400, "POST", f"/{issuer}/token", data=token_form(code, wrong), headers=FORM)
            access = self.expect(200, "POST", f"/{issuer}/token", data=token_form(code, made["tx_code"]))
            self.keep(access["access_token"])
            for detail in access["authorization_details"]:
                nonce = self.expect(200, "POST", f"/{issuer}/nonce")["c_nonce"]
                self.keep(nonce)
                proof = make_proof(
                    generate_private_key(),
                    nonce=nonce,
                    now=datetime.now(UTC),
                    aud=f"{self.server.base_url}/{issuer}",
                )
                body = {
                    "credential_identifier": detail["credential_identifiers"][0],
                    "proofs": {"jwt": [proof]},
                }
                issued = self.expect(
                    200, "POST", f"/{issuer}/credential", json=body, headers=bearer(access["access_token"])
                )
                credentials += [item["credential"] for item in issued["credentials"]]
            self.bad_credential_requests(issuer, access["access_token"])
        for credential in credentials:
            self.keep_credential(credential)
        return credentials

    def bad_credential_requests(self, issuer: str, access_token: str) -> None:
        body = {"credential_identifier": "identity", "proofs": {"jwt": ["e30.e30.c2ln"]}}
        self.expect(401, "POST", f"/{issuer}/credential", json=body, headers=bearer("not-" + access_token))
        malformed = {"Content-Type": "application/json", **bearer(access_token)}
        self.expect(400, "POST", f"/{issuer}/credential", content=b'{"proofs": {"jwt": [', headers=malformed)

    def keep_credential(self, credential: str) -> None:
        """The credential, each disclosure, and the values of the claims that name the citizen."""
        self.keep(credential, *credential.split("~")[:-1])
        for disclosure in credential.split("~")[1:-1]:
            decoded = json.loads(base64.urlsafe_b64decode(disclosure + "=" * (-len(disclosure) % 4)))
            if len(decoded) == 3 and decoded[1] in CITIZEN_CLAIMS:
                self.claims_seen.add(decoded[1])
                self.keep(str(decoded[2]))

    def relay_round_trip(self, credential: str, admin: str) -> None:
        """A clinic registers, puts its request object, the wallet side answers, the clinic reads it once."""
        key = generate_private_key()
        registration = {
            "name": "Phòng khám Đa khoa Hòa Bình",
            "purpose": "Check-in",
            "public_jwk": key.public.jwk,
            "allowed": [{"vct": "urn:cancuoc:health-insurance:1", "claims": [["full_name"]]}],
        }
        made = self.expect(201, "POST", "/verifiers", json=registration, headers=bearer(admin))
        clinic = Clinic(key, pem_to_der(made["certificate"].encode()))
        transaction = self.expect(201, "POST", "/verifier/transactions")
        self.keep(transaction["read_token"], transaction["transaction_id"])
        assert put_request(self.http, transaction, clinic.request_object(transaction)).status_code == 204
        self.expect(200, "GET", urlsplit(transaction["request_uri"]).path, json_body=False)
        vp_token = json.dumps({"clinic_checkin": [credential]})
        self.keep(vp_token)
        answer = {"vp_token": vp_token, "state": "st-4ad7f1c0e9b3"}
        self.expect(200, "POST", urlsplit(transaction["response_uri"]).path, data=answer)
        result_path = f"/verifier/transactions/{transaction['transaction_id']}/result"
        self.expect(401, "GET", result_path, headers=bearer("not-" + transaction["read_token"]))
        assert self.expect(200, "GET", result_path, headers=bearer(transaction["read_token"]))["vp_token"]

    def bad_requests(self, citizen_id: str, tokens: dict[str, str], code: str) -> None:
        officer = tokens["mps-officer"]
        body = {"citizen_id": citizen_id, "credential_configuration_ids": ["identity"]}
        self.expect(401, "POST", "/mps/offers", json=body, headers=bearer("not-" + officer))
        malformed = {"Content-Type": "application/json", **bearer(officer)}
        self.expect(
            400, "POST", "/mps/offers", content=b'{"citizen_id": "' + citizen_id.encode(), headers=malformed
        )
        self.expect(200, "GET", f"/mps/citizens/{citizen_id}", headers=bearer(officer))
        self.expect(401, "GET", f"/mps/citizens/{citizen_id}", headers=bearer(tokens["admin"][::-1]))
        self.expect(400, "POST", "/mps/token", data=token_form("unknown-" + code, "123456"))
        self.expect(404, "GET", f"/no/such/{citizen_id}?pre-authorized_code={code}&tx_code=123456")
        transaction = self.expect(201, "POST", "/verifier/transactions")
        self.keep(transaction["read_token"], transaction["transaction_id"])
        self.expect(
            400, "POST", urlsplit(transaction["response_uri"]).path, data={"vp_token": "{" + citizen_id}
        )

    def expect(self, status: int, method: str, path: str, *, json_body: bool = True, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if json_body and response.content else response.content


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_form(code: str, tx_code: str) -> dict[str, str]:
    return {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code, "tx_code": tx_code}


def forms_of(secret: str) -> set[bytes]:
    """The secret as raw UTF-8 and as it would look inside a JSON string with ASCII escapes."""
    return {
        secret.encode(),
        json.dumps(secret)[1:-1].encode(),
        json.dumps(secret, ensure_ascii=False)[1:-1].encode(),
    }


def parsed_lines(log: bytes) -> list[dict[str, Any]]:
    lines = log.splitlines()
    assert lines, "the server wrote nothing"
    parsed = []
    for number, line in enumerate(lines, 1):
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"log line {number} is not JSON: {line[:200]!r}")
    return parsed


@pytest.fixture
def flow(database_url: str, tmp_path: Path) -> Iterator[Flow]:
    with (
        running_server(tmp_path / "server", env={"CANCUOC_DATABASE_URL": database_url}) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as http,
    ):
        yield Flow(server, http, tmp_path)


def test_full_flow_leaves_no_secret_and_no_citizen_in_the_log(flow: Flow) -> None:
    seeded = json.loads(flow.server.command("seed", "--citizens", "6", "--seed", "5", "--json"))
    citizen = next(c for c in seeded if c["has_health_card"] and c["has_social_book"])
    flow.keep(citizen["citizen_id"], citizen["full_name"], PIN)
    tokens = {role: flow.server.create_operator(role) for role in ROLES}
    flow.keep(*tokens.values())

    flow.wallet_receives_three(citizen["citizen_id"], tokens)
    credentials = flow.issue_over_http(citizen["citizen_id"], tokens)
    flow.relay_round_trip(credentials[-1], tokens["admin"])
    flow.bad_requests(citizen["citizen_id"], tokens, code=flow.last_code)
    assert flow.claims_seen == CITIZEN_CLAIMS
    flow.http.close()

    log = flow.server.log.read_bytes()
    lines = parsed_lines(log)
    leaks = sorted(s[:12] + "…" for s in flow.secrets if any(form in log for form in forms_of(s)))
    assert leaks == [], f"secrets or personal data in the server log: {leaks}"
    requests = [line for line in lines if line["event"] == "request"]
    assert {"time", "level", "logger", "pid", "method", "path", "status", "duration_ms", "request_id"} <= set(
        requests[0]
    )
    paths = {line["path"] for line in requests}
    assert {
        "/{issuer}/token",
        "/verifier/response/{transaction_id}",
        "/{issuer}/citizens/{citizen_id}",
    } <= paths
    errors = {line.get("error") for line in requests if line["status"] >= 400}
    assert {"invalid_grant", "invalid_token", "invalid_request", "not_found"} <= errors
    assert all(line["status"] < 500 for line in requests)


def test_log_file_takes_the_lines_instead_of_stderr(tmp_path: Path) -> None:
    log_file = tmp_path / "cancuoc.log"
    with running_server(tmp_path / "server", env={"CANCUOC_LOG_FILE": str(log_file)}) as server:
        assert httpx.get(f"{server.base_url}/ping").status_code == 200
        assert httpx.get(f"{server.base_url}/verifier/request/abc").status_code == 404
    requests = [line for line in parsed_lines(log_file.read_bytes()) if line["event"] == "request"]
    assert [(line["path"], line["status"]) for line in requests][-2:] == [
        ("/ping", 200),
        ("/verifier/request/{transaction_id}", 404),
    ]
    assert b'"request"' not in server.log.read_bytes()


def test_an_exception_is_logged_by_type_and_frames_never_by_message_or_values() -> None:
    secret = "079199001234 Nguyễn Văn An"

    def fail(citizen: str) -> None:
        raise RuntimeError(f"no row for {citizen}")

    try:
        try:
            fail(secret)
        except RuntimeError as inner:
            raise ValueError(secret) from inner
    except ValueError as exc:
        record = logging.makeLogRecord(
            {"name": "cancuoc.error", "msg": "server error", "exc_info": (ValueError, exc, exc.__traceback__)}
        )
        record.fields = {"request_id": "ab12", "body": secret, "path": "/{issuer}/offers"}
    line = json.loads(JsonFormatter().format(record))
    assert secret not in json.dumps(line, ensure_ascii=False)
    assert line["exception"] == "ValueError"
    assert line["causes"] == ["RuntimeError"]
    assert any("in test_an_exception_is_logged" in frame for frame in line["traceback"])
    assert (line["request_id"], line["path"], "body" in line) == ("ab12", "/{issuer}/offers", False)
