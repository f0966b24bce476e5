"""Hypothesis fuzzing of every parser that reads outside input (issue 6): only our typed errors come out.

Each parser gets random JSON trees, valid inputs mutated (characters changed, cut short, segments swapped
or repeated, deep nesting, huge numbers, lone surrogates, non-UTF-8 bytes) and validly signed tokens with
random contents, so that the checks behind the signature are reached too. Whatever it is given, a parser
returns or raises a `CredentialError`; a KeyError, TypeError, ValueError, IndexError, UnicodeError or
RecursionError is a finding. The server's registry import turns every bad line into a line error.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote

import msgspec
from hypothesis import example, given, settings
from hypothesis import strategies as st
from vp_support import NOW, World, make_world

from client.wallet.present import RequestRefusedError, load_request
from server.services.registry import read_entries
from shared.credentials import (
    VCT_BY_TYPE,
    example_health_card,
    example_identity,
    example_social_book,
    parse_record,
)
from shared.errors import CredentialError
from shared.jose import decode_jws_unverified, generate_private_key, sign_jwt, verify_jws
from shared.oid4vci import decode_offer, parse_offer_link
from shared.oid4vp.dcql import parse_dcql
from shared.oid4vp.presets import PRESETS
from shared.oid4vp.request import REQUEST_TYP, parse_request_link, verify_request_object
from shared.oid4vp.response import parse_response
from shared.sdjwt.disclosure import split_compact
from shared.sdjwt.json_form import from_json_serialization, to_json_serialization
from shared.sdjwt.markers import SD
from shared.sdjwt.present import create_presentation, read_unverified
from shared.sdjwt.verify import KeyBindingPolicy
from shared.sdjwt_vc import TrustedIssuer, issue_credential, trusted_issuer_keys, verify_credential
from shared.statuslist import StatusList, parse_status_claim, sign_status_list_token, verify_status_list_token

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None)
T = int(NOW.timestamp())
ISSUER = "https://cancuoc.gov.vn"
VCT = "urn:vn:cancuoc:identity:1"
POLICY = KeyBindingPolicy(audience="x509_hash:verifier", nonce="n-0S6_WzA2Mj")
ISSUER_KEY = generate_private_key(kid="issuer-2026")
HOLDER_KEY = generate_private_key()
TRUST = trusted_issuer_keys([TrustedIssuer(ISSUER, (ISSUER_KEY.public,), frozenset({VCT}))])
CREDENTIAL = issue_credential(
    {
        SD("given_name"): "An",
        SD("address"): {SD("locality"): "Hà Nội", "country": "VN"},
        SD("nationalities"): ["VN", SD("FR")],
    },
    ISSUER_KEY,
    issuer=ISSUER,
    vct=VCT,
    holder_jwk=HOLDER_KEY.public.jwk,
    issued_at=T - 86400,
    expires_at=T + 86400,
    decoys=1,
)
PRESENTATION = create_presentation(
    CREDENTIAL,
    [("given_name",), ("address", "locality"), ("nationalities",)],
    holder_key=HOLDER_KEY,
    audience=POLICY.audience,
    nonce=POLICY.nonce,
    issued_at=T,
)
STATUS_URI = "https://cancuoc.gov.vn/status/1"
STATUS_LIST_TOKEN = sign_status_list_token(
    StatusList.new(64, 2), ISSUER_KEY, sub=STATUS_URI, iat=NOW, exp=NOW.replace(year=2027), ttl=3600
)
WORLD: World = make_world()
REQUEST_OBJECT = WORLD.request_object()
OFFER = {
    "credential_issuer": "https://cancuoc.gov.vn/mps",
    "credential_configuration_ids": ["identity"],
    "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {"pre-authorized_code": "abc"}},
}
OFFER_LINK = "openid-credential-offer://?credential_offer=" + quote(json.dumps(OFFER))
REQUEST_LINK = "openid4vp://?client_id=x509_hash%3Aabc&request_uri=https%3A%2F%2Fv.example%2Fr%2F1"
TODAY = date(2026, 11, 24)
CITIZEN = example_identity()
RECORDS = {
    "identity": msgspec.to_builtins(CITIZEN),
    "health_insurance": msgspec.to_builtins(example_health_card(CITIZEN)),
    "social_insurance": msgspec.to_builtins(example_social_book(CITIZEN)),
}

# --- strategies -----------------------------------------------------------------------------------------

ANY_CHAR = st.characters(exclude_categories=())  # lone surrogates included: they cannot be encoded
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([2**63, -(2**63) - 1, 10**400, 0, -1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.text(ANY_CHAR, max_size=4),
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)
"""Random JSON trees (with lone surrogates and out-of-range integers that not every encoder takes)."""


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


DEEP = st.integers(1, 5000).map(lambda n: "[" * n + "]" * n) | st.integers(1, 3000).map(
    lambda n: '{"a":' * n + "1" + "}" * n
)
RAW_JSON = st.one_of(
    JSON.map(_dumps),
    DEEP.map(str.encode),
    st.sampled_from([b"1e999999", b"-1e999999", b"NaN", b'{"a":1,"a":2}', b"\xff\xfe", b"", b" ", b"\x00"]),
    st.binary(max_size=40),
)
"""Raw bytes that a JSON parser may meet: random trees, deep nesting, huge numbers, duplicates, non-UTF-8."""


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """``text`` changed the way a bad channel or an attacker would, one to three times."""
    for _ in range(draw(st.integers(1, 3))):
        cut = draw(st.integers(0, max(len(text) - 1, 0)))
        kind = draw(st.sampled_from(["flip", "cut", "drop", "insert", "swap", "repeat"]))
        if kind == "flip" and text:
            text = text[:cut] + draw(st.sampled_from(".~=+/ \x00-_Aa") | ANY_CHAR) + text[cut + 1 :]
        elif kind == "cut":
            text = text[:cut]
        elif kind == "drop":
            text = text[:cut] + text[cut + draw(st.integers(1, 20)) :]
        elif kind == "insert":
            text = (
                text[:cut]
                + draw(st.text(ANY_CHAR, max_size=8) | st.sampled_from(["~", ".", "~~", ".."]))
                + text[cut:]
            )
        else:
            separator = draw(st.sampled_from("~."))
            parts = text.split(separator)
            i, j = draw(st.integers(0, len(parts) - 1)), draw(st.integers(0, len(parts) - 1))
            if kind == "swap":
                parts[i], parts[j] = parts[j], parts[i]
            else:
                parts.insert(i, parts[j])
            text = separator.join(parts)
    return text


AUTHORITY = st.text(st.sampled_from("[]:@%/.a1") | ANY_CHAR, max_size=10)
"""What may stand between ``scheme://`` and ``?``: brackets, ports, users, characters NFKC changes."""


