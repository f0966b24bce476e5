"""The wallet's checks of a signed request object (OpenID4VP §5, HAIP §5): digest §8.5 P1-P9, P12, P13."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest
from vp_support import NOW, World, make_world

from shared.encoding import b64url_encode, json_dumps
from shared.errors import CredentialError
from shared.jose import generate_private_key, sign_jwt
from shared.jose.x5c import x5c_of, x509_hash
from shared.jose.x509 import create_root_certificate
from shared.oid4vp.presets import PRESETS
from shared.oid4vp.request import (
    REQUEST_TYP,
    check_request_uri_method,
    create_request_object,
    parse_request_link,
    request_link,
    verify_request_object,
)


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


def _claims(world: World, **changes: Any) -> dict[str, Any]:
    claims = {k: v for k, v in msgspec.to_builtins(world.request()).items() if v is not None}
    for name, value in changes.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def _signed(world: World, claims: dict[str, Any], **header: Any) -> str:
    return sign_jwt(
        claims, world.clinic.key, typ=header.pop("typ", REQUEST_TYP), **{"x5c": world.clinic.x5c, **header}
    )


def _refused(token: str, world: World, **kwargs: Any) -> CredentialError:
    with pytest.raises(CredentialError) as info:
        verify_request_object(token, world.anchors, now=kwargs.pop("now", NOW), **kwargs)
    return info.value


def test_a_valid_request_shows_the_clinic_and_its_purpose(world: World) -> None:
    token = world.request_object()
    verified = verify_request_object(token, world.anchors, now=NOW, outer_client_id=world.client_id)
    assert verified.verifier_name == "Bệnh viện Bạch Mai"
    assert verified.purpose == "Check-in at the front desk"
    assert [c.id for c in verified.dcql.credentials] == ["health_insurance", "identity"]
    assert verified.client_id.startswith("x509_hash:")


@pytest.mark.parametrize(
    ("changes", "code", "reason"),
    [
        (
            {"client_id": "redirect_uri:http://127.0.0.1:8000/cb"},
            "invalid_request",
            "unsupported_client_id_prefix",
        ),
        ({"client_id": "foo:bar"}, "invalid_request", "unsupported_client_id_prefix"),
        ({"client_id": "x509_hash:" + "A" * 43}, "invalid_request", "x509_hash_mismatch"),
        ({"client_id": None}, "invalid_request", "missing_client_id"),
        ({"redirect_uri": "http://127.0.0.1:8000/cb"}, "invalid_request", "redirect_uri"),
        ({"scope": "openid"}, "invalid_request", "dcql_and_scope"),
        ({"dcql_query": None}, "invalid_request", "missing_dcql_query"),
        ({"transaction_data": ["eyJ0eXBlIjoieCJ9"]}, "invalid_transaction_data", "transaction_data"),
        ({"nonce": "short"}, "invalid_request", "bad_nonce"),
        ({"nonce": "n" * 30 + " /"}, "invalid_request", "bad_nonce"),
        ({"nonce": None}, "invalid_request", "bad_nonce"),
        ({"response_mode": "direct_post.jwt"}, "invalid_request", "unsupported_response_mode"),
        ({"response_mode": "fragment"}, "invalid_request", "unsupported_response_mode"),
        ({"response_type": "code"}, "invalid_request", "unsupported_response_type"),
        ({"response_uri": "ftp://x/y"}, "invalid_request", "bad_response_uri"),
        ({"response_uri": "http://clinic.example/response"}, "invalid_request", "bad_response_uri"),
        ({"response_uri": "urn:cancuoc:other"}, "invalid_request", "bad_response_uri"),
        ({"aud": "https://wallet.example"}, "invalid_request", "wrong_aud"),
        ({"exp": None}, "invalid_request", "missing_exp"),
        ({"exp": int(NOW.timestamp()) - 600}, "expired", "request_expired"),
        ({"iat": int(NOW.timestamp()) + 600}, "not_yet_valid", "iat_in_future"),
        ({"state": ""}, "invalid_request", "bad_state"),
        ({"verifier_info": None}, "invalid_request", "missing_registration"),
        (
            {"client_metadata": {"vp_formats_supported": {"mso_mdoc": {}}}},
            "vp_formats_not_supported",
            "vp_formats",
        ),
        ({"dcql_query": {"credentials": []}}, "invalid_request", "no_credentials"),
    ],
)
def test_request_rules(world: World, changes: dict[str, Any], code: str, reason: str) -> None:
    error = _refused(_signed(world, _claims(world, **changes)), world)
    assert (error.code, error.reason) == (code, reason)


def test_p1_untyped_request_object_is_not_processed(world: World) -> None:
    for typ in ("JWT", None):
        error = _refused(_signed(world, _claims(world), typ=typ), world)
        assert (error.code, error.reason) == ("invalid_typ", "wrong_typ")


def test_unsigned_request_is_refused(world: World) -> None:
    signed = _signed(world, _claims(world))
    header = {"alg": "none", "typ": REQUEST_TYP, "x5c": world.clinic.x5c}
    unsigned = f"{b64url_encode(json_dumps(header))}.{signed.split('.')[1]}."
    error = _refused(unsigned, world)
    assert (error.code, error.reason) == ("unsupported_algorithm", "alg_not_allowed")


def test_wrongly_signed_request_is_refused(world: World) -> None:
    token = sign_jwt(_claims(world), generate_private_key(), typ=REQUEST_TYP, x5c=world.clinic.x5c)
    assert _refused(token, world).code == "invalid_signature"


def test_p2_outer_client_id_must_match(world: World) -> None:
    error = _refused(world.request_object(), world, outer_client_id="x509_hash:other")
    assert (error.code, error.reason) == ("invalid_request", "client_id_mismatch")


def test_p4_chain_to_another_root(world: World) -> None:
    other = make_world()
    token = create_request_object(other.request(), other.clinic.key, other.clinic.chain)
    error = _refused(token, world)
    assert (error.code, error.reason) == ("untrusted_certificate", "chain_untrusted")


def test_p4_self_signed_leaf(world: World) -> None:
    key = generate_private_key()
    certificate = create_root_certificate(key, name="Fake clinic", now=NOW)
    claims = _claims(world, client_id="x509_hash:" + x509_hash(certificate))
    token = sign_jwt(claims, key, typ=REQUEST_TYP, x5c=x5c_of([certificate]))
    assert _refused(token, world).reason == "leaf_self_signed"


def test_expired_clinic_certificate(world: World) -> None:
    clinic = world.leaf("verifier", name="Old clinic", now=NOW - timedelta(days=30), days=1)
    claims = _claims(world, client_id="x509_hash:" + x509_hash(clinic.certificate))
    token = sign_jwt(claims, clinic.key, typ=REQUEST_TYP, x5c=clinic.x5c)
    error = _refused(token, world)
    assert (error.code, error.reason) == ("untrusted_certificate", "certificate_expired")


def test_request_signed_by_an_issuer_certificate(world: World) -> None:
    mps = world.parties["mps"]
    claims = _claims(world, client_id="x509_hash:" + x509_hash(mps.certificate))
    token = sign_jwt(claims, mps.key, typ=REQUEST_TYP, x5c=mps.x5c)
    assert (_refused(token, world).code, _refused(token, world).reason) == (
        "untrusted_certificate",
        "missing_role",
    )


def test_over_asking_is_refused(world: World) -> None:
    registration = world.registration(PRESETS["age-check"])
    claims = _claims(world, verifier_info=[{"format": "jwt", "data": registration}])
    error = _refused(_signed(world, claims), world)
    assert (error.code, error.reason) == ("invalid_request", "over_asking")
    assert "citizen_id" in error.message


@pytest.mark.parametrize(
    ("make", "code", "reason"),
    [
        (
            lambda w: w.registration(PRESETS["clinic-checkin"], client_id="x509_hash:other"),
            "invalid_request",
            "registration_mismatch",
        ),
        (
            lambda w: w.registration(PRESETS["clinic-checkin"], now=NOW - timedelta(days=400)),
            "expired",
            "registration_expired",
        ),
        (
            lambda w: sign_jwt(
                {"sub": w.client_id},
                w.parties["mps"].key,
                typ="verifier-registration+jwt",
                x5c=w.parties["mps"].x5c,
            ),
            "untrusted_certificate",
            "missing_role",
        ),
        (
            lambda w: sign_jwt(
                {"sub": w.client_id}, w.parties["registrar"].key, typ="JWT", x5c=w.parties["registrar"].x5c
            ),
            "invalid_typ",
            "wrong_typ",
        ),
        (
            lambda w: sign_jwt(
                {"sub": w.client_id},
                w.parties["registrar"].key,
                typ="verifier-registration+jwt",
                x5c=w.parties["registrar"].x5c,
            ),
            "invalid_request",
            "bad_registration",
        ),
    ],
)
def test_registration_record_rules(world: World, make: Any, code: str, reason: str) -> None:
    claims = _claims(world, verifier_info=[{"format": "jwt", "data": make(world)}])
    error = _refused(_signed(world, claims), world)
    assert (error.code, error.reason) == (code, reason)


def test_create_request_object_refuses_a_foreign_client_id(world: World) -> None:
    request = world.request(client_id="x509_hash:other")
    with pytest.raises(CredentialError) as info:
        create_request_object(request, world.clinic.key, world.clinic.chain)
    assert info.value.reason == "x509_hash_mismatch"


def test_p9_request_uri_method_and_links() -> None:
    assert check_request_uri_method(None) == "get"
    assert check_request_uri_method("post") == "post"
    for bad in ("PUT", "Post", ""):
        with pytest.raises(CredentialError) as info:
            check_request_uri_method(bad)
        assert info.value.code == "invalid_request_uri_method"
    link = request_link("x509_hash:abc", "http://127.0.0.1:8000/verifier/request/t1")
    parsed = parse_request_link(link)
    assert (parsed.client_id, parsed.request_uri, parsed.request_uri_method) == (
        "x509_hash:abc",
        "http://127.0.0.1:8000/verifier/request/t1",
        "get",
    )
    with pytest.raises(CredentialError) as info:
        parse_request_link("openid4vp://?client_id=x&request_uri=http://a/b&request_uri_method=PUT")
    assert info.value.code == "invalid_request_uri_method"
    with pytest.raises(CredentialError) as info:
        parse_request_link("openid4vp://?client_id=x")
    assert info.value.reason == "bad_link"


def test_offline_and_https_response_uris_are_accepted(world: World) -> None:
    for uri in ("urn:cancuoc:offline", "https://clinic.example/response", "http://localhost:8000/r"):
        verified = verify_request_object(
            _signed(world, _claims(world, response_uri=uri)), world.anchors, now=NOW
        )
        assert verified.request.response_uri == uri
