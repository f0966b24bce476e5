"""Schemathesis against the server's own OpenAPI document (issue 6): every operation, in-process, on SQLite.

Each operation gets schema-valid and schema-breaking requests; every answer must be a non-5xx whose status,
content type and body are the ones `/schema` documents, within a timeout. Requests are steered towards the
interesting paths: a real issuer most of the time, a valid operator token or a live relay transaction with
its read token for half of the authenticated calls. Seeds are derandomized so CI sees the same examples.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.app import create_app
from server.config import ServerConfig, load_config
from server.store.database import Database
from server.store.migrate import upgrade
from tests.issuance_helpers import CONFIGURATIONS, seed_registry

EXAMPLES = {GenerationMode.POSITIVE: 40, GenerationMode.NEGATIVE: 25}
TIMEOUT_SECONDS = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
KNOWN_FIELDS = {"citizen_id", "credential_configuration_ids", "by_reference", "status"}
ROLES = ("admin", "mps-officer", "vss-officer", "auditor")
schemathesis.serializer.alias("application/oauth-authz-req+jwt", "text/plain")


class Api:
    """The app, its schema, and the secrets that let requests past authentication."""

    def __init__(self, config: ServerConfig) -> None:
        asyncio.run(_migrate(config))
        self.citizen_id, self.tokens = seed_registry(config, ROLES)
        self.app = create_app(config)
        self.schema = schemathesis.openapi.from_asgi("/schema/openapi.json", self.app)
        self._seed_over_http()

    def steer(self, case: Any, data: st.DataObject, *, positive: bool) -> None:
        """Point some generated values at things that exist, so that requests get past the first check."""
        path = case.path_parameters or {}
        body = case.body if positive else None  # a schema-breaking body stays as generated
        if "issuer" in path:
            path["issuer"] = data.draw(st.sampled_from(["mps", "vss", "mps", "vss", path["issuer"]]))
        if "citizen_id" in path and _often(data):
            path["citizen_id"] = self.citizen_id
        if "offer_id" in path and _often(data):
            path["issuer"], path["offer_id"] = data.draw(st.sampled_from(self.offer_ids))
        if isinstance(body, dict) and KNOWN_FIELDS.intersection(body) and _often(data):
            # Litestar does not publish msgspec's forbid_unknown_fields as additionalProperties: false.
            case.body = body = {name: value for name, value in body.items() if name in KNOWN_FIELDS}
        if isinstance(body, dict) and "citizen_id" in body and _often(data):
            body["citizen_id"] = self.citizen_id
        if isinstance(body, dict) and "credential_configuration_ids" in body and _often(data):
            issuer = path["issuer"] = data.draw(st.sampled_from(sorted(CONFIGURATIONS)))
            body["credential_configuration_ids"] = CONFIGURATIONS[issuer][:1]
        if isinstance(body, dict) and case.path.endswith("/token") and _often(data):
            issuer, code, tx_code = data.draw(st.sampled_from(self.codes))
            path["issuer"] = issuer
            body.update({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code})
            body["tx_code"] = data.draw(st.sampled_from([tx_code, body.get("tx_code", "")]))
            case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "content-type"}
        if "transaction_id" in path and _often(data):
            path["transaction_id"], read_token = data.draw(st.sampled_from(self.transactions))
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {read_token}"}
        elif _takes_authorization(case) and _often(data):
            token = self.tokens[data.draw(st.sampled_from(ROLES))]
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}

    def _seed_over_http(self) -> None:
        """Relay transactions, by-value offers (their codes) and by-reference offers (their ids)."""
        create = self.schema["/verifier/transactions"]["POST"]
        made = [create.Case().call().json() for _ in range(3)]
        self.transactions = [(t["transaction_id"], t["read_token"]) for t in made]
        admin = {"Authorization": f"Bearer {self.tokens['admin']}"}
        offers = self.schema["/{issuer}/offers"]["POST"]
        self.codes: list[tuple[str, str, str]] = []
        self.offer_ids: list[tuple[str, str]] = []
        for issuer, configuration in (("mps", "identity"), ("vss", "health_insurance")) * 2:
            for by_reference in (False, True):
                body = {
                    "citizen_id": self.citizen_id,
                    "credential_configuration_ids": [configuration],
                    "by_reference": by_reference,
                }
                case = offers.Case(
                    path_parameters={"issuer": issuer}, body=body, media_type="application/json"
                )
                offer = case.call(headers=admin).json()
                if by_reference:
                    self.offer_ids.append((issuer, offer["offer_id"]))
                else:
                    grant = offer["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]
                    self.codes.append((issuer, grant["pre-authorized_code"], offer["tx_code"]))


def _often(data: st.DataObject) -> bool:
    """True three times in four, and in Hypothesis' simplest example."""
    return data.draw(st.integers(0, 3)) < 3


