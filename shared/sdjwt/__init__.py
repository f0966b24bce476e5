"""SD-JWT (RFC 9901): issuance, holder presentation and verification."""
