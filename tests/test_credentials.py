"""Credential records: every format rule is refused by field and rule, and claims carry the right SD marks."""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any

import msgspec
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shared.credentials import (
    ALLOWED_ISSUER_ROLE,
    PROVINCES,
    VCT_BY_TYPE,
    ContributionPeriod,
    check_citizen_id,
    count_scheme_months,
    example_health_card,
    example_identity,
    example_social_book,
    make_citizen_id,
    parse_health_card,
    parse_identity,
    parse_record,
    parse_social_book,
)
from shared.errors import InvalidDataError
from shared.sdjwt.markers import SD

TODAY = date(2026, 3, 1)
CITIZEN = example_identity()
CARD = example_health_card(CITIZEN)
BOOK = example_social_book(CITIZEN)
CARD_FACILITY = "Bệnh viện Đa khoa Hà Nội"
NEVER_DISCLOSABLE = {"vct", "iss", "cnf", "status", "iat", "nbf", "exp"}

Parse = Callable[..., Any]


def wire(record: msgspec.Struct, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(record)
    data.update(changes)
    return {name: value for name, value in data.items() if value is not ...}


def refusal(parse: Parse, data: dict[str, Any] | bytes) -> InvalidDataError:
    with pytest.raises(InvalidDataError) as caught:
        parse(data, today=TODAY)
    return caught.value


def outcome(parse: Parse, data: dict[str, Any] | bytes) -> InvalidDataError | None:
    try:
        parse(data, today=TODAY)
    except InvalidDataError as error:
        return error
    return None


def unmark(value: Any) -> Any:
    """The claims as the verifier sees them once every disclosure is revealed."""
    if isinstance(value, SD):
        return unmark(value.value)
    if isinstance(value, dict):
        return {unmark(name): unmark(member) for name, member in value.items()}
    if isinstance(value, list):
        return [unmark(element) for element in value]
    return value


def png(size: int) -> str:
    image = b"\x89PNG\r\n\x1a\n" + bytes(size - 8)
    return "data:image/png;base64," + base64.b64encode(image).decode()


def periods(count: int = 1, start: Any = "2019-01", **changes: Any) -> dict[str, Any]:
    base = {"from": "2019-01", "to": "2019-12", "employer": "Công ty Số Việt", "scheme": "sickness"}
    changed = {name: value for name, value in (base | {"from": start} | changes).items() if value is not ...}
    return {"contribution_periods": [base] * (count - 1) + [changed], "months_per_scheme": ...}


def months(**changes: int) -> dict[str, Any]:
    return {"months_per_scheme": msgspec.to_builtins(BOOK.months_per_scheme) | changes}


def disclosed(claims: dict[Any, Any], name: str) -> Any:
    return next(value for key, value in claims.items() if isinstance(key, SD) and key.value == name)


FUTURE_BIRTH = {"birth_date": "2027-05-17", "citizen_id": "001327123456", "issue_date": "2027-06-01"}


@pytest.mark.parametrize(
    ("parse", "record"),
    [(parse_identity, CITIZEN), (parse_health_card, CARD), (parse_social_book, BOOK)],
)
def test_examples_parse_from_json_and_from_mappings(parse: Parse, record: msgspec.Struct) -> None:
    assert parse(msgspec.json.encode(record), today=TODAY) == record
    assert parse(wire(record), today=TODAY) == record


def test_parse_record_dispatches_on_vct_and_refuses_unknown_types() -> None:
    assert parse_record(VCT_BY_TYPE["identity"], wire(CITIZEN)) == CITIZEN
    assert parse_record(VCT_BY_TYPE["health_insurance"], wire(CARD)) == CARD
    assert parse_record(VCT_BY_TYPE["social_insurance"], wire(BOOK)) == BOOK
    assert str(refusal(lambda data, today: parse_record("urn:x", data), wire(CITIZEN))).startswith("vct: ")


def test_each_type_has_one_issuer_role() -> None:
    assert {ALLOWED_ISSUER_ROLE[vct] for vct in VCT_BY_TYPE.values()} == {"mps", "vss"}
    assert ALLOWED_ISSUER_ROLE[VCT_BY_TYPE["identity"]] == "mps"


def test_names_keep_diacritics_in_nfc_with_single_spaces() -> None:
    decomposed = unicodedata.normalize("NFD", "  Nguyễn   Văn An ")
    assert parse_identity(wire(CITIZEN, full_name=decomposed)).full_name == "Nguyễn Văn An"


IDENTITY_RULES = [
    ({"citizen_id": "00119012345"}, "citizen_id: must be 12 digits", "bad_format"),
    ({"citizen_id": "00119012345a"}, "citizen_id: must be 12 digits", "bad_format"),
    ({"citizen_id": "００1190123456"}, "citizen_id: must be 12 digits", "bad_format"),
    ({"citizen_id": "003190123456"}, "citizen_id: province code 003 does not exist", "unknown_province"),
    (
        {"citizen_id": "001090123456"},
        "citizen_id: century/sex digit 0 does not match birth_date 1990-05-17 and sex female",
        "century_sex_mismatch",
    ),
    (
        {"citizen_id": "001191123456"},
        "citizen_id: birth year digits 91 do not match birth_date",
        "birth_year",
    ),
    ({"citizen_id": 1190123456}, "citizen_id: must be str, not int", "wrong_type"),
    ({"birth_date": "2024-02-30"}, "birth_date: must be a date YYYY-MM-DD", "bad_date"),
    ({"birth_date": "17/05/1990"}, "birth_date: must be a date YYYY-MM-DD", "bad_date"),
    ({"birth_date": "1899-05-17"}, "birth_date: must be between 1900 and 2399", "out_of_range"),
    (FUTURE_BIRTH, "birth_date: must not be after today 2026-03-01", "in_future"),
    ({"full_name": ""}, "full_name: must not be empty", "empty"),
    ({"full_name": " \t "}, "full_name: must not be empty", "empty"),
    ({"full_name": "Nguyễn " * 20}, "full_name: must be at most 100 characters", "too_long"),
    ({"full_name": "Nguyễn Văn 3"}, "full_name: must contain only letters", "bad_name"),
    ({"full_name": "\u200b"}, "full_name: must not contain control characters", "control"),
    ({"full_name": None}, "full_name: must be str, not null", "wrong_type"),
    ({"sex": "other"}, "sex: must be one of the allowed values, not 'other'", "not_allowed"),
    ({"nationality": "vn"}, "nationality: must be a 2-letter ISO 3166-1 country code", "bad_format"),
    ({"place_of_origin": "  "}, "place_of_origin: must not be empty", "empty"),
    ({"place_of_origin": "Hà\x00Nội"}, "place_of_origin: must not contain control characters", "control"),
    ({"place_of_residence": "Hà Nội"}, "place_of_residence: must be object, not str", "wrong_type"),
    ({"place_of_residence": {"province": "Hà Nội"}}, "place_of_residence.ward: is required", "missing"),
    ({"place_of_residence": {"ward": "", "province": "X"}}, "place_of_residence.ward: must not be", "empty"),
    ({"portrait": "data:image/gif;base64,R0lGOD=="}, "portrait: must be a data:image/jpeg", "bad_format"),
    ({"portrait": "https://example.com/a.png"}, "portrait: must be a data:image/jpeg", "bad_format"),
    ({"portrait": "data:image/png;base64,iVBORw0KGgo"}, "portrait: must be valid base64", "bad_base64"),
    ({"portrait": "data:image/jpeg;base64,iVBORw0KGgo="}, "portrait: must hold a jpeg image", "bad_image"),
    ({"portrait": png(64 * 1024 + 1)}, "portrait: must be at most 65536 bytes", "too_large"),
    ({"portrait": png(200 * 1024)}, "portrait: must be at most 65536 bytes", "too_large"),
    ({"issue_date": "1990-05-16"}, "issue_date: must not be before birth_date", "before_birth"),
    ({"issue_date": "2026-03-02"}, "issue_date: must not be after today 2026-03-01", "in_future"),
    ({"issue_date": "2024-07-01T00:00:00Z"}, "issue_date: must be a date YYYY-MM-DD", "bad_date"),
    ({"age_over_18": True}, "age_over_18: is not a known field", "unknown_field"),
    ({"full_name": ...}, "full_name: is required", "missing_field"),
]
CARD_FORMAT = "must be 15 characters: 2-letter group, level 1-5, 2-digit province, 10-digit social insurance"
CARD_RULES = [
    ({"card_number": "DN401019012345"}, f"card_number: {CARD_FORMAT}", "bad_format"),
    ({"card_number": "dn4010190123456"}, f"card_number: {CARD_FORMAT}", "bad_format"),
    ({"card_number": "DN0010190123456"}, f"card_number: {CARD_FORMAT}", "bad_format"),
    ({"card_number": "DN6010190123456"}, f"card_number: {CARD_FORMAT}", "bad_format"),
    ({"card_number": "HC4010190123456"}, "card_number: beneficiary group HC does not match", "card_number"),
    ({"card_number": "DN3010190123456"}, "card_number: benefit level 3 does not match", "card_number"),
    ({"card_number": "DN4790190123456"}, "card_number: province code 79 does not match", "card_number"),
    ({"card_number": "DN4010190123457"}, "card_number: social insurance number 0190123457", "card_number"),
    ({"social_insurance_number": "019012345"}, "social_insurance_number: must be 10 digits", "bad_format"),
    ({"social_insurance_number": "01901234x6"}, "social_insurance_number: must be 10 digits", "bad_format"),
    ({"citizen_id": "001290123456"}, "citizen_id: century/sex digit 2 does not match birth_date", "century"),
    ({"beneficiary_group": "ZZ"}, "beneficiary_group: unknown group 'ZZ'", "unknown_group"),
    ({"benefit_level": 0}, "benefit_level: must be 1-5", "out_of_range"),
    ({"benefit_level": 6}, "benefit_level: must be 1-5", "out_of_range"),
    ({"benefit_level": "4"}, "benefit_level: must be int, not str", "wrong_type"),
    ({"benefit_level": True}, "benefit_level: must be int, not bool", "wrong_type"),
    ({"benefit_level": 4.0}, "benefit_level: must be int, not float", "wrong_type"),
    ({"province_code": "03"}, "province_code: province code 03 does not exist", "unknown_province"),
    ({"province_code": "1"}, "province_code: must be 2 digits", "bad_format"),
    ({"province_code": "001"}, "province_code: must be 2 digits", "bad_format"),
    (
        {"registered_facility": {"code": "1", "name": "A"}},
        "registered_facility.code: must be 5",
        "bad_format",
    ),
    ({"registered_facility": {"code": "01001", "name": " "}}, "registered_facility.name: must not", "empty"),
    ({"registered_facility": {"code": "01001"}}, "registered_facility.name: is required", "missing"),
    ({"valid_until": "2024-12-31"}, "valid_until: must not be before valid_from", "bad_period"),
    ({"valid_from": "2025-13-01"}, "valid_from: must be a date YYYY-MM-DD", "bad_date"),
    ({"valid_until": "2025-02-29"}, "valid_until: must be a date YYYY-MM-DD", "bad_date"),
]
BOOK_RULES = [
    ({"social_insurance_number": "12345678901"}, "social_insurance_number: must be 10 digits", "bad_format"),
    (periods(to="2018-12"), "contribution_periods[0].to: must not be before from", "bad_period"),
    (periods(start="2019-13"), "contribution_periods[0].from: must be a month YYYY-MM", "bad_month"),
    (periods(start="2019-1"), "contribution_periods[0].from: must be a month YYYY-MM", "bad_month"),
    (periods(to="2019-12-31"), "contribution_periods[0].to: must be a month YYYY-MM", "bad_month"),
    (periods(start="1989-01"), "contribution_periods[0].from: must not be before birth_date", "before"),
    (periods(count=2, to="2026-04"), "contribution_periods[1].to: must not be after this month", "in_future"),
    (periods(scheme="pension"), "contribution_periods[0].scheme: must be one of the allowed", "not_allowed"),
    (periods(employer=""), "contribution_periods[0].employer: must not be empty", "empty"),
    (periods(from_="2019-01"), "contribution_periods[0].from_: is not a known field", "unknown_field"),
    (periods(start=...), "contribution_periods[0].from: is required", "missing_field"),
    (periods(count=1001), "contribution_periods: must have at most 1000 items", "too_many"),
    ({"contribution_periods": {}}, "contribution_periods: must be array, not object", "wrong_type"),
    (months(old_age=155), "months_per_scheme.old_age: 155 does not match 156 months", "months_mismatch"),
    (months(sickness=-1), "months_per_scheme.sickness: must not be negative", "out_of_range"),
    ({"months_per_scheme": {"sickness": 156}}, "months_per_scheme.maternity: is required", "missing_field"),
]


@pytest.mark.parametrize(
    ("parse", "record", "changes", "message", "reason"),
    [(parse_identity, CITIZEN, *rule) for rule in IDENTITY_RULES]
    + [(parse_health_card, CARD, *rule) for rule in CARD_RULES]
    + [(parse_social_book, BOOK, *rule) for rule in BOOK_RULES],
)
def test_each_rule_is_refused_naming_field_and_rule(
    parse: Parse, record: msgspec.Struct, changes: dict[str, Any], message: str, reason: str
) -> None:
    error = refusal(parse, wire(record, **changes))
    assert str(error).startswith(message)
    assert error.reason.startswith(reason)


@pytest.mark.parametrize(
    ("raw", "message", "reason"),
    [
        (b'{"citizen_id": ', "record: input is not valid JSON", "bad_json"),
        (b'{"full_name": "A", "full_name": "B"}', "record: input repeats a member name", "duplicate_member"),
        (b"[]", "record: must be object, not array", "wrong_type"),
        (b"\xff", "record: input is not valid JSON", "bad_json"),
    ],
)
def test_bad_json_is_invalid_data(raw: bytes, message: str, reason: str) -> None:
    error = refusal(parse_identity, raw)
    assert (str(error).startswith(message), error.reason) == (True, reason)


def test_months_count_each_month_once_and_old_age_survivor_for_both() -> None:
    periods = [
        ContributionPeriod(from_="2020-01", to="2020-12", employer="A", scheme="sickness"),
        ContributionPeriod(from_="2020-07", to="2021-06", employer="B", scheme="sickness"),
        ContributionPeriod(from_="2022-01", to="2022-01", employer="B", scheme="sickness"),
        ContributionPeriod(from_="2020-01", to="2020-03", employer="A", scheme="old_age_survivor"),
    ]
    months = count_scheme_months(periods)
    assert (months.sickness, months.old_age, months.survivor, months.maternity) == (19, 3, 3, 0)


def test_months_per_scheme_is_filled_from_the_periods() -> None:
    assert BOOK.months_per_scheme is not None
    assert BOOK.months_per_scheme.old_age == 156
    assert parse_social_book(wire(BOOK, months_per_scheme=...)) == BOOK


def test_identity_claims_are_all_disclosable_with_nested_address_and_ages() -> None:
    claims = CITIZEN.to_claims(today=TODAY)
    assert all(isinstance(name, SD) for name in claims)
    residence = disclosed(claims, "place_of_residence")
    assert all(isinstance(name, SD) for name in residence)
    plain = unmark(claims)
    assert plain["birth_date"] == "1990-05-17"
    assert plain["place_of_residence"] == {
        "street_address": "Số 12 phố Hàng Bài",
        "ward": "Phường Hoàn Kiếm",
        "province": "Thành phố Hà Nội",
    }
    assert (plain["age_over_16"], plain["age_over_18"], plain["age_over_65"]) == (True, True, False)
    assert not NEVER_DISCLOSABLE & set(plain)
    assert msgspec.json.decode(msgspec.json.encode(plain)) == plain


def test_age_claims_need_today() -> None:
    assert not {"age_over_16", "age_over_18", "age_over_65"} & set(unmark(CITIZEN.to_claims()))


@pytest.mark.parametrize(
    ("today", "adult"), [(date(2026, 2, 28), False), (date(2026, 3, 1), True), (date(2028, 2, 29), True)]
)
def test_leap_day_birthday_comes_of_age_on_first_of_march(today: date, adult: bool) -> None:
    born = date(2008, 2, 29)
    citizen = msgspec.structs.replace(
        CITIZEN, birth_date=born, citizen_id=make_citizen_id("079", born, "female", 1), issue_date=born
    )
    assert unmark(citizen.to_claims(today=today))["age_over_18"] is adult


def test_health_card_claims_are_all_disclosable_with_nested_facility() -> None:
    claims = CARD.to_claims(today=TODAY)
    assert all(isinstance(name, SD) for name in claims)
    facility = disclosed(claims, "registered_facility")
    assert [(name.value, value) for name, value in facility.items()] == [
        ("code", "01001"),
        ("name", CARD_FACILITY),
    ]
    assert unmark(claims) == msgspec.to_builtins(CARD)


def test_social_book_claims_disclose_each_period_on_its_own() -> None:
    claims = BOOK.to_claims()
    assert all(isinstance(name, SD) for name in claims)
    elements = disclosed(claims, "contribution_periods")
    assert len(elements) == 10
    assert all(isinstance(element, SD) and "from" in element.value for element in elements)
    assert all(isinstance(name, SD) for name in disclosed(claims, "months_per_scheme"))
    assert unmark(claims) == msgspec.json.decode(msgspec.json.encode(BOOK))


citizens = st.tuples(
    st.sampled_from(sorted(PROVINCES)),
    st.dates(date(1900, 1, 1), date(2399, 12, 31)),
    st.sampled_from(["male", "female"]),
    st.integers(0, 999_999),
)


@given(citizens)
def test_any_generated_citizen_id_round_trips(parts: tuple[str, date, Any, int]) -> None:
    province, born, sex, serial = parts
    citizen_id = make_citizen_id(province, born, sex, serial)
    assert check_citizen_id(citizen_id, birth_date=born, sex=sex) == citizen_id
    citizen = msgspec.structs.replace(
        CITIZEN, citizen_id=citizen_id, birth_date=born, sex=sex, issue_date=born
    )
    assert parse_identity(msgspec.json.encode(citizen)) == citizen


@given(citizens, st.integers(0, 2), st.integers(0, 9))
def test_province_digit_mutated_to_an_unknown_code_is_refused(
    parts: tuple[str, date, Any, int], position: int, digit: int
) -> None:
    province, born, sex, serial = parts
    citizen_id = make_citizen_id(province, born, sex, serial)
    mutated = citizen_id[:position] + str(digit) + citizen_id[position + 1 :]
    assume(mutated[:3] not in PROVINCES)
    data = wire(
        CITIZEN, citizen_id=mutated, birth_date=born.isoformat(), sex=sex, issue_date=born.isoformat()
    )
    error = refusal(parse_identity, data)
    assert str(error) == f"citizen_id: province code {mutated[:3]} does not exist"


@given(citizens, st.integers(0, 9))
def test_century_digit_mutated_is_refused(parts: tuple[str, date, Any, int], digit: int) -> None:
    province, born, sex, serial = parts
    citizen_id = make_citizen_id(province, born, sex, serial)
    assume(str(digit) != citizen_id[3])
    mutated = citizen_id[:3] + str(digit) + citizen_id[4:]
    data = wire(
        CITIZEN, citizen_id=mutated, birth_date=born.isoformat(), sex=sex, issue_date=born.isoformat()
    )
    error = refusal(parse_identity, data)
    assert re.fullmatch(
        rf"citizen_id: century/sex digit {digit} does not match birth_date .* and sex {sex}", str(error)
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


@given(st.sampled_from(sorted(wire(CARD))), json_values)
def test_any_value_in_any_field_is_accepted_or_invalid_data(field: str, value: Any) -> None:
    error = outcome(parse_health_card, wire(CARD, **{field: value}))
    assert error is None or error.field.split(".")[0] in {*wire(CARD), "record"}


@given(st.binary(max_size=64))
def test_arbitrary_bytes_are_invalid_data(raw: bytes) -> None:
    assert outcome(parse_social_book, raw) is not None
