"""OpenID4VCI wire messages as the wallet reads them: offer links (§4.1), key proofs (§F.1), responses."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from shared.errors import MalformedError
from shared.jose import generate_private_key, verify_jws
from shared.oid4vci import (
    PRE_AUTHORIZED_GRANT,
    PROOF_TYP,
    CredentialResponse,
    TokenResponse,
    create_proof,
    decode_message,
    parse_offer_link,
)

OFFER = {
    "credential_issuer": "https://id.gov.vn/mps",
    "credential_configuration_ids": ["identity"],
    "grants": {
        PRE_AUTHORIZED_GRANT: {"pre-authorized_code": "SplxlOBeZQQYbYS6WxSbIA", "tx_code": {"length": 6}}
    },
    "a_future_member": {"is": "ignored"},
}


def test_offer_by_value_is_decoded_and_unknown_members_ignored() -> None:
    reference = parse_offer_link(f"openid-credential-offer://?credential_offer={quote(json.dumps(OFFER))}")
    assert reference.offer_uri is None
    assert reference.offer is not None
    assert reference.offer.credential_configuration_ids == ["identity"]
    grant = reference.offer.grants.pre_authorized_code if reference.offer.grants else None
    assert grant is not None
    assert grant.pre_authorized_code == "SplxlOBeZQQYbYS6WxSbIA"
    assert grant.tx_code is not None
    assert grant.tx_code.length == 6


def test_offer_by_reference_gives_the_uri() -> None:
    uri = "https://id.gov.vn/mps/offers/abc"
    reference = parse_offer_link(f"openid-credential-offer://?credential_offer_uri={quote(uri, safe='')}")
    assert reference == type(reference)(None, uri)


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("openid-credential-offer://?", "bad_offer_link"),
        (
            f"openid-credential-offer://?credential_offer={quote(json.dumps(OFFER))}"
            "&credential_offer_uri=https%3A%2F%2Fx",
            "bad_offer_link",
        ),
        ("ftp://example.com/?credential_offer_uri=x", "bad_offer_link"),
        ("openid-credential-offer://?credential_offer=%7Bnot-json", "bad_offer"),
        (
            "openid-credential-offer://?credential_offer="
            + quote(json.dumps({**OFFER, "credential_configuration_ids": []})),
            "bad_offer",
        ),
        (
            "openid-credential-offer://?credential_offer="
            + quote(json.dumps({**OFFER, "credential_configuration_ids": ["identity", "identity"]})),
            "bad_offer",
        ),
        ("openid-credential-offer://?credential_offer=" + "x" * 20_000, "offer_too_large"),
    ],
)
def test_bad_offer_links_are_refused(link: str, reason: str) -> None:
    with pytest.raises(MalformedError) as refused:
        parse_offer_link(link)
    assert refused.value.reason == reason


def test_proof_carries_the_public_key_and_no_kid_or_iss() -> None:
    key = generate_private_key(kid="device-key-must-not-leak")
    proof = create_proof(key, audience="https://id.gov.vn/mps", nonce="n-1", issued_at=1_790_000_000)
    jws = verify_jws(proof, key.public, typ=PROOF_TYP)
    assert jws.header == {"alg": "ES256", "typ": PROOF_TYP, "jwk": key.public.jwk}
    assert jws.payload == {"aud": "https://id.gov.vn/mps", "iat": 1_790_000_000, "nonce": "n-1"}


def test_responses_decode_into_wire_types_and_refuse_garbage() -> None:
    token = decode_message(
        b'{"access_token":"t","token_type":"Bearer","expires_in":300}', TokenResponse, "token"
    )
    assert token.access_token == "t"
    issued = decode_message(
        b'{"credentials":[{"credential":"a~"}]}', CredentialResponse, "credential response"
    )
    assert issued.credentials[0].credential == "a~"
    with pytest.raises(MalformedError):
        decode_message(b'{"credential":"legacy singular"}', CredentialResponse, "credential response")
