"""Vietnamese identifiers (see vn-identifiers.md) and the validation shared by every credential record."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, NoReturn, TypeAlias, TypeVar

import msgspec

from shared.encoding import json_loads
from shared.errors import InvalidDataError, MalformedError
from shared.sdjwt.markers import SD

Sex = Literal["male", "female"]
Claims: TypeAlias = dict[str | SD, Any]
"""Credential subject claims with the ``SD`` markers the issuer turns into disclosures."""

PROVINCES: Mapping[str, str] = MappingProxyType(
    {
        "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
        "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
        "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
        "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
        "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
        "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
        "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi",
        "052": "Bình Định", "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận",
        "062": "Kon Tum", "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng",
        "070": "Bình Phước", "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai",
        "077": "Bà Rịa - Vũng Tàu", "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang",
        "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long", "087": "Đồng Tháp", "089": "An Giang",
        "091": "Kiên Giang", "092": "Cần Thơ", "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu",
        "096": "Cà Mau",
    }
)  # fmt: skip
"""The 63 province codes of citizen IDs (Circular 07/2016/TT-BCA annex 1), code → name."""

BENEFICIARY_GROUPS = frozenset((
    "DN", "HX", "CH", "NN", "TK", "HC", "XK", "HT", "TB", "NO", "CT", "XB", "TN", "CS", "QN", "CA", "CY",
    "XN", "MS", "CC", "CK", "CB", "KC", "HD", "TE", "BT", "HN", "DT", "DK", "XD", "TS", "TC", "TQ", "TA",
    "TY", "HG", "LS", "PV", "CN", "HS", "SV", "GB", "GD",
))  # fmt: skip
"""Two-letter beneficiary groups printed on health insurance cards (DN employees, HC civil servants, ...)."""

NAME_MAX_LENGTH = 100
TEXT_MAX_LENGTH = 200

_DIGITS = {n: re.compile(f"[0-9]{{{n}}}") for n in (2, 10, 12)}
_CARD_NUMBER = re.compile(r"(?P<group>[A-Z]{2})(?P<level>[1-5])(?P<province>[0-9]{2})(?P<sin>[0-9]{10})")
_NAME_PUNCTUATION = frozenset(" '-.")
_MSGSPEC_AT = re.compile(r"(?P<message>.*?)(?: - at (?P<key>`key` in )?`\$(?P<path>[^`]*)`)?", re.DOTALL)
_MSGSPEC_RULES = (
    (re.compile(r"Object missing required field `(?P<name>[^`]+)`"), "is required", "missing_field"),
    (re.compile(r"Object contains unknown field `(?P<name>[^`]+)`"), "is not a known field", "unknown_field"),
    (
        re.compile(r"Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`"),
        "must be {want}, not {got}",
        "wrong_type",
    ),
    (
        re.compile(r"Expected `[^`]+` of length <= (?P<limit>[0-9]+)"),
        "must have at most {limit} items",
        "too_many",
    ),
    (re.compile(r"Invalid RFC3339 encoded date"), "must be a date YYYY-MM-DD", "bad_date"),
    (
        re.compile(r"Invalid enum value (?P<value>.+)"),
        "must be one of the allowed values, not {value}",
        "not_allowed",
    ),
)

R = TypeVar("R", bound="Record")


class Record(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """Base of every credential record: immutable, keyword-only, field name = claim name, no unknown fields.

    Subclasses repeat ``frozen=True`` only because type checkers do not inherit it (msgspec issue #657).
    """


class _RuleError(InvalidDataError, ValueError):
    """Raised inside ``__post_init__``: being a ValueError makes msgspec add the path of a nested record."""


def refuse(field: str, rule: str, reason: str) -> NoReturn:
    """Raise the ``InvalidDataError`` for ``field`` breaking ``rule``; ``reason`` is its stable identifier."""
    raise _RuleError(field, rule, reason=reason)


def convert_record(data: Mapping[str, Any] | bytes, record_type: type[R]) -> R:
    """Decode JSON bytes or convert a mapping into ``record_type``; any failure is an ``InvalidDataError``."""
    if isinstance(data, bytes):
        try:
            data = json_loads(data, what="input")
        except MalformedError as exc:
            raise InvalidDataError("record", exc.message, reason=exc.reason) from exc
    try:
        return msgspec.convert(data, record_type)
    except msgspec.ValidationError as exc:
        raise _translate(exc) from exc


def _translate(exc: msgspec.ValidationError) -> InvalidDataError:
    at = _MSGSPEC_AT.fullmatch(str(exc))
    message, path = (
        (at["message"], at["path"].lstrip(".")) if at and at["path"] is not None else (str(exc), "")
    )
    if isinstance(exc.__cause__, InvalidDataError):
        cause = exc.__cause__
        return InvalidDataError(_join(path, cause.field), cause.rule, reason=cause.reason)
    if at and at["key"]:
        return InvalidDataError(path or "record", "member names must be strings", reason="wrong_type")
    for pattern, rule, reason in _MSGSPEC_RULES:
        if found := pattern.fullmatch(message):
            parts = found.groupdict()
            return InvalidDataError(_join(path, parts.get("name", "")), rule.format(**parts), reason=reason)
    return InvalidDataError(path or "record", message, reason="invalid_value")


def _join(path: str, name: str) -> str:
    return ".".join(part for part in (path, name) if part) or "record"


def normalize_name(value: str, field: str = "full_name") -> str:
    """A person's name in NFC with single spaces; letters (with diacritics), spaces, ' - . only."""
    name = normalize_text(value, field, max_length=NAME_MAX_LENGTH)
    if any(not (char.isalpha() or char in _NAME_PUNCTUATION or _is_mark(char)) for char in name):
        refuse(field, "must contain only letters, spaces, hyphens, apostrophes and dots", "bad_name")
    return name


def normalize_text(value: str, field: str, *, max_length: int = TEXT_MAX_LENGTH) -> str:
    """Free text (addresses, employers, facilities) in NFC with single spaces, not empty, not too long."""
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if not text:
        refuse(field, "must not be empty", "empty")
    if len(text) > max_length:
        refuse(field, f"must be at most {max_length} characters", "too_long")
    # After the whitespace collapse above, isprintable() is False exactly for Unicode category C characters.
    if not text.isprintable():
        refuse(field, "must not contain control characters", "control_character")
    return text


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def check_citizen_id(
    value: str, *, birth_date: date | None = None, sex: Sex | None = None, field: str = "citizen_id"
) -> str:
    """Check a 12-digit citizen ID; with ``birth_date`` (and ``sex``) also its century/sex and year digits."""
    if not _DIGITS[12].fullmatch(value):
        refuse(field, "must be 12 digits", "bad_format")
    if value[:3] not in PROVINCES:
        refuse(field, f"province code {value[:3]} does not exist", "unknown_province")
    if birth_date is None:
        return value
    if value[3] not in century_sex_digits(birth_date, sex):
        described = f"birth_date {birth_date.isoformat()}" + (f" and sex {sex}" if sex else "")
        refuse(field, f"century/sex digit {value[3]} does not match {described}", "century_sex_mismatch")
    if value[4:6] != f"{birth_date.year % 100:02d}":
        rule = f"birth year digits {value[4:6]} do not match birth_date {birth_date.isoformat()}"
        refuse(field, rule, "birth_year_mismatch")
    return value


def century_sex_digits(birth_date: date, sex: Sex | None = None) -> str:
    """The 4th citizen-ID digit(s) allowed for a birth date: 1900s male 0 / female 1, 2000s 2 / 3, ..."""
    century = birth_date.year // 100 - 19
    if not 0 <= century <= 4:
        refuse("birth_date", "must be between 1900 and 2399", "out_of_range")
    male, female = str(2 * century), str(2 * century + 1)
    return {"male": male, "female": female, None: male + female}[sex]


def make_citizen_id(province: str, birth_date: date, sex: Sex, serial: int) -> str:
    """Compose a valid citizen ID from its parts (synthetic data and tests); ``serial`` is 0-999999."""
    if not 0 <= serial <= 999_999:
        refuse("serial", "must be 0-999999", "out_of_range")
    citizen_id = f"{province}{century_sex_digits(birth_date, sex)}{birth_date.year % 100:02d}{serial:06d}"
    return check_citizen_id(citizen_id, birth_date=birth_date, sex=sex)


def check_social_insurance_number(value: str, field: str = "social_insurance_number") -> str:
    """Check a 10-digit social insurance number (mã số BHXH)."""
    if not _DIGITS[10].fullmatch(value):
        refuse(field, "must be 10 digits", "bad_format")
    return value


def check_health_province_code(value: str, field: str = "province_code") -> str:
    """Check a 2-digit province code of a health insurance card: a citizen-ID province code without its 0."""
    if not _DIGITS[2].fullmatch(value):
        refuse(field, "must be 2 digits", "bad_format")
    if "0" + value not in PROVINCES:
        refuse(field, f"province code {value} does not exist", "unknown_province")
    return value


class HealthCardNumber(NamedTuple):
    """The four parts of a 15-character health insurance code ``GG L PP NNNNNNNNNN``."""

    beneficiary_group: str
    benefit_level: int
    province_code: str
    social_insurance_number: str


def split_health_card_number(value: str, field: str = "card_number") -> HealthCardNumber:
    """Split a health insurance code into its parts, refusing any other shape."""
    if not (found := _CARD_NUMBER.fullmatch(value)):
        rule = (
            "must be 15 characters: 2-letter group, level 1-5, 2-digit province,"
            " 10-digit social insurance number"
        )
        refuse(field, rule, "bad_format")
    return HealthCardNumber(found["group"], int(found["level"]), found["province"], found["sin"])


def check_not_after(value: date, limit: date | None, field: str, limit_name: str) -> None:
    """Refuse ``value`` later than ``limit`` (when one is given)."""
    if limit is not None and value > limit:
        refuse(field, f"must not be after {limit_name} {limit.isoformat()}", "in_future")


def synthetic_social_insurance_number(citizen_id: str) -> str:
    """A deterministic, well-formed social insurance number for a synthetic citizen (demos and tests)."""
    return check_social_insurance_number(citizen_id[1:3] + citizen_id[-8:])


def disclosable(claims: Mapping[str, Any]) -> Claims:
    """Mark every member selectively disclosable, leaving out the absent (None) ones."""
    return {SD(name): value for name, value in claims.items() if value is not None}
