"""Tamper properties of an SD-JWT+KB presentation (RFC 9901 §7.1, §7.3): any change is a `CredentialError`.

The presentation carries top-level, nested (recursive) and array-element disclosures, decoys and a
KB-JWT. Changing any character of any part, the ``.`` and ``~`` separators included, or cutting the
text anywhere, must end in one of our errors: never success and never another exception.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.errors import CredentialError
from shared.jose import generate_private_key
from shared.sdjwt.markers import SD
from shared.sdjwt.present import create_presentation
from shared.sdjwt.verify import KeyBindingPolicy
from shared.sdjwt_vc import TrustedIssuer, issue_credential, trusted_issuer_keys, verify_credential

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
T = int(NOW.timestamp())
ISSUER = "https://cancuoc.gov.vn"
VCT = "urn:vn:cancuoc:identity:1"
POLICY = KeyBindingPolicy(audience="x509_san_dns:verifier.example.vn", nonce="n-0S6_WzA2Mj")
ISSUER_KEY = generate_private_key(kid="issuer-2026")
HOLDER_KEY = generate_private_key()
TRUST = trusted_issuer_keys([TrustedIssuer(ISSUER, (ISSUER_KEY.public,), frozenset({VCT}))])

CREDENTIAL = issue_credential(
    {
        SD("given_name"): "An",
        SD("family_name"): "Nguyễn",
        SD("address"): {SD("street_address"): "1 Tràng Tiền", SD("locality"): "Hà Nội", "country": "VN"},
        SD("nationalities"): ["VN", SD("FR")],
        "languages": ["vi", SD("en")],
        "age_equal_or_over": {SD("18"): True, SD("65"): False},
    },
    ISSUER_KEY,
    issuer=ISSUER,
    vct=VCT,
    holder_jwk=HOLDER_KEY.public.jwk,
    issued_at=T - 86400,
    expires_at=T + 86400,
    decoys=2,
)
PATHS = [
    ("given_name",),
    ("address", "street_address"),
    ("nationalities",),
    ("languages",),
    ("age_equal_or_over",),
]
PRESENTATION = create_presentation(
    CREDENTIAL, PATHS, holder_key=HOLDER_KEY, audience=POLICY.audience, nonce=POLICY.nonce, issued_at=T
)
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _spans(text: str) -> list[tuple[int, int]]:
    """Every part as (start, end): each JWS segment, each disclosure, and each ``.`` and ``~`` on its own."""
    spans, start = [], 0
    for index, char in enumerate(text):
        if char in ".~":
            if index > start:
                spans.append((start, index))
            spans.append((index, index + 1))
            start = index + 1
    if start < len(text):
        spans.append((start, len(text)))
    return spans


SPANS = _spans(PRESENTATION)
REPLACEMENTS = st.one_of(st.sampled_from(BASE64URL + ".~=+/ \n\x00"), st.characters())


def verify(text: str) -> Any:
    return verify_credential(text, TRUST, now=NOW, key_binding=POLICY)


def assert_refused(text: str) -> None:
    with pytest.raises(CredentialError):
        verify(text)


def test_the_presentation_verifies_and_has_every_kind_of_part() -> None:
    verified = verify(PRESENTATION)
    assert verified.claims["address"] == {"street_address": "1 Tràng Tiền", "country": "VN"}
    assert verified.claims["nationalities"] == ["VN", "FR"]
    assert verified.claims["languages"] == ["vi", "en"]
    parts = PRESENTATION.split("~")
    assert len(parts) >= 8
    assert parts[0].count(".") == 2
    assert parts[-1].count(".") == 2


@settings(max_examples=300, deadline=None)
@given(data=st.data(), replacement=REPLACEMENTS)
def test_replacing_any_character_of_any_part_is_refused(data: st.DataObject, replacement: str) -> None:
    """Pick a part, then a character in it; any other character in its place fails verification."""
    start, end = data.draw(st.sampled_from(SPANS), label="part")
    position = data.draw(st.integers(start, end - 1), label="position")
    assume(replacement != PRESENTATION[position])
    assert_refused(PRESENTATION[:position] + replacement + PRESENTATION[position + 1 :])


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, len(PRESENTATION) - 1), mask=st.integers(1, 255))
def test_flipping_bits_of_any_byte_is_refused(position: int, mask: int) -> None:
    """XOR any byte with any non-zero mask (bytes read back as Latin-1)."""
    raw = bytearray(PRESENTATION.encode("ascii"))
    raw[position] ^= mask
    assert_refused(raw.decode("latin-1"))


@settings(max_examples=300, deadline=None)
@given(length=st.integers(0, len(PRESENTATION) - 1))
def test_truncating_anywhere_is_refused(length: int) -> None:
    """Cutting the presentation short, at a separator or inside a part."""
    assert_refused(PRESENTATION[:length])


def test_every_position_exhaustively() -> None:
    """Deterministic sweep: at every position, cut there and put a neighbouring character there."""
    for position, char in enumerate(PRESENTATION):
        assert_refused(PRESENTATION[:position])
        neighbour = BASE64URL[(BASE64URL.index(char) + 1) % 64] if char in BASE64URL else "A"
        assert_refused(PRESENTATION[:position] + neighbour + PRESENTATION[position + 1 :])
