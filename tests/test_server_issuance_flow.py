"""The pre-authorized code flow of OpenID4VCI 1.0 over plain HTTP, written from the spec (no wallet code)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec
import pytest
from issuance_helpers import (
    BASE,
    CONFIGURATIONS,
    PRE_AUTHORIZED_GRANT,
    Holder,
    make_operator,
    run_sql,
    seed_registry,
)
from litestar.testing import TestClient
from sqlalchemy import select

from server.app import create_app
from server.http.responses import SECURITY_HEADERS
from server.store.schema import credential_families, issuance_log, outbox, status_entries
from server.store.schema import offers as offers_table
from shared.credentials import VCT_BY_TYPE, example_identity
from shared.jose import PrivateKey, public_key_from_jwk
from shared.sdjwt_vc import verify_credential
from shared.statuslist import VALID, verify_status_list_token


@pytest.fixture
def citizen_id(server_config: Any, client: Any) -> str:
    return seed_registry(server_config)[0]


def create_offer(
    client: Any, token: str, issuer: str, citizen_id: str, *, by_reference: bool
) -> dict[str, Any]:
    body = {
        "citizen_id": citizen_id,
        "credential_configuration_ids": CONFIGURATIONS[issuer],
        "by_reference": by_reference,
    }
    response = client.post(f"/{issuer}/offers", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return dict(response.json())


def offer_from_link(client: Any, made: dict[str, Any]) -> dict[str, Any]:
    """§4.1: the link carries the offer by value, or the URL to fetch it from (application/json, once)."""
    parts = urlsplit(made["offer_uri"])
    assert parts.scheme == "openid-credential-offer"
    query = parse_qs(parts.query)
    if "credential_offer" in query:
        return dict(json.loads(query["credential_offer"][0]))
    (uri,) = query["credential_offer_uri"]
    assert uri == made["credential_offer_uri"]
    response = client.get(uri.removeprefix(BASE))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert client.get(uri.removeprefix(BASE)).status_code == 404
    return dict(response.json())


@pytest.mark.parametrize(
    ("issuer", "role", "by_reference"),
    [("mps", "mps-officer", False), ("vss", "vss-officer", True), ("vss", "admin", False)],
)
def test_pre_authorized_flow_issues_verifiable_batches(
    client: Any, server_config: Any, clock: Any, citizen_id: str, issuer: str, role: str, by_reference: bool
) -> None:
    made = create_offer(
        client, make_operator(server_config, role), issuer, citizen_id, by_reference=by_reference
    )
    assert made["tx_code"].isdigit()
    assert len(made["tx_code"]) == 6
    offer = offer_from_link(client, made)
    issuer_id = f"{BASE}/{issuer}"
    assert offer["credential_issuer"] == issuer_id
    assert offer["credential_configuration_ids"] == CONFIGURATIONS[issuer]
    grant = offer["grants"][PRE_AUTHORIZED_GRANT]
    assert grant["tx_code"]["length"] == 6
    assert grant["tx_code"]["input_mode"] == "numeric"
    assert len(grant["pre-authorized_code"]) >= 22  # ≥ 128 bits of base64url

    metadata = client.get(f"/.well-known/openid-credential-issuer/{issuer}").json()
    assert metadata["credential_issuer"] == issuer_id
    server = client.get(f"/.well-known/oauth-authorization-server/{issuer}").json()
    assert server["token_endpoint"] == f"{issuer_id}/token"

    token = Holder(client, issuer).token(grant["pre-authorized_code"], made["tx_code"])
    assert token.status_code == 200, token.text
    assert token.headers["cache-control"] == "no-store"
    access = token.json()
    assert access["token_type"] == "Bearer"
    assert access["expires_in"] > 0
    details = {d["credential_configuration_id"]: d for d in access["authorization_details"]}
    assert set(details) == set(CONFIGURATIONS[issuer])

    for configuration_id in CONFIGURATIONS[issuer]:
        identifier = details[configuration_id]["credential_identifiers"][0]
        nonce = client.post(metadata["nonce_endpoint"].removeprefix(BASE))
        assert nonce.headers["cache-control"] == "no-store"
        keys, proofs = Holder(client, issuer).proofs(3, clock(), nonce.json()["c_nonce"])
        response = client.post(
            metadata["credential_endpoint"].removeprefix(BASE),
            json={"credential_identifier": identifier, "proofs": {"jwt": proofs}},
            headers={"Authorization": f"Bearer {access['access_token']}"},
        )
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-type"] == "application/json"
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
        credentials = [item["credential"] for item in response.json()["credentials"]]
        check_batch(client, clock(), issuer, configuration_id, credentials, keys)


def check_batch(
    client: Any,
    now: datetime,
    issuer: str,
    configuration_id: str,
    credentials: list[str],
    keys: list[PrivateKey],
) -> None:
    """Three copies that verify with the published key, one per proven key, each with its own status entry."""
    # The issuer's key, then the status list signer's.
    jwk, status_jwk = client.get(f"/.well-known/jwt-vc-issuer/{issuer}").json()["jwks"]["keys"]
    published = public_key_from_jwk(jwk)
    verified = [verify_credential(c, published, now=now, key_binding=None) for c in credentials]
    assert len(verified) == 3
    assert [v.sd_jwt.header["kid"] for v in verified] == [jwk["kid"]] * 3
    assert [v.claims["cnf"]["jwk"] for v in verified] == [k.public.jwk for k in keys]
    statuses = [v.claims["status"]["status_list"] for v in verified]
    assert len({(s["uri"], s["idx"]) for s in statuses}) == 3
    day = int(datetime(now.year, now.month, now.day, tzinfo=UTC).timestamp())
    for credential in verified:
        assert credential.issuer == f"{BASE}/{issuer}"
        assert credential.vct == VCT_BY_TYPE[configuration_id]
        assert credential.claims["citizen_id"] == example_identity().citizen_id
        assert credential.claims["iat"] == day
        assert credential.claims["exp"] == day + 365 * 86_400
    if configuration_id == "identity":
        assert verified[0].claims["full_name"] == "Trần Thị Bích Ngọc"
        assert verified[0].claims["age_over_18"] is True
    if configuration_id == "health_insurance":
        assert verified[0].claims["card_number"].startswith("DN4")
    for status in statuses:
        uri = status["uri"]
        token = client.get(uri.removeprefix(BASE)).text
        status_key = public_key_from_jwk(status_jwk)
        status_list = verify_status_list_token(token, status_key, expected_uri=uri, now=now)
        assert status_list.status_list.get(status["idx"]) == VALID


def test_one_family_holds_the_batch_and_the_log_names_no_one(
    client: Any, server_config: Any, clock: Any
) -> None:
    citizen_id, tokens = seed_registry(server_config, ("mps-officer",))
    made = create_offer(client, tokens["mps-officer"], "mps", citizen_id, by_reference=False)
    code = offer_from_link(client, made)["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    holder = Holder(client, "mps")
    access = holder.token(code, made["tx_code"]).json()["access_token"]
    for _ in range(2):
        _, proofs = holder.proofs(3, clock())
        response = holder.credential(access, {"credential_identifier": "identity", "proofs": {"jwt": proofs}})
        assert response.status_code == 200, response.text

    async def read(connection: Any) -> list[list[dict[str, Any]]]:
        tables = (credential_families, status_entries, issuance_log, outbox)
        return [[dict(row._mapping) for row in await connection.execute(select(t))] for t in tables]

    families, entries, log, messages = run_sql(server_config, read)
    assert len(families) == 2
    assert {f["citizen_id"] for f in families} == {citizen_id}
    assert sorted(e["family_id"] for e in entries) == sorted([f["id"] for f in families] * 3)
    assert len({(e["list_id"], e["idx"]) for e in entries}) == 6
    assert len(log) == 6
    assert {row["event"] for row in log} == {"issue"}
    assert not any(citizen_id in str(value) for row in log for value in row.values())
    assert {len(row["credential_hash"]) for row in log} == {43}
    (message,) = messages
    assert message["channel"] == "sms"
    assert made["tx_code"] in message["message"]
    assert "Bộ Công an" in message["message"]


def run_concurrently(client: Any, requests: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Send the requests at once on the app's own event loop (the TestClient sends one at a time)."""

    async def send_all() -> list[Any]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as concurrent:
            return list(
                await asyncio.gather(*(concurrent.post(path, **options) for path, options in requests))
            )

    return list(client.blocking_portal.call(send_all))


