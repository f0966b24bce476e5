"""Realistic synthetic registry data for tests and demos: Vietnamese citizens with their VSS records.

Deterministic per seed (``random.Random``: test data, not secrets). Output has the shape of an import line:
``{"identity": {...}, "health_insurance": {...}, "social_insurance": {...}}`` with the last two optional.
"""

from __future__ import annotations

import base64
import random
import struct
import zlib
from collections.abc import Iterator
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from server.services.synthetic_data import (
    BRANDS,
    CITY_HOSPITALS,
    CITY_WARDS,
    COMMON_WARDS,
    COMPANY_FORMS,
    FAMILY_NAMES,
    GIVEN,
    MIDDLE,
    PROVINCE_WEIGHTS,
    SCHOOL_NAMES,
    SECOND_MIDDLE,
    SECTORS,
    SOUTHERN_VARIANT,
    STREETS,
)
from shared.credentials import PROVINCES, Sex, make_citizen_id

CITIES = frozenset(("001", "031", "048", "079", "092"))
SOUTHERN_FROM = "049"
"""From Quảng Nam southwards, Hoàng is mostly Huỳnh and Vũ mostly Võ."""
HIGHLANDS = frozenset((
    "002", "004", "006", "008", "010", "011", "012", "014", "015", "017", "020", "062", "064", "066", "067",
))  # fmt: skip
MIGRATION_TARGETS = ("001", "079", "074", "075", "048")
EMPLOYEE_SCHEMES = ("sickness", "maternity", "work_injury", "old_age_survivor")
UNEMPLOYMENT_SINCE = "2009-01"
"""Unemployment insurance contributions began on 1 January 2009 (Law on Social Insurance 2006)."""
RETIREMENT_AGE: dict[Sex, int] = {"male": 60, "female": 55}
SEXES: tuple[Sex, ...] = ("male", "female")
BIRTH_YEARS = range(1940, 2025)
_YEAR_WEIGHTS = [
    1 if y < 1955 else 3 if y < 1965 else 5 if y < 1975 else 7 if y < 2010 else 6 for y in BIRTH_YEARS
]


def synthetic_entries(count: int, seed: int, today: date) -> Iterator[dict[str, Any]]:
    """``count`` citizens with unique IDs; IDs and names depend on ``seed`` only, validity on ``today``."""
    used_ids: set[str] = set()
    used_numbers: set[str] = set()
    for index in range(count):
        rng = random.Random(f"cancuoc-synthetic:{seed}:{index}")  # noqa: S311 - test data, not secrets
        yield _citizen(rng, today, used_ids, used_numbers)


def _citizen(rng: random.Random, today: date, used_ids: set[str], used_numbers: set[str]) -> dict[str, Any]:
    province = rng.choices(list(PROVINCE_WEIGHTS), weights=list(PROVINCE_WEIGHTS.values()))[0]
    sex = rng.choice(SEXES)
    year = rng.choices(BIRTH_YEARS, weights=_YEAR_WEIGHTS)[0]
    birth_date = min(date(year, 1, 1) + timedelta(days=rng.randrange(365)), today)
    citizen_id = make_citizen_id(province, birth_date, sex, rng.randrange(1_000_000))
    while citizen_id in used_ids:
        citizen_id = make_citizen_id(province, birth_date, sex, rng.randrange(1_000_000))
    used_ids.add(citizen_id)
    full_name = _full_name(rng, sex, province, birth_date)
    residence = province if rng.random() < 0.85 else rng.choice(MIGRATION_TARGETS)
    ward = _ward(rng, residence)
    origin = province if rng.random() < 0.8 else rng.choice(list(PROVINCES))
    identity = {
        "citizen_id": citizen_id,
        "full_name": full_name,
        "birth_date": birth_date.isoformat(),
        "sex": sex,
        "place_of_origin": f"{_ward(rng, origin)}, {_province_name(origin)}",
        "place_of_residence": {
            "street_address": _street_address(rng, residence, ward),
            "ward": ward,
            "province": _province_name(residence),
        },
        "issue_date": _issue_date(rng, birth_date, today).isoformat(),
        "portrait": _portrait(rng.randrange(3), rng.randrange(4), rng.randrange(3)),
    }
    entry: dict[str, Any] = {"identity": identity}
    person = {"citizen_id": citizen_id, "full_name": full_name, "birth_date": birth_date.isoformat()}
    number = residence[1:] + f"{rng.randrange(100_000_000):08d}"
    while number in used_numbers:
        number = residence[1:] + f"{rng.randrange(100_000_000):08d}"
    used_numbers.add(number)
    age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    periods, employed, retired = _career(rng, sex, birth_date, age, today, residence, ward)
    if periods:
        entry["social_insurance"] = {
            **person,
            "social_insurance_number": number,
            "contribution_periods": periods,
        }
    group, level = _beneficiary(rng, age, residence, employed, retired)
    if group is not None:
        valid_from, valid_until = date(today.year, 1, 1), date(today.year, 12, 31)
        if group == "TE":
            valid_from, valid_until = birth_date, _add_years(birth_date, 6) - timedelta(days=1)
        entry["health_insurance"] = {
            **person,
            "card_number": f"{group}{level}{residence[1:]}{number}",
            "social_insurance_number": number,
            "beneficiary_group": group,
            "benefit_level": level,
            "province_code": residence[1:],
            "registered_facility": _facility(rng, residence, ward),
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat(),
        }
    return entry


