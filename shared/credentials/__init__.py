"""The three credential types of DESIGN.md §3 as validated records that yield SD-marked subject claims."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

from shared.credentials import health_insurance, identity, social_insurance
from shared.credentials.health_insurance import (
    Facility,
    HealthInsuranceCard,
    example_health_card,
    parse_health_card,
)
from shared.credentials.identifiers import (
    BENEFICIARY_GROUPS,
    PROVINCES,
    Claims,
    HealthCardNumber,
    Sex,
    check_citizen_id,
    check_health_province_code,
    check_social_insurance_number,
    make_citizen_id,
    normalize_name,
    split_health_card_number,
)
from shared.credentials.identity import Address, IdentityRecord, example_identity, parse_identity
from shared.credentials.social_insurance import (
    SCHEMES,
    ContributionPeriod,
    SchemeMonths,
    SocialInsuranceBook,
    count_scheme_months,
    example_social_book,
    parse_social_book,
)
from shared.errors import InvalidDataError

CredentialRecord: TypeAlias = IdentityRecord | HealthInsuranceCard | SocialInsuranceBook
IssuerRole = Literal["mps", "vss"]

VCT_BY_TYPE: Mapping[str, str] = MappingProxyType(
    {
        "identity": identity.VCT,
        "health_insurance": health_insurance.VCT,
        "social_insurance": social_insurance.VCT,
    }
)
"""Short credential type name → its ``vct``."""

ALLOWED_ISSUER_ROLE: Mapping[str, IssuerRole] = MappingProxyType(
    {
        identity.VCT: "mps",
        health_insurance.VCT: "vss",
        social_insurance.VCT: "vss",
    }
)
"""``vct`` → the only issuer role allowed to issue it."""

_PARSERS: Mapping[str, Callable[..., CredentialRecord]] = {
    identity.VCT: parse_identity,
    health_insurance.VCT: parse_health_card,
    social_insurance.VCT: parse_social_book,
}


def parse_record(vct: str, data: Mapping[str, Any] | bytes, *, today: date | None = None) -> CredentialRecord:
    """Decode and validate the record of the credential type ``vct``; raises ``InvalidDataError``."""
    if (parse := _PARSERS.get(vct)) is None:
        raise InvalidDataError("vct", f"unknown credential type {vct!r}", reason="unknown_vct")
    return parse(data, today=today)


__all__ = [
    "ALLOWED_ISSUER_ROLE",
    "BENEFICIARY_GROUPS",
    "PROVINCES",
    "SCHEMES",
    "VCT_BY_TYPE",
    "Address",
    "Claims",
    "ContributionPeriod",
    "CredentialRecord",
    "Facility",
    "HealthCardNumber",
    "HealthInsuranceCard",
    "IdentityRecord",
    "IssuerRole",
    "SchemeMonths",
    "Sex",
    "SocialInsuranceBook",
    "check_citizen_id",
    "check_health_province_code",
    "check_social_insurance_number",
    "count_scheme_months",
    "example_health_card",
    "example_identity",
    "example_social_book",
    "make_citizen_id",
    "normalize_name",
    "parse_health_card",
    "parse_identity",
    "parse_record",
    "parse_social_book",
    "split_health_card_number",
]