def issued_codes(client: Any, server_config: Any, count: int) -> list[tuple[str, str, str]]:
    """(offer id, pre-authorized code, tx_code) of ``count`` fresh identity offers."""
    citizen_id, tokens = seed_registry(server_config, ("mps-officer",))
    made = [
        create_offer(client, tokens["mps-officer"], "mps", citizen_id, by_reference=False)
        for _ in range(count)
    ]
    grants = [offer_from_link(client, m)["grants"][PRE_AUTHORIZED_GRANT] for m in made]
    return [
        (m["offer_id"], g["pre-authorized_code"], m["tx_code"]) for m, g in zip(made, grants, strict=True)
    ]


def token_form(code: str, tx_code: str) -> dict[str, Any]:
    return {"data": {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code, "tx_code": tx_code}}


def test_a_code_redeems_once_and_counts_every_wrong_try_under_concurrency(
    client: Any, server_config: Any
) -> None:
    (_, code, tx_code), (offer_id, guessed_code, right) = issued_codes(client, server_config, 2)
    redeemed = run_concurrently(client, [("/mps/token", token_form(code, tx_code))] * 8)
    assert sorted(r.status_code for r in redeemed) == [200] + [400] * 7
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    guessed = run_concurrently(client, [("/mps/token", token_form(guessed_code, wrong))] * 8)
    assert {r.json()["error"] for r in guessed} == {"invalid_grant"}

    async def failed_attempts(connection: Any) -> Any:
        query = select(offers_table.c.failed_attempts).where(offers_table.c.id == offer_id)
        return (await connection.execute(query)).scalar_one()

    assert run_sql(server_config, failed_attempts) == server_config.tx_code_max_attempts


