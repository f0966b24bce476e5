"""What the issuer refuses (standards digest §8.4, C1–C24, C29, C35): every case asserts status and `error`.

Cases of one kind share a test (and so one app and database): a PostgreSQL test database costs ~0.3 s.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from issuance_helpers import (
    BASE,
    FORM,
    IDENTITY_ONLY_CITIZEN,
    PRE_AUTHORIZED_GRANT,
    PROOF_TYP,
    Holder,
    make_proof,
    run_sql,
    seed_registry,
)
from sqlalchemy import func, select, update

from server.store.schema import credential_families, offers
from shared.encoding import b64url_encode, json_dumps
from shared.jose import PrivateKey, generate_private_key, private_jwk

ROLES = ("mps-officer", "vss-officer", "auditor", "admin")
HEALTH_ONLY = json.dumps([{"type": "openid_credential", "credential_configuration_id": "health_insurance"}])


class World:
    """A seeded registry, an operator per role, and shortcuts to offers, codes and access tokens."""

    def __init__(self, client: Any, config: Any, clock: Any) -> None:
        self.client, self.config, self.clock = client, config, clock
        self.citizen_id, self.tokens = seed_registry(config, ROLES)

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def make_offer(self, issuer: str = "mps", role: str | None = None, **body: Any) -> Any:
        body.setdefault("citizen_id", self.citizen_id)
        body.setdefault(
            "credential_configuration_ids", ["identity"] if issuer == "mps" else ["health_insurance"]
        )
        headers = self.auth(role or f"{issuer}-officer")
        return self.client.post(f"/{issuer}/offers", json=body, headers=headers)

    def code(self, issuer: str = "mps", **body: Any) -> tuple[str, str]:
        """A fresh by-value offer's (pre-authorized code, tx_code)."""
        made = self.make_offer(issuer, **body).json()
        grant = made["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]
        return grant["pre-authorized_code"], made["tx_code"]

    def access_token(self, issuer: str = "mps", **body: Any) -> str:
        response = Holder(self.client, issuer).token(*self.code(issuer, **body))
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


@pytest.fixture
def world(client: Any, server_config: Any, clock: Any) -> World:
    return World(client, server_config, clock)


@pytest.fixture
def mps(client: Any) -> Holder:
    return Holder(client, "mps")


@pytest.fixture
def token(world: World) -> str:
    return world.access_token("mps")


def refused(response: Any, status: int, error: str, case: str = "") -> None:
    assert response.status_code == status, f"{case}: {response.text}"
    assert response.json()["error"] == error, f"{case}: {response.text}"
    assert response.headers["cache-control"] == "no-store", case


def wrong(tx_code: str) -> str:
    return f"{(int(tx_code) + 1) % 1_000_000:06d}"


def one_proof(mps: Holder, world: World, count: int = 1) -> dict[str, Any]:
    return {"jwt": mps.proofs(count, world.clock())[1]}


# Token endpoint (§6)


def test_c1_c2_a_used_unknown_or_expired_code_is_invalid_grant(world: World, mps: Holder) -> None:
    code, tx_code = world.code()
    assert mps.token(code, tx_code).status_code == 200
    refused(mps.token(code, tx_code), 400, "invalid_grant", "C1 redeemed")
    refused(mps.token("x" * 43, "123456"), 400, "invalid_grant", "unknown")
    code, tx_code = world.code()
    world.clock.advance(world.config.pre_authorized_code_ttl + 1)
    refused(mps.token(code, tx_code), 400, "invalid_grant", "C2 expired")


def test_c3_a_missing_tx_code_is_invalid_request_and_burns_nothing(world: World, mps: Holder) -> None:
    code, tx_code = world.code()
    refused(mps.token(code, None), 400, "invalid_request")
    assert mps.token(code, tx_code).status_code == 200


def test_c4_an_unexpected_tx_code_is_invalid_request(world: World, mps: Holder) -> None:
    code, tx_code = world.code()

    async def drop_tx_code(connection: Any) -> None:
        await connection.execute(update(offers).values(tx_code_hash=None))

    run_sql(world.config, drop_tx_code)
    refused(mps.token(code, tx_code), 400, "invalid_request")


def test_c5_a_wrong_tx_code_is_invalid_grant(world: World, mps: Holder) -> None:
    code, tx_code = world.code()
    refused(mps.token(code, wrong(tx_code)), 400, "invalid_grant")
    assert mps.token(code, tx_code).status_code == 200


def test_c6_the_sixth_try_fails_even_with_the_right_tx_code(world: World, mps: Holder) -> None:
    code, tx_code = world.code()
    for attempt in range(world.config.tx_code_max_attempts):
        refused(mps.token(code, wrong(tx_code)), 400, "invalid_grant", f"wrong try {attempt + 1}")
    refused(mps.token(code, tx_code), 400, "invalid_grant", "right code after five wrong ones")


def test_c8_only_the_pre_authorized_grant_is_supported(world: World, client: Any) -> None:
    code, tx_code = world.code()
    for grant_type, error in [
        ("authorization_code", "unsupported_grant_type"),
        ("client_credentials", "unsupported_grant_type"),
        ("", "invalid_request"),
    ]:
        form = {"grant_type": grant_type, "pre-authorized_code": code, "tx_code": tx_code}
        refused(client.post("/mps/token", data=form, headers=FORM), 400, error, grant_type)


def test_a_code_of_another_issuer_is_invalid_grant(world: World, client: Any) -> None:
    refused(Holder(client, "vss").token(*world.code("mps")), 400, "invalid_grant")


def test_a_token_request_that_is_no_proper_form_is_invalid_request(world: World, client: Any) -> None:
    for content, content_type in [
        (b'{"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code"}', "application/json"),
        (b"\xff\xfe garbage &&& ===", "application/x-www-form-urlencoded"),
        (b"grant_type=a&grant_type=b", "application/x-www-form-urlencoded"),
        (b"", "text/plain"),
    ]:
        response = client.post("/mps/token", content=content, headers={"Content-Type": content_type})
        refused(response, 400, "invalid_request", repr(content))


def test_authorization_details_cannot_widen_the_offer(world: World, mps: Holder) -> None:
    code, tx_code = world.code()
    refused(mps.token(code, tx_code, authorization_details="[{"), 400, "invalid_request", "not JSON")
    response = mps.token(code, tx_code, authorization_details=HEALTH_ONLY)
    refused(response, 400, "invalid_authorization_details", "not offered")


# Offers (§4.1)


def test_an_officer_offers_only_for_its_own_issuer(world: World) -> None:
    for issuer, role in [("mps", "vss-officer"), ("vss", "mps-officer"), ("vss", "auditor")]:
        refused(world.make_offer(issuer, role=role), 403, "access_denied", f"{role} at {issuer}")


def test_an_issuer_offers_only_its_own_configurations(world: World) -> None:
    response = world.make_offer("vss", credential_configuration_ids=["identity"])
    refused(response, 400, "unknown_credential_configuration")


def test_an_unknown_citizen_or_missing_record_is_404(world: World) -> None:
    refused(world.make_offer("mps", citizen_id="001099000001"), 404, "not_found", "unknown citizen")
    refused(world.make_offer("vss", citizen_id=IDENTITY_ONLY_CITIZEN), 404, "not_found", "no VSS record")


def test_offers_need_an_operator_token(world: World, client: Any) -> None:
    body = {"citizen_id": world.citizen_id, "credential_configuration_ids": ["identity"]}
    for authorization in [None, "Bearer cco_wrong", "Basic dXNlcjpwYXNz"]:
        headers = {"Authorization": authorization} if authorization else {}
        response = client.post("/mps/offers", json=body, headers=headers)
        refused(response, 401, "invalid_token", str(authorization))
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_malformed_offer_body_is_invalid_request(world: World, client: Any) -> None:
    headers = {**world.auth("admin"), "Content-Type": "application/json"}
    for content in [
        b"{not json",
        b'{"citizen_id": "001190123456"}',
        b'{"citizen_id": "001190123456", "credential_configuration_ids": ["identity"], "pin": 1}',
        b'{"citizen_id": "001190123456", "credential_configuration_ids": []}',
        b'{"citizen_id": "1", "credential_configuration_ids": ["identity"]}',
    ]:
        response = client.post("/mps/offers", content=content, headers=headers)
        refused(response, 400, "invalid_request", content.decode())


def test_c29_an_offer_uri_serves_once_and_only_by_reference(world: World, client: Any) -> None:
    path = world.make_offer("mps", by_reference=True).json()["credential_offer_uri"].removeprefix(BASE)
    refused(client.get(path.replace("/mps/", "/vss/")), 404, "not_found", "other issuer")
    assert client.get(path).status_code == 200
    refused(client.get(path), 404, "not_found", "second fetch")
    by_value = world.make_offer("mps").json()["credential_offer_uri"].removeprefix(BASE)
    refused(client.get(by_value), 404, "not_found", "by value")
    late = world.make_offer("mps", by_reference=True).json()["credential_offer_uri"].removeprefix(BASE)
    world.clock.advance(world.config.pre_authorized_code_ttl + 1)
    refused(client.get(late), 404, "not_found", "expired")


# Credential endpoint (§8): the access token


def test_c9_the_credential_endpoint_needs_a_live_token_of_its_issuer(world: World, mps: Holder) -> None:
    token, vss_token = world.access_token("mps"), world.access_token("vss")
    cases = {
        "missing": {},
        "unknown": {"Authorization": "Bearer not-a-token"},
        "basic": {"Authorization": f"Basic {token}"},
        "other issuer": {"Authorization": f"Bearer {vss_token}"},
        "expired": {"Authorization": f"Bearer {token}"},
    }
    for case, headers in cases.items():
        if case == "expired":
            world.clock.advance(world.config.access_token_ttl + 1)
        body = {"credential_identifier": "identity", "proofs": one_proof(mps, world)}
        response = mps.credential(None, body, **headers)
        refused(response, 401, "invalid_token", case)
        assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


# Credential endpoint (§8): the request


def test_c10_a_request_names_its_credential_once_by_identifier(world: World, mps: Holder, token: str) -> None:
    for names in [
        {"credential_identifier": "identity", "credential_configuration_id": "identity"},
        {},
        {"credential_configuration_id": "identity"},
        {"credential_identifier": 7},
        {"credential_identifier": 0},
    ]:
        response = mps.credential(token, {**names, "proofs": one_proof(mps, world)})
        refused(response, 400, "invalid_credential_request", str(names))


def test_c11_c12_a_credential_outside_the_token_is_unknown(world: World, mps: Holder, token: str) -> None:
    for names, error in [
        ({"credential_configuration_id": "health_insurance"}, "unknown_credential_configuration"),
        ({"credential_configuration_id": "passport"}, "unknown_credential_configuration"),
        ({"credential_identifier": "identity-2"}, "unknown_credential_identifier"),
    ]:
        refused(mps.credential(token, {**names, "proofs": one_proof(mps, world)}), 400, error, str(names))


def test_c35_a_token_narrowed_by_authorization_details_covers_nothing_else(world: World, client: Any) -> None:
    code, tx_code = world.code("vss", credential_configuration_ids=["health_insurance", "social_insurance"])
    vss = Holder(client, "vss")
    access = vss.token(code, tx_code, authorization_details=HEALTH_ONLY).json()
    assert [d["credential_configuration_id"] for d in access["authorization_details"]] == ["health_insurance"]
    body = {"credential_identifier": "social_insurance", "proofs": {"jwt": vss.proofs(1, world.clock())[1]}}
    refused(vss.credential(access["access_token"], body), 400, "unknown_credential_identifier")


def test_c13_proofs_are_required(mps: Holder, token: str) -> None:
    refused(mps.credential(token, {"credential_identifier": "identity"}), 400, "invalid_proof")


def test_c14_c15_malformed_or_too_many_proofs_are_invalid_credential_request(
    world: World, mps: Holder, token: str
) -> None:
    (proof,) = one_proof(mps, world)["jwt"]
    shapes = {
        "two proof types": {"proofs": {"jwt": [proof], "di_vp": [{}]}},
        "empty array": {"proofs": {"jwt": []}},
        "not an array": {"proofs": {"jwt": proof}},
        "legacy proof": {"proof": {"proof_type": "jwt", "jwt": proof}, "proofs": {"jwt": [proof]}},
        "not a string": {"proofs": {"jwt": [{"jwt": proof}]}},
        "C15 too many": {"proofs": one_proof(mps, world, world.config.batch_size + 1)},
    }
    for shape, body in shapes.items():
        response = mps.credential(token, {"credential_identifier": "identity", **body})
        refused(response, 400, "invalid_credential_request", shape)


def _unsigned(alg: str, key: PrivateKey, nonce: str, now: datetime) -> tuple[str, str]:
    header = b64url_encode(json_dumps({"typ": PROOF_TYP, "alg": alg, "jwk": key.public.jwk}))
    payload = b64url_encode(json_dumps({"aud": f"{BASE}/mps", "iat": int(now.timestamp()), "nonce": nonce}))
    return header, payload


def _alg_none(key: PrivateKey, nonce: str, now: datetime) -> str:
    return ".".join(_unsigned("none", key, nonce, now)) + "."


def _hs256(key: PrivateKey, nonce: str, now: datetime) -> str:
    signing_input = ".".join(_unsigned("HS256", key, nonce, now))
    mac = hmac.new(json_dumps(key.public.jwk), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url_encode(mac)}"


ProofBuilder = Callable[[PrivateKey, str, datetime], str]


def _with(**changes: Any) -> ProofBuilder:
    """A proof with claims (aud, iat, iss, nonce) or header members changed; None leaves one out."""
    claims = {k: v for k, v in changes.items() if k in ("aud", "iat", "iss", "nonce")}
    header = {k: v for k, v in changes.items() if k not in claims}

    def build(key: PrivateKey, nonce: str, now: datetime) -> str:
        values = {"nonce": nonce, **{k: (v(now) if callable(v) else v) for k, v in claims.items()}}
        header_values = {k: (v(key) if callable(v) else v) for k, v in header.items()}
        return make_proof(key, nonce=values.pop("nonce"), now=now, claims=values, **header_values)

    return build


KEY_ONLY_IN_JWK = "public key in jwk, and only there"
BAD_AUD = "aud must be the credential issuer"
HOSTILE_PROOFS: dict[str, dict[str, tuple[ProofBuilder, str]]] = {
    "C16 typ, alg, signature": {
        "typ JWT": (_with(typ="JWT"), "typ is 'JWT'"),
        "no typ": (_with(typ=None), "typ is None"),
        "alg none": (_alg_none, "algorithm 'none'"),
        "alg HS256": (_hs256, "algorithm 'HS256'"),
        "bad signature": (
            _with(jwk=lambda key: generate_private_key().public.jwk),
            "signature does not verify",
        ),
    },
    "C17 C18 the key": {
        "jwk and kid": (_with(kid="key-1"), KEY_ONLY_IN_JWK),
        "kid instead of jwk": (_with(jwk=None, kid="did:example:wallet#key-1"), KEY_ONLY_IN_JWK),
        "jwk and x5c": (_with(x5c=["MIIBszCCAVmgAwIBAgIU"]), KEY_ONLY_IN_JWK),
        "no key": (_with(jwk=None), KEY_ONLY_IN_JWK),
        "private jwk": (_with(jwk=private_jwk), "private key material"),
    },
    "C19 aud": {
        "another issuer": (_with(aud=f"{BASE}/vss"), BAD_AUD),
        "the token endpoint": (_with(aud=f"{BASE}/mps/token"), BAD_AUD),
        "an array": (_with(aud=[f"{BASE}/mps"]), BAD_AUD),
    },
    "C20 C23 nonce, iss, iat": {
        "no nonce": (_with(nonce=None), "needs the c_nonce"),
        "iss present": (_with(iss="wallet-client"), "must not carry iss"),
        "stale iat": (_with(iat=lambda now: int(now.timestamp()) - 301), "too old"),
        "future iat": (_with(iat=lambda now: int(now.timestamp()) + 120), "in the future"),
        "iat not a number": (_with(iat=lambda now: str(int(now.timestamp()))), "integer iat"),
    },
}


@pytest.mark.parametrize("group", list(HOSTILE_PROOFS))
def test_c16_to_c23_a_hostile_proof_is_invalid_proof(
    world: World, mps: Holder, token: str, group: str
) -> None:
    for case, (build, reason) in HOSTILE_PROOFS[group].items():
        proof = build(generate_private_key(), mps.nonce(), world.clock())
        response = mps.credential(token, {"credential_identifier": "identity", "proofs": {"jwt": [proof]}})
        refused(response, 400, "invalid_proof", case)
        assert reason in response.json()["error_description"], case


def test_c24_two_proofs_with_one_key_are_refused(world: World, mps: Holder, token: str) -> None:
    key, nonce = generate_private_key(), mps.nonce()
    proofs = [make_proof(key, nonce=nonce, now=world.clock()) for _ in range(2)]
    response = mps.credential(token, {"credential_identifier": "identity", "proofs": {"jwt": proofs}})
    refused(response, 400, "invalid_proof")


def test_c21_an_unknown_foreign_or_expired_nonce_is_invalid_nonce(
    world: World, client: Any, mps: Holder
) -> None:
    code, tx_code = world.code()
    stale = mps.nonce()
    world.clock.advance(world.config.nonce_ttl + 1)
    token = mps.token(code, tx_code).json()["access_token"]
    for case, nonce in [
        ("unknown", "made-up-nonce"),
        ("another issuer's", Holder(client, "vss").nonce()),
        ("expired", stale),
    ]:
        body = {
            "credential_identifier": "identity",
            "proofs": {"jwt": mps.proofs(1, world.clock(), nonce)[1]},
        }
        refused(mps.credential(token, body), 400, "invalid_nonce", case)


def test_c22_a_replayed_request_is_invalid_nonce_and_issues_nothing(
    world: World, mps: Holder, token: str
) -> None:
    body = {"credential_identifier": "identity", "proofs": one_proof(mps, world, 2)}
    assert mps.credential(token, body).status_code == 200
    refused(mps.credential(token, body), 400, "invalid_nonce")

    async def families(connection: Any) -> int:
        return int(
            (await connection.execute(select(func.count()).select_from(credential_families))).scalar_one()
        )

    assert run_sql(world.config, families) == 1


def test_a_refused_batch_leaves_its_nonce_usable(world: World, mps: Holder, token: str) -> None:
    nonce = mps.nonce()
    good = make_proof(generate_private_key(), nonce=nonce, now=world.clock())
    bad = HOSTILE_PROOFS["C16 typ, alg, signature"]["bad signature"][0](
        generate_private_key(), nonce, world.clock()
    )
    response = mps.credential(token, {"credential_identifier": "identity", "proofs": {"jwt": [good, bad]}})
    refused(response, 400, "invalid_proof")
    assert (
        mps.credential(token, {"credential_identifier": "identity", "proofs": {"jwt": [good]}}).status_code
        == 200
    )


def test_a_body_that_is_no_json_object_is_invalid_credential_request(client: Any, token: str) -> None:
    for content, content_type in [
        (b"{not json", "application/json"),
        (b'["credential_identifier"]', "application/json"),
        (b'{"credential_identifier": "identity", "credential_identifier": "x"}', "application/json"),
        (b"credential_identifier=identity", "application/x-www-form-urlencoded"),
    ]:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
        response = client.post("/mps/credential", content=content, headers=headers)
        refused(response, 400, "invalid_credential_request", repr(content))


def test_response_encryption_is_not_offered(world: World, mps: Holder, token: str) -> None:
    body = {
        "credential_identifier": "identity",
        "proofs": one_proof(mps, world),
        "credential_response_encryption": {"jwk": {}, "enc": "A128GCM"},
    }
    refused(mps.credential(token, body), 400, "invalid_encryption_parameters")


def test_an_oversized_body_is_413(world: World, client: Any, token: str) -> None:
    content = b'{"pad": "' + b"x" * (world.config.max_body_bytes + 1) + b'"}'
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for path in ["/mps/credential", "/mps/token", "/mps/offers"]:
        refused(client.post(path, content=content, headers=headers), 413, "payload_too_large", path)
