"""Negative catalogue §8.1-8.3 against the protocol core: one valid artifact, exactly one mutation, one error.

Every case starts from the valid presentation `PRESENTATION` (an SD-JWT VC with nested, array and decoy
digests plus a KB-JWT) and changes one thing. A change under a signature is re-signed with the real key,
and a change to the presented disclosures gets a fresh KB-JWT, so each case fails on its own rule and not
on a signature or ``sd_hash`` check. Test ids start with the catalogue rule (J, S, T) and the RFC 9901
§1.7 MUST-reject row (R) they prove.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import hmac
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from shared import errors
from shared.encoding import b64url_decode, b64url_encode, json_dumps, json_loads
from shared.errors import (
    CredentialError,
    ExpiredError,
    InvalidClaimError,
    InvalidDisclosureError,
    InvalidKeyBindingError,
    InvalidSignatureError,
    InvalidStatusListError,
    InvalidTypeError,
    MalformedError,
    NotYetValidError,
    RevokedError,
    SuspendedError,
    TooLargeError,
    UnknownKeyError,
    UnknownStatusError,
    UnsupportedAlgorithmError,
    UntrustedCertificateError,
    UntrustedIssuerError,
)
from shared.jose import EDDSA, ES256, PrivateKey, generate_private_key, private_jwk, sign_jwt
from shared.sdjwt.disclosure import digest, encode_disclosure, serialize
from shared.sdjwt.issue import issue_sd_jwt
from shared.sdjwt.markers import SD
from shared.sdjwt.present import create_presentation, read_unverified, select_disclosures
from shared.sdjwt.verify import KeyBindingPolicy
from shared.sdjwt_vc import (
    TYP,
    TrustedIssuer,
    VerifiedCredential,
    issue_credential,
    trusted_issuer_keys,
    verify_credential,
)
from shared.statuslist import (
    INVALID,
    MAX_LIST_BYTES,
    MAX_TTL,
    SUSPENDED,
    StatusList,
    check_status,
    parse_status_claim,
    sign_status_list_token,
    verify_status_list_token,
)

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
T = int(NOW.timestamp())
DAY = 86400
ISSUER = "https://cancuoc.gov.vn"
OTHER_ISSUER = "https://bhxh.gov.vn"
VCT = "urn:vn:cancuoc:identity:1"
OTHER_VCT = "urn:vn:bhxh:health-insurance:1"
AUDIENCE = "x509_san_dns:verifier.example.vn"
NONCE = "n-0S6_WzA2Mj"
POLICY = KeyBindingPolicy(audience=AUDIENCE, nonce=NONCE)
STATUS_URI = "https://cancuoc.gov.vn/status/1"

ISSUER_KEY = generate_private_key(kid="issuer-2026")
ED_ISSUER_KEY = generate_private_key(EDDSA, kid="issuer-ed")
OTHER_ISSUER_KEY = generate_private_key(kid="bhxh-2026")
HOLDER_KEY = generate_private_key()
ED_HOLDER_KEY = generate_private_key(EDDSA)
ATTACKER_KEY = generate_private_key(kid="issuer-2026")
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
TRUST = trusted_issuer_keys(
    [
        TrustedIssuer(ISSUER, (ISSUER_KEY.public, ED_ISSUER_KEY.public), frozenset({VCT})),
        TrustedIssuer(OTHER_ISSUER, (OTHER_ISSUER_KEY.public,), frozenset({OTHER_VCT})),
    ]
)

SUBJECT: dict[Any, Any] = {
    SD("given_name"): "An",
    SD("family_name"): "Nguyễn",
    SD("birthdate"): "1990-09-02",
    "issuing_country": "VN",
    SD("address"): {SD("street_address"): "1 Tràng Tiền", SD("locality"): "Hà Nội", "country": "VN"},
    SD("nationalities"): ["VN", SD("FR")],
    "languages": ["vi", SD("en")],
    "age_equal_or_over": {SD("18"): True, SD("65"): False},
}
CREDENTIAL = issue_credential(
    SUBJECT,
    ISSUER_KEY,
    issuer=ISSUER,
    vct=VCT,
    holder_jwk=HOLDER_KEY.public.jwk,
    issued_at=T - DAY,
    expires_at=T + 365 * DAY,
    decoys=2,
)
VIEW = read_unverified(CREDENTIAL)
D = {path: disclosure.text for path, disclosure in VIEW.disclosures}
PATHS = [
    ("given_name",),
    ("address", "street_address"),
    ("nationalities",),
    ("languages",),
    ("age_equal_or_over", "18"),
]
PRESENTED = select_disclosures(VIEW, PATHS)
GIVEN = D[("given_name",)]
ISSUER_JWS = VIEW.jws
ISSUER_HEADER = VIEW.header
ISSUER_PAYLOAD: dict[str, Any] = json_loads(b64url_decode(ISSUER_JWS.split(".")[1]))
PRESENTATION = create_presentation(
    CREDENTIAL, PATHS, holder_key=HOLDER_KEY, audience=AUDIENCE, nonce=NONCE, issued_at=T
)

DROP = object()
"""In a change set: remove that member."""

Signer = Callable[[bytes], bytes]
Mutation = Callable[[], str]
ErrorClass = type[CredentialError]


# ---- signing in every shape an attacker could choose ---------------------------------------------


def es256(key: PrivateKey = ISSUER_KEY, digest_alg: hashes.HashAlgorithm | None = None) -> Signer:
    def sign(data: bytes) -> bytes:
        assert isinstance(key.key, ec.EllipticCurvePrivateKey)
        r, s = decode_dss_signature(key.key.sign(data, ec.ECDSA(digest_alg or hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    return sign


def der(key: PrivateKey = ISSUER_KEY) -> Signer:
    def sign(data: bytes) -> bytes:
        assert isinstance(key.key, ec.EllipticCurvePrivateKey)
        return key.key.sign(data, ec.ECDSA(hashes.SHA256()))

    return sign


def eddsa(key: PrivateKey) -> Signer:
    def sign(data: bytes) -> bytes:
        assert isinstance(key.key, ed25519.Ed25519PrivateKey)
        return key.key.sign(data)

    return sign


def hs256_with_public_key(key: PrivateKey) -> Signer:
    secret = key.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return lambda data: hmac.digest(secret, data, "sha256")


def rs256(data: bytes) -> bytes:
    return RSA_KEY.sign(data, padding.PKCS1v15(), hashes.SHA256())


def no_signature(data: bytes) -> bytes:
    return b""


def then(signer: Signer, change: Callable[[bytes], bytes]) -> Signer:
    return lambda data: change(signer(data))


# ---- building artifacts ---------------------------------------------------------------------------


def changed(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    out = {**base, **changes}
    return {name: value for name, value in out.items() if value is not DROP}


def compact_text(header: str, payload: str, signer: Signer) -> str:
    signing_input = f"{header}.{payload}"
    return f"{signing_input}.{b64url_encode(signer(signing_input.encode()))}"


def compact(header: Mapping[str, Any] | bytes, payload: Mapping[str, Any] | bytes, signer: Signer) -> str:
    raw_header = header if isinstance(header, bytes) else json_dumps(header)
    raw_payload = payload if isinstance(payload, bytes) else json_dumps(payload)
    return compact_text(b64url_encode(raw_header), b64url_encode(raw_payload), signer)


def issuer_jws(
    header: Mapping[str, Any] | None = None,
    payload: Mapping[str, Any] | None = None,
    *,
    signer: Signer | None = None,
    base: Mapping[str, Any] = ISSUER_PAYLOAD,
) -> str:
    return compact(
        changed(ISSUER_HEADER, header or {}), changed(base, payload or {}), signer or es256(ISSUER_KEY)
    )


def edited_payload(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    payload = copy.deepcopy(ISSUER_PAYLOAD)
    edit(payload)
    return payload


def kb_jwt(
    sd_jwt: str,
    *,
    header: Mapping[str, Any] | None = None,
    claims: Mapping[str, Any] | None = None,
    signer: Signer | None = None,
) -> str:
    base_claims = {"iat": T, "aud": AUDIENCE, "nonce": NONCE, "sd_hash": sd_hash_of(sd_jwt)}
    return compact(
        changed({"alg": ES256, "typ": "kb+jwt"}, header or {}),
        changed(base_claims, claims or {}),
        signer or es256(HOLDER_KEY),
    )


def sd_hash_of(text: str, algorithm: str = "sha256") -> str:
    return b64url_encode(hashlib.new(algorithm, text.encode()).digest())


def present(jws: str = ISSUER_JWS, disclosures: Sequence[str] = PRESENTED, **kb: Any) -> str:
    """``<jws>~<disclosures>~`` plus a KB-JWT made for exactly that (``kb`` changes the KB-JWT)."""
    sd_jwt = serialize(jws, list(disclosures))
    return sd_jwt + kb_jwt(sd_jwt, **kb)


def resigned(edit: Callable[[dict[str, Any]], None]) -> str:
    return present(issuer_jws(base=edited_payload(edit)))


def replace_strings(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {name: replace_strings(v, old, new) for name, v in value.items()}
    if isinstance(value, list):
        return [replace_strings(v, old, new) for v in value]
    return new if value == old else value


def redisclose(old: str, new: str) -> str:
    """Swap disclosure ``old`` for ``new`` in the presentation AND in the signed payload, re-signed."""
    payload = replace_strings(ISSUER_PAYLOAD, digest(old), digest(new))
    disclosures = [new if d == old else d for d in PRESENTED]
    if old not in PRESENTED:
        disclosures.append(new)
    return present(issuer_jws(base=payload), disclosures)


def raw_disclosure(text: bytes) -> str:
    return b64url_encode(text)


def after_kb(disclosures: Sequence[str]) -> str:
    """The KB-JWT of the valid presentation, sent with other disclosures."""
    return serialize(ISSUER_JWS, list(disclosures)) + PRESENTATION.rsplit("~", 1)[1]


def with_header(signer: Signer | None = None, **changes: Any) -> Mutation:
    """The presentation with the issuer-signed JWT's header changed, re-signed (by ``signer`` if given)."""
    return lambda: present(issuer_jws(changes, signer=signer))