async def _migrate(config: ServerConfig) -> None:
    database = Database(config.database)
    try:
        await upgrade(database)
    finally:
        await database.close()


def _takes_authorization(case: Any) -> bool:
    parameters = case.operation.definition.raw.get("parameters", [])
    return any(p.get("in") == "header" and p.get("name") == "Authorization" for p in parameters)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    directory: Path = tmp_path_factory.mktemp("fuzz")
    config = load_config(
        {"data_dir": directory / "server", "database_url": f"sqlite:///{directory / 'cancuoc.db'}"}, env={}
    )
    api = Api(config)
    yield api
    asgi.shutdown_lifespans()


def _operations() -> list[str]:
    """Every documented operation, by label; the test fails if the schema grows one this list lacks."""
    return sorted(
        [
            "GET /health",
            "GET /.well-known/oauth-authorization-server/{issuer}",
            "GET /.well-known/openid-credential-issuer/{issuer}",
            "GET /.well-known/jwt-vc-issuer/{issuer}",
            "GET /status/{issuer}/{list_id}",
            "GET /{issuer}/citizens/{citizen_id}/families",
            "POST /{issuer}/citizens/{citizen_id}/status",
            "POST /{issuer}/families/{family_id}/status",
            "POST /{issuer}/offers",
            "GET /{issuer}/offers/{offer_id}",
            "POST /{issuer}/credential",
            "POST /{issuer}/nonce",
            "POST /{issuer}/token",
            "GET /{issuer}/citizens/{citizen_id}",
            "POST /verifier/transactions",
            "GET /verifier/request/{transaction_id}",
            "POST /verifier/response/{transaction_id}",
            "GET /verifier/transactions/{transaction_id}/result",
            "PUT /verifier/transactions/{transaction_id}/request",
            "GET /pki",
            "GET /pki/root.pem",
            "POST /verifiers",
        ]
    )


def test_every_documented_operation_is_fuzzed(api: Api) -> None:
    labels = sorted(result.ok().label for result in api.schema.get_all_operations())
    assert labels == _operations()


BREAKABLE = {
    "GET /status/{issuer}/{list_id}",
    "POST /{issuer}/citizens/{citizen_id}/status",
    "POST /{issuer}/families/{family_id}/status",
    "POST /{issuer}/offers",
    "POST /{issuer}/credential",
    "POST /{issuer}/token",
    "POST /verifier/response/{transaction_id}",
    "PUT /verifier/transactions/{transaction_id}/request",
    "POST /verifiers",
}
"""Operations with a body or a typed parameter; the others take free-form strings only, nothing to break."""
CASES = [(label, GenerationMode.POSITIVE) for label in _operations()]
CASES += [(label, GenerationMode.NEGATIVE) for label in sorted(BREAKABLE)]


@pytest.mark.parametrize(("label", "mode"), CASES)
def test_operation_answers_as_documented(api: Api, label: str, mode: GenerationMode) -> None:
    method, path = label.split(" ", 1)
    operation = api.schema[path][method]
    checks = CHECKS if mode is GenerationMode.POSITIVE else [*CHECKS, negative_data_rejection]

    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=operation.as_strategy(mode), data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        api.steer(case, data, positive=mode is GenerationMode.POSITIVE)
        case.call_and_validate(checks=checks, timeout=TIMEOUT_SECONDS)

    run()
