"""`ChainCache` answers exactly as `verify_chain` would, at any moment, once warm."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
import pytest

from shared.errors import CredentialError, UntrustedCertificateError
from shared.jose import generate_private_key
from shared.jose.x5c import x5c_of
from shared.jose.x509 import create_leaf_certificate, create_root_certificate, verify_chain
from shared.oid4vp.chains import ChainCache, KnownChain
from tests.vp_support import MPS, NOW, make_world

MOMENTS = [NOW + timedelta(days=d) for d in (-3, 0, 1, 4, 6, 9, 11, 200, 366)]


def outcome(verify: object, x5c: list[str], anchors: list[bytes], now: datetime) -> object:
    try:
        chain = verify(x5c, anchors, now=now)  # type: ignore[operator]
    except CredentialError as exc:
        return (exc.code, exc.reason)
    return (chain.leaf, chain.roles, chain.uris)


def warm(cache: ChainCache, x5c: list[str], anchors: list[bytes]) -> None:
    cache.verify(x5c, anchors, now=NOW)  # also validates at the leaf's notAfter


@pytest.mark.parametrize(("root_days", "leaf_days"), [(3650, 10), (5, 365), (3650, 365)])
def test_a_warm_cache_answers_as_verify_chain_at_every_moment(root_days: int, leaf_days: int) -> None:
    root_key = generate_private_key()
    root = create_root_certificate(root_key, name="Root", now=NOW - timedelta(days=1), days=root_days)
    leaf = create_leaf_certificate(
        root_key,
        root,
        generate_private_key().public,
        name="MPS",
        role="mps",
        now=NOW,
        days=leaf_days,
        uris=[MPS],
    )
    x5c, cache = x5c_of([leaf]), ChainCache()
    warm(cache, x5c, [root])
    for moment in MOMENTS:
        assert outcome(cache.verify, x5c, [root], moment) == outcome(verify_chain, x5c, [root], moment), (
            moment
        )


def test_a_chain_that_validated_under_one_root_is_not_trusted_under_another() -> None:
    world, other = make_world(), make_world()
    x5c, cache = world.parties["mps"].x5c, ChainCache()
    warm(cache, x5c, world.anchors)
    with pytest.raises(UntrustedCertificateError) as caught:
        cache.verify(x5c, other.anchors, now=NOW)
    assert caught.value.reason == "chain_untrusted"


def test_a_malformed_x5c_says_why() -> None:
    with pytest.raises(UntrustedCertificateError) as caught:
        ChainCache().verify("not a list", make_world().anchors, now=NOW)
    assert caught.value.reason == "x5c_malformed"


def test_a_full_cache_starts_over() -> None:
    world, cache = make_world(), ChainCache(max_chains=1)
    for role in ("mps", "vss", "status"):
        warm(cache, world.parties[role].x5c, world.anchors)
        assert len(cache._entries) == 1


@pytest.mark.parametrize(
    ("header", "reason"),
    [({}, "missing_x5c"), ({"x5c": "mps"}, "missing_role")],
    ids=["no x5c", "issuer leaf"],
)
def test_the_status_resolver_wants_the_status_signer(header: dict[str, object], reason: str) -> None:
    world = make_world()
    if header.get("x5c") == "mps":
        header = {"x5c": world.parties["mps"].x5c}
    with pytest.raises(UntrustedCertificateError) as caught:
        ChainCache().status_resolver(world.anchors, now=NOW)(header, {})
    assert caught.value.reason == reason
    status = world.parties["status"]
    key = ChainCache().status_resolver(world.anchors, now=NOW)({"x5c": status.x5c}, {})
    assert key.jwk == status.key.public.jwk


def test_remembered_chains_answer_as_verify_chain_in_another_process() -> None:
    world = make_world()
    first = ChainCache()
    for role in ("mps", "status"):
        first.verify(world.parties[role].x5c, world.anchors, now=NOW)
    assert first.changed
    records = msgspec.json.decode(msgspec.json.encode(first.known()), type=list[KnownChain])
    later = ChainCache()
    later.remember(records)
    assert not later.changed
    for role in ("mps", "status"):
        x5c = world.parties[role].x5c
        for moment in MOMENTS:
            assert outcome(later.verify, x5c, world.anchors, moment) == outcome(
                verify_chain, x5c, world.anchors, moment
            ), (role, moment)
    with pytest.raises(UntrustedCertificateError) as caught:
        later.verify(world.parties["mps"].x5c, make_world().anchors, now=NOW)
    assert caught.value.reason == "chain_untrusted"


def test_a_record_that_does_not_decode_is_skipped() -> None:
    world = make_world()
    cache = ChainCache()
    cache.verify(world.parties["mps"].x5c, world.anchors, now=NOW)
    good = cache.known()[0]
    broken = [
        msgspec.structs.replace(good, leaf="not base64!"),
        msgspec.structs.replace(good, anchors=("%%%",)),
        msgspec.structs.replace(good, jwk={"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}),
        msgspec.structs.replace(good, not_after=1e300),
    ]
    later = ChainCache()
    later.remember(broken)
    assert later.known() == []
