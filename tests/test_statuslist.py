"""Token Status List: the draft's vectors, round trips and the negative catalogue T1-T9 (digest §8.3)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.encoding import b64url_encode, json_dumps
from shared.errors import (
    CredentialError,
    InvalidSignatureError,
    InvalidStatusListError,
    InvalidTypeError,
    RevokedError,
    SuspendedError,
    UnknownStatusError,
    UnsupportedAlgorithmError,
)
from shared.jose import PrivateKey, decode_jws_unverified, generate_private_key, public_key_from_jwk, sign_jws
from shared.statuslist import (
    BITS,
    INVALID,
    MAX_LIST_BYTES,
    SUSPENDED,
    VALID,
    StatusList,
    StatusListToken,
    StatusReference,
    check_status,
    parse_status_claim,
    sign_status_list_token,
    verify_status_list_token,
)

VECTORS = Path(__file__).parent / "vectors" / "status-list"
EXAMPLE_KEY = public_key_from_jwk(  # kid "12", the draft's example key (vectors README)
    {
        "kty": "EC",
        "crv": "P-256",
        "x": "I3HWm_0Ds1dPMI-IWmf4mBmH-YaeAVbPVu7vB27CxXo",
        "y": "6N_d5Elj9bs1htgV3okJKIdbHEpkgTmAluYKJemzn1M",
    },
    kid="12",
)
LIST_URI = "https://example.com/statuslists/1"
NOW = datetime(2025, 1, 1, tzinfo=UTC)
EXAMPLE_1BIT = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]  # draft §4.1 examples
EXAMPLE_2BIT = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
APPENDIX_1BIT_INVALID = [0, 1993, 25460, 159495, 495669, 554353, 645645, 723232, 854545, 934534, 1000345]
LONG_LISTS = [
    ("status_list_encoding1_long_json.md", 1),
    ("status_list_encoding2_long_json.md", 2),
    ("status_list_encoding4_json.md", 4),
    ("status_list_encoding8_json.md", 8),
]


def read_status_list(name: str) -> dict[str, Any]:
    match = re.search(r'"bits":\s*(\d+),\s*"lst":\s*"([^"]*)"', (VECTORS / name).read_text())
    assert match is not None
    return {"bits": int(match[1]), "lst": re.sub(r"\s", "", match[2])}


def read_byte_array(name: str) -> bytes:
    match = re.search(r"byte_array = \[([^\]]*)\]", (VECTORS / name).read_text())
    assert match is not None
    return bytes(int(byte, 16) for byte in match[1].split(","))


def read_appendix() -> dict[int, dict[int, int]]:
    sections = re.split(r"^## ", (VECTORS / "appendix_c_statuses.md").read_text(), flags=re.MULTILINE)[1:]
    return {
        int(section.split()[0]): {
            int(idx): int(value, 2) for idx, value in re.findall(r"status\[(\d+)\]\s*=\s*0b([01]+)", section)
        }
        for section in sections
    }


@contextmanager
def expect(error: type[CredentialError], code: str, reason: str) -> Iterator[None]:
    with pytest.raises(error) as info:
        yield
    assert (info.value.code, info.value.reason) == (code, reason)


@pytest.fixture(scope="module")
def key() -> PrivateKey:
    return generate_private_key(kid="status-signer-1")


def valid_claims() -> dict[str, Any]:
    return {
        "sub": LIST_URI,
        "iat": int(NOW.timestamp()) - 600,
        "exp": int(NOW.timestamp()) + 3600,
        "ttl": 600,
        "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"},
    }


def signed(key: PrivateKey, claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    return sign_jws({"typ": "statuslist+jwt"} if header is None else header, json_dumps(claims), key)


def forged(alg: str, claims: dict[str, Any], secret: bytes) -> str:
    head = b64url_encode(json_dumps({"alg": alg, "typ": "statuslist+jwt"}))
    signing_input = f"{head}.{b64url_encode(json_dumps(claims))}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest() if secret else b""
    return f"{signing_input}.{b64url_encode(signature)}"


def verify(token: str, key: PrivateKey, **options: Any) -> StatusListToken:
    return verify_status_list_token(token, key.public, expected_uri=LIST_URI, now=NOW, **options)


def lst(raw: bytes) -> dict[str, Any]:
    return {"bits": 1, "lst": b64url_encode(raw)}


# The draft's vectors


@pytest.mark.parametrize(
    ("name", "bits", "statuses"),
    [("status_list_encoding_json.md", 1, EXAMPLE_1BIT), ("status_list_encoding2_json.md", 2, EXAMPLE_2BIT)],
)
def test_small_examples_both_ways(name: str, bits: int, statuses: list[int]) -> None:
    published = read_status_list(name)
    built = StatusList.new(len(statuses), bits)
    for idx, value in enumerate(statuses):
        built.set(idx, value)
    assert bytes(built.lst) == read_byte_array(name)
    assert built.encode() == published
    assert StatusList.from_statuses(statuses, bits) == built
    decoded = StatusList.decode(published)
    assert (decoded.bits, list(decoded), bytes(decoded.lst)) == (bits, statuses, read_byte_array(name))


@pytest.mark.parametrize(("name", "bits"), LONG_LISTS)
def test_long_lists_decode_to_the_appendix_and_reencode_byte_for_byte(name: str, bits: int) -> None:
    published, listed = read_status_list(name), read_appendix()[bits]
    decoded = StatusList.decode(published)
    assert (decoded.bits, decoded.size) == (bits, 2**20)
    assert {idx: value for idx, value in enumerate(decoded) if value} == {
        idx: value for idx, value in listed.items() if value
    }
    assert all(decoded.get(idx) == value for idx, value in listed.items())
    assert decoded.encode() == published


def test_appendix_one_bit_list_is_the_documented_one() -> None:
    assert sorted(read_appendix()[1]) == APPENDIX_1BIT_INVALID


def test_example_token_verifies_with_the_published_key() -> None:
    token = re.sub(r"\s", "", (VECTORS / "status_list_jwt_raw.md").read_text())
    result = verify_status_list_token(token, EXAMPLE_KEY, expected_uri=LIST_URI, now=NOW)
    assert (result.sub, result.iat, result.exp, result.ttl) == (LIST_URI, 1686920170, 2291720170, 43200)
    assert list(result.status_list) == EXAMPLE_1BIT
    header, payload = (
        json.loads(part) for part in (VECTORS / "status_list_jwt.md").read_text().split("\n.\n")
    )
    jws = decode_jws_unverified(token)
    assert jws.header == header
    # The documented claims omit the token's `iss`; everything else is identical.
    assert jws.payload.pop("iss") == "https://example.com"
    assert jws.payload == payload
    check_status(StatusReference(idx=1, uri=LIST_URI), result)
    with expect(RevokedError, "revoked", "revoked"):
        check_status(StatusReference(idx=0, uri=LIST_URI), result)


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        (datetime.fromtimestamp(2291720170 + 61, UTC), "expired"),
        (datetime(2023, 1, 1, tzinfo=UTC), "iat_in_future"),
    ],
)
def test_example_token_outside_its_validity(now: datetime, reason: str) -> None:
    token = re.sub(r"\s", "", (VECTORS / "status_list_jwt_raw.md").read_text())
    with expect(InvalidStatusListError, "invalid_status_list", reason):
        verify_status_list_token(token, EXAMPLE_KEY, expected_uri=LIST_URI, now=now)


# Round trips


@given(
    st.sampled_from(BITS).flatmap(
        lambda bits: st.tuples(
            st.just(bits),
            st.lists(
                st.lists(st.integers(0, 2**bits - 1), min_size=8 // bits, max_size=8 // bits), max_size=40
            ),
        )
    )
)
def test_decode_inverts_encode(case: tuple[int, list[list[int]]]) -> None:
    bits, groups = case
    statuses = [value for group in groups for value in group]
    status_list = StatusList.from_statuses(statuses, bits)
    decoded = StatusList.decode(status_list.encode())
    assert decoded == status_list
    assert list(decoded) == statuses
    assert [decoded.get(idx) for idx in range(decoded.size)] == statuses


@given(st.sampled_from(BITS), st.binary(max_size=200))
def test_any_lst_bytes_decode_or_raise_a_credential_error(bits: int, raw: bytes) -> None:
    for data in (raw, zlib.compress(raw)[: len(raw) // 2], zlib.compress(raw) + raw):
        with suppress(InvalidStatusListError):
            StatusList.decode({"bits": bits, "lst": b64url_encode(data)})


def test_signed_token_round_trips(key: PrivateKey) -> None:
    status_list = StatusList.from_statuses([VALID, INVALID, SUSPENDED, VALID] * 4, 2)
    token = sign_status_list_token(
        status_list,
        key,
        sub=LIST_URI,
        iat=NOW,
        exp=NOW + timedelta(hours=1),
        ttl=600,
        iss="https://x.vn",
        x5c=["AA"],
    )
    jws = decode_jws_unverified(token)
    assert jws.header == {"alg": "ES256", "typ": "statuslist+jwt", "kid": "status-signer-1", "x5c": ["AA"]}
    assert jws.payload["iss"] == "https://x.vn"
    result = verify(token, key)
    assert result == StatusListToken(LIST_URI, NOW.timestamp(), NOW.timestamp() + 3600, 600, status_list)


def test_ttl_is_capped_and_media_type_typ_accepted(key: PrivateKey) -> None:
    claims = {**valid_claims(), "ttl": 10**9}
    assert verify(signed(key, claims, {"typ": "application/statuslist+jwt"}), key, max_ttl=3600).ttl == 3600


def test_key_resolver_and_leeway(key: PrivateKey) -> None:
    claims = {**valid_claims(), "exp": int(NOW.timestamp()) - 30, "iat": int(NOW.timestamp()) + 30}
    keys = {key.kid: key.public}
    result = verify_status_list_token(
        signed(key, claims), lambda header, _: keys[header["kid"]], expected_uri=LIST_URI, now=NOW
    )
    assert result.exp == claims["exp"]


def test_signing_refuses_naive_times_and_bad_ttl(key: PrivateKey) -> None:
    status_list = StatusList.new(8, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_status_list_token(status_list, key, sub=LIST_URI, iat=datetime(2025, 1, 1), exp=NOW, ttl=1)  # noqa: DTZ001
    with pytest.raises(ValueError, match="positive"):
        sign_status_list_token(status_list, key, sub=LIST_URI, iat=NOW, exp=NOW, ttl=0)


# T4-T8: the Status List Token, each built by signing one mutation with a real key


def _drop(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda claims: claims.pop(name)


def _put(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda claims: claims.__setitem__(name, value)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (_put("sub", "https://example.com/statuslists/2"), "sub_mismatch"),  # T5
        (_drop("sub"), "missing_sub"),
        (_put("exp", int(NOW.timestamp()) - 61), "expired"),  # T7
        (_put("exp", "tomorrow"), "bad_exp"),
        (_drop("iat"), "missing_iat"),  # T8
        (_put("iat", "2025-01-01"), "bad_iat"),
        (_put("iat", True), "bad_iat"),
        (_put("iat", int(NOW.timestamp()) + 3600), "iat_in_future"),
        (_put("ttl", 0), "bad_ttl"),
        (_put("ttl", "600"), "bad_ttl"),
        (_drop("status_list"), "missing_status_list"),
        (_put("status_list", "eNrbuRgAAhcBXQ"), "bad_status_list"),
        (_put("status_list", {"bits": 3, "lst": "eNrbuRgAAhcBXQ"}), "bad_bits"),
        (_put("status_list", {"bits": "1", "lst": "eNrbuRgAAhcBXQ"}), "bad_bits"),
        (_put("status_list", {"bits": True, "lst": "eNrbuRgAAhcBXQ"}), "bad_bits"),
        (_put("status_list", {"lst": "eNrbuRgAAhcBXQ"}), "bad_bits"),
        (_put("status_list", {"bits": 1}), "missing_lst"),
        (_put("status_list", {"bits": 1, "lst": "eNrbuRgAAhcBXQ=="}), "bad_lst"),
        (_put("status_list", {"bits": 1, "lst": "eNrb+RgAAhcBXQ"}), "bad_lst"),
        (_put("status_list", lst(b"not zlib at all")), "bad_zlib"),
        (_put("status_list", lst(zlib.compress(bytes(MAX_LIST_BYTES + 1), 9))), "too_large"),
        (_put("status_list", lst(zlib.compress(b"\xb9\xa3", 9) + b"\x00")), "trailing_data"),
        (
            _put("status_list", {"bits": 1, "lst": "eNrbuRgAAhcBXQ", "aggregation_uri": "not a uri"}),
            "bad_aggregation_uri",
        ),
    ],
)
def test_status_list_token_claim_rules(
    key: PrivateKey, mutate: Callable[[dict[str, Any]], None], reason: str
) -> None:
    claims = valid_claims()
    mutate(claims)
    with expect(InvalidStatusListError, "invalid_status_list", reason):
        verify(signed(key, claims), key)


@pytest.mark.parametrize("header", [{"typ": "JWT"}, {}, {"typ": "dc+sd-jwt"}, {"typ": "statuslist+cwt"}])
def test_wrong_or_missing_typ(key: PrivateKey, header: dict[str, Any]) -> None:  # T4
    with expect(InvalidTypeError, "invalid_typ", "wrong_typ"):
        verify(signed(key, valid_claims(), header), key)


def test_signature_by_another_key(key: PrivateKey) -> None:  # T6
    with expect(InvalidSignatureError, "invalid_signature", "bad_signature"):
        verify(signed(generate_private_key(kid=key.kid), valid_claims()), key)


def test_signature_of_other_claims(key: PrivateKey) -> None:  # T6
    head, _, signature = signed(key, valid_claims()).split(".")
    other_payload = signed(key, {**valid_claims(), "ttl": 601}).split(".")[1]
    with expect(InvalidSignatureError, "invalid_signature", "bad_signature"):
        verify(f"{head}.{other_payload}.{signature}", key)


@pytest.mark.parametrize("algorithms", [{"ES256"}, {"ES256", "HS256", "none"}])
@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_alg_none_and_hmac_with_the_public_key(key: PrivateKey, alg: str, algorithms: set[str]) -> None:
    token = forged(alg, valid_claims(), b"" if alg == "none" else json_dumps(key.public.jwk))
    with expect(UnsupportedAlgorithmError, "unsupported_algorithm", "alg_not_allowed"):
        verify(token, key, algorithms=algorithms)


# The status list itself


@pytest.mark.parametrize(
    "raw",
    [
        zlib.compress(b"\xb9\xa3")[:-2],  # truncated
        zlib.compressobj(9, zlib.DEFLATED, -15).compress(b"\xb9\xa3"),  # raw DEFLATE, no ZLIB header
        zlib.compressobj(9, zlib.DEFLATED, 31).compress(b"\xb9\xa3"),  # gzip
        b"",
    ],
)
def test_only_whole_zlib_streams(raw: bytes) -> None:
    with expect(InvalidStatusListError, "invalid_status_list", "bad_zlib"):
        StatusList.decode(lst(raw))


def test_decompression_cap_is_exact() -> None:
    assert StatusList.decode(lst(zlib.compress(bytes(1024), 9)), max_bytes=1024).size == 8192
    with expect(InvalidStatusListError, "invalid_status_list", "too_large"):
        StatusList.decode(lst(zlib.compress(bytes(1025), 9)), max_bytes=1024)
    with expect(InvalidStatusListError, "invalid_status_list", "trailing_data"):
        StatusList.decode(lst(zlib.compress(b"\x01") + zlib.compress(b"\x02")))


def test_list_building_errors() -> None:
    with expect(InvalidStatusListError, "invalid_status_list", "bad_size"):
        StatusList.new(12, 1)
    with expect(InvalidStatusListError, "invalid_status_list", "bad_bits"):
        StatusList.new(8, 3)
    with expect(InvalidStatusListError, "invalid_status_list", "bad_size"):
        StatusList.from_statuses([0, 1, 2], 2)
    with expect(InvalidStatusListError, "invalid_status_list", "value_out_of_range"):
        StatusList.from_statuses([0, 1, 2, 4], 2)
    with expect(InvalidStatusListError, "invalid_status_list", "value_out_of_range"):
        StatusList.from_statuses([True] * 8, 1)
    status_list = StatusList.new(8, 1)
    with expect(InvalidStatusListError, "invalid_status_list", "value_out_of_range"):
        status_list.set(0, SUSPENDED)  # needs bits >= 2
    for idx in (8, -1, True):  # no wrap-around from the end
        with expect(InvalidStatusListError, "invalid_status_list", "index_out_of_range"):
            status_list.get(idx)


# T9: the referenced token's `status` claim; T1-T3: what the entry says


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ({"status_list": {"idx": -1, "uri": LIST_URI}}, "bad_idx"),
        ({"status_list": {"idx": "1", "uri": LIST_URI}}, "bad_idx"),
        ({"status_list": {"idx": 1.0, "uri": LIST_URI}}, "bad_idx"),
        ({"status_list": {"idx": True, "uri": LIST_URI}}, "bad_idx"),
        ({"status_list": {"uri": LIST_URI}}, "missing_idx"),
        ({"status_list": {"idx": 1}}, "missing_uri"),
        ({"status_list": {"idx": 1, "uri": "statuslists/1"}}, "bad_uri"),
        ({"status_list": {"idx": 1, "uri": "https://example.com/a list"}}, "bad_uri"),
        ({"status_list": {"idx": 1, "uri": 7}}, "bad_uri"),
        ({"status_list": [1, LIST_URI]}, "bad_status_claim"),
        ({"other_mechanism": {}}, "bad_status_claim"),
        ("status_list", "bad_status_claim"),
    ],
)
def test_status_claim_rules(status: Any, reason: str) -> None:
    with expect(InvalidStatusListError, "invalid_status_list", reason):
        parse_status_claim(status)


def test_status_claim_round_trips() -> None:
    reference = StatusReference(idx=2**20 - 1, uri=LIST_URI)
    assert parse_status_claim(reference.to_claim()) == reference


@pytest.mark.parametrize(
    ("idx", "error", "code", "reason"),
    [
        (1, RevokedError, "revoked", "revoked"),  # T1
        (2, SuspendedError, "suspended", "suspended"),  # T2
        (3, UnknownStatusError, "unknown_status", "application_specific"),  # T3
        (4, UnknownStatusError, "unknown_status", "reserved_value"),
        (8, InvalidStatusListError, "invalid_status_list", "index_out_of_range"),  # T9
    ],
)
def test_check_status(idx: int, error: type[CredentialError], code: str, reason: str) -> None:
    status_list = StatusList.from_statuses([VALID, INVALID, SUSPENDED, 3, 0x10, 0, 0, 0], 8)
    check_status(StatusReference(idx=0, uri=LIST_URI), status_list)
    with expect(error, code, reason):
        check_status(StatusReference(idx=idx, uri=LIST_URI), status_list)


def test_check_status_refuses_a_token_for_another_list() -> None:
    token = StatusListToken("https://example.com/statuslists/2", 0, None, None, StatusList.new(8, 1))
    with expect(InvalidStatusListError, "invalid_status_list", "sub_mismatch"):
        check_status(StatusReference(idx=0, uri=LIST_URI), token)