def _full_name(rng: random.Random, sex: Sex, province: str, birth_date: date) -> str:
    family = rng.choices(list(FAMILY_NAMES), weights=list(FAMILY_NAMES.values()))[0]
    if province >= SOUTHERN_FROM and family in SOUTHERN_VARIANT and rng.random() < 0.8:
        family = SOUTHERN_VARIANT[family]
    middle = [rng.choice(MIDDLE[sex, birth_date.year >= 1990])]
    given = rng.choice(GIVEN[sex])
    if rng.random() < 0.3:
        middle.append(rng.choice([n for n in SECOND_MIDDLE[sex] if n not in (middle[0], given)]))
    return " ".join((family, *middle, given))


def _province_name(code: str) -> str:
    return ("Thành phố " if code in CITIES else "Tỉnh ") + PROVINCES[code]


def _ward(rng: random.Random, province: str) -> str:
    if province in CITY_WARDS and rng.random() < 0.8:
        return "Phường " + rng.choice(CITY_WARDS[province])
    kind = rng.choices(("Xã", "Phường", "Thị trấn"), weights=(70, 25, 5))[0]
    return f"{kind} {rng.choice(COMMON_WARDS)}"


def _street_address(rng: random.Random, province: str, ward: str) -> str:
    if not ward.startswith("Xã"):
        if province == "001":
            lane = f"ngõ {rng.randrange(1, 200)} " if rng.random() < 0.5 else ""
            return f"Số {rng.randrange(1, 300)} {lane}phố {rng.choice(STREETS)}"
        return f"Số {rng.randrange(1, 300)} đường {rng.choice(STREETS)}"
    if province >= SOUTHERN_FROM:
        return f"Ấp {rng.choice(COMMON_WARDS)}"
    return f"Thôn {rng.choice(('Đông', 'Tây', 'Nam', 'Bắc', 'Thượng', 'Hạ', 'Trung'))} {rng.randrange(1, 10)}"


def _issue_date(rng: random.Random, birth_date: date, today: date) -> date:
    """Chip cards since 2021 from the age of 14; younger children since July 2024, on request."""
    start = max(_add_years(birth_date, 14), date(2021, 1, 1))
    if start > today:
        start = max(birth_date, date(2024, 7, 1))
    start = min(start, today)
    return start + timedelta(days=rng.randrange((today - start).days + 1))


def _career(
    rng: random.Random, sex: Sex, birth_date: date, age: int, today: date, province: str, ward: str
) -> tuple[list[dict[str, str]], bool, bool]:
    """Contribution periods, whether the citizen works for a contributing employer now, and if retired."""
    chance = 0.0 if age < 18 else 0.25 if age < 22 else 0.65 if age < RETIREMENT_AGE[sex] else 0.55
    if rng.random() >= chance:
        return [], False, False
    month = birth_date.year * 12 + birth_date.month - 1 + rng.randrange(18 * 12, 26 * 12)
    last_month = today.year * 12 + today.month - 2
    retirement = birth_date.year * 12 + birth_date.month - 1 + RETIREMENT_AGE[sex] * 12
    end = min(last_month, retirement)
    periods: list[dict[str, str]] = []
    while month <= end and len(periods) < 40:
        stop = min(end, month + rng.randrange(12, 180))
        if rng.random() < 0.7 and stop >= end:
            stop = end
        employer = _employer(rng, province, ward)
        start_text, stop_text = _month_text(month), _month_text(stop)
        for scheme in EMPLOYEE_SCHEMES:
            periods.append({"from": start_text, "to": stop_text, "employer": employer, "scheme": scheme})
        if stop_text >= UNEMPLOYMENT_SINCE:
            first = max(start_text, UNEMPLOYMENT_SINCE)
            periods.append({"from": first, "to": stop_text, "employer": employer, "scheme": "unemployment"})
        month = stop + 1 + rng.randrange(0, 18)
    retired = end == retirement and bool(periods) and periods[-1]["to"] == _month_text(end)
    employed = not retired and bool(periods) and periods[-1]["to"] == _month_text(last_month)
    return periods, employed, retired


