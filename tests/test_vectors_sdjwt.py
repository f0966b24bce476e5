"""The published SD-JWT vectors through our issuer, holder and verifier (RFC 9901, SD-JWT VC).

* the 17 OpenWallet Foundation reference test cases, end to end and "disclose all";
* the RFC 9901 examples: every disclosure and digest, and the signed issuance and presentation;
* the RFC 9901 §4.2 hashing vectors;
* the SD-JWT VC example specifications through `issue_credential` / `verify_credential`.

`tests/vectors/SOURCE.md` names the source of each folder; `vector_support` reads them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from vector_support import (
    VECTORS,
    holder_choice,
    load_yaml,
    parse_disclosures_md,
    public_jwk,
    read_json,
    settings_for,
    strip_markers,
    unwrap_json,
    unwrap_text,
    wrap_like_examples,
)

from shared.encoding import b64url_decode
from shared.errors import InvalidKeyBindingError, InvalidSignatureError, MalformedError, UnknownKeyError
from shared.jose import (
    KeyResolver,
    PrivateKey,
    PublicKey,
    decode_jws_unverified,
    private_key_from_jwk,
    public_key_from_jwk,
)
from shared.sdjwt.disclosure import Disclosure, decode_disclosure, digest, split_compact
from shared.sdjwt.issue import issue_sd_jwt
from shared.sdjwt.json_form import (
    from_json_serialization,
    to_json_serialization,
    verify_json_serialization,
)
from shared.sdjwt.present import create_presentation, read_unverified
from shared.sdjwt.verify import KeyBindingPolicy, VerifiedSdJwt, verify_sd_jwt
from shared.sdjwt_vc import TYP, TrustedIssuer, issue_credential, trusted_issuer_keys, verify_credential

TESTCASES = VECTORS / "sd-jwt-testcases"
EXAMPLES = VECTORS / "sd-jwt-spec-examples"
VC_EXAMPLES = VECTORS / "sd-jwt-vc-examples"
REFERENCE_TYP = "example+sd-jwt"
"""The reference issuer's default `typ`, which the test cases keep unless they override it."""
NOW = datetime(2025, 6, 1, tzinfo=UTC)
"""Between every vector's iat (2023-05-02) and exp (2029-09-01)."""
KB_ISSUED_AT = int(NOW.timestamp()) - 30


def folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if (p / "specification.yml").is_file())


def ids(paths: Sequence[Path]) -> list[str]:
    return [p.name for p in paths]


def key_resolver(keys: Sequence[PublicKey]) -> KeyResolver:
    """One key: always that key. Several: the one named by `kid` (any header, protected or not)."""

    def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicKey:
        if len(keys) == 1:
            return keys[0]
        for key in keys:
            if key.kid == header.get("kid"):
                return key
        raise UnknownKeyError(f"no key {header.get('kid')!r}", reason="unknown_kid")

    return resolve


# --- the 17 reference test cases --------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    spec: dict[str, Any]
    settings: dict[str, Any]
    issuer_keys: tuple[PrivateKey, ...]
    holder_key: PrivateKey
    key_binding: bool
    json_form: bool

    @property
    def general(self) -> bool:
        # As in the reference issuer: several issuer keys make a General JSON serialization.
        return self.json_form and len(self.issuer_keys) > 1

    @property
    def extra_header(self) -> dict[str, Any]:
        header = dict(self.spec.get("extra_header_parameters") or {})
        if isinstance(header.get("kid"), int):
            # header_mod issues `kid: 42`, but RFC 7515 §4.1.4 makes kid a string and we refuse a number
            # (test_numeric_kid_of_header_mod_is_refused); the case runs with the string "42".
            header["kid"] = str(header["kid"])
        return header

    @property
    def typ(self) -> str:
        return str(self.extra_header.get("typ", REFERENCE_TYP))

    @property
    def resolver(self) -> KeyResolver:
        return key_resolver([k.public for k in self.issuer_keys])

    def plain_claims(self) -> dict[str, Any]:
        """What the issuer always puts in plaintext besides the user claims."""
        claims: dict[str, Any] = {
            "iss": self.settings["identifiers"]["issuer"],
            "iat": self.settings["iat"],
            "exp": self.settings["exp"],
        }
        if self.key_binding:
            claims["cnf"] = {"jwk": public_jwk(self.settings["key_settings"]["holder_key"])}
        return claims