def link(scheme: str) -> st.SearchStrategy[str]:
    """``scheme://<random authority>?<random query>``."""
    return st.tuples(AUTHORITY, st.text(ANY_CHAR, max_size=40)).map(lambda t: f"{scheme}://{t[0]}?{t[1]}")


def jws_with(header: Any, payload: Any, signature: bytes = b"\x00" * 64) -> str:
    """A compact JWS of any header and payload (not validly signed)."""
    return ".".join((_b64(_dumps(header)), _b64(_dumps(payload)), _b64(signature)))


def only_typed_errors(parse: Callable[[], object]) -> None:
    """The property: ``parse()`` returns, or raises one of our errors; anything else propagates."""
    with contextlib.suppress(CredentialError):
        parse()


# --- SD-JWT and presentations -----------------------------------------------------------------------------


def _verify_presentation(text: str) -> None:
    verify_credential(text, TRUST, now=NOW, key_binding=POLICY)


@FUZZ
@given(st.one_of(mutated(PRESENTATION), mutated(CREDENTIAL), st.text(ANY_CHAR, max_size=60)))
def test_sd_jwt_presentations(text: str) -> None:
    only_typed_errors(lambda: split_compact(text))
    only_typed_errors(lambda: read_unverified(text))
    only_typed_errors(lambda: _verify_presentation(text))


@FUZZ
@given(JSON, JSON)
def test_sd_jwt_with_a_random_key_binding_jwt(claims: Any, header: Any) -> None:
    """A KB-JWT signed by the holder's key with random claims and header members (RFC 9901 §7.3)."""
    members = {k: v for k, v in _dict(header).items() if k not in ("alg", "typ")}
    kb_jwt = sign_jwt(_dict(claims), HOLDER_KEY, typ="kb+jwt", **members)
    only_typed_errors(lambda: _verify_presentation(PRESENTATION.rsplit("~", 1)[0] + "~" + kb_jwt))


DISCLOSURE = st.one_of(JSON.map(lambda v: _b64(_dumps(v))), RAW_JSON.map(_b64), st.text(max_size=10))


@FUZZ
@given(st.lists(DISCLOSURE, max_size=4), JSON)
def test_sd_jwt_with_random_disclosures_and_payload(disclosures: list[str], claims: Any) -> None:
    """Issuer-signed, so payload and disclosures are processed: random `_sd`, `...`, `cnf`, `status`."""
    payload = {"iss": ISSUER, "vct": VCT, "iat": T, "exp": T + 60, "cnf": {"jwk": HOLDER_KEY.public.jwk}}
    if isinstance(claims, dict):
        payload.update(claims)
    jws = sign_jwt(payload, ISSUER_KEY, typ="dc+sd-jwt")
    text = "~".join((jws, *disclosures, ""))
    only_typed_errors(lambda: read_unverified(text))
    only_typed_errors(lambda: verify_credential(text, TRUST, now=NOW, key_binding=None))