def with_claims(**changes: Any) -> Mutation:
    """The presentation with the issuer-signed JWT's claims changed, re-signed with the issuer key."""
    return lambda: present(issuer_jws(payload=changes))


def with_kb(header: Mapping[str, Any] | None = None, signer: Signer | None = None, **claims: Any) -> Mutation:
    """The presentation with its KB-JWT header or claims changed, re-signed (by ``signer`` if given)."""
    return lambda: present(header=header, claims=claims, signer=signer)


def verify(text: str, **options: Any) -> VerifiedCredential:
    return verify_credential(text, TRUST, now=NOW, key_binding=POLICY, **options)


def assert_refused(call: Callable[[], object], error: type[CredentialError], code: str, reason: str) -> None:
    with pytest.raises(CredentialError) as caught:
        call()
    assert type(caught.value) is error, caught.value
    assert (caught.value.code, caught.value.reason) == (code, reason), caught.value


Expected = tuple[ErrorClass, str, str]
"""An error class, its ``code`` and the ``reason`` naming the rule."""

ALG_NOT_ALLOWED: Expected = (UnsupportedAlgorithmError, "unsupported_algorithm", "alg_not_allowed")
SD_ALG_REFUSED: Expected = (UnsupportedAlgorithmError, "unsupported_algorithm", "unsupported_sd_alg")
UNKNOWN_KID: Expected = (UnknownKeyError, "unknown_key", "unknown_kid")
BAD_SIGNATURE: Expected = (InvalidSignatureError, "invalid_signature", "bad_signature")
KB_BAD_SIGNATURE: Expected = (InvalidKeyBindingError, "invalid_key_binding", "kb_bad_signature")
WRONG_TYP: Expected = (InvalidTypeError, "invalid_typ", "wrong_typ")
EXPIRED: Expected = (ExpiredError, "expired", "expired")


def malformed(reason: str) -> Expected:
    return (MalformedError, "malformed", reason)


def too_large(reason: str) -> Expected:
    return (TooLargeError, "too_large", reason)


def untrusted(reason: str) -> Expected:
    return (UntrustedIssuerError, "untrusted_issuer", reason)


def not_yet_valid(reason: str) -> Expected:
    return (NotYetValidError, "not_yet_valid", reason)


def claim(reason: str) -> Expected:
    return (InvalidClaimError, "invalid_claim", reason)


def disclosure(reason: str) -> Expected:
    return (InvalidDisclosureError, "invalid_disclosure", reason)


def key_binding(reason: str) -> Expected:
    return (InvalidKeyBindingError, "invalid_key_binding", reason)


CASE = ("mutation", "error", "code", "reason")


def case(rule: str, mutation: Mutation, expected: Expected) -> Any:
    """A table row: the rule ids as the test id, the mutation, and the expected class, code and reason."""
    return pytest.param(mutation, *expected, id=rule)


# ---- the valid artifacts the mutations start from -------------------------------------------------


def test_the_unmutated_artifacts_verify() -> None:
    """The base presentation and every rebuilt-but-unchanged artifact verify, so each mutation is alone."""
    verified = verify(PRESENTATION)
    assert verified.claims["address"] == {"street_address": "1 Tràng Tiền", "country": "VN"}
    assert verified.claims["nationalities"] == ["VN", "FR"]
    assert verified.claims["languages"] == ["vi", "en"]
    assert verified.claims["age_equal_or_over"] == {"18": True}
    assert "family_name" not in verified.claims
    for rebuilt in (
        present(),
        present(issuer_jws()),
        resigned(lambda payload: None),
        redisclose(GIVEN, GIVEN),
        after_kb(PRESENTED),
        with_header()(),
        with_claims()(),
        with_kb()(),
    ):
        assert verify(rebuilt).claims == verified.claims
    assert verify_credential(serialize(ISSUER_JWS, PRESENTED), TRUST, now=NOW, key_binding=None)


def test_legacy_typ_is_accepted_only_behind_the_flag() -> None:
    """SD-JWT VC -18 §2.2.1: ``vc+sd-jwt`` only for a transitional period, opted into."""
    legacy = present(issuer_jws({"typ": "vc+sd-jwt"}))
    assert verify(legacy, accept_legacy_typ=True).vct == VCT
    assert_refused(lambda: verify(legacy), InvalidTypeError, "invalid_typ", "wrong_typ")


def test_eddsa_is_accepted_only_when_configured() -> None:
    """RFC 8725 §3.2: the allow-list is configuration; EdDSA issuer and holder keys need opting into."""
    ed_issued = present(issuer_jws({"alg": EDDSA, "kid": "issuer-ed"}, signer=eddsa(ED_ISSUER_KEY)))
    assert verify(ed_issued, algorithms={ES256, EDDSA}).issuer == ISSUER
    assert_refused(
        lambda: verify(ed_issued), UnsupportedAlgorithmError, "unsupported_algorithm", "alg_not_allowed"
    )

    holder_jwk = ED_HOLDER_KEY.public.jwk
    ed_holder = present(
        issuer_jws(payload={"cnf": {"jwk": holder_jwk}}), header={"alg": EDDSA}, signer=eddsa(ED_HOLDER_KEY)
    )
    assert verify(ed_holder, algorithms={ES256, EDDSA}).sd_jwt.key_binding is not None
    assert_refused(
        lambda: verify(ed_holder), UnsupportedAlgorithmError, "unsupported_algorithm", "alg_not_allowed"
    )


def test_the_disclosure_count_limit_is_exact() -> None:
    """RFC 8725 §2.9 [ours]: 512 disclosures verify, 513 are refused before any is decoded."""
    many = issue_credential(
        {SD(f"c{i}"): i for i in range(513)},
        ISSUER_KEY,
        issuer=ISSUER,
        vct=VCT,
        holder_jwk=HOLDER_KEY.public.jwk,
        issued_at=T,
        expires_at=T + DAY,
    )
    jws, *disclosures, _ = many.split("~")
    assert len(verify(present(jws, disclosures[:512])).claims) > 512
    assert_refused(
        lambda: verify(present(jws, disclosures)), TooLargeError, "too_large", "too_many_disclosures"
    )


# ---- §8.1 JOSE hygiene on the issuer-signed JWT ---------------------------------------------------

