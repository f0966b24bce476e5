"""The health insurance card issued by VSS (DESIGN.md §3, vct ``urn:cancuoc:health-insurance:1``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from msgspec.structs import force_setattr

from shared.credentials.identifiers import (
    BENEFICIARY_GROUPS,
    PROVINCES,
    Claims,
    Record,
    check_citizen_id,
    check_health_province_code,
    check_not_after,
    check_social_insurance_number,
    convert_record,
    disclosable,
    normalize_name,
    normalize_text,
    refuse,
    split_health_card_number,
    synthetic_social_insurance_number,
)
from shared.credentials.identity import IdentityRecord

VCT = "urn:cancuoc:health-insurance:1"


class Facility(Record, frozen=True):
    """The registered primary-care facility: its 5-digit VSS code and its name."""

    code: str
    name: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9]{5}", self.code):
            refuse("code", "must be 5 digits", "bad_format")
        force_setattr(self, "name", normalize_text(self.name, "name"))


class HealthInsuranceCard(Record, frozen=True):
    """A health insurance card (thẻ BHYT); its 15-character number must agree with the fields it encodes."""

    card_number: str
    social_insurance_number: str
    citizen_id: str
    full_name: str
    birth_date: date
    beneficiary_group: str
    benefit_level: int
    province_code: str
    registered_facility: Facility
    valid_from: date
    valid_until: date

    def __post_init__(self) -> None:
        force_setattr(self, "full_name", normalize_name(self.full_name))
        check_social_insurance_number(self.social_insurance_number)
        check_citizen_id(self.citizen_id, birth_date=self.birth_date)
        if self.beneficiary_group not in BENEFICIARY_GROUPS:
            refuse("beneficiary_group", f"unknown group {self.beneficiary_group!r}", "unknown_group")
        if not 1 <= self.benefit_level <= 5:
            refuse("benefit_level", "must be 1-5", "out_of_range")
        check_health_province_code(self.province_code)
        self._check_card_number()
        if self.valid_until < self.valid_from:
            refuse("valid_until", "must not be before valid_from", "bad_period")

    def _check_card_number(self) -> None:
        parts = split_health_card_number(self.card_number)
        for name, encoded in parts._asdict().items():
            if encoded != (expected := getattr(self, name)):
                rule = f"{name.replace('_', ' ')} {encoded} does not match {name} {expected}"
                refuse("card_number", rule, "card_number_mismatch")

    def to_claims(self, *, today: date | None = None) -> Claims:
        """Credential subject claims, each disclosable, the facility's code and name on their own too."""
        return disclosable(
            {
                "card_number": self.card_number,
                "social_insurance_number": self.social_insurance_number,
                "citizen_id": self.citizen_id,
                "full_name": self.full_name,
                "birth_date": self.birth_date.isoformat(),
                "beneficiary_group": self.beneficiary_group,
                "benefit_level": self.benefit_level,
                "province_code": self.province_code,
                "registered_facility": disclosable(
                    {"code": self.registered_facility.code, "name": self.registered_facility.name}
                ),
                "valid_from": self.valid_from.isoformat(),
                "valid_until": self.valid_until.isoformat(),
            }
        )


def parse_health_card(data: Mapping[str, Any] | bytes, *, today: date | None = None) -> HealthInsuranceCard:
    """Decode and validate a health insurance card (JSON bytes or a mapping) where it enters the system.

    With ``today`` the birth date must not lie in the future. Raises ``InvalidDataError``.
    """
    card = convert_record(data, HealthInsuranceCard)
    check_not_after(card.birth_date, today, "birth_date", "today")
    return card


def example_health_card(citizen: IdentityRecord) -> HealthInsuranceCard:
    """A deterministic, valid synthetic card for ``citizen`` (an employee, level 4, in the ID's province)."""
    sin = synthetic_social_insurance_number(citizen.citizen_id)
    province = citizen.citizen_id[1:3]
    return HealthInsuranceCard(
        card_number=f"DN4{province}{sin}",
        social_insurance_number=sin,
        citizen_id=citizen.citizen_id,
        full_name=citizen.full_name,
        birth_date=citizen.birth_date,
        beneficiary_group="DN",
        benefit_level=4,
        province_code=province,
        registered_facility=Facility(
            code=f"{province}001", name=f"Bệnh viện Đa khoa {PROVINCES['0' + province]}"
        ),
        valid_from=date(2025, 1, 1),
        valid_until=date(2025, 12, 31),
    )