def test_a_nonce_serves_one_request_and_batches_get_distinct_entries_under_concurrency(
    client: Any, server_config: Any, clock: Any
) -> None:
    ((_, code, tx_code),) = issued_codes(client, server_config, 1)
    holder = Holder(client, "mps")
    auth = {"Authorization": f"Bearer {holder.token(code, tx_code).json()['access_token']}"}

    def request(proofs: list[str]) -> tuple[str, dict[str, Any]]:
        body = {"credential_identifier": "identity", "proofs": {"jwt": proofs}}
        return "/mps/credential", {"json": body, "headers": auth}

    nonce = holder.nonce()
    answers = run_concurrently(client, [request(holder.proofs(1, clock(), nonce)[1]) for _ in range(6)])
    assert sorted(r.status_code for r in answers) == [200] + [400] * 5
    assert {r.json()["error"] for r in answers if r.status_code == 400} == {"invalid_nonce"}
    issued = run_concurrently(client, [request(holder.proofs(3, clock())[1]) for _ in range(20)])
    assert {r.status_code for r in issued} == {200}
    jwk = client.get("/.well-known/jwt-vc-issuer/mps").json()["jwks"]["keys"][0]
    key = public_key_from_jwk(jwk)
    credentials = [item["credential"] for r in issued for item in r.json()["credentials"]]
    statuses = [
        verify_credential(c, key, now=clock(), key_binding=None).claims["status"] for c in credentials
    ]
    assert len({(s["status_list"]["uri"], s["status_list"]["idx"]) for s in statuses}) == 60


def test_full_status_lists_give_way_to_new_ones_and_every_copy_names_its_entry(
    server_config: Any, clock: Any
) -> None:
    config = msgspec.structs.replace(server_config, status_list_size=8)
    with TestClient(create_app(config, clock=clock), base_url=BASE) as client:
        ((_, code, tx_code),) = issued_codes(client, config, 1)
        holder = Holder(client, "mps")
        access = holder.token(code, tx_code).json()["access_token"]
        credentials = []
        for _ in range(10):
            body = {"credential_identifier": "identity", "proofs": {"jwt": holder.proofs(3, clock())[1]}}
            response = holder.credential(access, body)
            assert response.status_code == 200, response.text
            credentials += [item["credential"] for item in response.json()["credentials"]]
        jwk, status_jwk = client.get("/.well-known/jwt-vc-issuer/mps").json()["jwks"]["keys"]
        key = public_key_from_jwk(jwk)
        named = set()
        for credential in credentials:
            status = verify_credential(credential, key, now=clock(), key_binding=None).claims["status"]
            uri, idx = status["status_list"]["uri"], status["status_list"]["idx"]
            assert uri.startswith(f"{BASE}/status/mps/")
            named.add((int(uri.rsplit("/", 1)[1]), idx))
        for list_id in {list_id for list_id, _ in named}:
            token = client.get(f"/status/mps/{list_id}").text
            status_key = public_key_from_jwk(status_jwk)
            verify_status_list_token(
                token, status_key, expected_uri=f"{BASE}/status/mps/{list_id}", now=clock()
            )

    async def entries(connection: Any) -> set[tuple[int, int]]:
        rows = await connection.execute(select(status_entries.c.list_id, status_entries.c.idx))
        return {(int(list_id), int(idx)) for list_id, idx in rows}

    assert run_sql(config, entries) == named
    assert len(named) == 30
    assert {idx for _, idx in named} <= set(range(8))
    assert {list_id for list_id, _ in named} == set(range(1, max(list_id for list_id, _ in named) + 1))
