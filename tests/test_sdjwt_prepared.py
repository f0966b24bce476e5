"""Claims prepared once and issued as many copies (a batch): each copy is whole, and no two are linkable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import jose
from shared.credentials import VCT_BY_TYPE, example_identity
from shared.errors import InvalidClaimError
from shared.sdjwt.disclosure import split_compact
from shared.sdjwt.issue import issue_sd_jwt, prepare_claims
from shared.sdjwt.markers import SD
from shared.sdjwt_vc import prepare_credential, verify_credential

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
MPS = "https://cancuoc.test/mps"
CLAIMS: dict[Any, Any] = {
    "iss": MPS,
    SD("given_name"): "An",
    SD("address"): {SD("ward"): "Phường Hoàn Kiếm", "country": "VN"},
    "nationalities": [SD("VN"), "FR"],
}


def salts() -> Any:
    counter = iter(range(1000))
    return lambda: f"salt-{next(counter)}"


def test_a_prepared_copy_is_what_issuing_the_claims_at_once_gives() -> None:
    key = jose.generate_private_key()
    once = issue_sd_jwt(CLAIMS, key, typ="example+sd-jwt", salt=salts())
    prepared = prepare_claims(CLAIMS).issue(key, typ="example+sd-jwt", salt=salts())
    # Signatures are randomised (ECDSA): the signed payload and every disclosure are the same.
    assert once.split(".")[1] == prepared.split(".")[1]
    assert split_compact(once).disclosures == split_compact(prepared).disclosures


def test_copies_of_one_credential_share_no_disclosure_and_each_verifies() -> None:
    issuer_key = jose.generate_private_key(kid="mps-1")
    record = example_identity()
    template = prepare_credential(
        record.to_claims(today=NOW.date()),
        issuer=MPS,
        vct=VCT_BY_TYPE["identity"],
        issued_at=int(NOW.timestamp()),
        expires_at=int((NOW + timedelta(days=365)).timestamp()),
        decoys=2,
    )
    holders = [jose.generate_private_key() for _ in range(3)]
    copies = [
        template.issue(
            issuer_key,
            holder_jwk=holder.public.jwk,
            status={"status_list": {"idx": idx, "uri": f"{MPS}/status/1"}},
        )
        for idx, holder in enumerate(holders)
    ]
    seen: set[str] = set()
    for idx, (copy, holder) in enumerate(zip(copies, holders, strict=True)):
        parts = split_compact(copy)
        digests = jose.decode_jws_unverified(parts.jws).payload["_sd"]
        assert seen.isdisjoint(parts.disclosures)
        assert seen.isdisjoint(digests)
        seen.update(parts.disclosures, digests)
        verified = verify_credential(copy, issuer_key.public, now=NOW, key_binding=None)
        assert verified.claims["full_name"] == record.full_name
        assert verified.claims["cnf"] == {"jwk": holder.public.jwk}
        assert verified.claims["status"]["status_list"]["idx"] == idx


@pytest.mark.parametrize(
    ("plain", "reason"),
    [
        ({"iss": "again"}, "bad_claim_name"),
        ({"given_name": "twice"}, "bad_claim_name"),
        ({"_sd": []}, "bad_claim_name"),
        ({"cnf": {"jwk": {"_sd": "x"}}}, "bad_claim_name"),
        ({"cnf": [SD("x")]}, "misplaced_sd"),
    ],
)
def test_per_copy_plaintext_claims_are_checked(plain: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidClaimError) as refused:
        prepare_claims(CLAIMS).issue(jose.generate_private_key(), typ="example+sd-jwt", plain=plain)
    assert refused.value.reason == reason
