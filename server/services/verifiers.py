"""Verifier registration: the registrar certifies a clinic's key for a purpose and a claim allow-list.

The clinic gets a leaf certificate (role ``verifier``, CN = its name) whose ``x509_hash`` is its client
id (OpenID4VP §5.9.3), and a registration record signed by the registrar that wallets read to refuse a
request asking for more than was allowed (over-asking).
"""

from __future__ import annotations

import unicodedata
from typing import Any

import msgspec

from server.context import ServerContext
from server.errors import HttpError
from server.pki import REGISTRAR
from server.store.verifiers import VerifierRow, insert_verifier
from shared.credentials import ALLOWED_ISSUER_ROLE
from shared.errors import CredentialError
from shared.jose import ES256, PublicKey, public_key_from_jwk
from shared.jose.x5c import x509_hash
from shared.jose.x509 import create_leaf_certificate, der_to_pem
from shared.oid4vp.registration import sign_registration

X509_HASH_PREFIX = "x509_hash:"
VERIFIER_ROLE = "verifier"
REGISTRAR_PATH = "/registrar"
REGISTRATION_DAYS = 365
"""How long a clinic's certificate and registration record are valid."""
MAX_NAME_LENGTH = 100
MAX_PURPOSE_LENGTH = 500
MAX_ALLOWED = 8
MAX_CLAIMS = 64
MAX_PATH_LENGTH = 8
MAX_PATH_ELEMENT_LENGTH = 64

ClaimPath = list[str | int | None]


class AllowedCredential(msgspec.Struct, forbid_unknown_fields=True):
    """One credential type the clinic may ask for, with the claim paths it may ask."""

    vct: str
    claims: list[ClaimPath]


class RegistrationRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``POST /verifiers``."""

    name: str
    purpose: str
    public_jwk: dict[str, Any]
    allowed: list[AllowedCredential]


_decode_request = msgspec.json.Decoder(RegistrationRequest).decode


async def register_verifier(context: ServerContext, body: bytes) -> dict[str, Any]:
    """Check the request, certify the key, sign the record and store both; the answer the clinic imports."""
    request = read_registration(body)
    key = _verifier_key(request.public_jwk)
    now, pki = context.clock(), context.pki
    name, purpose = (
        _text(request.name, "name", MAX_NAME_LENGTH),
        _text(request.purpose, "purpose", MAX_PURPOSE_LENGTH),
    )
    allowed = _allowed(request.allowed)
    leaf = create_leaf_certificate(
        pki.root_key, pki.root, key, name=name, role=VERIFIER_ROLE, now=now, days=REGISTRATION_DAYS
    )
    client_id = X509_HASH_PREFIX + x509_hash(leaf)
    registrar = pki.signers[REGISTRAR]
    registration = sign_registration(
        registrar.key,
        registrar.chain,
        issuer=context.config.public_url + REGISTRAR_PATH,
        client_id=client_id,
        name=name,
        purpose=purpose,
        allowed=allowed,
        now=now,
        days=REGISTRATION_DAYS,
    )
    row = VerifierRow(client_id, name, purpose, allowed, leaf, registration, now)
    async with context.database.transaction() as connection:
        await insert_verifier(connection, row)
    pem = der_to_pem(leaf).decode("ascii")
    return {"client_id": client_id, "certificate": pem, "chain": [pem], "registration": registration}


def read_registration(body: bytes) -> RegistrationRequest:
    """Decode the JSON body; any shape error is a 400 ``invalid_request`` naming the field."""
    try:
        return _decode_request(body)
    except msgspec.DecodeError as exc:
        raise HttpError(f"malformed registration request: {exc}") from exc


def _verifier_key(jwk: dict[str, Any]) -> PublicKey:
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise HttpError("public_jwk must be a P-256 EC public key (HAIP 1.0)")
    try:
        key = public_key_from_jwk(jwk)
    except CredentialError as exc:
        raise HttpError(f"public_jwk is not a usable public key: {exc}") from exc
    if key.alg != ES256:
        raise HttpError("public_jwk must be a P-256 EC public key (HAIP 1.0)")
    return key


def _text(value: str, field: str, limit: int) -> str:
    text = value.strip()
    if not 1 <= len(text) <= limit:
        raise HttpError(f"{field} must be 1 to {limit} characters")
    if any(unicodedata.category(c) in {"Cc", "Cf"} for c in text):
        raise HttpError(f"{field} must not contain control characters")
    return unicodedata.normalize("NFC", text)


def _allowed(entries: list[AllowedCredential]) -> list[dict[str, Any]]:
    if not 1 <= len(entries) <= MAX_ALLOWED:
        raise HttpError(f"allowed must list 1 to {MAX_ALLOWED} credential types")
    seen: set[str] = set()
    allowed = []
    for entry in entries:
        if entry.vct not in ALLOWED_ISSUER_ROLE:
            raise HttpError(f"allowed names an unknown credential type {entry.vct!r}")
        if entry.vct in seen:
            raise HttpError(f"allowed names {entry.vct!r} twice")
        seen.add(entry.vct)
        if not 1 <= len(entry.claims) <= MAX_CLAIMS:
            raise HttpError(f"allowed claims of {entry.vct!r} must be 1 to {MAX_CLAIMS} paths")
        for path in entry.claims:
            _check_path(path)
        allowed.append({"vct": entry.vct, "claims": [list(path) for path in entry.claims]})
    return allowed


def _check_path(path: ClaimPath) -> None:
    """A DCQL claims path (OpenID4VP §7): a non-empty list of names, indices (≥ 0) or null."""
    if not 1 <= len(path) <= MAX_PATH_LENGTH:
        raise HttpError(f"a claim path must have 1 to {MAX_PATH_LENGTH} elements")
    for element in path:
        if isinstance(element, bool) or (isinstance(element, int) and element < 0):
            raise HttpError("claim path indices must be non-negative integers")
        if isinstance(element, str) and not 1 <= len(element) <= MAX_PATH_ELEMENT_LENGTH:
            raise HttpError(f"claim names must be 1 to {MAX_PATH_ELEMENT_LENGTH} characters")