def load_case(folder: Path) -> Case:
    spec = load_yaml(folder / "specification.yml")
    settings = settings_for(folder, spec)
    keys = settings["key_settings"]
    return Case(
        spec,
        settings,
        tuple(private_key_from_jwk(jwk) for jwk in keys["issuer_keys"]),
        private_key_from_jwk(keys["holder_key"]),
        bool(spec.get("key_binding", False)),
        spec.get("serialization_format", "compact") == "json",
    )


def issue(case: Case) -> str:
    """Our issuer, configured as the reference harness configures its own; JSON-serialized if asked."""
    claims = {**case.plain_claims(), **case.spec["user_claims"]}
    header = {k: v for k, v in case.extra_header.items() if k != "typ"}
    decoys = 2 if case.spec.get("add_decoy_claims") else 0
    first, *others = case.issuer_keys
    compact = issue_sd_jwt(claims, first, typ=case.typ, header=header, decoys=decoys)
    if not case.json_form:
        return compact
    return to_json_serialization(compact, general=case.general, extra_signers=others)


def verify(case: Case, text: str, key_binding: KeyBindingPolicy | None) -> VerifiedSdJwt:
    if case.json_form:
        return verify_json_serialization(text, case.resolver, now=NOW, typ=case.typ, key_binding=key_binding)
    return verify_sd_jwt(text, case.resolver, now=NOW, typ=case.typ, key_binding=key_binding)


CASES = folders(TESTCASES)


@pytest.mark.parametrize("folder", CASES, ids=ids(CASES))
def test_reference_case_end_to_end(folder: Path) -> None:
    case = load_case(folder)
    issued = issue(case)
    parsed = from_json_serialization(issued) if case.json_form else None
    compact = parsed.compact if parsed else issued
    choice = holder_choice(case.spec["user_claims"], case.spec["holder_disclosed_claims"])
    # Our reading of the holder's choice agrees with the expectation the vector publishes.
    assert choice.expected == case.spec["expect_verified_user_claims"]

    presented = create_presentation(
        compact,
        choice.paths,
        holder_key=case.holder_key if case.key_binding else None,
        audience=case.settings["identifiers"]["verifier"],
        nonce=case.settings["key_binding_nonce"],
        issued_at=KB_ISSUED_AT,
    )
    placed = {d.text: path for path, d in read_unverified(compact).disclosures}
    assert {placed[d] for d in split_compact(presented).disclosures} == choice.disclosed
    if parsed:
        presented = to_json_serialization(
            presented, general=parsed.general, header=parsed.header, other_signatures=parsed.other_signatures
        )
    policy = None
    if case.key_binding:
        policy = KeyBindingPolicy(
            case.settings["identifiers"]["verifier"], case.settings["key_binding_nonce"]
        )
    verified = verify(case, presented, policy)

    assert verified.claims == {**case.plain_claims(), **case.spec["expect_verified_user_claims"]}
    assert len(verified.disclosed_paths) == len(choice.disclosed)
    first = case.issuer_keys[0]
    expected_header = {"alg": "ES256", "typ": case.typ, **({"kid": first.kid} if first.kid else {})}
    assert verified.header == {**expected_header, **case.extra_header}
    if case.key_binding:
        assert verified.key_binding is not None
        assert verified.key_binding["iat"] == KB_ISSUED_AT


@pytest.mark.parametrize("folder", CASES, ids=ids(CASES))
def test_reference_case_disclose_all(folder: Path) -> None:
    case = load_case(folder)
    verified = verify(case, issue(case), None)
    assert verified.claims == {**case.plain_claims(), **strip_markers(case.spec["user_claims"])}


