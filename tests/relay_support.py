"""Test helpers for the OpenID4VP relay: a registered clinic, its signed request objects, the wallet side."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from family_rows import run_on
from sqlalchemy import insert
from sqlalchemy.engine import Connection

from server.store.schema import verifiers
from shared.jose import PrivateKey, generate_private_key, sign_jwt
from shared.jose.x5c import x5c_of, x509_hash
from shared.jose.x509 import create_leaf_certificate, create_root_certificate

BASE = "http://127.0.0.1:8000"
JWT_TYPE = "application/oauth-authz-req+jwt"
FORM_TYPE = "application/x-www-form-urlencoded"
VP_TOKEN = {
    "clinic_checkin": [
        "eyJhbGciOiJFUzI1NiJ9.e30.c2ln~WyJzYWx0IiwibmFtZSIsIkEiXQ~eyJ0eXAiOiJrYitqd3QifQ.e30.a2I"
    ]
}


@dataclass
class Clinic:
    key: PrivateKey
    certificate: bytes

    @property
    def client_id(self) -> str:
        return f"x509_hash:{x509_hash(self.certificate)}"

    def request_object(self, transaction: dict[str, Any], **overrides: Any) -> str:
        payload = {
            "client_id": self.client_id,
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "response_uri": transaction["response_uri"],
            "nonce": "n-0S6_WzA2Mj-fRh5dHJ1ZS1ub25jZQ",
            "state": "st-4ad7f1c0e9b3",
            "dcql_query": {"credentials": [{"id": "clinic_checkin", "format": "dc+sd-jwt"}]},
        }
        payload = {k: v for k, v in {**payload, **overrides}.items() if v is not None}
        return sign_jwt(
            payload, self.key, typ="oauth-authz-req+jwt", x5c=x5c_of([self.certificate]), kid=None
        )


def make_clinic(clock: Any, name: str = "Phòng khám Đa khoa Hòa Bình") -> Clinic:
    root_key, key = generate_private_key(), generate_private_key()
    root = create_root_certificate(root_key, name="Test national root", now=clock())
    leaf = create_leaf_certificate(root_key, root, key.public, name=name, role="verifier", now=clock())
    return Clinic(key, leaf)


def registered_clinic(database_url: str, clock: Any) -> Clinic:
    """A clinic with a verifier certificate, registered in the server's database."""
    clinic = make_clinic(clock)
    register(database_url, clinic, clock)
    return clinic


def register(database_url: str, clinic: Clinic, clock: Any) -> None:
    def insert_row(connection: Connection) -> None:
        connection.execute(
            insert(verifiers).values(
                client_id=clinic.client_id,
                name="Phòng khám",
                purpose="Check-in",
                allowed=[],
                certificate=clinic.certificate,
                registration="test registration",
                created_at=clock(),
            )
        )

    run_on(database_url, insert_row)


def start(client: Any) -> dict[str, Any]:
    response = client.post("/verifier/transactions")
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return dict(response.json())


def bearer(transaction: dict[str, Any], token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token or transaction['read_token']}"}


def put_request(client: Any, transaction: dict[str, Any], body: str | bytes, **headers: str) -> Any:
    return client.put(
        f"/verifier/transactions/{transaction['transaction_id']}/request",
        content=body,
        headers={"Content-Type": JWT_TYPE, **bearer(transaction), **headers},
    )


def ready(client: Any, clinic: Clinic) -> dict[str, Any]:
    transaction = start(client)
    response = put_request(client, transaction, clinic.request_object(transaction))
    assert response.status_code == 204, response.text
    return transaction


def answer(client: Any, transaction: dict[str, Any], form: dict[str, str] | str | bytes) -> Any:
    path = transaction["response_uri"].removeprefix(BASE)
    if isinstance(form, dict):
        return client.post(path, data=form)
    return client.post(path, content=form, headers={"Content-Type": FORM_TYPE})


def result(client: Any, transaction: dict[str, Any], token: str | None = None) -> Any:
    path = f"/verifier/transactions/{transaction['transaction_id']}/result"
    return client.get(path, headers=bearer(transaction, token))


def good_answer(state: str = "st-4ad7f1c0e9b3") -> dict[str, str]:
    return {"vp_token": json.dumps(VP_TOKEN), "state": state}


def assert_error(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"
