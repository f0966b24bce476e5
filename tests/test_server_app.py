"""The server app: health, well-known metadata, error format, security headers; SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from shared.jose import public_key_from_jwk


def test_health_reports_a_reachable_database(client: Any) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "reachable"}
    assert response.headers["x-content-type-options"] == "nosniff"


def test_credential_issuer_metadata_lists_the_issuers_configurations(client: Any) -> None:
    mps = client.get("/.well-known/openid-credential-issuer/mps").json()
    assert mps["credential_issuer"] == "http://127.0.0.1:8000/mps"
    assert set(mps["credential_configurations_supported"]) == {"identity"}
    identity = mps["credential_configurations_supported"]["identity"]
    assert identity["format"] == "dc+sd-jwt"
    assert identity["vct"] == "urn:cancuoc:identity:1"
    assert identity["proof_types_supported"] == {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}}
    names = {d["locale"]: d["name"] for d in identity["credential_metadata"]["display"]}
    assert names == {"vi": "Căn cước điện tử", "en": "Electronic identity"}
    vss = client.get("/.well-known/openid-credential-issuer/vss").json()
    assert set(vss["credential_configurations_supported"]) == {"health_insurance", "social_insurance"}
    assert vss["batch_credential_issuance"]["batch_size"] >= 2


def test_jwt_vc_issuer_metadata_publishes_a_usable_key(client: Any) -> None:
    body = client.get("/.well-known/jwt-vc-issuer/vss").json()
    assert body["issuer"] == "http://127.0.0.1:8000/vss"
    # The issuer's own key, then the status list signer's (status list tokens name it by kid).
    issuer_jwk, status_jwk = body["jwks"]["keys"]
    for jwk in (issuer_jwk, status_jwk):
        assert public_key_from_jwk(jwk).thumbprint() == jwk["kid"]
    assert issuer_jwk["kid"] != status_jwk["kid"]
    assert client.get("/.well-known/jwt-vc-issuer/mps").json()["jwks"]["keys"][1] == status_jwk


def test_unknown_issuer_and_path_get_json_errors(client: Any) -> None:
    response = client.get("/.well-known/openid-credential-issuer/police")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/no/such/thing").json()["error"] == "not_found"


def test_openapi_document_is_served(client: Any) -> None:
    document = client.get("/schema/openapi.json").json()
    assert "/health" in document["paths"]