def test_general_serialization_needs_every_signature() -> None:
    case = load_case(TESTCASES / "json_serialization_general")
    issued = json.loads(issue(case))
    assert [s.get("header", {}).keys() for s in issued["signatures"]] == [{"disclosures"}, set()]
    second = issued["signatures"][1]
    second_jws = decode_jws_unverified(f"{second['protected']}.{issued['payload']}.{second['signature']}")
    assert second_jws.header == {"alg": "ES256", "typ": REFERENCE_TYP, "kid": "issuer-key-2"}
    second["signature"] = issued["signatures"][0]["signature"]
    with pytest.raises(InvalidSignatureError):
        verify(case, json.dumps(issued), None)
    first = case.issuer_keys[0].public
    without_second = key_resolver([first, public_key_from_jwk(first.jwk, kid="unrelated")])
    with pytest.raises(UnknownKeyError):
        verify_json_serialization(issue(case), without_second, now=NOW, typ=REFERENCE_TYP, key_binding=None)


# --- JWS JSON serialization: strict parsing ----------------------------------------------------------

_PROTECTED = "eyJhbGciOiJFUzI1NiJ9"  # {"alg":"ES256"}
_SIGNATURE = {"protected": _PROTECTED, "signature": "c2ln"}
_FLAT = {"payload": "e30", **_SIGNATURE}
_DISCLOSURE = "WyJzYWx0IiwgIm4iLCAxXQ"
MALFORMED_JSON: dict[str, tuple[Any, str]] = {
    "not an object": ([], "bad_json_serialization"),
    "repeated member": ('{"payload": "e30", "payload": "e30"}', "duplicate_member"),
    "unknown member": ({**_FLAT, "extra": 1}, "bad_json_serialization"),
    "flattened and general mixed": ({**_FLAT, "signatures": []}, "bad_json_serialization"),
    "signatures not an array": ({"payload": "e30", "signatures": {}}, "bad_json_serialization"),
    "no signature": ({"payload": "e30", "signatures": []}, "bad_json_serialization"),
    "signature without value": (
        {"payload": "e30", "signatures": [{"protected": _PROTECTED}]},
        "bad_json_serialization",
    ),
    "unknown signature member": (
        {"payload": "e30", "signatures": [{**_SIGNATURE, "kid": "1"}]},
        "bad_signature_entry",
    ),
    "payload not base64url": ({**_FLAT, "payload": "e30.e30"}, "bad_json_serialization"),
    "header not an object": ({**_FLAT, "header": []}, "bad_json_serialization"),
    "disclosure smuggling a ~": (
        {**_FLAT, "header": {"disclosures": [f"{_DISCLOSURE}~{_DISCLOSURE}"]}},
        "bad_disclosures",
    ),
    "kb_jwt smuggling a ~": ({**_FLAT, "header": {"kb_jwt": f"{_PROTECTED}.e30.c2ln~"}}, "bad_kb_jwt"),
    "alg also unprotected": ({**_FLAT, "header": {"alg": "none"}}, "header_overlap"),
    "crit unprotected": ({**_FLAT, "header": {"crit": ["b64"]}}, "header_overlap"),
    "disclosures in a later signature": (
        {"payload": "e30", "signatures": [_SIGNATURE, {**_SIGNATURE, "header": {"disclosures": []}}]},
        "misplaced_disclosures",
    ),
}


@pytest.mark.parametrize(("document", "reason"), MALFORMED_JSON.values(), ids=MALFORMED_JSON.keys())
def test_json_serialization_is_parsed_strictly(document: Any, reason: str) -> None:
    with pytest.raises(MalformedError) as raised:
        from_json_serialization(document if isinstance(document, str) else json.dumps(document))
    assert raised.value.reason == reason


