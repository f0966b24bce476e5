"""The server's PKI: x5c on credentials and status lists, the published root, and verifier registration."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from issuance_helpers import BASE, Holder, seed_registry

from server.config import load_config
from server.pki import certificate_path, load_or_create_pki, root_key_path, signer_key_path
from shared.credentials import VCT_BY_TYPE
from shared.jose import decode_jws_unverified, generate_private_key, private_jwk, verify_jws
from shared.jose.x5c import x5c_issuer_resolver, x5c_status_resolver, x509_hash
from shared.jose.x509 import pem_to_der, verify_chain
from shared.oid4vp.registration import verify_registration
from shared.sdjwt_vc import verify_credential
from shared.statuslist import verify_status_list_token

ROLES = ("mps-officer", "vss-officer", "auditor", "admin")
CARD = VCT_BY_TYPE["health_insurance"]


@pytest.fixture
def seeded(client: Any, server_config: Any) -> tuple[str, dict[str, str]]:
    """The example citizen's id and an operator token per role."""
    return seed_registry(server_config, ROLES)


@pytest.fixture
def tokens(seeded: tuple[str, dict[str, str]]) -> dict[str, str]:
    return seeded[1]


def root(client: Any) -> bytes:
    response = client.get("/pki/root.pem")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-pem-file")
    assert "public" in response.headers["cache-control"]
    return pem_to_der(response.content)


def issue(client: Any, clock: Any, token: str, issuer: str, citizen_id: str) -> str:
    """One credential of the issuer's first configuration, through the pre-authorized flow."""
    configuration = "identity" if issuer == "mps" else "health_insurance"
    body = {"citizen_id": citizen_id, "credential_configuration_ids": [configuration], "by_reference": False}
    made = client.post(f"/{issuer}/offers", json=body, headers={"Authorization": f"Bearer {token}"}).json()
    offer = json.loads(parse_qs(urlsplit(made["offer_uri"]).query)["credential_offer"][0])
    grant = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
    holder = Holder(client, issuer)
    access = holder.token(grant["pre-authorized_code"], made["tx_code"]).json()["access_token"]
    _, proofs = holder.proofs(1, clock())
    response = holder.credential(access, {"credential_identifier": configuration, "proofs": {"jwt": proofs}})
    assert response.status_code == 200, response.text
    return str(response.json()["credentials"][0]["credential"])


def test_credentials_carry_an_x5c_that_chains_to_the_served_root(
    client: Any, clock: Any, seeded: tuple[str, dict[str, str]]
) -> None:
    citizen_id, tokens = seeded
    anchor = root(client)
    for issuer, role in (("mps", "mps-officer"), ("vss", "vss-officer")):
        credential = issue(client, clock, tokens[role], issuer, citizen_id)
        header = decode_jws_unverified(credential.split("~", 1)[0]).header
        assert header["kid"]  # kept beside x5c
        verified = verify_credential(
            credential, x5c_issuer_resolver([anchor], now=clock()), now=clock(), key_binding=None
        )
        assert verified.issuer == f"{BASE}/{issuer}"
        chain = verify_chain(header["x5c"], [anchor], now=clock())
        assert chain.roles == {issuer}
        assert chain.uris == (f"{BASE}/{issuer}",)


def test_status_list_tokens_are_signed_by_the_status_signer(client: Any, clock: Any) -> None:
    anchor = root(client)
    uri = f"{BASE}/status/vss/1"
    token = client.get("/status/vss/1").text
    verified = verify_status_list_token(
        token, x5c_status_resolver([anchor], now=clock()), expected_uri=uri, now=clock()
    )
    assert verified.sub == uri
    # The status signer's key is in each issuer's JWKS too, found by kid.
    kid = decode_jws_unverified(token).header["kid"]
    for issuer in ("mps", "vss"):
        jwks = client.get(f"/.well-known/jwt-vc-issuer/{issuer}").json()["jwks"]["keys"]
        assert kid in {jwk["kid"] for jwk in jwks}


def test_pki_document_lists_every_certificate_and_status_list(client: Any, clock: Any) -> None:
    client.get("/status/mps/1")
    body = client.get("/pki").json()
    anchor = pem_to_der(body["root"].encode())
    assert anchor == root(client)
    assert set(body["certificates"]) == {"mps", "vss", "status-list", "registrar"}
    for role, pem in body["certificates"].items():
        chain = verify_chain([_b64(pem_to_der(pem.encode()))], [anchor], now=clock())
        assert chain.roles == {role}
    assert body["status_lists"] == [f"{BASE}/status/mps/1"]


def _b64(der: bytes) -> str:
    return base64.b64encode(der).decode()


# --- files on disk ------------------------------------------------------------------------------------


