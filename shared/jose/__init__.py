"""JOSE adapter (RFC 7515/7517/7518/7638, RFC 8725): the only package that touches pyjwt and cryptography.

Every library exception leaves it as a `CredentialError`. `keys` parses keys once; `jws` signs and verifies;
`x509` (imported on its own: `cryptography.x509` costs ~25 ms) makes certificates and checks `x5c` chains.
"""

from shared.jose.jws import (
    DEFAULT_ALGORITHMS,
    MAX_JWS_SIZE,
    Jws,
    KeyResolver,
    check_typ,
    decode_jws_unverified,
    sign_jws,
    sign_jwt,
    verify_jws,
    verify_signature,
)
from shared.jose.keys import (
    EDDSA,
    ES256,
    PrivateKey,
    PublicKey,
    generate_private_key,
    is_private_jwk,
    jwk_thumbprint,
    private_jwk,
    private_key_from_jwk,
    private_key_from_pem,
    private_key_to_pem,
    public_key_from_jwk,
)

__all__ = [
    "DEFAULT_ALGORITHMS",
    "EDDSA",
    "ES256",
    "MAX_JWS_SIZE",
    "Jws",
    "KeyResolver",
    "PrivateKey",
    "PublicKey",
    "check_typ",
    "decode_jws_unverified",
    "generate_private_key",
    "is_private_jwk",
    "jwk_thumbprint",
    "private_jwk",
    "private_key_from_jwk",
    "private_key_from_pem",
    "private_key_to_pem",
    "public_key_from_jwk",
    "sign_jws",
    "sign_jwt",
    "verify_jws",
    "verify_signature",
]