def test_json_serialization_round_trips_to_the_compact_form() -> None:
    case = load_case(TESTCASES / "key_binding")
    compact = issue(case)
    presented = create_presentation(
        compact,
        [("given_name",)],
        holder_key=case.holder_key,
        audience="aud",
        nonce="n",
        issued_at=KB_ISSUED_AT,
    )
    for general in (False, True):
        parsed = from_json_serialization(
            to_json_serialization(presented, general=general, header={"kid": "k"})
        )
        assert (parsed.compact, parsed.header, parsed.general) == (presented, {"kid": "k"}, general)


def test_sd_hash_covers_the_rebuilt_compact_form() -> None:
    folder = EXAMPLES / "json_serialization_flattened"
    presentation = json.loads(example_text(folder, "sd_jwt_presentation"))
    presentation["header"]["disclosures"].pop()
    with pytest.raises(InvalidKeyBindingError) as raised:
        verify_example(folder, json.dumps(presentation), with_key_binding=True)
    assert raised.value.reason == "sd_hash_mismatch"


# --- RFC 9901 examples -------------------------------------------------------------------------------

EXAMPLE_FOLDERS = folders(EXAMPLES)


def example_keys(folder: Path) -> list[PublicKey]:
    settings = settings_for(folder, load_yaml(folder / "specification.yml"))
    return [
        public_key_from_jwk(public_jwk(jwk), kid=jwk.get("kid"))
        for jwk in settings["key_settings"]["issuer_keys"]
    ]


def is_json(folder: Path) -> bool:
    return (folder / "sd_jwt_issuance.json").exists()


def example_text(folder: Path, stem: str) -> str:
    if is_json(folder):
        return unwrap_json((folder / f"{stem}.json").read_text(encoding="utf-8"))
    return unwrap_text((folder / f"{stem}.txt").read_text(encoding="utf-8"))


def example_compact(folder: Path, stem: str) -> str:
    text = example_text(folder, stem)
    return from_json_serialization(text).compact if is_json(folder) else text


def verify_example(folder: Path, text: str, *, with_key_binding: bool) -> VerifiedSdJwt:
    compact = from_json_serialization(text).compact if is_json(folder) else text
    typ = decode_jws_unverified(split_compact(compact).jws).header["typ"]
    now, policy = NOW, None
    if with_key_binding:
        kb = read_json(folder / "kb_jwt_payload.json")
        now, policy = datetime.fromtimestamp(kb["iat"], UTC), KeyBindingPolicy(kb["aud"], kb["nonce"])
    resolver = key_resolver(example_keys(folder))
    if is_json(folder):
        return verify_json_serialization(text, resolver, now=now, typ=typ, key_binding=policy)
    return verify_sd_jwt(text, resolver, now=now, typ=typ, key_binding=policy)


def fields(disclosure: Disclosure) -> list[Any]:
    return [disclosure.salt, disclosure.name, disclosure.value]


def as_fields(content: list[Any]) -> list[Any]:
    """A disclosure's JSON array as [salt, name, value]; an array element has no name (§4.2.2)."""
    return content if len(content) == 3 else [content[0], None, content[1]]


def embedded_digests(value: Any) -> list[str]:
    """Every digest in `_sd` arrays and `{"...": digest}` elements, at any depth."""
    if isinstance(value, dict):
        found = list(value.get("_sd", []))
        if set(value) == {"..."}:
            found.append(value["..."])
        return found + [d for k, v in value.items() if k != "_sd" for d in embedded_digests(v)]
    if isinstance(value, list):
        return [d for v in value for d in embedded_digests(v)]
    return []


