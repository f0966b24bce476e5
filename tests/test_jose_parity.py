"""Our compact-JWS fast path (`verify_jws`) refuses every token pyjwt refuses, and never raises anything else.

The reference is ``jwt.decode(token, key, algorithms=["ES256"])``. pyjwt also checks the registered time
claims and ``aud``, which in cancuoc is the job of `check_validity`, so "ours" is `verify_jws` followed by
`check_validity`, both at leeway 0. Where we are deliberately stricter (padding, duplicate members,
NaN, ``crit``, size) the corpus says so; no token may pass ours and fail pyjwt.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shared.encoding import b64url_decode, b64url_encode, json_dumps
from shared.errors import CredentialError
from shared.jose import PrivateKey, generate_private_key, verify_jws
from shared.sdjwt.verify import check_validity

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC).timestamp()
KEY = generate_private_key()
OTHER_KEY = generate_private_key()
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

HEADER: dict[str, Any] = {"alg": "ES256", "typ": "JWT"}
# iat in 2023 and exp in 2100: inside the window for both our fixed clock and pyjwt's real one.
CLAIMS: dict[str, Any] = {"iss": "https://cancuoc.gov.vn", "iat": 1_700_000_000, "exp": 4_102_444_800}

Signer = Callable[[bytes], bytes]


def es256(key: PrivateKey = KEY, digest_alg: hashes.HashAlgorithm | None = None) -> Signer:
    def sign(data: bytes) -> bytes:
        assert isinstance(key.key, ec.EllipticCurvePrivateKey)
        r, s = decode_dss_signature(key.key.sign(data, ec.ECDSA(digest_alg or hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    return sign


def der(data: bytes) -> bytes:
    assert isinstance(KEY.key, ec.EllipticCurvePrivateKey)
    return KEY.key.sign(data, ec.ECDSA(hashes.SHA256()))


def hs256_with_public_key(data: bytes) -> bytes:
    import hmac

    secret = KEY.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hmac.digest(secret, data, "sha256")


def rs256(data: bytes) -> bytes:
    return RSA_KEY.sign(data, padding.PKCS1v15(), hashes.SHA256())


def signed_text(header: str, payload: str, signer: Signer | None = None) -> str:
    signing_input = f"{header}.{payload}"
    return f"{signing_input}.{b64url_encode((signer or es256())(signing_input.encode()))}"


def signed(
    header: dict[str, Any] | bytes = HEADER,
    claims: dict[str, Any] | bytes = CLAIMS,
    signer: Signer | None = None,
) -> str:
    raw_header = header if isinstance(header, bytes) else json_dumps(header)
    raw_claims = claims if isinstance(claims, bytes) else json_dumps(claims)
    return signed_text(b64url_encode(raw_header), b64url_encode(raw_claims), signer)


def with_signature(signature: bytes) -> str:
    return f"{H}.{P}.{b64url_encode(signature)}"


def padded(text: str) -> str:
    return text + "=" * (-len(text) % 4)


def flip(text: str, index: int) -> str:
    char = text[index]
    return text[:index] + ("B" if char == "A" else "A") + text[index + 1 :]


def non_canonical(text: str) -> str:
    assert len(text) % 4 in (2, 3)
    return text[:-1] + BASE64URL[BASE64URL.index(text[-1]) + 1]


def spare_bits(base: dict[str, Any]) -> str:
    """``base`` plus a filler member, encoded to a length whose last character has unused bits."""
    filler = ""
    while len(b64url_encode(json_dumps({**base, "filler": filler}))) % 4 not in (2, 3):
        filler += "x"
    return b64url_encode(json_dumps({**base, "filler": filler}))


def deep(depth: int) -> bytes:
    return b'{"alg":"ES256","x":' + b"[" * depth + b"]" * depth + b"}"


def valid_with_url_safe_characters() -> str:
    # ECDSA signatures are random: sign until the token holds a '-' or '_', so that the
    # standard-alphabet variant below really differs from the valid token.
    while True:
        token = signed()
        if "-" in token or "_" in token:
            return token


VALID = valid_with_url_safe_characters()
H, P, S = VALID.split(".")
R_S = b64url_decode(S)
R, LOW_S = int.from_bytes(R_S[:32], "big"), int.from_bytes(R_S[32:], "big")
HIGH_S = with_signature(R_S[:32] + (P256_ORDER - LOW_S).to_bytes(32, "big"))
CLAIMS_JSON = json_dumps(CLAIMS)

CORPUS: dict[str, str] = {
    "valid": VALID,
    "high-s": HIGH_S,
    "empty-string": "",
    "dots-only": "..",
    "one-part": H,
    "two-parts": f"{H}.{P}",
    "four-parts": f"{VALID}.{S}",
    "trailing-dot": f"{VALID}.",
    "leading-dot": f".{VALID}",
    "header-empty": f".{P}.{S}",
    "payload-empty": f"{H}..{S}",
    "signature-empty": f"{H}.{P}.",
    "header-char-flipped": f"{flip(H, 5)}.{P}.{S}",
    "payload-char-flipped": f"{H}.{flip(P, 10)}.{S}",
    "signature-char-flipped": f"{H}.{P}.{flip(S, 20)}",
    "header-padded-resigned": signed_text(padded(spare_bits(HEADER)), P),
    "payload-padded-resigned": signed_text(H, padded(spare_bits(CLAIMS))),
    "signature-padded": f"{VALID}==",
    "leading-space": f" {VALID}",
    "trailing-newline": f"{VALID}\n",
    "tab-in-header": f"{H[:4]}\t{H[4:]}.{P}.{S}",
    "space-in-payload-resigned": signed_text(H, f"{P[:8]} {P[8:]}"),
    "standard-alphabet": VALID.replace("-", "+").replace("_", "/"),
    "non-ascii-in-payload": f"{H}.{P[:6]}é{P[7:]}.{S}",
    "non-canonical-signature": f"{H}.{P}.{non_canonical(S)}",
    "non-canonical-header-resigned": signed_text(non_canonical(spare_bits(HEADER)), P),
    "header-not-json": signed(b'{"alg":"ES256"'),
    "header-array": signed(b'["ES256"]'),
    "header-string": signed(b'"ES256"'),
    "header-null": signed(b"null"),
    "header-number": signed(b"1"),
    "header-nested-2000-deep": signed(deep(2000)),
    "header-invalid-utf8": signed(b'{"alg":"ES256","x":"\xff"}'),
    "alg-missing": signed({"typ": "JWT"}),
    "alg-empty": signed({**HEADER, "alg": ""}),
    "alg-not-a-string": signed({**HEADER, "alg": ["ES256"]}),
    "alg-none-no-signature": signed({**HEADER, "alg": "none"}, signer=lambda data: b""),
    "alg-none-with-signature": signed({**HEADER, "alg": "none"}),
    "alg-lowercase": signed({**HEADER, "alg": "es256"}),
    "alg-hs256-public-key-as-secret": signed({**HEADER, "alg": "HS256"}, signer=hs256_with_public_key),
    "alg-rs256": signed({**HEADER, "alg": "RS256"}, signer=rs256),
    "alg-es384-on-p256": signed({**HEADER, "alg": "ES384"}, signer=es256(KEY, hashes.SHA384())),
    "header-duplicate-alg": signed(b'{"alg":"none","typ":"JWT","alg":"ES256"}'),
    "crit-unknown": signed({**HEADER, "crit": ["exp"], "exp": 1}),
    "crit-empty": signed({**HEADER, "crit": []}),
    "crit-not-a-list": signed({**HEADER, "crit": "exp"}),
    "crit-b64-true": signed({**HEADER, "crit": ["b64"], "b64": True}),
    "kid-not-a-string": signed({**HEADER, "kid": 42}),
    "jwk-header-attacker-key": signed({**HEADER, "jwk": OTHER_KEY.public.jwk}, signer=es256(OTHER_KEY)),
    "signed-by-another-key": signed(signer=es256(OTHER_KEY)),
    "signature-of-other-claims": f"{H}.{P}.{signed(claims={**CLAIMS, 'iss': 'x'}).split('.')[2]}",
    "signature-63-bytes": with_signature(R_S[:-1]),
    "signature-65-bytes": with_signature(R_S + b"\x00"),
    "signature-der": signed(signer=der),
    "signature-zero-r": with_signature(bytes(32) + R_S[32:]),
    "signature-zero-s": with_signature(R_S[:32] + bytes(32)),
    "signature-s-equals-n": with_signature(R_S[:32] + P256_ORDER.to_bytes(32, "big")),
    "signature-r-s-swapped": with_signature(R_S[32:] + R_S[:32]),
    "signature-all-ff": with_signature(b"\xff" * 64),
    "parts-swapped-payload-header": f"{P}.{H}.{S}",
    "parts-swapped-signature-payload": f"{H}.{S}.{P}",
    "parts-rotated": f"{S}.{H}.{P}",
    "payload-not-json": signed(claims=b'{"iss":'),
    "payload-array": signed(claims=b"[1]"),
    "payload-string": signed(claims=b'"claims"'),
    "payload-invalid-utf8": signed(claims=b'{"iss":"\xc3\x28"}'),
    "payload-nan": signed(claims=CLAIMS_JSON[:-1] + b',"x":NaN}'),
    "payload-duplicate-iss": signed(claims=CLAIMS_JSON[:-1] + b',"iss":"https://attacker.example"}'),
    "payload-oversized": signed(claims={**CLAIMS, "portrait": "A" * 70_000}),
    "exp-past": signed(claims={**CLAIMS, "exp": 1_000}),
    "exp-string": signed(claims={**CLAIMS, "exp": "soon"}),
    "exp-boolean": signed(claims={**CLAIMS, "exp": True}),
    "exp-huge-integer": signed(claims={**CLAIMS, "exp": 10**400}),
    "nbf-in-2100": signed(claims={**CLAIMS, "nbf": 4_102_444_800}),
    "iat-in-2100": signed(claims={**CLAIMS, "iat": 4_102_444_800}),
    "aud-present": signed(claims={**CLAIMS, "aud": "https://some-verifier.example"}),
}
ACCEPTED_BY_OURS = {"valid", "high-s"}
STRICTER_THAN_PYJWT = {
    "header-padded-resigned",
    "payload-padded-resigned",
    "signature-padded",
    "header-duplicate-alg",
    "crit-b64-true",
    "payload-nan",
    "payload-duplicate-iss",
    "payload-oversized",
    "exp-huge-integer",
}
"""Tokens pyjwt accepts and we refuse on purpose: RFC 9901 §4 ABNF, RFC 8725 §2.9 and §3.7, no crit."""
KNOWN_GAPS: dict[str, str] = {}


def ours(token: str) -> dict[str, Any]:
    jws = verify_jws(token, KEY.public, typ="JWT")
    check_validity(jws.payload, NOW, 0)
    return jws.payload


def theirs(token: str) -> dict[str, Any]:
    return jwt.decode(token, KEY.public.key, algorithms=["ES256"])


def ours_accept(token: str) -> bool:
    """True if ours accepts; False on a `CredentialError`; any other exception fails the test."""
    try:
        ours(token)
    except CredentialError:
        return False
    return True


def pyjwt_accepts(token: str) -> bool:
    try:
        theirs(token)
    except Exception:
        return False
    return True


def test_corpus_is_large_and_distinct() -> None:
    assert len(CORPUS) >= 30
    assert len(set(CORPUS.values())) == len(CORPUS)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[name]))
        if name in KNOWN_GAPS
        else name
        for name in CORPUS
    ],
)
def test_ours_refuses_whatever_pyjwt_refuses(name: str) -> None:
    """RFC 7515 §5.2, RFC 7518 §3.4, RFC 8725 §3.1: a hostile variant passes ours only if it passes pyjwt."""
    token = CORPUS[name]
    accepted = ours_accept(token)
    if not pyjwt_accepts(token):
        assert not accepted
    assert accepted == (name in ACCEPTED_BY_OURS)


def test_where_we_are_stricter_than_pyjwt() -> None:
    """The documented differences are exactly these, so a change on either side is noticed."""
    stricter = {name for name, token in CORPUS.items() if pyjwt_accepts(token) and not ours_accept(token)}
    assert stricter == STRICTER_THAN_PYJWT


def test_high_s_signatures_are_valid_for_both() -> None:
    """RFC 7518 §3.4 does not require low-S: (r, n-s) verifies in both libraries, with the same claims."""
    assert HIGH_S != VALID
    assert ours(VALID) == theirs(VALID) == ours(HIGH_S) == theirs(HIGH_S) == CLAIMS


REPLACEMENTS = st.one_of(st.sampled_from(BASE64URL + ".=~+/ \n\t\x00"), st.characters())


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, len(VALID) - 1), replacement=REPLACEMENTS)
def test_any_character_replaced(position: int, replacement: str) -> None:
    """Replacing one character anywhere: a `CredentialError`, or success only where pyjwt succeeds too."""
    assume(replacement != VALID[position])
    token = VALID[:position] + replacement + VALID[position + 1 :]
    if ours_accept(token):
        assert pyjwt_accepts(token)


@settings(max_examples=300, deadline=None)
@given(flips=st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(1, 255)), min_size=1, max_size=4))
def test_random_byte_flips(flips: list[tuple[int, int]]) -> None:
    """XOR any bytes of the token (read back as Latin-1): never another exception, never a lone success."""
    raw = bytearray(VALID.encode("ascii"))
    for position, mask in flips:
        raw[position] ^= mask
    token = raw.decode("latin-1")
    if ours_accept(token):
        assert pyjwt_accepts(token)


@settings(max_examples=300, deadline=None)
@given(start=st.integers(0, len(VALID)), length=st.integers(0, 8), inserted=st.text(max_size=3))
def test_cut_and_insert(start: int, length: int, inserted: str) -> None:
    """Deleting and inserting text anywhere obeys the same rule."""
    token = VALID[:start] + inserted + VALID[start + length :]
    assume(token != VALID)
    if ours_accept(token):
        assert pyjwt_accepts(token)
