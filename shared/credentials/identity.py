"""The identity credential issued by MPS (DESIGN.md §3, vct ``urn:cancuoc:identity:1``)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from msgspec.structs import force_setattr

from shared.credentials.identifiers import (
    Claims,
    Record,
    Sex,
    check_citizen_id,
    check_not_after,
    convert_record,
    disclosable,
    make_citizen_id,
    normalize_name,
    normalize_text,
    refuse,
)
from shared.sdjwt.markers import SD

VCT = "urn:cancuoc:identity:1"
AGE_THRESHOLDS = (16, 18, 65)
"""Ages for which the credential carries an ``age_over_N`` boolean."""
PORTRAIT_MAX_BYTES = 64 * 1024

_PORTRAIT = re.compile(r"data:image/(?P<kind>jpeg|png);base64,(?P<data>[A-Za-z0-9+/]*={0,2})")
_MAGIC = {"jpeg": b"\xff\xd8\xff", "png": b"\x89PNG\r\n\x1a\n"}
_EXAMPLE_PORTRAIT = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


class Address(Record, frozen=True):
    """Place of residence: street address (optional), ward or commune, province or city."""

    ward: str
    province: str
    street_address: str | None = None

    def __post_init__(self) -> None:
        for name in ("street_address", "ward", "province"):
            if (value := getattr(self, name)) is not None:
                force_setattr(self, name, normalize_text(value, name))


class IdentityRecord(Record, frozen=True):
    """A citizen as recorded by MPS; validated (and names normalised to NFC) on construction."""

    citizen_id: str
    full_name: str
    birth_date: date
    sex: Sex
    place_of_origin: str
    place_of_residence: Address
    issue_date: date
    nationality: str = "VN"
    portrait: str | None = None

    def __post_init__(self) -> None:
        force_setattr(self, "full_name", normalize_name(self.full_name))
        force_setattr(self, "place_of_origin", normalize_text(self.place_of_origin, "place_of_origin"))
        check_citizen_id(self.citizen_id, birth_date=self.birth_date, sex=self.sex)
        if not re.fullmatch(r"[A-Z]{2}", self.nationality):
            refuse("nationality", "must be a 2-letter ISO 3166-1 country code", "bad_format")
        if self.portrait is not None:
            check_portrait(self.portrait)
        if self.issue_date < self.birth_date:
            refuse("issue_date", "must not be before birth_date", "before_birth")

    def age_on(self, today: date) -> int:
        """Age in whole years on ``today`` (someone born on 29 February turns a year older on 1 March)."""
        born = self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def to_claims(self, *, today: date | None = None) -> Claims:
        """Credential subject claims, each disclosable; ``age_over_N`` only when ``today`` is given."""
        claims = disclosable(
            {
                "citizen_id": self.citizen_id,
                "full_name": self.full_name,
                "birth_date": self.birth_date.isoformat(),
                "sex": self.sex,
                "nationality": self.nationality,
                "place_of_origin": self.place_of_origin,
                "place_of_residence": disclosable(
                    {
                        "street_address": self.place_of_residence.street_address,
                        "ward": self.place_of_residence.ward,
                        "province": self.place_of_residence.province,
                    }
                ),
                "portrait": self.portrait,
                "issue_date": self.issue_date.isoformat(),
            }
        )
        if today is not None:
            age = self.age_on(today)
            claims.update({SD(f"age_over_{years}"): age >= years for years in AGE_THRESHOLDS})
        return claims


def check_portrait(value: str, field: str = "portrait") -> bytes:
    """Check a JPEG or PNG ``data:`` URL of at most ``PORTRAIT_MAX_BYTES``; return the image bytes."""
    if len(value) > 64 + PORTRAIT_MAX_BYTES * 4 // 3:
        refuse(field, f"must be at most {PORTRAIT_MAX_BYTES} bytes", "too_large")
    if not (found := _PORTRAIT.fullmatch(value)):
        refuse(field, "must be a data:image/jpeg;base64, or data:image/png;base64, URL", "bad_format")
    try:
        image = base64.b64decode(found["data"], validate=True)
    except binascii.Error:
        refuse(field, "must be valid base64", "bad_base64")
    if len(image) > PORTRAIT_MAX_BYTES:
        refuse(field, f"must be at most {PORTRAIT_MAX_BYTES} bytes", "too_large")
    if not image.startswith(_MAGIC[found["kind"]]):
        refuse(field, f"must hold a {found['kind']} image", "bad_image")
    return image


def parse_identity(data: Mapping[str, Any] | bytes, *, today: date | None = None) -> IdentityRecord:
    """Decode and validate an identity record (JSON bytes or a mapping) where it enters the system.

    With ``today`` the birth and issue dates must not lie in the future. Raises ``InvalidDataError``.
    """
    record = convert_record(data, IdentityRecord)
    check_not_after(record.birth_date, today, "birth_date", "today")
    check_not_after(record.issue_date, today, "issue_date", "today")
    return record


def example_identity() -> IdentityRecord:
    """A deterministic, valid synthetic citizen for demos and tests."""
    birth_date = date(1990, 5, 17)
    return IdentityRecord(
        citizen_id=make_citizen_id("001", birth_date, "female", 123456),
        full_name="Trần Thị Bích Ngọc",
        birth_date=birth_date,
        sex="female",
        place_of_origin="Xã Đông Sơn, Tỉnh Thanh Hóa",
        place_of_residence=Address(
            street_address="Số 12 phố Hàng Bài", ward="Phường Hoàn Kiếm", province="Thành phố Hà Nội"
        ),
        portrait=_EXAMPLE_PORTRAIT,
        issue_date=date(2024, 7, 1),
    )