ALGORITHM_CASES = [
    case("J1-R1-alg-none", with_header(alg="none", signer=no_signature), ALG_NOT_ALLOWED),
    case("J1-R1-alg-none-with-signature", with_header(alg="none"), ALG_NOT_ALLOWED),
    case("J1-R1-alg-None-capitalised", with_header(alg="None", signer=no_signature), ALG_NOT_ALLOWED),
    case(
        "J2-R1-hs256-public-key-as-secret",
        with_header(alg="HS256", signer=hs256_with_public_key(ISSUER_KEY)),
        ALG_NOT_ALLOWED,
    ),
    case("J2-R1-kid-of-the-eddsa-key-with-es256", with_header(kid="issuer-ed"), ALG_NOT_ALLOWED),
    case("J3-R1-es384", with_header(alg="ES384", signer=es256(ISSUER_KEY, hashes.SHA384())), ALG_NOT_ALLOWED),
    case("J3-R1-rs256", with_header(alg="RS256", signer=rs256), ALG_NOT_ALLOWED),
    case(
        "J3-R1-eddsa-not-configured",
        with_header(alg=EDDSA, kid="issuer-ed", signer=eddsa(ED_ISSUER_KEY)),
        ALG_NOT_ALLOWED,
    ),
    case("J3-R1-lowercase-es256", with_header(alg="es256"), ALG_NOT_ALLOWED),
]


@pytest.mark.parametrize(CASE, ALGORITHM_CASES)
def test_issuer_algorithm_policy(mutation: Mutation, error: ErrorClass, code: str, reason: str) -> None:
    """RFC 9901 §4.1 and §7.1 step 2.a; RFC 8725 §2.1, §3.1-3.2: never none, a MAC or an unlisted alg."""
    assert_refused(lambda: verify(mutation()), error, code, reason)


def test_hs256_stays_refused_even_when_configured() -> None:
    """RFC 8725 §3.1: an algorithm is bound to the key type, so a listed HS256 still cannot use an EC key."""
    forged = present(issuer_jws({"alg": "HS256"}, signer=hs256_with_public_key(ISSUER_KEY)))
    assert_refused(lambda: verify(forged, algorithms={ES256, "HS256"}), *ALG_NOT_ALLOWED)


def attacker_header(member: str) -> Mutation:
    values = {
        "jwk": ATTACKER_KEY.public.jwk,
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "x5c": [b64url_encode(b"attacker self-signed certificate").replace("-", "+").replace("_", "/")],
    }
    return lambda: present(issuer_jws({member: values[member]}, signer=es256(ATTACKER_KEY)))


def payload_changed_after_signing() -> str:
    header, _, signature = ISSUER_JWS.split(".")
    payload = b64url_encode(json_dumps({**ISSUER_PAYLOAD, "issuing_country": "XX"}))
    return present(f"{header}.{payload}.{signature}")


KEY_CASES = [
    case("J4-R2-unknown-kid", with_header(kid="issuer-2019"), UNKNOWN_KID),
    case("J4-J10-kid-not-a-string", with_header(kid=2026), (MalformedError, "malformed", "bad_kid")),
    case("J4-R2-no-kid-several-keys", with_header(kid=DROP), UNKNOWN_KID),
    case("J4-R2-untrusted-iss", with_claims(iss="https://attacker.example"), untrusted("unknown_issuer")),
    case("J4-R2-iss-not-a-string", with_claims(iss=[ISSUER]), untrusted("unknown_issuer")),
    case(
        "J4-R2-issuer-not-allowed-for-vct",
        with_claims(vct=OTHER_VCT),
        untrusted("issuer_not_allowed_for_vct"),
    ),
    case("J4-R2-vct-not-a-string", with_claims(vct=[VCT]), untrusted("issuer_not_allowed_for_vct")),
    case(
        "J4-R2-other-issuers-key", with_header(kid="bhxh-2026", signer=es256(OTHER_ISSUER_KEY)), UNKNOWN_KID
    ),
    case("J5-R2-jwk-header-attacker-key", attacker_header("jwk"), BAD_SIGNATURE),
    case("J5-R2-jku-header-attacker-key", attacker_header("jku"), BAD_SIGNATURE),
    case("J5-R2-x5u-header-attacker-key", attacker_header("x5u"), BAD_SIGNATURE),
    case("J5-R2-x5c-header-attacker-chain", attacker_header("x5c"), BAD_SIGNATURE),
    case("R2-signed-by-attacker", with_header(signer=es256(ATTACKER_KEY)), BAD_SIGNATURE),
    case("R2-payload-changed-after-signing", payload_changed_after_signing, BAD_SIGNATURE),
]


@pytest.mark.parametrize(CASE, KEY_CASES)
def test_issuer_key_and_trust(mutation: Mutation, error: ErrorClass, code: str, reason: str) -> None:
    """RFC 9901 §7.1 step 2.b-c; SD-JWT VC -18 §2.5; RFC 8725 §3.10: only the trusted issuer's named key."""
    assert_refused(lambda: verify(mutation()), error, code, reason)


STATUS_LIST_TOKEN = sign_status_list_token(
    StatusList.new(16, 1), ISSUER_KEY, sub=STATUS_URI, iat=NOW, exp=NOW.replace(year=2027), ttl=3600
)
PROOF_JWT = sign_jwt({"aud": ISSUER, "iat": T, "nonce": NONCE}, HOLDER_KEY, typ="openid4vci-proof+jwt")

TYP_CASES = [
    case("J7-S13-typ-missing", with_header(typ=DROP), WRONG_TYP),
    case("J7-S13-typ-JWT", with_header(typ="JWT"), WRONG_TYP),
    case("J7-S13-typ-example-sd-jwt", with_header(typ="example+sd-jwt"), WRONG_TYP),
    case("J7-S13-typ-legacy-without-flag", with_header(typ="vc+sd-jwt"), WRONG_TYP),
    case("J7-S13-typ-not-a-string", with_header(typ=[TYP]), WRONG_TYP),
    case("J7-kb-jwt-as-issuer-jwt", lambda: present(PRESENTATION.rsplit("~", 1)[1], PRESENTED), WRONG_TYP),
    case("J7-status-list-token-as-credential", lambda: present(STATUS_LIST_TOKEN, []), WRONG_TYP),
    case("J7-issuer-jwt-as-kb-jwt", lambda: serialize(ISSUER_JWS, PRESENTED) + ISSUER_JWS, WRONG_TYP),
    case("J7-proof-jwt-as-kb-jwt", lambda: serialize(ISSUER_JWS, PRESENTED) + PROOF_JWT, WRONG_TYP),
    case("J7-R15-kb-typ-JWT", with_kb(header={"typ": "JWT"}), WRONG_TYP),
    case("J7-R15-kb-typ-missing", with_kb(header={"typ": DROP}), WRONG_TYP),
    case("J7-R15-kb-typ-of-the-credential", with_kb(header={"typ": TYP}), WRONG_TYP),
]


@pytest.mark.parametrize(CASE, TYP_CASES)
def test_explicit_typing(mutation: Mutation, error: ErrorClass, code: str, reason: str) -> None:
    """RFC 8725 §3.11-3.12; SD-JWT VC -18 §2.2.1 (``dc+sd-jwt``); RFC 9901 §7.3 step 5.d (``kb+jwt``)."""
    assert_refused(lambda: verify(mutation()), error, code, reason)


def header_text(**changes: Any) -> str:
    return b64url_encode(json_dumps(changed(ISSUER_HEADER, changes)))


PAYLOAD_TEXT = ISSUER_JWS.split(".")[1]


def raw_payload(raw: bytes) -> Mutation:
    return lambda: present(compact(ISSUER_HEADER, raw, es256()))


def raw_header(raw: bytes) -> Mutation:
    return lambda: present(compact(raw, ISSUER_PAYLOAD, es256()))


def text_parts(header: str = header_text(), payload: str = PAYLOAD_TEXT) -> Mutation:
    return lambda: present(compact_text(header, payload, es256()))


def padded_payload() -> str:
    text = with_spare_bits(lambda filler: b64url_encode(json_dumps({**ISSUER_PAYLOAD, "filler": filler})))
    return present(compact_text(header_text(), padded(text), es256()))


def with_spare_bits(build: Callable[[str], str]) -> str:
    """The first of ``build("")``, ``build("x")``... whose last character has unused bits."""
    filler = ""
    while len(build(filler)) % 4 not in (2, 3):
        filler += "x"
    return build(filler)


