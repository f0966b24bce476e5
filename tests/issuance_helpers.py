"""What the issuance tests share: registry rows and operators in the app's database, and spec-shaped requests.

Requests are written from OpenID4VCI 1.0 with plain HTTP and `shared.jose`; no wallet code is used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import msgspec
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from server.config import ServerConfig
from server.context import ServerContext
from server.services.operators import create_operator
from server.store.database import Database
from server.store.schema import citizens, health_cards, social_books
from shared.credentials import example_health_card, example_identity, example_social_book, make_citizen_id
from shared.jose import PrivateKey, generate_private_key, sign_jwt

T = TypeVar("T")
BASE = "http://127.0.0.1:8000"
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
IDENTITY_ONLY_CITIZEN = make_citizen_id("079", date(1985, 3, 2), "male", 4242)
CONFIGURATIONS = {"mps": ["identity"], "vss": ["health_insurance", "social_insurance"]}


def run_in_database(config: ServerConfig, action: Callable[[ServerContext], Awaitable[T]]) -> T:
    """Run ``action`` with a context and engine of its own on the app's database."""

    async def run() -> T:
        database = Database(config.database)
        try:
            return await action(ServerContext(config, database, {}))
        finally:
            await database.close()

    return asyncio.run(run())


def make_operator(config: ServerConfig, role: str) -> str:
    """A new operator's bearer token."""
    return run_in_database(config, lambda context: create_operator(context, name=f"test {role}", role=role))


def seed_registry(config: ServerConfig, roles: tuple[str, ...] = ()) -> tuple[str, dict[str, str]]:
    """The example citizen with all three records, a second citizen with an identity record only, and one
    operator per role (their tokens by role)."""
    identity = example_identity()
    other = msgspec.structs.replace(
        identity, citizen_id=IDENTITY_ONLY_CITIZEN, sex="male", birth_date=date(1985, 3, 2)
    )

    async def seed(context: ServerContext) -> dict[str, str]:
        now = datetime(2026, 1, 1, tzinfo=UTC)
        async with context.database.transaction() as connection:
            for person in (identity, other):
                row = {
                    "citizen_id": person.citizen_id,
                    "record": msgspec.to_builtins(person),
                    "created_at": now,
                }
                await connection.execute(insert(citizens).values(**row))
            for table, record in (
                (health_cards, example_health_card(identity)),
                (social_books, example_social_book(identity)),
            ):
                await connection.execute(
                    insert(table).values(citizen_id=identity.citizen_id, record=msgspec.to_builtins(record))
                )
        return {role: await create_operator(context, name=f"test {role}", role=role) for role in roles}

    return identity.citizen_id, run_in_database(config, seed)


def run_sql(config: ServerConfig, action: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    async def in_transaction(context: ServerContext) -> T:
        async with context.database.transaction() as connection:
            return await action(connection)

    return run_in_database(config, in_transaction)


def make_proof(
    key: PrivateKey,
    *,
    nonce: str | None,
    now: datetime,
    aud: Any = None,
    issuer: str = "mps",
    typ: str = PROOF_TYP,
    claims: dict[str, Any] | None = None,
    **header: Any,
) -> str:
    """A §F.1 `jwt` proof: typ, ES256, the public key in `jwk`, claims aud, iat, nonce (and no iss).

    A claim or header member given as None is left out.
    """
    body: dict[str, Any] = {
        "aud": aud if aud is not None else f"{BASE}/{issuer}",
        "iat": int(now.timestamp()),
    }
    if nonce is not None:
        body["nonce"] = nonce
    body.update(claims or {})
    body = {name: value for name, value in body.items() if value is not None}
    header = {"jwk": key.public.jwk, "kid": None, **header}
    return sign_jwt(body, key, typ=typ, **header)


class Holder:
    """A citizen's side of the flow, speaking plain HTTP to one issuer."""

    def __init__(self, client: Any, issuer: str) -> None:
        self.client = client
        self.issuer = issuer

    def token(self, code: str, tx_code: str | None, **extra: str) -> Any:
        form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code, **extra}
        if tx_code is not None:
            form["tx_code"] = tx_code
        return self.client.post(f"/{self.issuer}/token", data=form, headers=FORM)

    def nonce(self) -> str:
        response = self.client.post(f"/{self.issuer}/nonce")
        assert response.status_code == 200, response.text
        return str(response.json()["c_nonce"])

    def credential(self, access_token: str | None, body: Any, **headers: str) -> Any:
        if access_token is not None:
            headers["Authorization"] = f"Bearer {access_token}"
        return self.client.post(f"/{self.issuer}/credential", json=body, headers=headers)

    def proofs(
        self, count: int, now: datetime, nonce: str | None = None
    ) -> tuple[list[PrivateKey], list[str]]:
        keys = [generate_private_key() for _ in range(count)]
        nonce = nonce or self.nonce()
        return keys, [make_proof(k, nonce=nonce, now=now, issuer=self.issuer) for k in keys]