@FUZZ
@given(
    st.one_of(
        JSON.map(lambda v: _dumps(v).decode("utf-8", "replace")),
        mutated(to_json_serialization(PRESENTATION)),
        mutated(to_json_serialization(CREDENTIAL, general=True)),
    )
)
def test_sd_jwt_json_serialization(text: str) -> None:
    only_typed_errors(lambda: from_json_serialization(text))


# --- JWS / JWT ----------------------------------------------------------------------------------------------


@FUZZ
@given(
    st.one_of(
        mutated(PRESENTATION.split("~", 1)[0]),
        st.tuples(JSON, JSON).map(lambda hp: jws_with(*hp)),
        st.tuples(JSON, JSON).map(lambda hp: jws_with({"alg": "ES256", "typ": "x", **_dict(hp[0])}, hp[1])),
        st.text(ANY_CHAR, max_size=40),
    )
)
def test_jws(token: str) -> None:
    only_typed_errors(lambda: decode_jws_unverified(token))
    only_typed_errors(lambda: verify_jws(token, ISSUER_KEY.public, typ="x"))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- credential offers --------------------------------------------------------------------------------------


OFFER_OBJECTS = st.one_of(
    JSON,
    st.tuples(st.sampled_from(sorted(OFFER)), JSON).map(lambda kv: {**OFFER, kv[0]: kv[1]}),
)


@FUZZ
@given(
    st.one_of(
        mutated(OFFER_LINK),
        OFFER_OBJECTS.map(lambda o: "openid-credential-offer://?credential_offer=" + quote(_dumps(o))),
        link("openid-credential-offer"),
        link("https"),
        st.text(ANY_CHAR, max_size=40),
    )
)
@example("openid-credential-offer://[x?credential_offer_uri=https://a")  # urlsplit's ValueError
def test_offer_links(text: str) -> None:
    only_typed_errors(lambda: parse_offer_link(text))


@FUZZ
@given(st.one_of(RAW_JSON, OFFER_OBJECTS.map(_dumps)))
@example(b"[" * 5000)  # msgspec's RecursionError
def test_offer_objects(raw: bytes) -> None:
    only_typed_errors(lambda: decode_offer(raw))


# --- OpenID4VP request objects, links, DCQL, responses ------------------------------------------------------


REQUEST_LINKS = st.one_of(
    mutated(REQUEST_LINK), link("openid4vp"), link("https"), st.text(ANY_CHAR, max_size=40)
)
NOT_A_LINK = "openid4vp://[x?client_id=a&request_uri=b"  # urlsplit's ValueError


@FUZZ
@given(REQUEST_LINKS)
@example(NOT_A_LINK)
def test_request_links(text: str) -> None:
    only_typed_errors(lambda: parse_request_link(text))


class FakeApi:
    """The wallet's HTTP side: every request_uri serves the same signed request object."""

    def fetch_request_object(self, url: str) -> str:
        return REQUEST_OBJECT


@FUZZ
@given(REQUEST_LINKS)
@example(NOT_A_LINK)
@example("https://[x/")
def test_wallet_request_loading(text: str) -> None:
    """`cancuoc wallet present TEXT`: what a QR code or a pasted link holds; refused, never a crash."""
    with contextlib.suppress(RequestRefusedError, CredentialError):
        load_request(FakeApi(), text)  # type: ignore[arg-type]


def _request_claims() -> dict[str, Any]:
    return {k: v for k, v in msgspec.to_builtins(WORLD.request()).items() if v is not None}


@FUZZ
@given(
    st.one_of(
        mutated(REQUEST_OBJECT),
        st.tuples(st.sampled_from(sorted(_request_claims())), JSON).map(
            lambda kv: sign_jwt(
                {**_request_claims(), kv[0]: kv[1]}, WORLD.clinic.key, typ=REQUEST_TYP, x5c=WORLD.clinic.x5c
            )
        ),
        JSON.map(lambda x5c: sign_jwt(_request_claims(), WORLD.clinic.key, typ=REQUEST_TYP, x5c=x5c)),
    )
)
def test_request_objects(token: str) -> None:
    only_typed_errors(lambda: verify_request_object(token, WORLD.anchors, now=NOW))


def _replace_somewhere(tree: Any, path: list[int], value: Any) -> Any:
    """``tree`` with the node reached by walking ``path`` (indices modulo each node's size) replaced."""
    if not path or not isinstance(tree, dict | list) or not tree:
        return value
    if isinstance(tree, dict):
        key = sorted(tree)[path[0] % len(tree)]
        return {**tree, key: _replace_somewhere(tree[key], path[1:], value)}
    index = path[0] % len(tree)
    return [*tree[:index], _replace_somewhere(tree[index], path[1:], value), *tree[index + 1 :]]


