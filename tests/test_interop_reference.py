"""Interoperability both ways with the OpenWallet Foundation reference library (PyPI `sd-jwt`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from shared import jose
from shared.errors import InvalidKeyBindingError
from shared.sdjwt.markers import sd
from shared.sdjwt.present import create_presentation
from shared.sdjwt.verify import KeyBindingPolicy, verify_sd_jwt
from shared.sdjwt_vc import TYP, issue_credential, verify_credential

ISSUER = "https://cancuoc.test/mps"
VERIFIER = "x509_hash:clinic-test"
NONCE = "n-0S6_WzA2Mj"
VCT = "urn:cancuoc:identity:1"


def jwcrypto_key(key: jose.PrivateKey) -> JWK:
    return JWK(**jose.private_jwk(key))


@pytest.fixture
def keys() -> tuple[jose.PrivateKey, jose.PrivateKey]:
    return jose.generate_private_key(kid="mps-1"), jose.generate_private_key()


def now() -> datetime:
    # The reference holder stamps its KB-JWT with the real clock, so these tests use it too.
    return datetime.now(UTC)


def our_identity(issuer: jose.PrivateKey, holder: jose.PrivateKey) -> str:
    issued = int(now().timestamp())
    subject = {
        sd("citizen_id"): "001203004567",
        sd("full_name"): "Nguyễn Thị Minh Khai",
        sd("birth_date"): "2003-05-17",
        sd("place_of_residence"): {sd("ward"): "Phường Bến Nghé", "province": "Hồ Chí Minh"},
        "nationalities": [sd("VN"), sd("FR")],
        sd("age_over_18"): True,
    }
    return issue_credential(
        subject,
        issuer,
        issuer=ISSUER,
        vct=VCT,
        holder_jwk=holder.public.jwk,
        issued_at=issued,
        expires_at=issued + 3600,
        status={"status_list": {"idx": 42, "uri": "https://cancuoc.test/status/mps/1"}},
    )


def test_reference_verifier_accepts_our_credential_presented_by_reference_holder(keys: Any) -> None:
    issuer, holder = keys
    credential = our_identity(issuer, holder)
    reference_holder = SDJWTHolder(credential)
    reference_holder.create_presentation(
        {"full_name": True, "place_of_residence": {"ward": True}, "nationalities": [False, True]},
        nonce=NONCE,
        aud=VERIFIER,
        holder_key=jwcrypto_key(holder),
    )
    verifier = SDJWTVerifier(
        reference_holder.sd_jwt_presentation,
        lambda iss, header: jwcrypto_key(issuer),
        expected_aud=VERIFIER,
        expected_nonce=NONCE,
    )
    claims = verifier.get_verified_payload()
    assert claims["full_name"] == "Nguyễn Thị Minh Khai"
    assert claims["place_of_residence"] == {"ward": "Phường Bến Nghé", "province": "Hồ Chí Minh"}
    assert claims["nationalities"] == ["FR"]
    assert "citizen_id" not in claims
    assert claims["vct"] == VCT


def test_reference_verifier_accepts_our_presentation(keys: Any) -> None:
    issuer, holder = keys
    credential = our_identity(issuer, holder)
    presentation = create_presentation(
        credential,
        [("citizen_id",), ("age_over_18",)],
        holder_key=holder,
        audience=VERIFIER,
        nonce=NONCE,
        issued_at=int(now().timestamp()),
    )
    verifier = SDJWTVerifier(
        presentation, lambda iss, header: jwcrypto_key(issuer), expected_aud=VERIFIER, expected_nonce=NONCE
    )
    claims = verifier.get_verified_payload()
    assert claims["citizen_id"] == "001203004567"
    assert claims["age_over_18"] is True
    assert "full_name" not in claims


def reference_issued(issuer: jose.PrivateKey, holder: jose.PrivateKey, *, decoys: bool) -> str:
    issued = int(now().timestamp())
    user_claims = {
        "iss": ISSUER,
        "vct": VCT,
        "iat": issued,
        "exp": issued + 3600,
        SDObj("full_name"): "Trần Văn Bình",
        SDObj("address"): {SDObj("street"): "12 Lý Thường Kiệt", "country": "VN"},
        "degrees": [SDObj("BSc"), "MSc", SDObj("PhD")],
    }
    reference_issuer = SDJWTIssuer(
        user_claims,
        jwcrypto_key(issuer),
        holder_key=JWK(**holder.public.jwk),
        add_decoy_claims=decoys,
        extra_header_parameters={"typ": TYP, "kid": "mps-1"},
    )
    return str(reference_issuer.sd_jwt_issuance)


@pytest.mark.parametrize("decoys", [False, True])
def test_we_verify_what_the_reference_issuer_issues(keys: Any, decoys: bool) -> None:
    issuer, holder = keys
    issued = reference_issued(issuer, holder, decoys=decoys)
    credential = verify_credential(issued, issuer.public, now=now(), key_binding=None)
    assert credential.claims["full_name"] == "Trần Văn Bình"
    assert credential.claims["address"] == {"street": "12 Lý Thường Kiệt", "country": "VN"}
    assert credential.claims["degrees"] == ["BSc", "MSc", "PhD"]


def test_we_verify_a_reference_holder_presentation(keys: Any) -> None:
    issuer, holder = keys
    reference_holder = SDJWTHolder(reference_issued(issuer, holder, decoys=True))
    reference_holder.create_presentation(
        {"address": {"street": True}, "degrees": [False, True, True]},
        nonce=NONCE,
        aud=VERIFIER,
        holder_key=jwcrypto_key(holder),
    )
    verified = verify_sd_jwt(
        reference_holder.sd_jwt_presentation,
        issuer.public,
        now=now(),
        typ=TYP,
        key_binding=KeyBindingPolicy(VERIFIER, NONCE),
    )
    assert verified.claims["address"] == {"street": "12 Lý Thường Kiệt", "country": "VN"}
    assert verified.claims["degrees"] == ["MSc", "PhD"]
    assert "full_name" not in verified.claims


def test_we_refuse_a_reference_presentation_for_another_verifier(keys: Any) -> None:
    issuer, holder = keys
    reference_holder = SDJWTHolder(reference_issued(issuer, holder, decoys=False))
    reference_holder.create_presentation(
        {"full_name": True}, nonce=NONCE, aud="x509_hash:another-clinic", holder_key=jwcrypto_key(holder)
    )
    with pytest.raises(InvalidKeyBindingError) as caught:
        verify_sd_jwt(
            reference_holder.sd_jwt_presentation,
            issuer.public,
            now=now(),
            typ=TYP,
            key_binding=KeyBindingPolicy(VERIFIER, NONCE),
        )
    assert caught.value.reason == "aud_mismatch"
