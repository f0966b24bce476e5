"""The verifier's status check (Token Status List §8.3, digest §8.3): verified, fresh, or fail closed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from vp_support import (
    HEALTH,
    NOW,
    World,
    answer,
    failed_checks,
    make_world,
    verify_with,
)

from shared.encoding import b64url_encode, json_dumps
from shared.oid4vp.request import AuthorizationRequest
from shared.statuslist import INVALID, SUSPENDED


@pytest.fixture(scope="module")
def world() -> World:
    return make_world()


@pytest.fixture(scope="module")
def cards(world: World) -> tuple[str, str]:
    return world.checkin_cards()


@pytest.fixture(scope="module")
def request_(world: World) -> AuthorizationRequest:
    return world.request()


def test_expired_credential(world: World, cards: tuple[str, str], request_: AuthorizationRequest) -> None:
    later = NOW + timedelta(days=400)
    response = answer(request_, cards, holder=world.holder, issued_at=int(later.timestamp()))
    lookup = lambda uri: world.status_token(iat=later)  # noqa: E731
    failed = failed_checks(verify_with(world, response, request_, now=later, lookup=lookup))
    assert ("validity", "expired", "expired") in failed


def _unsigned(token: str) -> str:
    header = {"alg": "none", "typ": "statuslist+jwt"}
    return f"{b64url_encode(json_dumps(header))}.{token.split('.')[1]}."


@pytest.mark.parametrize(
    ("lookup", "expected"),
    [
        (
            lambda w: w.status_token(sub="http://127.0.0.1:8000/status/2"),
            ("status", "invalid_status_list", "sub_mismatch"),
        ),
        (lambda w: w.status_token(iat=NOW - timedelta(days=2)), ("status", "invalid_status_list", "expired")),
        (lambda w: _unsigned(w.status_token()), ("status", "unsupported_algorithm", "alg_not_allowed")),
        (lambda w: w.status_token(by="mps"), ("status", "untrusted_certificate", "missing_role")),
        (
            lambda w: w.status_token(iat=NOW - timedelta(seconds=1000)),
            ("status", "invalid_status_list", "stale"),
        ),
    ],
)
def test_status_list_token_rules(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest, lookup: Any, expected: Any
) -> None:
    response = answer(request_, cards, holder=world.holder)
    report = verify_with(world, response, request_, lookup=lambda uri: lookup(world))
    assert expected in failed_checks(report)


def test_unreachable_status_list_fails_closed_even_with_allow_stale(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest
) -> None:
    def down(uri: str) -> str:
        raise OSError("connection refused")

    response = answer(request_, cards, holder=world.holder)
    for allow in (None, 3600):
        report = verify_with(world, response, request_, lookup=down, allow_stale_seconds=allow)
        assert ("status", "invalid_status_list", "unreachable") in failed_checks(report)


def test_allow_stale_accepts_an_old_list_and_says_how_old(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest
) -> None:
    response = answer(request_, cards, holder=world.holder)
    for age in (timedelta(seconds=1000), timedelta(days=2)):
        report = verify_with(
            world,
            response,
            request_,
            lookup=lambda uri, age=age: world.status_token(iat=NOW - age),
            allow_stale_seconds=3 * 86400,
        )
        assert report.valid, report.failed()
        status = [c.detail for c in report.checks if c.name == "status"]
        assert all(f"{int(age.total_seconds())} s old" in d for d in status)


@pytest.mark.parametrize(("value", "code"), [(INVALID, "revoked"), (SUSPENDED, "suspended")])
def test_revoked_or_suspended(
    world: World, cards: tuple[str, str], request_: AuthorizationRequest, value: int, code: str
) -> None:
    response = answer(request_, cards, holder=world.holder)
    world.statuses.set(2, value)
    try:
        report = verify_with(world, response, request_)
    finally:
        world.statuses.set(2, 0)
    assert failed_checks(report) == {("status", code, code)}
    assert {c.vct: c.status for c in report.credentials}[HEALTH] == code
