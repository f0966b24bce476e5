"""The national PKI (RFC 5280, HAIP 1.0 §5): certificates for issuers and verifiers, `x5c` chain validation.

One root CA issues every leaf directly. A leaf names its role as a URI SAN ``urn:cancuoc:role:<role>``,
and an issuer's leaf also its issuer identifier. Path validation is `cryptography`'s own
(`cryptography.x509.verification`), never ours; this module only adds the rules around it. What a validated
chain says, and the resolvers that use it, are in `shared.jose.x5c`, which loads this module only when a
chain must be validated.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

from shared.encoding import b64url_encode
from shared.errors import UntrustedCertificateError
from shared.jose.keys import PrivateKey, PublicKey, wrap_public_key
from shared.jose.x5c import ROLE_URI_PREFIX, ROLES, VerifiedChain

MAX_X5C_LENGTH = 8
"""More certificates than any chain of ours needs (root → leaf, plus a tolerated anchor)."""

_CLOCK_SKEW = timedelta(minutes=5)
"""A new certificate is back-dated this much, so that a verifier whose clock is a little behind accepts it."""


def create_root_certificate(key: PrivateKey, *, name: str, now: datetime, days: int = 3650) -> bytes:
    """A self-signed P-256 root CA certificate (DER) that may sign leaves only (pathlen 0)."""
    subject = _name(name)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.key.public_key())
    builder = (
        _builder(subject, subject, key.key.public_key(), now, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
    )
    return _sign(builder, key)


def create_leaf_certificate(
    ca_key: PrivateKey,
    ca_certificate: bytes,
    subject_key: PublicKey,
    *,
    name: str,
    role: str,
    now: datetime,
    days: int = 365,
    uris: Sequence[str] = (),
) -> bytes:
    """An end-entity certificate (DER) for ``role`` issued by the root, with its URIs as SANs."""
    if role not in ROLES:
        raise ValueError(f"unknown certificate role {role!r}")
    ca = x509.load_der_x509_certificate(ca_certificate)
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    san = [x509.UniformResourceIdentifier(ROLE_URI_PREFIX + role)]
    san += [x509.UniformResourceIdentifier(uri) for uri in uris]
    builder = (
        _builder(_name(name), ca.subject, subject_key.key, now, days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
    )
    return _sign(builder, ca_key)


def pem_to_der(pem: bytes) -> bytes:
    """The DER of a single PEM certificate."""
    try:
        return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)
    except ValueError as exc:
        raise UntrustedCertificateError(f"not a PEM certificate: {exc}", reason="x5c_malformed") from exc


def der_to_pem(der: bytes) -> bytes:
    """The PEM of a single DER certificate."""
    return _load(der).public_bytes(serialization.Encoding.PEM)


def authority_key_identifier(der: bytes) -> str:
    """base64url of the certificate's AuthorityKeyIdentifier keyIdentifier (DCQL ``trusted_authorities`` aki).

    For the root this is its own key identifier, the same value its leaves carry.
    """
    certificate = _load(der)
    try:
        aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound as exc:
        raise UntrustedCertificateError(
            "the certificate has no authority key id", reason="x5c_malformed"
        ) from exc
    if aki.key_identifier is None:
        raise UntrustedCertificateError("the authority key id has no key identifier", reason="x5c_malformed")
    return b64url_encode(aki.key_identifier)


def certificate_public_key(der: bytes) -> PublicKey:
    """The P-256 public key of a certificate (ES256), without checking anything else about it."""
    key = _load(der).public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise UntrustedCertificateError("the certificate key is not a P-256 key", reason="x5c_malformed")
    return wrap_public_key(key)


def verify_chain(x5c: object, anchors: Sequence[bytes], *, now: datetime) -> VerifiedChain:
    """Validate an ``x5c`` header value (leaf first) to one of the DER ``anchors`` at ``now``.

    Raises ``UntrustedCertificateError`` with reason ``x5c_malformed``, ``leaf_self_signed``,
    ``certificate_expired``, ``certificate_not_yet_valid``, ``chain_untrusted`` or ``missing_role``.
    """
    ders = _decode_x5c(x5c)
    # Trust anchors are not sent (HAIP 1.0 §5), but a peer that sends one is tolerated.
    while len(ders) > 1 and ders[-1] in anchors:
        ders.pop()
    certificates = [_load(der) for der in ders]
    leaf = certificates[0]
    if _self_signed(leaf):
        raise UntrustedCertificateError("the leaf certificate is self-signed", reason="leaf_self_signed")
    for certificate in certificates:
        _check_time(certificate, now)
    roots = [_load(der) for der in anchors]
    if not roots:
        raise UntrustedCertificateError("no trust anchor is configured", reason="chain_untrusted")
    verifier = (
        PolicyBuilder()
        .store(Store(roots))
        .time(now)
        .max_chain_depth(1)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all()
        )
        .build_client_verifier()
    )
    try:
        verifier.verify(leaf, certificates[1:])
    except VerificationError as exc:
        raise UntrustedCertificateError(
            f"the certificate chain does not lead to a trust anchor: {exc}", reason="chain_untrusted"
        ) from exc
    roles, uris = _uri_names(leaf)
    if not roles:
        raise UntrustedCertificateError("the leaf certificate names no role", reason="missing_role")
    return VerifiedChain(
        leaf=ders[0],
        key=certificate_public_key(ders[0]),
        roles=roles,
        uris=uris,
        name=_common_name(leaf),
        not_after=leaf.not_valid_after_utc,
    )


def _decode_x5c(x5c: object) -> list[bytes]:
    if not isinstance(x5c, list) or not x5c or len(x5c) > MAX_X5C_LENGTH:
        raise UntrustedCertificateError(
            f"x5c must be a list of 1 to {MAX_X5C_LENGTH} certificates", reason="x5c_malformed"
        )
    ders = []
    for entry in x5c:
        if not isinstance(entry, str):
            raise UntrustedCertificateError("x5c entries must be strings", reason="x5c_malformed")
        try:
            ders.append(binascii.a2b_base64(entry.encode("ascii"), strict_mode=True))
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise UntrustedCertificateError(
                "an x5c entry is not standard base64", reason="x5c_malformed"
            ) from exc
    return ders


def _load(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise UntrustedCertificateError(f"not a DER certificate: {exc}", reason="x5c_malformed") from exc


def _self_signed(certificate: x509.Certificate) -> bool:
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _check_time(certificate: x509.Certificate, now: datetime) -> None:
    if now > certificate.not_valid_after_utc:
        raise UntrustedCertificateError(
            f"the certificate expired at {certificate.not_valid_after_utc.isoformat()}",
            reason="certificate_expired",
        )
    if now < certificate.not_valid_before_utc:
        raise UntrustedCertificateError(
            f"the certificate is valid only from {certificate.not_valid_before_utc.isoformat()}",
            reason="certificate_not_yet_valid",
        )


def _uri_names(certificate: x509.Certificate) -> tuple[frozenset[str], tuple[str, ...]]:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return frozenset(), ()
    names = san.get_values_for_type(x509.UniformResourceIdentifier)
    roles = frozenset(n.removeprefix(ROLE_URI_PREFIX) for n in names if n.startswith(ROLE_URI_PREFIX))
    return roles & ROLES, tuple(n for n in names if not n.startswith(ROLE_URI_PREFIX))


def _common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, key: Any, now: datetime, days: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=days))
    )


def _sign(builder: x509.CertificateBuilder, key: PrivateKey) -> bytes:
    if not isinstance(key.key, ec.EllipticCurvePrivateKey):
        raise ValueError("certificates are signed with P-256 keys only")
    return builder.sign(key.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def unverified_certificate_roles(der: bytes) -> frozenset[str]:
    """The roles a certificate names, read without validating it: a consistency check, never trust."""
    return _uri_names(_load(der))[0]