def _employer(rng: random.Random, province: str, ward: str) -> str:
    name = PROVINCES[province]
    if rng.random() < 0.75:
        return f"{rng.choice(COMPANY_FORMS)} {rng.choice(SECTORS)} {rng.choice(BRANDS)}"
    return rng.choice(
        (
            f"Ủy ban nhân dân {ward.lower()[:1]}{ward[1:]}",
            f"Trường Tiểu học {rng.choice(SCHOOL_NAMES)}",
            f"Trường Trung học cơ sở {rng.choice(SCHOOL_NAMES)}",
            f"Sở Giáo dục và Đào tạo {_province_name(province).lower()[:1]}{_province_name(province)[1:]}",
            f"Kho bạc Nhà nước {name}",
            f"Cục Thuế {name}",
        )
    )


def _beneficiary(
    rng: random.Random, age: int, province: str, employed: bool, retired: bool
) -> tuple[str | None, int]:
    """Group and benefit level (1 = 100 % without ceiling ... 4 = 80 %) plausible for the citizen."""
    if age < 6:
        return "TE", 1
    if age < 18:
        return "HS", 4
    if retired:
        return "HT", 3
    if employed:
        return rng.choices((("DN", 4), ("HC", 4)), weights=(80, 20))[0]
    if rng.random() < 0.15:
        return None, 0
    if age >= 80:
        return "BT", 2
    if age < 22 and rng.random() < 0.6:
        return "SV", 4
    if province in HIGHLANDS and rng.random() < 0.4:
        return "DT", 2
    return rng.choices((("GD", 4), ("CN", 3)), weights=(88, 12))[0]


def _facility(rng: random.Random, province: str, ward: str) -> dict[str, str]:
    code = province[1:]
    if province in CITY_HOSPITALS and rng.random() < 0.5:
        hospitals = CITY_HOSPITALS[province]
        index = rng.randrange(len(hospitals))
        return {"code": f"{code}{index + 2:03d}", "name": hospitals[index]}
    if rng.random() < 0.4:
        kind = "Thành phố" if province in CITIES else "tỉnh"
        return {"code": f"{code}001", "name": f"Bệnh viện Đa khoa {kind} {PROVINCES[province]}"}
    station = f"Trạm Y tế {ward.lower()[:1]}{ward[1:]}"
    return {"code": f"{code}{100 + zlib.crc32(station.encode()) % 800:03d}", "name": station}


def _month_text(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


@lru_cache(maxsize=64)
def _portrait(background: int, skin: int, shirt: int) -> str:
    """A 24×32 passport-style silhouette as a PNG ``data:`` URL (a few hundred bytes)."""
    colours = (
        ((255, 255, 255), (214, 230, 245), (235, 235, 235))[background],
        ((241, 194, 150), (224, 172, 125), (198, 145, 100), (172, 122, 82))[skin],
        ((40, 45, 60), (245, 245, 245), (60, 90, 140))[shirt],
    )
    rows = []
    for y in range(32):
        row = bytearray()
        for x in range(24):
            head = ((x - 11.5) / 6) ** 2 + ((y - 12) / 7.5) ** 2 <= 1
            body = y >= 23 and abs(x - 11.5) <= 5 + (y - 23) * 1.2
            row += bytes(colours[1] if head else colours[2] if body else colours[0])
        rows.append(b"\x00" + bytes(row))
    header = struct.pack(">IIBBBBB", 24, 32, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
    return "data:image/png;base64," + base64.b64encode(png + _chunk(b"IEND", b"")).decode("ascii")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
