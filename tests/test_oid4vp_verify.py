"""The verifier's check of a response (OpenID4VP §8.6, HAIP §6.1): digest §8.2, §8.3 and P15-P24.

Every case starts from a valid clinic check-in answer and changes one thing; each asserts the failing
check's name and code (and reason).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from vp_support import (
    HEALTH,
    IDENTITY,
    MPS,
    NOW,
    VSS,
    World,
    answer,
    asked_claims,
    citizen_claims,
    failed_checks,
    make_world,
    verify_with,
)

from shared.encoding import json_dumps
from shared.jose import generate_private_key
from shared.oid4vp.report import CHECK_NAMES
from shared.oid4vp.request import AuthorizationRequest
from shared.oid4vp.response import VpResponse, parse_response, presentation_for
from shared.sdjwt.present import read_unverified


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module")
def cards(world: World) -> tuple[str, str]:
    return world.checkin_cards()


@pytest.fixture(scope="module")
def request_(world: World) -> AuthorizationRequest:
    return world.request()


def test_a_valid_check_in_discloses_exactly_the_asked_claims(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest
) -> None:
    report = verify_with(world, answer(request_, cards, holder=world.holder), request_)
    assert report.valid, report.failed()
    assert {c.name for c in report.checks} == set(CHECK_NAMES)
    assert {c.vct: set(c.claims) for c in report.credentials} == asked_claims("clinic-checkin")
    shape = report.to_json()
    assert shape["valid"] is True
    assert set(shape["checks"][0]) == {"name", "ok", "code", "detail"}
    assert {c["status"] for c in shape["credentials"]} == {"valid"}


def test_form_encoded_response_round_trips(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest
) -> None:
    form = answer(request_, cards, holder=world.holder).to_form()
    assert isinstance(form["vp_token"], str)
    assert verify_with(world, form, request_).valid


def _answer_with(
    world: World, request: AuthorizationRequest, cards: tuple[str, str], **kwargs: Any
) -> VpResponse:
    return answer(request, cards, holder=kwargs.pop("holder", world.holder), **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"nonce": "another-requests-nonce-0123456789"}, ("nonce", "invalid_key_binding", "nonce_mismatch")),
        ({"audience": "x509_hash:another-clinic"}, ("audience", "invalid_key_binding", "aud_mismatch")),
        ({"holder": generate_private_key()}, ("key_binding", "invalid_key_binding", "kb_bad_signature")),
        ({"issued_at": int(NOW.timestamp()) - 3600}, ("kb_fresh", "invalid_key_binding", "kb_stale")),
        ({"issued_at": int(NOW.timestamp()) + 3600}, ("kb_fresh", "invalid_key_binding", "kb_iat_in_future")),
    ],
)
def test_key_binding_rules(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest, kwargs: Any, expected: Any
) -> None:
    assert expected in failed_checks(
        verify_with(world, _answer_with(world, request_, cards, **kwargs), request_)
    )


def test_audience_without_prefix_is_refused(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest
) -> None:
    bare = request_.client_id.removeprefix("x509_hash:")
    report = verify_with(world, _answer_with(world, request_, cards, audience=bare), request_)
    assert ("audience", "invalid_key_binding", "aud_mismatch") in failed_checks(report)


def test_p18_replayed_response_of_another_request(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest
) -> None:
    old = world.request()
    failed = failed_checks(verify_with(world, answer(old, cards, holder=world.holder), request_))
    assert ("nonce", "invalid_key_binding", "nonce_mismatch") in failed
    assert ("state", "invalid_response", "state_mismatch") in failed


def _token(world: World, request: AuthorizationRequest, cards: tuple[str, str]) -> dict[str, list[str]]:
    token = answer(request, cards, holder=world.holder).vp_token
    assert token is not None
    return token


def _with_token(request: AuthorizationRequest, token: Any) -> dict[str, Any]:
    return {"vp_token": token, "state": request.state}


def _failed_with(world: World, request: AuthorizationRequest, token: Any) -> set[tuple[str, str, str]]:
    """The failed checks of the answer ``token`` to ``request``."""
    return failed_checks(verify_with(world, _with_token(request, token), request))


def test_missing_key_binding(world: World, cards: tuple[str, str], request_: AuthorizationRequest) -> None:
    token = _token(world, request_, cards)
    text = token["identity"][0]
    token["identity"] = [text[: text.rindex("~") + 1]]
    failed = _failed_with(world, request_, token)
    assert failed == {("key_binding", "invalid_key_binding", "kb_missing")}


def _present(
    world: World, request: AuthorizationRequest, credential: str, paths: list[tuple[str, ...]]
) -> str:
    return presentation_for(
        credential,
        paths,
        world.holder,
        client_id=request.client_id,
        nonce=request.nonce,
        issued_at=int(NOW.timestamp()),
    )


def test_swapped_disclosure_from_another_credential(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest
) -> None:
    other_identity, _ = citizen_claims(serial=654321)
    other = world.issue(IDENTITY, other_identity, by="mps", idx=3)
    view = read_unverified(other)
    foreign = next(d.text for path, d in view.disclosures if path == ("citizen_id",))
    token = _token(world, request_, cards)
    text = token["identity"][0]
    head = text[: text.rindex("~") + 1]
    own = [p for p in head.split("~")[1:-1] if p != foreign]
    swapped = "~".join([head.split("~")[0], *own[:-1], foreign]) + "~"
    token["identity"] = [swapped]
    failed = _failed_with(world, request_, token)
    assert ("disclosures", "invalid_disclosure", "unreferenced_disclosure") in failed


def test_claim_not_asked_for_but_disclosed(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest
) -> None:
    token = _token(world, request_, cards)
    token["identity"] = [
        _present(world, request_, cards[0], [("full_name",), ("portrait",), ("citizen_id",), ("sex",)])
    ]
    failed = _failed_with(world, request_, token)
    assert failed == {("dcql", "invalid_response", "claim_not_requested")}


def test_p16_requested_claim_not_disclosed(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest
) -> None:
    token = _token(world, request_, cards)
    token["identity"] = [_present(world, request_, cards[0], [("full_name",), ("citizen_id",)])]
    failed = _failed_with(world, request_, token)
    assert failed == {("dcql", "invalid_response", "claim_missing")}


def test_sd_hash_after_removing_a_disclosure(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest
) -> None:
    token = _token(world, request_, cards)
    parts = token["identity"][0].split("~")
    token["identity"] = ["~".join(parts[:1] + parts[2:])]
    failed = _failed_with(world, request_, token)
    assert ("sd_hash", "invalid_key_binding", "sd_hash_mismatch") in failed


def test_two_different_citizens(world: World, cards: tuple[str, str], request_: AuthorizationRequest) -> None:
    _, other_card = citizen_claims(serial=654321)
    card = world.issue(HEALTH, other_card, by="vss", idx=4)
    report = verify_with(world, answer(request_, [cards[0], card], holder=world.holder), request_)
    assert failed_checks(report) == {("same_holder", "invalid_response", "different_citizens")}


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (
            lambda w, c: w.issue(IDENTITY, c, by="vss", issuer=VSS),
            ("issuer_allowed", "untrusted_issuer", "issuer_not_allowed_for_vct"),
        ),
        (
            lambda w, c: w.issue(IDENTITY, c, by="mps", issuer="http://evil.example/mps"),
            ("issuer_allowed", "untrusted_issuer", "iss_not_in_certificate"),
        ),
        (
            lambda w, c: make_world().issue(IDENTITY, c, by="mps"),
            ("certificate_chain", "untrusted_certificate", "chain_untrusted"),
        ),
        (
            lambda w, c: w.issue(IDENTITY, c, by="mps", header={}),
            ("certificate_chain", "untrusted_certificate", "missing_x5c"),
        ),
        (
            lambda w, c: w.issue(IDENTITY, c, by="mps", header={"x5c": w.parties["status"].x5c}),
            ("certificate_chain", "untrusted_certificate", "missing_role"),
        ),
        (
            lambda w, c: w.issue(IDENTITY, c, by="mps", header={"x5c": w.parties["vss"].x5c}),
            ("signature", "invalid_signature", "bad_signature"),
        ),
        (
            lambda w, c: w.issue(IDENTITY, c, by="mps", header={"x5c": w.parties["mps"].x5c, "typ": "JWT"}),
            ("typ", "invalid_typ", "wrong_typ"),
        ),
    ],
)
def test_issuer_trust(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest, make: Any, expected: Any
) -> None:
    identity, _ = citizen_claims()
    report = verify_with(
        world, answer(request_, [make(world, identity), cards[1]], holder=world.holder), request_
    )
    assert expected in failed_checks(report)
    if expected[0] == "certificate_chain":
        assert ("signature", "invalid_signature", "no_trusted_key") in failed_checks(report)


def test_expired_issuer_certificate(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest
) -> None:
    old = world.leaf("mps", name="MPS 2025", uris=[MPS], now=NOW - timedelta(days=30), days=1)
    world.parties["old-mps"] = old
    identity, _ = citizen_claims()
    credential = world.issue(IDENTITY, identity, by="old-mps", issuer=MPS)
    report = verify_with(world, answer(request_, [credential, cards[1]], holder=world.holder), request_)
    assert ("certificate_chain", "untrusted_certificate", "certificate_expired") in failed_checks(report)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda t: t.update(identity=t["identity"] * 2), "not_multiple"),
        (lambda t: t.update(pid=t["identity"]), "unknown_query_id"),
        (lambda t: t.update(identity=[]), "empty_presentations"),
    ],
)
def test_p15_vp_token_shape(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest, mutate: Any, reason: str
) -> None:
    token = _token(world, request_, cards)
    mutate(token)
    report = verify_with(world, _with_token(request_, token), request_)
    assert failed_checks(report) == {("response_shape", "invalid_response", reason)}


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        ({"vp_token": "eyJhbGciOi~", "state": "s"}, "vp_token_not_object"),
        ({"vp_token": ["eyJ"], "state": "s"}, "vp_token_not_object"),
        ({"vp_token": {"identity": ["x"]}, "presentation_submission": {}}, "legacy_response"),
        ({"state": "s"}, "missing_vp_token"),
        ({"error": "access_denied", "state": "s"}, "access_denied"),
        (b"not json", "bad_json"),
    ],
)
def test_legacy_or_broken_responses(
    world: World, request_: AuthorizationRequest, response: Any, reason: str
) -> None:
    assert failed_checks(verify_with(world, response, request_)) == {
        ("response_shape", "invalid_response", reason)
    }


def test_p17_vct_not_requested(world: World, cards: tuple[str, str], request_: AuthorizationRequest) -> None:
    token = _token(world, request_, cards)
    token["identity"] = token["health_insurance"]
    failed = _failed_with(world, request_, token)
    assert ("dcql", "invalid_response", "vct_not_requested") in failed


def test_p16_required_credential_missing(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest
) -> None:
    token = _token(world, request_, cards)
    del token["health_insurance"]
    assert _failed_with(world, request_, token) == {("dcql", "invalid_response", "credential_missing")}


def test_p20_state_mismatch(world: World, cards: tuple[str, str], request_: AuthorizationRequest) -> None:
    token = _token(world, request_, cards)
    report = verify_with(world, {"vp_token": token, "state": "forged"}, request_)
    assert failed_checks(report) == {("state", "invalid_response", "state_mismatch")}


def test_parse_response_accepts_the_wallet_file(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest
) -> None:
    response = answer(request_, cards, holder=world.holder)
    assert parse_response(json_dumps(response.to_json())) == response