def _nested(depth: int) -> Any:
    """A list ``depth`` levels deep, built without recursion."""
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


PRESET = st.sampled_from(sorted(PRESETS)).map(lambda name: PRESETS[name])


@FUZZ
@given(
    st.one_of(
        JSON,
        st.tuples(PRESET, st.lists(st.integers(0, 50), max_size=6), JSON).map(
            lambda t: _replace_somewhere(t[0], t[1], t[2])
        ),
        st.integers(1, 5000).map(_nested),
    )
)
def test_dcql(query: Any) -> None:
    only_typed_errors(lambda: parse_dcql(query))


@FUZZ
@given(
    st.one_of(
        JSON,
        RAW_JSON,
        st.tuples(JSON, JSON).map(lambda t: {"vp_token": t[0], "state": t[1]}),
        st.tuples(JSON, st.text(max_size=8)).map(
            lambda t: {"vp_token": _dumps(t[0]).decode("utf-8", "replace"), "state": t[1]}
        ),
        st.text(ANY_CHAR, max_size=30),
    )
)
def test_vp_responses(data: Any) -> None:
    only_typed_errors(lambda: parse_response(data))


# --- status lists --------------------------------------------------------------------------------


@FUZZ
@given(
    st.one_of(
        mutated(STATUS_LIST_TOKEN),
        JSON.map(lambda status_list: _signed_status_list({"status_list": status_list})),
        st.tuples(st.sampled_from(["sub", "iat", "exp", "ttl", "status_list"]), JSON).map(
            lambda kv: _signed_status_list({kv[0]: kv[1]})
        ),
        st.tuples(st.integers(0, 8), st.binary(max_size=40)).map(
            lambda t: _signed_status_list({"status_list": {"bits": t[0], "lst": _b64(t[1])}})
        ),
    )
)
def test_status_list_tokens(token: str) -> None:
    only_typed_errors(
        lambda: verify_status_list_token(token, ISSUER_KEY.public, expected_uri=STATUS_URI, now=NOW)
    )


def _signed_status_list(changes: dict[str, Any]) -> str:
    claims = {
        "sub": STATUS_URI,
        "iat": T,
        "exp": T + 3600,
        "ttl": 3600,
        "status_list": {"bits": 2, "lst": "eNpjYAAAAAIAAQ"},
        **changes,
    }
    return sign_jwt(claims, ISSUER_KEY, typ="statuslist+jwt")


@FUZZ
@given(JSON | st.tuples(JSON, JSON).map(lambda t: {"status_list": {"idx": t[0], "uri": t[1]}}))
def test_status_claims(status: Any) -> None:
    only_typed_errors(lambda: parse_status_claim(status))


# --- registry records and the import file ------------------------------------------------------------


RECORD_TYPES = sorted(RECORDS)


@FUZZ
@given(
    st.sampled_from(RECORD_TYPES),
    st.one_of(
        JSON,
        RAW_JSON,
        st.tuples(st.lists(st.integers(0, 50), max_size=4), JSON),
    ),
)
def test_registry_records(kind: str, data: Any) -> None:
    if isinstance(data, tuple):
        data = _replace_somewhere(RECORDS[kind], data[0], data[1])
    if not isinstance(data, dict | bytes):
        data = _dumps(data)
    only_typed_errors(lambda: parse_record(VCT_BY_TYPE[kind], data, today=TODAY))


@FUZZ
@given(st.lists(st.one_of(RAW_JSON, st.tuples(st.lists(st.integers(0, 50), max_size=5), JSON)), max_size=4))
def test_registry_import_lines(lines: list[Any]) -> None:
    """`cancuoc-server registry import`: every line is an entry or a line error, never an exception."""
    entry = {"identity": RECORDS["identity"], "health_insurance": RECORDS["health_insurance"]}
    raw = [
        _dumps(_replace_somewhere(entry, line[0], line[1])) if isinstance(line, tuple) else line
        for line in lines
    ]
    entries, errors = read_entries(raw, today=TODAY)
    assert len(entries) + len(errors) <= len(raw)


def test_the_valid_inputs_pass() -> None:
    """The mutations start from inputs that parse, so a mutation is what makes each one fail."""
    verify_credential(PRESENTATION, TRUST, now=NOW, key_binding=POLICY)
    verify_status_list_token(STATUS_LIST_TOKEN, ISSUER_KEY.public, expected_uri=STATUS_URI, now=NOW)
    verify_request_object(REQUEST_OBJECT, WORLD.anchors, now=NOW)
    assert parse_offer_link(OFFER_LINK).offer is not None
    assert parse_request_link(REQUEST_LINK).request_uri == "https://v.example/r/1"
    for kind, record in RECORDS.items():
        parse_record(VCT_BY_TYPE[kind], record, today=TODAY)
