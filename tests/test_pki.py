"""The national PKI (shared/jose/x509.py): certificates, x5c chain validation and the x5c key resolvers."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import statuslist
from shared.credentials import VCT_BY_TYPE, example_health_card, example_identity
from shared.encoding import b64url_encode
from shared.errors import CredentialError, UntrustedCertificateError, UntrustedIssuerError
from shared.jose import PrivateKey, generate_private_key
from shared.jose.x5c import (
    ROLE_URI_PREFIX,
    pem_armored_der,
    x5c_issuer_resolver,
    x5c_of,
    x5c_status_resolver,
    x509_hash,
)
from shared.jose.x509 import (
    authority_key_identifier,
    certificate_public_key,
    create_leaf_certificate,
    create_root_certificate,
    der_to_pem,
    pem_to_der,
    verify_chain,
)
from shared.sdjwt_vc import issue_credential, verify_credential

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
MPS = "https://cancuoc.test/mps"
VSS = "https://cancuoc.test/vss"
LIST_URI = "https://cancuoc.test/status/vss/1"


class Pki:
    """A root and helpers to issue leaves from it."""

    def __init__(self, name: str = "Cancuoc Root CA") -> None:
        self.key = generate_private_key()
        self.root = create_root_certificate(self.key, name=name, now=NOW)

    def leaf(
        self, role: str, *, uris: tuple[str, ...] = (), now: datetime = NOW, days: int = 365
    ) -> tuple[PrivateKey, bytes]:
        key = generate_private_key()
        cert = create_leaf_certificate(
            self.key, self.root, key.public, name=f"{role} signer", role=role, now=now, days=days, uris=uris
        )
        return key, cert


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


def untrusted(reason: str, call: Callable[[], Any]) -> None:
    with pytest.raises(UntrustedCertificateError) as caught:
        call()
    assert caught.value.code == "untrusted_certificate"
    assert caught.value.reason == reason


def test_a_leaf_round_trips_to_its_root(pki: Pki) -> None:
    key, leaf = pki.leaf("mps", uris=(MPS,))
    chain = verify_chain(x5c_of([leaf]), [pki.root], now=NOW + timedelta(days=30))
    assert chain.leaf == leaf
    assert chain.roles == {"mps"}
    assert chain.uris == (MPS,)
    assert chain.name == "mps signer"
    assert chain.key.jwk == key.public.jwk
    assert chain.not_after == NOW + timedelta(days=365)
    assert certificate_public_key(leaf).jwk == key.public.jwk


def test_pem_and_der_convert_both_ways(pki: Pki) -> None:
    pem = der_to_pem(pki.root)
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert pem_to_der(pem) == pki.root
    untrusted("x5c_malformed", lambda: pem_to_der(b"not a certificate"))


def test_the_der_inside_pem_armor_is_the_certificate(pki: Pki) -> None:
    pem = der_to_pem(pki.root)
    assert pem_armored_der(pem) == pki.root
    assert pem_armored_der(b"\n" + pem.replace(b"\n", b"\r\n") + b"\n") == pki.root
    for bad in (b"not a certificate", pem.replace(b"CERTIFICATE", b"PRIVATE KEY"), pem + pem, b"-----BEGIN"):
        untrusted("x5c_malformed", lambda bad=bad: pem_armored_der(bad))
    body = pem.split(b"\n")[1]
    untrusted("x5c_malformed", lambda: pem_armored_der(pem.replace(body, body[:-1] + b"!")))
    untrusted("x5c_malformed", lambda: pem_armored_der(pem.replace(body, body[:9] + b"=" + body[10:])))


def test_x509_hash_is_base64url_sha256_of_the_der(pki: Pki) -> None:
    expected = base64.urlsafe_b64encode(hashlib.sha256(pki.root).digest()).decode().rstrip("=")
    assert x509_hash(pki.root) == expected
    assert "=" not in expected


def test_x5c_is_standard_base64(pki: Pki) -> None:
    assert x5c_of([pki.root]) == [base64.b64encode(pki.root).decode()]


def test_authority_key_identifier_matches_between_root_and_leaf(pki: Pki) -> None:
    _, leaf = pki.leaf("vss", uris=(VSS,))
    assert authority_key_identifier(leaf) == authority_key_identifier(pki.root)
    assert authority_key_identifier(Pki().root) != authority_key_identifier(pki.root)


def test_a_chain_to_another_root_is_untrusted(pki: Pki) -> None:
    _, leaf = Pki("Another Root").leaf("mps", uris=(MPS,))
    untrusted("chain_untrusted", lambda: verify_chain(x5c_of([leaf]), [pki.root], now=NOW))


def test_no_anchor_trusts_nothing(pki: Pki) -> None:
    _, leaf = pki.leaf("mps", uris=(MPS,))
    untrusted("chain_untrusted", lambda: verify_chain(x5c_of([leaf]), [], now=NOW))


def test_an_expired_leaf_is_refused(pki: Pki) -> None:
    _, leaf = pki.leaf("mps", uris=(MPS,), days=10)
    untrusted(
        "certificate_expired", lambda: verify_chain(x5c_of([leaf]), [pki.root], now=NOW + timedelta(days=11))
    )


def test_a_leaf_not_yet_valid_is_refused(pki: Pki) -> None:
    _, leaf = pki.leaf("mps", uris=(MPS,), now=NOW + timedelta(days=2))
    untrusted("certificate_not_yet_valid", lambda: verify_chain(x5c_of([leaf]), [pki.root], now=NOW))


def test_a_self_signed_leaf_is_refused(pki: Pki) -> None:
    other = Pki("Self")
    untrusted("leaf_self_signed", lambda: verify_chain(x5c_of([other.root]), [pki.root], now=NOW))
    # Even the anchor itself is no leaf.
    untrusted("leaf_self_signed", lambda: verify_chain(x5c_of([pki.root]), [pki.root], now=NOW))


@pytest.mark.parametrize(
    "x5c",
    [None, "MIIB", {}, [], [1], ["%%%not-base64%%%"], ["bm90IGEgY2VydGlmaWNhdGU="], ["AAAA"] * 9],
    ids=["none", "string", "object", "empty", "number", "bad-base64", "garbage-der", "too-long"],
)
def test_a_malformed_x5c_is_refused(pki: Pki, x5c: object) -> None:
    untrusted("x5c_malformed", lambda: verify_chain(x5c, [pki.root], now=NOW))


def test_base64url_is_not_the_x5c_alphabet(pki: Pki) -> None:
    _, leaf = pki.leaf("mps", uris=(MPS,))
    untrusted("x5c_malformed", lambda: verify_chain([b64url_encode(leaf)], [pki.root], now=NOW))


def test_a_leaf_without_a_role_is_refused(pki: Pki) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    # Built by hand: create_leaf_certificate always names a role.
    key = generate_private_key()
    ca = x509.load_der_x509_certificate(pki.root)
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "nobody")]))
        .issuer_name(ca.subject)
        .public_key(key.public.key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(MPS)]), critical=False)
        .sign(pki.key.key, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )
    untrusted("missing_role", lambda: verify_chain(x5c_of([cert]), [pki.root], now=NOW))


def test_a_trailing_anchor_in_x5c_is_tolerated(pki: Pki) -> None:
    _, leaf = pki.leaf("verifier")
    chain = verify_chain(x5c_of([leaf, pki.root]), [pki.root], now=NOW)
    assert chain.roles == {"verifier"}
    assert chain.uris == ()


def test_unknown_roles_are_not_created() -> None:
    pki = Pki()
    with pytest.raises(ValueError, match="role"):
        pki.leaf("wizard")
    assert ROLE_URI_PREFIX == "urn:cancuoc:role:"


# --- the resolvers --------------------------------------------------------------------------------


def credential(key: PrivateKey, *, issuer: str, kind: str, x5c: list[str] | None) -> str:
    identity = example_identity()
    record = identity if kind == "identity" else example_health_card(identity)
    return issue_credential(
        record.to_claims(today=NOW.date()),
        key,
        issuer=issuer,
        vct=VCT_BY_TYPE[kind],
        holder_jwk=generate_private_key().public.jwk,
        issued_at=int(NOW.timestamp()),
        expires_at=int((NOW + timedelta(days=30)).timestamp()),
        header=None if x5c is None else {"x5c": x5c},
    )


def verify(pki: Pki, text: str) -> None:
    verify_credential(text, x5c_issuer_resolver([pki.root], now=NOW), now=NOW, key_binding=None)


def test_the_issuer_resolver_accepts_each_issuer_for_its_own_types(pki: Pki) -> None:
    mps_key, mps_leaf = pki.leaf("mps", uris=(MPS,))
    vss_key, vss_leaf = pki.leaf("vss", uris=(VSS,))
    verify(pki, credential(mps_key, issuer=MPS, kind="identity", x5c=x5c_of([mps_leaf])))
    verify(pki, credential(vss_key, issuer=VSS, kind="health_insurance", x5c=x5c_of([vss_leaf])))


def test_a_vss_signed_identity_credential_is_refused(pki: Pki) -> None:
    key, leaf = pki.leaf("vss", uris=(VSS,))
    text = credential(key, issuer=VSS, kind="identity", x5c=x5c_of([leaf]))
    with pytest.raises(UntrustedIssuerError) as caught:
        verify(pki, text)
    assert (caught.value.code, caught.value.reason) == ("untrusted_issuer", "issuer_not_allowed_for_vct")


def test_iss_must_be_named_in_the_certificate(pki: Pki) -> None:
    key, leaf = pki.leaf("mps", uris=(MPS,))
    text = credential(key, issuer="https://evil.test/mps", kind="identity", x5c=x5c_of([leaf]))
    with pytest.raises(UntrustedIssuerError) as caught:
        verify(pki, text)
    assert (caught.value.code, caught.value.reason) == ("untrusted_issuer", "iss_not_in_certificate")


def test_a_credential_without_x5c_is_refused(pki: Pki) -> None:
    key, _ = pki.leaf("mps", uris=(MPS,))
    untrusted("missing_x5c", lambda: verify(pki, credential(key, issuer=MPS, kind="identity", x5c=None)))


def test_a_non_issuer_certificate_cannot_sign_credentials(pki: Pki) -> None:
    key, leaf = pki.leaf("status-list", uris=(MPS,))
    text = credential(key, issuer=MPS, kind="identity", x5c=x5c_of([leaf]))
    untrusted("missing_role", lambda: verify(pki, text))


def test_a_credential_signed_by_another_key_than_the_leaf_fails_its_signature(pki: Pki) -> None:
    _, leaf = pki.leaf("mps", uris=(MPS,))
    text = credential(generate_private_key(), issuer=MPS, kind="identity", x5c=x5c_of([leaf]))
    with pytest.raises(CredentialError) as caught:
        verify(pki, text)
    assert (caught.value.code, caught.value.reason) == ("invalid_signature", "bad_signature")


def status_token(key: PrivateKey, x5c: list[str] | None) -> str:
    status = statuslist.StatusList.new(16, 2)
    return statuslist.sign_status_list_token(
        status, key, sub=LIST_URI, iat=NOW, exp=NOW + timedelta(hours=1), ttl=300, x5c=x5c
    )


def test_the_status_resolver_accepts_only_the_status_list_signer(pki: Pki) -> None:
    key, leaf = pki.leaf("status-list")
    resolver = x5c_status_resolver([pki.root], now=NOW)
    token = statuslist.verify_status_list_token(
        status_token(key, x5c_of([leaf])), resolver, expected_uri=LIST_URI, now=NOW
    )
    assert token.sub == LIST_URI
    vss_key, vss_leaf = pki.leaf("vss", uris=(VSS,))
    untrusted(
        "missing_role",
        lambda: statuslist.verify_status_list_token(
            status_token(vss_key, x5c_of([vss_leaf])), resolver, expected_uri=LIST_URI, now=NOW
        ),
    )
    untrusted(
        "missing_x5c",
        lambda: statuslist.verify_status_list_token(
            status_token(key, None), resolver, expected_uri=LIST_URI, now=NOW
        ),
    )