def header_with_spare_bits() -> str:
    return with_spare_bits(lambda filler: header_text(x=filler))


def disclosure_with_spare_bits() -> str:
    return with_spare_bits(lambda filler: encode_disclosure("c2FsdA" + filler, "given_name", "An"))


def padded(text: str) -> str:
    return text + "=" * (-len(text) % 4)


def non_canonical(text: str) -> str:
    """The same bytes for a lenient decoder: set an unused low bit of the last character."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(text) % 4 in (2, 3)
    return text[:-1] + alphabet[alphabet.index(text[-1]) + 1]


def jws_with_signature_text(change: Callable[[str], str]) -> Mutation:
    header, payload, signature = ISSUER_JWS.split(".")
    return lambda: present(f"{header}.{payload}.{change(signature)}")


ISSUER_PAYLOAD_JSON = json_dumps(ISSUER_PAYLOAD)
ENCODING_CASES = [
    case("J8-crit-unknown-extension", with_header(crit=["exp"], exp=T), malformed("crit")),
    case("J8-crit-empty", with_header(crit=[]), malformed("crit")),
    case("J9-plus-in-header", text_parts(header="+" + header_text()[1:]), malformed("bad_base64url")),
    case("J9-slash-in-payload", text_parts(payload="/" + PAYLOAD_TEXT[1:]), malformed("bad_base64url")),
    case("J9-padding-in-payload", padded_payload, malformed("bad_base64url")),
    case("J9-padding-in-signature", jws_with_signature_text(lambda s: s + "=="), malformed("bad_base64url")),
    case(
        "J9-space-in-payload",
        text_parts(payload=PAYLOAD_TEXT[:8] + " " + PAYLOAD_TEXT[8:]),
        malformed("bad_base64url"),
    ),
    case(
        "J9-non-ascii-in-payload",
        text_parts(payload=PAYLOAD_TEXT[:8] + "é" + PAYLOAD_TEXT[9:]),
        malformed("bad_base64url"),
    ),
    case(
        "J9-quote-in-payload",
        text_parts(payload=PAYLOAD_TEXT[:8] + '"' + PAYLOAD_TEXT[9:]),
        malformed("bad_base64url"),
    ),
    case(
        # A JSON reader takes each '\\u0041' for 'A'; four of them keep the length a multiple of 4.
        "J9-json-escape-in-payload",
        text_parts(payload=PAYLOAD_TEXT[:8] + "\\u0041" * 4 + PAYLOAD_TEXT[32:]),
        malformed("bad_base64url"),
    ),
    case(
        "J9-non-canonical-trailing-bits-signature",
        jws_with_signature_text(non_canonical),
        malformed("bad_base64url"),
    ),
    case(
        "J9-non-canonical-trailing-bits-header",
        text_parts(header=non_canonical(header_with_spare_bits())),
        malformed("bad_base64url"),
    ),
    case("J9-extra-dot-segment", jws_with_signature_text(lambda s: s + ".e30"), malformed("bad_jws")),
    case("J9-two-segments", lambda: present(ISSUER_JWS.rsplit(".", 1)[0]), malformed("bad_jws")),
    case("J9-empty-header", text_parts(header=""), malformed("bad_json")),
    case(
        "J9-disclosure-with-padding",
        lambda: redisclose(GIVEN, padded(disclosure_with_spare_bits())),
        malformed("bad_base64url"),
    ),
    case(
        "J9-disclosure-with-plus",
        lambda: redisclose(GIVEN, "+" + GIVEN[1:]),
        malformed("bad_base64url"),
    ),
    case(
        "J9-disclosure-non-canonical",
        lambda: redisclose(GIVEN, non_canonical(disclosure_with_spare_bits())),
        malformed("bad_base64url"),
    ),
    case("J9-kb-jwt-extra-segment", lambda: present() + ".e30", malformed("bad_jws")),
    case(
        "J10-duplicate-member-in-payload",
        raw_payload(ISSUER_PAYLOAD_JSON[:-1] + b',"iss":"https://attacker.example"}'),
        malformed("duplicate_member"),
    ),
    case(
        "J10-duplicate-alg-in-header",
        raw_header(
            json_dumps({"alg": "none", **{k: v for k, v in ISSUER_HEADER.items() if k != "alg"}})[:-1]
            + b',"alg":"ES256"}'
        ),
        malformed("duplicate_member"),
    ),
    case(
        "J10-duplicate-member-in-disclosure-value",
        lambda: redisclose(GIVEN, raw_disclosure(b'["c2FsdA","given_name",{"a":1,"a":2}]')),
        malformed("duplicate_member"),
    ),
    case("J10-duplicate-nonce-in-kb-jwt", lambda: kb_duplicate_nonce(), malformed("duplicate_member")),
    case(
        "J10-nan-in-payload", raw_payload(ISSUER_PAYLOAD_JSON[:-1] + b',"score":NaN}'), malformed("bad_json")
    ),
    case(
        "J10-infinity-in-payload",
        raw_payload(ISSUER_PAYLOAD_JSON[:-1] + b',"score":Infinity}'),
        malformed("bad_json"),
    ),
    case(
        "J10-invalid-utf8-in-payload",
        raw_payload(ISSUER_PAYLOAD_JSON[:-1] + b',"name":"\xc3\x28"}'),
        malformed("bad_json"),
    ),
    case(
        "J10-lone-surrogate-in-payload",
        raw_payload(ISSUER_PAYLOAD_JSON[:-1] + b',"name":"\\ud800"}'),
        malformed("bad_json"),
    ),
    case(
        "J10-nan-in-disclosure",
        lambda: redisclose(GIVEN, raw_disclosure(b'["c2FsdA","given_name",NaN]')),
        malformed("bad_json"),
    ),
    case(
        "J10-invalid-utf8-in-disclosure",
        lambda: redisclose(GIVEN, raw_disclosure(b'["c2FsdA","given_name","\xff"]')),
        malformed("bad_json"),
    ),
    case("J10-header-not-an-object", raw_header(b'["ES256"]'), malformed("bad_json")),
    case("J10-payload-not-an-object", raw_payload(b"[1,2]"), malformed("bad_json")),
    case("J10-header-without-alg", with_header(alg=DROP), malformed("missing_alg")),
    case("J10-alg-not-a-string", with_header(alg=["ES256"]), malformed("missing_alg")),
]


def kb_duplicate_nonce() -> str:
    sd_jwt = serialize(ISSUER_JWS, PRESENTED)
    claims = json_dumps({"iat": T, "aud": AUDIENCE, "sd_hash": digest(sd_jwt), "nonce": "attacker-nonce"})
    return sd_jwt + compact(
        {"alg": ES256, "typ": "kb+jwt"}, claims[:-1] + f',"nonce":"{NONCE}"}}'.encode(), es256(HOLDER_KEY)
    )


@pytest.mark.parametrize(CASE, ENCODING_CASES)
def test_strict_encoding(mutation: Mutation, error: ErrorClass, code: str, reason: str) -> None:
    """RFC 9901 §4 ABNF; RFC 7515 §2, §4.1.4, §4.1.11, §7.1; RFC 7519 §4; RFC 8725 §3.7 (J8-J10)."""
    assert_refused(lambda: verify(mutation()), error, code, reason)


VALIDITY_CASES = [
    case("J11-R10-exp-past", with_claims(exp=T - 3600), EXPIRED),
    case("J12-R10-nbf-future", with_claims(nbf=T + 3600), not_yet_valid("nbf_in_future")),
    case("J13-R10-iat-future", with_claims(iat=T + 3600), not_yet_valid("iat_in_future")),
    case("J11-R10-exp-not-numeric", with_claims(exp="2027-03-01"), claim("bad_numeric_date")),
    case("J11-R10-exp-boolean", with_claims(exp=True), claim("bad_numeric_date")),
    case("J11-R10-exp-beyond-any-date", with_claims(exp=10**400), claim("bad_numeric_date")),
    case("J12-R10-nbf-not-numeric", with_claims(nbf="yesterday"), claim("bad_numeric_date")),
    case("J13-R10-iat-not-numeric", with_claims(iat=[T]), claim("bad_numeric_date")),
    case("R10-aud-of-another-party", with_claims(aud="https://other.example"), claim("unexpected_aud")),
]


@pytest.mark.parametrize(CASE, VALIDITY_CASES)
def test_validity_claims(mutation: Mutation, error: ErrorClass, code: str, reason: str) -> None:
    """RFC 9901 §7.1 step 6 and §9.7; RFC 7519 §4.1.3-4.1.6: validity claims are checked, never guessed."""
    assert_refused(lambda: verify(mutation()), error, code, reason)


def append_zero(data: bytes) -> bytes:
    return data + b"\x00"


SIGNATURE_CASES = [
    case("J14-der-signature", with_header(signer=der()), BAD_SIGNATURE),
    case("J14-signature-63-bytes", with_header(signer=then(es256(), lambda s: s[:-1])), BAD_SIGNATURE),
    case("J14-signature-65-bytes", with_header(signer=then(es256(), append_zero)), BAD_SIGNATURE),
    case("J14-signature-empty", with_header(signer=no_signature), BAD_SIGNATURE),
    case("J14-r-and-s-zero", with_header(signer=lambda data: bytes(64)), BAD_SIGNATURE),
    case("J14-r-and-s-swapped", with_header(signer=then(es256(), lambda s: s[32:] + s[:32])), BAD_SIGNATURE),
    case("J14-kb-der-signature", with_kb(signer=der(HOLDER_KEY)), KB_BAD_SIGNATURE),
]


@pytest.mark.parametrize(CASE, SIGNATURE_CASES)
def test_signature_encoding(mutation: Mutation, error: ErrorClass, code: str, reason: str) -> None:
    """RFC 7518 §3.4: an ES256 signature is exactly the 64 bytes r||s, never DER."""
    assert_refused(lambda: verify(mutation()), error, code, reason)


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"d": value}
    return value


def deep_chain(depth: int) -> str:
    value: Any = "bottom"
    for _ in range(depth):
        value = {SD("d"): value}
    return issued_with({**vc_claims(), "chain": value})()


SIZE_CASES = [
    case("J15-issuer-jwt-over-64KiB", with_claims(portrait="A" * 50_000), too_large("too_large")),
    case(
        "J15-sd-jwt-over-1MiB",
        lambda: present(disclosures=[*PRESENTED, "A" * (1 << 20)]),
        too_large("too_large"),
    ),
    case("J15-payload-nested-too-deep", with_claims(deep=nested(40)), too_large("too_deep")),
    case(
        "J15-header-nested-beyond-the-parser",
        raw_header(b'{"alg":"ES256","x":' + b"[" * 2000 + b"]" * 2000 + b"}"),
        too_large("too_deep"),
    ),
    case(
        "J15-disclosure-nested-too-deep",
        lambda: redisclose(GIVEN, encode_disclosure("c2FsdA", "given_name", nested(40))),
        too_large("too_deep"),
    ),
    case("J15-recursive-disclosures-too-deep", lambda: deep_chain(40), too_large("too_deep")),
]


@pytest.mark.parametrize(CASE, SIZE_CASES)
def test_size_limits(mutation: Mutation, error: ErrorClass, code: str, reason: str) -> None:
    """RFC 8725 §2.9; SD-JWT VC -19 §3 [ours]: bounded size, count and depth before heavy work."""
    assert_refused(lambda: verify(mutation()), error, code, reason)


# ---- §8.2 disclosures: RFC 9901 §7.1 steps 3-5 ----------------------------------------------------


def tampered(text: str) -> str:
    salt, name, value = json_loads(b64url_decode(text))
    return encode_disclosure(salt, name, value + "h")


def given(content: Any) -> Mutation:
    return lambda: redisclose(GIVEN, encode_disclosure_raw(content))


def english(content: Any) -> Mutation:
    return lambda: redisclose(D[("languages", 1)], encode_disclosure_raw(content))


def encode_disclosure_raw(content: Any) -> str:
    return b64url_encode(json_dumps(content))


def without(*paths: tuple[str | int, ...]) -> list[str]:
    return [d for d in PRESENTED if d not in {D[p] for p in paths}]


TOP_SD: list[str] = ISSUER_PAYLOAD["_sd"]
DECOY = next(d for d in TOP_SD if d not in {digest(text) for text in D.values()})
STREET = digest(D[("address", "street_address")])
EN = digest(D[("languages", 1)])

DISCLOSURE_CASES = [
    case(
        "S1-R9-tampered-disclosure",
        lambda: present(disclosures=[tampered(d) if d == GIVEN else d for d in PRESENTED]),
        disclosure("unreferenced_disclosure"),
    ),
    case(
        "S2-R11-same-disclosure-twice",
        lambda: present(disclosures=[*PRESENTED, GIVEN]),
        disclosure("duplicate_disclosure"),
    ),
    case(
        "S3-R8-digest-twice-in-sd",
        lambda: resigned(lambda p: p["_sd"].append(digest(GIVEN))),
        disclosure("duplicate_digest"),
    ),
    case(
        "S3-R8-decoy-twice-in-sd",
        lambda: resigned(lambda p: p["_sd"].append(DECOY)),
        disclosure("duplicate_digest"),
    ),
    case(
        "S3-R8-digest-in-sd-and-ellipsis",
        lambda: resigned(lambda p: p["languages"].append({"...": DECOY})),
        disclosure("duplicate_digest"),
    ),
    case(
        "S3-R8-digest-in-payload-and-in-disclosure",
        lambda: resigned(lambda p: p["_sd"].append(STREET)),
        disclosure("duplicate_digest"),
    ),
    case("S4-R6-disclosure-named-sd", given(["c2FsdA", "_sd", ["x"]]), disclosure("reserved_claim_name")),
    case("S4-R6-disclosure-named-ellipsis", given(["c2FsdA", "...", "x"]), disclosure("reserved_claim_name")),
    case(
        "S5-R7-name-of-a-plaintext-claim",
        given(["c2FsdA", "issuing_country", "FR"]),
        disclosure("claim_name_conflict"),
    ),
    case(
        "S5-R7-two-disclosures-same-name",
        lambda: redisclose(D[("family_name",)], encode_disclosure("c2FsdA", "given_name", "Bình")),
        disclosure("claim_name_conflict"),
    ),
    case("S6-R4-two-elements-from-sd", given(["c2FsdA", "An"]), disclosure("bad_shape")),
    case(
        "S6-R5-three-elements-from-ellipsis", english(["c2FsdA", "language", "en"]), disclosure("bad_shape")
    ),
    case("S6-R4-one-element", given(["c2FsdA"]), disclosure("bad_shape")),
    case("S6-R4-four-elements", given(["c2FsdA", "given_name", "An", "extra"]), disclosure("bad_shape")),
    case("S6-R4-empty-array", given([]), disclosure("bad_shape")),
    case("S6-R4-json-object", given({"salt": "c2FsdA", "given_name": "An"}), disclosure("bad_shape")),
    case("S6-R4-json-string", given("given_name"), disclosure("bad_shape")),
    case("S7-salt-a-number", given([1234, "given_name", "An"]), disclosure("bad_salt")),
    case("S7-salt-null", given([None, "given_name", "An"]), disclosure("bad_salt")),
    case("S7-array-salt-a-number", english([1234, "en"]), disclosure("bad_salt")),
    case("S7-name-a-number", given(["c2FsdA", 7, "An"]), disclosure("bad_claim_name")),
    case("S7-name-null", given(["c2FsdA", None, "An"]), disclosure("bad_claim_name")),
    case(
        "S8-R9-child-without-parent",
        lambda: present(disclosures=without(("address",))),
        disclosure("unreferenced_disclosure"),
    ),
    case(
        "S8-R9-array-element-without-parent",
        lambda: present(disclosures=without(("nationalities",))),
        disclosure("unreferenced_disclosure"),
    ),
    case("S9-R3-sd-alg-md5", with_claims(_sd_alg="md5"), SD_ALG_REFUSED),
    case("S9-R3-sd-alg-truncated", with_claims(_sd_alg="sha-256-32"), SD_ALG_REFUSED),
    case("S9-R3-sd-alg-unknown", with_claims(_sd_alg="sha3-999"), SD_ALG_REFUSED),
    case("S9-R3-sd-alg-not-a-string", with_claims(_sd_alg=["sha-256"]), SD_ALG_REFUSED),
    case(
        "S9-R3-sd-alg-nested",
        lambda: resigned(lambda p: p["age_equal_or_over"].update(_sd_alg="sha-256")),
        malformed("nested_sd_alg"),
    ),
    case(
        "S10-R20-sd-a-string", lambda: resigned(lambda p: p.update(_sd=TOP_SD[0])), malformed("bad_sd_array")
    ),
    case(
        "S10-R20-sd-with-a-number", lambda: resigned(lambda p: p["_sd"].append(42)), malformed("bad_sd_array")
    ),
    case(
        "S10-R20-nested-sd-null",
        lambda: resigned(lambda p: p["age_equal_or_over"].update(_sd=None)),
        malformed("bad_sd_array"),
    ),
    case(
        "S10-R20-ellipsis-with-extra-member",
        lambda: resigned(lambda p: p["languages"][1].update(x=1)),
        malformed("bad_array_digest"),
    ),
    case(
        "S10-R20-ellipsis-not-a-string",
        lambda: resigned(lambda p: p["languages"].append({"...": 5})),
        malformed("bad_array_digest"),
    ),
    case(
        "S10-R20-ellipsis-as-claim-name",
        lambda: resigned(lambda p: p.update({"...": EN})),
        malformed("misplaced_ellipsis"),
    ),
    case("R12-empty-disclosure", lambda: present(disclosures=[*PRESENTED, ""]), malformed("bad_sd_jwt")),
]


@pytest.mark.parametrize(CASE, DISCLOSURE_CASES)
def test_disclosure_rules(mutation: Mutation, error: ErrorClass, code: str, reason: str) -> None:
    """RFC 9901 §4.1, §4.2, §4.2.6 and §7.1 steps 3-5 (digest processing, duplicates, orphans)."""
    assert_refused(lambda: verify(mutation()), error, code, reason)


# ---- §8.2 SD-JWT VC claims: SD-JWT VC -18 §2.2.2, §2.4 --------------------------------------------


def vc_claims(**changes: Any) -> dict[Any, Any]:
    """The plaintext claims `issue_credential` would sign, with the subject claims all disclosable."""
    base: dict[Any, Any] = {
        "iss": ISSUER,
        "vct": VCT,
        "iat": T - DAY,
        "exp": T + DAY,
        "cnf": {"jwk": HOLDER_KEY.public.jwk},
        "status": {"status_list": {"idx": 5, "uri": STATUS_URI}},
        SD("given_name"): "An",
    }
    for name, value in changes.items():
        if value is DROP:
            del base[name]
        else:
            base[name] = value
    return base


def issued_with(claims: Mapping[Any, Any]) -> Mutation:
    def build() -> str:
        jws, *disclosures, _ = issue_sd_jwt(claims, ISSUER_KEY, typ=TYP).split("~")
        return present(jws, disclosures)

    return build


def hidden(name: str, value: Any = None) -> Mutation:
    """The claim ``name`` (sub-claim for ``a.b``) delivered through a disclosure instead of in plaintext."""
    claims = vc_claims()
    parent, _, child = name.partition(".")
    if child:
        claims[parent] = {SD(child) if k == child else k: v for k, v in claims[parent].items()}
    else:
        claims[SD(parent)] = claims.pop(parent, value)
    return issued_with(claims)


def test_the_hand_issued_base_verifies() -> None:
    """The claims the S11/S12 cases start from verify with the issuer key and with the resolver."""
    for key in (ISSUER_KEY.public, TRUST):
        verified = verify_credential(issued_with(vc_claims())(), key, now=NOW, key_binding=POLICY)
        assert verified.claims["given_name"] == "An"


NEVER_DISCLOSED_CASES = [
    case("S11-iss-disclosed", hidden("iss"), claim("disclosed_reserved_claim")),
    case("S11-vct-disclosed", hidden("vct"), claim("disclosed_reserved_claim")),
    case("S11-exp-disclosed", hidden("exp"), claim("disclosed_reserved_claim")),
    case("S11-nbf-disclosed", hidden("nbf", T - DAY), claim("disclosed_reserved_claim")),
    case("S11-cnf-disclosed", hidden("cnf"), claim("disclosed_reserved_claim")),
    case("S11-cnf-jwk-sub-claim-disclosed", hidden("cnf.jwk"), claim("disclosed_reserved_claim")),
    case("S11-status-disclosed", hidden("status"), claim("disclosed_reserved_claim")),
    case("S11-status-sub-claim-disclosed", hidden("status.status_list"), claim("disclosed_reserved_claim")),
    case(
        "S11-vct-integrity-disclosed",
        hidden("vct#integrity", "sha256-9cLlJNXN-TsMk-PmKjZ5t0WRL5ca_xGgX3c1VLmXfh-WRL5"),
        claim("disclosed_reserved_claim"),
    ),
    case(
        "S11-aka-vcts-disclosed",
        hidden("aka_vcts", ["urn:vn:cancuoc:identity:0"]),
        claim("disclosed_reserved_claim"),
    ),
    case("S12-vct-missing", issued_with(vc_claims(vct=DROP)), claim("missing_vct")),
    case("S12-vct-empty", issued_with(vc_claims(vct="")), claim("missing_vct")),
    case("S12-iss-missing", issued_with(vc_claims(iss=DROP)), claim("missing_iss")),
    case("S12-exp-missing", issued_with(vc_claims(exp=DROP)), claim("missing_exp")),
    case("S12-cnf-missing-kb-required", issued_with(vc_claims(cnf=DROP)), key_binding("no_holder_key")),
    case(
        "S12-cnf-without-jwk", issued_with(vc_claims(cnf={"kid": "holder-1"})), key_binding("no_holder_key")
    ),
    case(
        "S12-cnf-jwk-with-private-d",
        issued_with(vc_claims(cnf={"jwk": private_jwk(HOLDER_KEY)})),
        malformed("private_jwk"),
    ),
]


@pytest.mark.parametrize(CASE, NEVER_DISCLOSED_CASES)
def test_sd_jwt_vc_claims(mutation: Mutation, error: ErrorClass, code: str, reason: str) -> None:
    """SD-JWT VC -18 §2.2.2 (+ -19 sub-claims) and §2.4; RFC 9901 §7.1 step 6, §9.7; RFC 7800 §3.2."""
    assert_refused(
        lambda: verify_credential(mutation(), ISSUER_KEY.public, now=NOW, key_binding=POLICY),
        error,
        code,
        reason,
    )


RESOLVER_CASES = [
    case("S11-iss-disclosed-resolver", hidden("iss"), untrusted("unknown_issuer")),
    case("S11-vct-disclosed-resolver", hidden("vct"), untrusted("issuer_not_allowed_for_vct")),
    case("S12-iss-missing-resolver", issued_with(vc_claims(iss=DROP)), untrusted("unknown_issuer")),
]


@pytest.mark.parametrize(CASE, RESOLVER_CASES)
def test_issuer_and_type_come_from_the_signed_payload(
    mutation: Mutation, error: ErrorClass, code: str, reason: str
) -> None:
    """SD-JWT VC -18 §2.5: the key resolver reads ``iss`` and ``vct`` in plaintext, before any disclosure."""
    assert_refused(lambda: verify(mutation()), error, code, reason)


# ---- §8.2 key binding: RFC 9901 §4.3 and §7.3 -----------------------------------------------------


SD_JWT = serialize(ISSUER_JWS, PRESENTED)
KEY_BINDING_CASES = [
    case("S14-R13-kb-stripped", lambda: SD_JWT, key_binding("kb_missing")),
    case(
        "S15-R14-kb-signed-by-another-key",
        with_kb(signer=es256(ATTACKER_KEY)),
        KB_BAD_SIGNATURE,
    ),
    case("J1-R14-kb-alg-none", with_kb(header={"alg": "none"}, signer=no_signature), ALG_NOT_ALLOWED),
    case(
        "J2-R14-kb-hs256-holder-key-as-secret",
        with_kb(header={"alg": "HS256"}, signer=hs256_with_public_key(HOLDER_KEY)),
        ALG_NOT_ALLOWED,
    ),
    case(
        "J3-R14-kb-es384",
        with_kb(header={"alg": "ES384"}, signer=es256(HOLDER_KEY, hashes.SHA384())),
        ALG_NOT_ALLOWED,
    ),
    case(
        "J5-kb-jwk-header-names-attacker-key",
        with_kb(header={"jwk": ATTACKER_KEY.public.jwk}, signer=es256(ATTACKER_KEY)),
        KB_BAD_SIGNATURE,
    ),
    case("J8-kb-crit", with_kb(header={"crit": ["nonce"]}), malformed("crit")),
    case("S16-R17-nonce-missing", with_kb(nonce=DROP), key_binding("nonce_mismatch")),
    case("S16-R17-nonce-different", with_kb(nonce="n-earlier-transaction"), key_binding("nonce_mismatch")),
    case("S16-R17-nonce-not-a-string", with_kb(nonce=[NONCE]), key_binding("nonce_mismatch")),
    case("S17-R17-aud-missing", with_kb(aud=DROP), key_binding("aud_mismatch")),
    case("S17-R17-aud-different", with_kb(aud="x509_san_dns:attacker.example"), key_binding("aud_mismatch")),
    case("S17-R17-aud-array-with-the-right-value", with_kb(aud=[AUDIENCE]), key_binding("aud_mismatch")),
    case(
        "S17-R17-aud-without-client-id-prefix",
        with_kb(aud="verifier.example.vn"),
        key_binding("aud_mismatch"),
    ),
    case(
        "S18-R18-disclosure-added-after-kb",
        lambda: after_kb([*PRESENTED, D[("family_name",)]]),
        key_binding("sd_hash_mismatch"),
    ),
    case(
        "S18-R18-disclosure-removed-after-kb",
        lambda: after_kb(without(("given_name",))),
        key_binding("sd_hash_mismatch"),
    ),
    case(
        "S18-R18-disclosures-reordered-after-kb",
        lambda: after_kb(PRESENTED[::-1]),
        key_binding("sd_hash_mismatch"),
    ),
    case(
        "S18-R18-sd-hash-without-trailing-tilde",
        with_kb(sd_hash=sd_hash_of(SD_JWT[:-1])),
        key_binding("sd_hash_mismatch"),
    ),
    case(
        "S18-R18-sd-hash-with-sha384",
        with_kb(sd_hash=sd_hash_of(SD_JWT, "sha384")),
        key_binding("sd_hash_mismatch"),
    ),
    case(
        "S18-R18-sd-hash-over-the-issued-sd-jwt",
        with_kb(sd_hash=sd_hash_of(CREDENTIAL)),
        key_binding("sd_hash_mismatch"),
    ),
    case("S18-R18-sd-hash-missing", with_kb(sd_hash=DROP), key_binding("sd_hash_mismatch")),
    case("J13-R16-kb-iat-too-old", with_kb(iat=T - 3600), key_binding("kb_stale")),
    case("J13-R16-kb-iat-in-future", with_kb(iat=T + 3600), key_binding("kb_iat_in_future")),
    case("J13-R16-kb-iat-missing", with_kb(iat=DROP), key_binding("kb_iat_missing")),
    case("J13-R16-kb-iat-not-numeric", with_kb(iat=str(T)), key_binding("kb_iat_missing")),
]


@pytest.mark.parametrize(CASE, KEY_BINDING_CASES)
def test_key_binding(mutation: Mutation, error: ErrorClass, code: str, reason: str) -> None:
    """RFC 9901 §4.3, §4.3.1, §7.3 steps 1-5; OID4VP §B.3.6: the KB-JWT binds this holder to this request."""
    assert_refused(lambda: verify(mutation()), error, code, reason)


BARE_CASES = [
    case("S19-R12-garbage-after-last-tilde", lambda: SD_JWT + "garbage", malformed("unexpected_key_binding")),
    case("S19-R12-kb-jwt-where-none-expected", lambda: PRESENTATION, malformed("unexpected_key_binding")),
    case("S19-R12-no-tilde-at-all", lambda: ISSUER_JWS, malformed("bad_sd_jwt")),
]


@pytest.mark.parametrize(CASE, BARE_CASES)
def test_bare_sd_jwt(mutation: Mutation, error: ErrorClass, code: str, reason: str) -> None:
    """RFC 9901 §4: a verifier expecting a bare SD-JWT checks that the last component is empty."""
    assert_refused(
        lambda: verify_credential(mutation(), TRUST, now=NOW, key_binding=None), error, code, reason
    )


@pytest.mark.parametrize(
    "holder_step",
    [
        pytest.param(read_unverified, id="S20-R19-read-unverified"),
        pytest.param(lambda text: create_presentation(text, PATHS), id="S20-R19-create-presentation"),
    ],
)
def test_holder_refuses_an_issued_sd_jwt_with_key_binding(holder_step: Callable[[str], object]) -> None:
    """RFC 9901 §7.2: an issuer never sends an SD-JWT+KB, so the holder refuses to store or present one."""
    assert holder_step(CREDENTIAL)
    assert_refused(lambda: holder_step(PRESENTATION), *malformed("unexpected_key_binding"))


# ---- issuance refusals: RFC 9901 §4.1-4.2, SD-JWT VC §2.2.2 ---------------------------------------

RESERVED = ("iss", "vct", "cnf", "status", "exp", "iat", "nbf", "vct#integrity", "aka_vcts")


@pytest.mark.parametrize("marked", [False, True], ids=["plaintext", "sd-marked"])
@pytest.mark.parametrize("name", RESERVED)
def test_issue_credential_refuses_reserved_subject_claims(name: str, marked: bool) -> None:
    """SD-JWT VC -18 §2.2.2 (S11 at the issuer): validity and binding claims come only from the arguments."""
    subject = {**SUBJECT, (SD(name) if marked else name): "x"}
    assert_refused(
        lambda: issue_credential(
            subject,
            ISSUER_KEY,
            issuer=ISSUER,
            vct=VCT,
            holder_jwk=HOLDER_KEY.public.jwk,
            issued_at=T,
            expires_at=T + DAY,
        ),
        InvalidClaimError,
        "invalid_claim",
        "reserved_claim",
    )


ISSUE_CASES = [
    pytest.param({"_sd": ["x"]}, "bad_claim_name", id="S4-R20-plaintext-_sd"),
    pytest.param({"...": "x"}, "bad_claim_name", id="S4-R20-plaintext-ellipsis"),
    pytest.param({SD("_sd"): "x"}, "bad_claim_name", id="S4-R6-sd-named-_sd"),
    pytest.param({SD("..."): "x"}, "bad_claim_name", id="S4-R6-sd-named-ellipsis"),
    pytest.param({"address": {SD("..."): "x"}}, "bad_claim_name", id="S4-R6-nested-sd-named-ellipsis"),
    pytest.param(
        {"given_name": "An", SD("given_name"): "Bình"}, "bad_claim_name", id="S5-R7-plaintext-then-sd"
    ),
    pytest.param(
        {SD("given_name"): "An", "given_name": "Bình"}, "bad_claim_name", id="S5-R7-sd-then-plaintext"
    ),
    pytest.param({SD("given_name"): "An", SD("given_name"): "Bình"}, "bad_claim_name", id="S5-R7-sd-twice"),
    pytest.param(
        {"address": {"locality": "Huế", SD("locality"): "Hà Nội"}},
        "bad_claim_name",
        id="S5-R7-nested-collision",
    ),
    pytest.param({"given_name": SD("An")}, "misplaced_sd", id="S10-sd-marks-a-value"),
    pytest.param({7: "seven"}, "bad_claim_name", id="S7-name-not-a-string"),
]


@pytest.mark.parametrize(("claims", "reason"), ISSUE_CASES)
def test_issue_sd_jwt_refuses(claims: dict[Any, Any], reason: str) -> None:
    """RFC 9901 §4.1 rule 7 and §4.2.1: ``_sd``/``...`` only carry digests, no name is both SD and plain."""
    assert_refused(
        lambda: issue_sd_jwt(claims, ISSUER_KEY, typ=TYP), InvalidClaimError, "invalid_claim", reason
    )


# ---- §8.3 status, as the credential verifier consumes it ------------------------------------------


def status_presentation(idx: int = 5, expires_at: int = T + DAY) -> str:
    claims = vc_claims(exp=expires_at, status={"status_list": {"idx": idx, "uri": STATUS_URI}})
    return issued_with(claims)()


def list_with(idx: int, value: int) -> StatusList:
    statuses = [0] * 64
    statuses[idx] = value
    return StatusList.from_statuses(statuses, bits=2)


def checking(status_list: StatusList, calls: list[Any] | None = None) -> Callable[[Any], None]:
    def check(status: Any) -> None:
        if calls is not None:
            calls.append(status)
        check_status(parse_status_claim(status), status_list)

    return check


STATUS_CASES = [
    pytest.param(5, list_with(5, INVALID), RevokedError, "revoked", "revoked", id="T1-entry-invalid"),
    pytest.param(
        5, list_with(5, SUSPENDED), SuspendedError, "suspended", "suspended", id="T2-entry-suspended"
    ),
    pytest.param(
        5, list_with(5, 3), UnknownStatusError, "unknown_status", "application_specific", id="T3-entry-0x03"
    ),
    pytest.param(
        64,
        list_with(5, 0),
        InvalidStatusListError,
        "invalid_status_list",
        "index_out_of_range",
        id="T9-idx-beyond-the-list",
    ),
    pytest.param(
        -1, list_with(5, 0), InvalidStatusListError, "invalid_status_list", "bad_idx", id="T9-idx-negative"
    ),
]


@pytest.mark.parametrize(("idx", "status_list", "error", "code", "reason"), STATUS_CASES)
def test_status(
    idx: int, status_list: StatusList, error: type[CredentialError], code: str, reason: str
) -> None:
    """Token Status List §7.1, §8.3; SD-JWT VC -18 §2.4: the status decides, after every other check."""
    assert verify_credential(
        status_presentation(),
        ISSUER_KEY.public,
        now=NOW,
        key_binding=POLICY,
        status_check=checking(list_with(5, 0)),
    )
    assert_refused(
        lambda: verify_credential(
            status_presentation(idx),
            ISSUER_KEY.public,
            now=NOW,
            key_binding=POLICY,
            status_check=checking(status_list),
        ),
        error,
        code,
        reason,
    )


@pytest.mark.parametrize("value", [INVALID, SUSPENDED], ids=["T13-revoked", "T13-suspended"])
def test_expired_credential_is_refused_without_a_status_lookup(value: int) -> None:
    """Token Status List §8.3: an expired credential fails before its status list is consulted."""
    calls: list[Any] = []
    expired = status_presentation(expires_at=T - 3600)
    check = checking(list_with(5, value), calls)
    assert_refused(
        lambda: verify_credential(
            expired, ISSUER_KEY.public, now=NOW, key_binding=POLICY, status_check=check
        ),
        *EXPIRED,
    )
    assert calls == []


STATUS_LIST_HEADER, STATUS_LIST_CLAIMS = (
    json_loads(b64url_decode(part)) for part in STATUS_LIST_TOKEN.split(".")[:2]
)
LST = STATUS_LIST_CLAIMS["status_list"]["lst"]


def status_token(
    header: Mapping[str, Any] | None = None, signer: Signer | None = None, **claims: Any
) -> Mutation:
    """The Status List Token with its header or claims changed, re-signed with the issuer key."""
    return lambda: compact(
        changed(STATUS_LIST_HEADER, header or {}), changed(STATUS_LIST_CLAIMS, claims), signer or es256()
    )


def zipped(raw: bytes) -> dict[str, Any]:
    return {"bits": 1, "lst": b64url_encode(zlib.compress(raw, 9))}


def status_list(reason: str) -> Expected:
    return (InvalidStatusListError, "invalid_status_list", reason)


STATUS_TOKEN_CASES = [
    case("T4-typ-JWT", status_token({"typ": "JWT"}), WRONG_TYP),
    case("T4-typ-missing", status_token({"typ": DROP}), WRONG_TYP),
    case("T4-credential-as-status-list-token", lambda: ISSUER_JWS, WRONG_TYP),
    case(
        "T5-sub-of-another-list",
        status_token(sub="https://cancuoc.gov.vn/status/2"),
        status_list("sub_mismatch"),
    ),
    case("T6-signed-by-another-key", status_token(signer=es256(ATTACKER_KEY)), BAD_SIGNATURE),
    case("T6-alg-none", status_token({"alg": "none"}, signer=no_signature), ALG_NOT_ALLOWED),
    case("T7-exp-passed", status_token(exp=T - 3600), status_list("expired")),
    case("T8-iat-missing", status_token(iat=DROP), status_list("missing_iat")),
    case("T8-status-list-missing", status_token(status_list=DROP), status_list("missing_status_list")),
    case("T8-bits-not-1-2-4-8", status_token(status_list={"bits": 3, "lst": LST}), status_list("bad_bits")),
    case(
        "T8-lst-not-base64url",
        status_token(status_list={"bits": 1, "lst": LST + "="}),
        status_list("bad_lst"),
    ),
    case("T8-lst-not-zlib", status_token(status_list={"bits": 1, "lst": LST[4:]}), status_list("bad_zlib")),
    case(
        "T8-lst-zip-bomb",
        status_token(status_list=zipped(bytes(MAX_LIST_BYTES + 1))),
        status_list("too_large"),
    ),
    case("T12-ttl-zero", status_token(ttl=0), status_list("bad_ttl")),
]


@pytest.mark.parametrize(CASE, STATUS_TOKEN_CASES)
def test_status_list_token(mutation: Mutation, error: ErrorClass, code: str, reason: str) -> None:
    """Token Status List §5.1, §8.3 steps 3-5, §11.1: the token a status check relies on."""
    assert_refused(
        lambda: verify_status_list_token(mutation(), ISSUER_KEY.public, expected_uri=STATUS_URI, now=NOW),
        error,
        code,
        reason,
    )


def test_status_list_token_base_verifies_and_ttl_is_capped() -> None:
    """Token Status List §13.7 (T12): an absurd ``ttl`` is capped, not trusted."""

    def ttl_of(token: str) -> float | None:
        return verify_status_list_token(token, ISSUER_KEY.public, expected_uri=STATUS_URI, now=NOW).ttl

    assert ttl_of(STATUS_LIST_TOKEN) == ttl_of(status_token()()) == 3600
    assert ttl_of(status_token(ttl=10**12)()) == MAX_TTL


# ---- every error leaf the core raises keeps its code ---------------------------------------------

CODES: dict[type[CredentialError], str] = {
    MalformedError: "malformed",
    TooLargeError: "too_large",
    UnsupportedAlgorithmError: "unsupported_algorithm",
    InvalidTypeError: "invalid_typ",
    InvalidSignatureError: "invalid_signature",
    UnknownKeyError: "unknown_key",
    UntrustedIssuerError: "untrusted_issuer",
    ExpiredError: "expired",
    NotYetValidError: "not_yet_valid",
    InvalidClaimError: "invalid_claim",
    InvalidDisclosureError: "invalid_disclosure",
    InvalidKeyBindingError: "invalid_key_binding",
    InvalidStatusListError: "invalid_status_list",
    RevokedError: "revoked",
    SuspendedError: "suspended",
    UnknownStatusError: "unknown_status",
    UntrustedCertificateError: "untrusted_certificate",
}
SHARED = Path(__file__).resolve().parent.parent / "shared"
CORE = [
    SHARED / "encoding.py",
    *sorted((SHARED / "jose").glob("*.py")),
    SHARED / "sdjwt_vc.py",
    SHARED / "statuslist.py",
    *sorted((SHARED / "sdjwt").glob("*.py")),
]


def raised_error_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Raise)
            and isinstance(node.exc, ast.Call)
            and isinstance(node.exc.func, ast.Name)
        ):
            names.add(node.exc.func.id)
    return {name for name in names if isinstance(getattr(errors, name, None), type)}


def test_the_code_table_lists_every_error_the_core_raises() -> None:
    """Adding a raise of a new leaf to the core needs a row in `CODES` (and so a stable code)."""
    raised = set().union(*(raised_error_names(path) for path in CORE))
    assert raised == {cls.__name__ for cls in CODES}


@pytest.mark.parametrize(("error", "code"), CODES.items(), ids=[cls.__name__ for cls in CODES])
def test_error_code_is_stable(error: type[CredentialError], code: str) -> None:
    """The ``code`` is wire and CLI contract; the ``reason`` defaults to it."""
    raised = error("message")
    assert isinstance(raised, CredentialError)
    assert error.code == code
    assert (raised.code, raised.reason, str(raised)) == (code, code, "message")
    assert error("message", reason="specific_rule").reason == "specific_rule"