@pytest.mark.parametrize("folder", EXAMPLE_FOLDERS, ids=ids(EXAMPLE_FOLDERS))
def test_example_disclosures_and_digests(folder: Path) -> None:
    blocks = parse_disclosures_md((folder / "disclosures.md").read_text(encoding="utf-8"))
    assert blocks
    for block in blocks:
        decoded = decode_disclosure(block.disclosure)
        raw = b64url_decode(block.disclosure).decode("utf-8")
        assert wrap_like_examples(raw) == list(block.contents_lines)
        assert fields(decoded) == as_fields(json.loads(raw))
        assert decoded.name == block.name
        assert digest(block.disclosure) == block.digest == decoded.digest

    issuance = split_compact(example_compact(folder, "sd_jwt_issuance"))
    assert list(issuance.disclosures) == [b.disclosure for b in blocks]
    payload = decode_jws_unverified(issuance.jws).payload
    assert payload == read_json(folder / "sd_jwt_payload.json")
    if not is_json(folder):
        assert unwrap_text((folder / "sd_jwt_jws_part.txt").read_text(encoding="utf-8")) == issuance.jws
    embedded = embedded_digests(payload) + [
        d for b in blocks for d in embedded_digests(decode_disclosure(b.disclosure).value)
    ]
    assert len(embedded) == len(set(embedded))
    decoys_md = folder / "decoy_digests.md"
    decoys = set(re.findall(r"`([A-Za-z0-9_-]+)`", decoys_md.read_text())) if decoys_md.exists() else set()
    assert set(embedded) == {b.digest for b in blocks} | decoys
    assert not decoys & {b.digest for b in blocks}


@pytest.mark.parametrize("folder", EXAMPLE_FOLDERS, ids=ids(EXAMPLE_FOLDERS))
def test_example_issuance_verifies(folder: Path) -> None:
    spec = load_yaml(folder / "specification.yml")
    settings = load_yaml(EXAMPLES / "settings.yml")
    verified = verify_example(folder, example_text(folder, "sd_jwt_issuance"), with_key_binding=False)
    expected: dict[str, Any] = {}
    if spec.get("include_default_claims", True):
        expected = {"iss": settings["identifiers"]["issuer"], "iat": settings["iat"], "exp": settings["exp"]}
    expected.update(read_json(folder / "user_claims.json"))
    if spec.get("key_binding"):
        expected["cnf"] = {"jwk": public_jwk(settings["key_settings"]["holder_key"])}
    assert verified.claims == expected
    assert verified.header["typ"] == spec.get("extra_header_parameters", {}).get("typ", REFERENCE_TYP)


@pytest.mark.parametrize("folder", EXAMPLE_FOLDERS, ids=ids(EXAMPLE_FOLDERS))
def test_example_presentation_verifies(folder: Path) -> None:
    with_key_binding = (folder / "kb_jwt_payload.json").exists()
    verified = verify_example(
        folder, example_text(folder, "sd_jwt_presentation"), with_key_binding=with_key_binding
    )
    assert verified.claims == read_json(folder / "verified_contents.json")
    if with_key_binding:
        assert verified.key_binding == read_json(folder / "kb_jwt_payload.json")
        kb_jwt = unwrap_text((folder / "kb_jwt_serialized.txt").read_text(encoding="utf-8"))
        assert split_compact(example_compact(folder, "sd_jwt_presentation")).kb_jwt == kb_jwt


def test_example_presentation_needs_its_nonce() -> None:
    folder = EXAMPLES / "simple"
    kb = read_json(folder / "kb_jwt_payload.json")
    with pytest.raises(InvalidKeyBindingError) as raised:
        verify_sd_jwt(
            example_text(folder, "sd_jwt_presentation"),
            example_keys(folder)[0],
            now=datetime.fromtimestamp(kb["iat"], UTC),
            typ=REFERENCE_TYP,
            key_binding=KeyBindingPolicy(kb["aud"], kb["nonce"] + "0"),
        )
    assert raised.value.reason == "nonce_mismatch"