def test_pki_files_are_made_once_private_keys_0600(tmp_path: Path, clock: Any) -> None:
    config = load_config({"data_dir": tmp_path}, env={})
    first = load_or_create_pki(config, clock())
    for path in (
        root_key_path(config),
        signer_key_path(config, "status-list"),
        signer_key_path(config, "registrar"),
    ):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert certificate_path(config, "root").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    again = load_or_create_pki(config, clock())
    assert again.root == first.root
    assert again.signers["mps"].chain == first.signers["mps"].chain


def test_a_new_public_url_remakes_the_issuer_leaves_only(tmp_path: Path, clock: Any) -> None:
    first = load_or_create_pki(load_config({"data_dir": tmp_path}, env={}), clock())
    moved = load_config({"data_dir": tmp_path, "public_url": "https://id.gov.vn"}, env={})
    second = load_or_create_pki(moved, clock())
    assert second.root == first.root
    assert second.signers["status-list"].chain == first.signers["status-list"].chain
    chain = verify_chain(second.signers["vss"].x5c, [second.root], now=clock())
    assert chain.uris == ("https://id.gov.vn/vss",)


# --- verifier registration ------------------------------------------------------------------------------


def registration_body(**changes: Any) -> dict[str, Any]:
    body = {
        "name": "Phòng khám Đa khoa Bạch Mai",
        "purpose": "Check-in: health insurance card and identity",
        "public_jwk": generate_private_key().public.jwk,
        "allowed": [
            {"vct": CARD, "claims": [["card_number"], ["full_name"], ["addresses", None, "province"]]}
        ],
    }
    return {**body, **changes}


def register(client: Any, body: Any, token: str | None) -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return client.post("/verifiers", json=body, headers=headers)


def test_an_admin_registers_a_verifier(client: Any, clock: Any, tokens: dict[str, str]) -> None:
    body = registration_body()
    response = register(client, body, tokens["admin"])
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    answer = response.json()
    leaf = pem_to_der(answer["certificate"].encode())
    assert answer["chain"] == [answer["certificate"]]
    assert answer["client_id"] == f"x509_hash:{x509_hash(leaf)}"
    anchor = root(client)
    chain = verify_chain([_b64(leaf)], [anchor], now=clock())
    assert chain.roles == {"verifier"}
    assert chain.name == body["name"]
    assert chain.key.jwk == body["public_jwk"]
    registration = verify_registration(
        answer["registration"], [anchor], client_id=answer["client_id"], now=clock()
    )
    assert registration.issuer == f"{BASE}/registrar"
    assert (registration.name, registration.purpose) == (body["name"], body["purpose"])
    assert registration.allowed[0].vct == CARD
    assert list(registration.allowed[0].claims) == [
        ("card_number",),
        ("full_name",),
        ("addresses", None, "province"),
    ]
    jws = verify_jws(
        answer["registration"], registration_key(anchor, answer, clock), typ="verifier-registration+jwt"
    )
    assert jws.header["typ"] == "verifier-registration+jwt"


def registration_key(anchor: bytes, answer: dict[str, Any], clock: Any) -> Any:
    header = decode_jws_unverified(answer["registration"]).header
    chain = verify_chain(header["x5c"], [anchor], now=clock())
    assert chain.roles == {"registrar"}
    return chain.key


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("mps-officer", 403), ("auditor", 403)])
def test_only_an_admin_registers_verifiers(
    client: Any, tokens: dict[str, str], role: str | None, status: int
) -> None:
    response = register(client, {"not": "even a request"}, None if role is None else tokens[role])
    assert response.status_code == status
    assert response.json()["error"] == ("invalid_token" if status == 401 else "access_denied")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        (
            {
                "public_jwk": {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                }
            },
            "P-256",
        ),
        ({"public_jwk": private_jwk(generate_private_key())}, "private"),
        ({"public_jwk": {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}}, "public_jwk"),
        (
            {"allowed": [{"vct": "https://example.test/unknown", "claims": [["x"]]}]},
            "unknown credential type",
        ),
        ({"allowed": []}, "allowed"),
        ({"allowed": [{"vct": CARD, "claims": []}]}, "paths"),
        ({"allowed": [{"vct": CARD, "claims": [[]]}]}, "claim path"),
        ({"allowed": [{"vct": CARD, "claims": [[True]]}]}, "malformed"),
        ({"allowed": [{"vct": CARD, "claims": [[-1]]}]}, "non-negative"),
        ({"allowed": [{"vct": CARD, "claims": [["a"]]}, {"vct": CARD, "claims": [["b"]]}]}, "twice"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "Clinic\u0000"}, "control"),
        ({"purpose": "  "}, "purpose"),
        ({"extra": 1}, "malformed"),
    ],
)
def test_a_bad_registration_is_refused(
    client: Any, tokens: dict[str, str], changes: dict[str, Any], words: str
) -> None:
    response = register(client, registration_body(**changes), tokens["admin"])
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
    assert words in response.json()["error_description"]


def test_a_body_that_is_not_json_is_refused(client: Any, tokens: dict[str, str]) -> None:
    response = client.post("/verifiers", content=b"{", headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