# --- RFC 9901 §4.2 hashing vectors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "disclosure", "expected_digest"),
    [
        (
            ["_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius"],
            "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0",
            "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0",
        ),
        (
            ["lklxF5jMYlGTPUovMNIvCA", "FR"],
            "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0",
            "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs",
        ),
        (
            ["2GLC42sKQveCfGfryNRN9w", "given_name", "John"],
            "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd",
            "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4",
        ),
    ],
)
def test_rfc_hashing_vectors(content: list[Any], disclosure: str, expected_digest: str) -> None:
    # The vector itself: the disclosure is the spec's JSON text (", " separators, UTF-8) in base64url.
    text = json.dumps(content, ensure_ascii=False).encode("utf-8")
    assert base64.urlsafe_b64encode(text).rstrip(b"=").decode() == disclosure
    assert (
        base64.urlsafe_b64encode(hashlib.sha256(disclosure.encode()).digest()).rstrip(b"=").decode()
        == expected_digest
    )
    decoded = decode_disclosure(disclosure)
    assert fields(decoded) == as_fields(content)
    assert digest(disclosure) == decoded.digest == expected_digest


# --- SD-JWT VC example specifications ----------------------------------------------------------------

VC_FOLDERS = folders(VC_EXAMPLES)


@pytest.mark.parametrize("folder", VC_FOLDERS, ids=ids(VC_FOLDERS))
def test_vc_example_issues_and_verifies(folder: Path) -> None:
    spec = load_yaml(folder / "specification.yml")
    settings = load_yaml(VC_EXAMPLES / "settings.yml")
    keys = settings["key_settings"]
    issuer_key = private_key_from_jwk(keys["issuer_key"])
    holder_key = private_key_from_jwk(keys["holder_key"])
    subject = dict(spec["user_claims"])
    issuer, vct = subject.pop("iss", settings["identifiers"]["issuer"]), subject.pop("vct")
    header = dict(spec.get("extra_header_parameters") or {})
    assert header.pop("typ") == TYP
    credential = issue_credential(
        subject,
        issuer_key,
        issuer=issuer,
        vct=vct,
        holder_jwk=holder_key.public.jwk,
        issued_at=settings["iat"],
        expires_at=settings["exp"],
        header=header,
    )
    choice = holder_choice(subject, spec["holder_disclosed_claims"])
    key_binding = bool(spec.get("key_binding"))
    presented = create_presentation(
        credential,
        choice.paths,
        holder_key=holder_key if key_binding else None,
        audience=settings["identifiers"]["verifier"],
        nonce=settings["key_binding_nonce"],
        issued_at=KB_ISSUED_AT,
    )
    trusted = TrustedIssuer(
        issuer,
        (public_key_from_jwk(public_jwk(keys["issuer_key"]), kid=header.get("kid")),),
        frozenset({vct}),
    )
    policy = (
        KeyBindingPolicy(settings["identifiers"]["verifier"], settings["key_binding_nonce"])
        if key_binding
        else None
    )
    verified = verify_credential(presented, trusted_issuer_keys([trusted]), now=NOW, key_binding=policy)

    assert (verified.issuer, verified.vct) == (issuer, vct)
    assert verified.claims == {
        "iss": issuer,
        "vct": vct,
        "iat": settings["iat"],
        "exp": settings["exp"],
        "cnf": {"jwk": public_jwk(keys["holder_key"])},
        **choice.expected,
    }
    assert set(verified.sd_jwt.disclosed_paths) == choice.disclosed
    assert verified.sd_jwt.header == {"alg": "ES256", "typ": TYP, **header}
    everything = verify_credential(credential, trusted_issuer_keys([trusted]), now=NOW, key_binding=None)
    assert everything.claims == {**verified.claims, **strip_markers(subject)}


def test_numeric_kid_of_header_mod_is_refused() -> None:
    case = load_case(TESTCASES / "header_mod")
    assert case.spec["extra_header_parameters"]["kid"] == 42
    issued = issue_sd_jwt({"sub": "x"}, case.issuer_keys[0], typ=case.typ, header={"kid": 42})
    with pytest.raises(MalformedError) as refused:
        verify_sd_jwt(issued, case.resolver, now=NOW, typ=case.typ, key_binding=None)
    assert refused.value.reason == "bad_kid"
