"""The social insurance book issued by VSS (DESIGN.md §3, vct ``urn:cancuoc:social-insurance:1``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Annotated, Any, Literal, get_args

import msgspec
from msgspec.structs import force_setattr

from shared.credentials.identifiers import (
    Claims,
    Record,
    check_citizen_id,
    check_not_after,
    check_social_insurance_number,
    convert_record,
    disclosable,
    normalize_name,
    normalize_text,
    refuse,
    synthetic_social_insurance_number,
)
from shared.credentials.identity import IdentityRecord
from shared.sdjwt.markers import SD

VCT = "urn:cancuoc:social-insurance:1"
Scheme = Literal["sickness", "maternity", "work_injury", "unemployment", "old_age_survivor"]
SCHEMES: tuple[Scheme, ...] = get_args(Scheme)
"""Contribution schemes; old-age and survivor benefits share one fund and so one contribution."""
MAX_PERIODS = 1000

_MONTH = re.compile(r"(19|2[0-3])[0-9]{2}-(0[1-9]|1[0-2])")


class ContributionPeriod(Record, frozen=True):
    """Contributions to one scheme through one employer, months ``from``-``to`` (``YYYY-MM``, inclusive)."""

    from_: str = msgspec.field(name="from")
    to: str
    employer: str
    scheme: Scheme

    def __post_init__(self) -> None:
        for name, month in (("from", self.from_), ("to", self.to)):
            if not _MONTH.fullmatch(month):
                refuse(name, "must be a month YYYY-MM between 1900-01 and 2399-12", "bad_month")
        if self.to < self.from_:
            refuse("to", "must not be before from", "bad_period")
        force_setattr(self, "employer", normalize_text(self.employer, "employer"))

    def to_claim(self) -> dict[str, str]:
        """The period as a plain JSON object."""
        return {"from": self.from_, "to": self.to, "employer": self.employer, "scheme": self.scheme}


class SchemeMonths(Record, frozen=True):
    """Months of contributions per benefit, each month counted once however many employers paid for it."""

    sickness: int
    maternity: int
    work_injury: int
    unemployment: int
    old_age: int
    survivor: int

    def __post_init__(self) -> None:
        for name, months in msgspec.structs.asdict(self).items():
            if months < 0:
                refuse(name, "must not be negative", "out_of_range")


class SocialInsuranceBook(Record, frozen=True):
    """A social insurance book (sổ BHXH); ``months_per_scheme`` is computed from the periods when absent."""

    social_insurance_number: str
    citizen_id: str
    full_name: str
    birth_date: date
    contribution_periods: Annotated[tuple[ContributionPeriod, ...], msgspec.Meta(max_length=MAX_PERIODS)]
    months_per_scheme: SchemeMonths | None = None

    def __post_init__(self) -> None:
        check_social_insurance_number(self.social_insurance_number)
        check_citizen_id(self.citizen_id, birth_date=self.birth_date)
        force_setattr(self, "full_name", normalize_name(self.full_name))
        born = self.birth_date.isoformat()[:7]
        for index, period in enumerate(self.contribution_periods):
            if period.from_ < born:
                refuse(f"contribution_periods[{index}].from", "must not be before birth_date", "before_birth")
        counted = count_scheme_months(self.contribution_periods)
        if self.months_per_scheme is None:
            force_setattr(self, "months_per_scheme", counted)
            return
        stated, expected = msgspec.structs.asdict(self.months_per_scheme), msgspec.structs.asdict(counted)
        for name, months in stated.items():
            if months != expected[name]:
                rule = f"{months} does not match {expected[name]} months in contribution_periods"
                refuse(f"months_per_scheme.{name}", rule, "months_mismatch")

    def to_claims(self, *, today: date | None = None) -> Claims:
        """Credential subject claims, each disclosable; every period and every month count on its own too."""
        months = msgspec.structs.asdict(count_scheme_months(self.contribution_periods))
        return disclosable(
            {
                "social_insurance_number": self.social_insurance_number,
                "citizen_id": self.citizen_id,
                "full_name": self.full_name,
                "birth_date": self.birth_date.isoformat(),
                "contribution_periods": [SD(period.to_claim()) for period in self.contribution_periods],
                "months_per_scheme": disclosable(months),
            }
        )


def count_scheme_months(periods: Iterable[ContributionPeriod]) -> SchemeMonths:
    """Distinct months covered per benefit; ``old_age_survivor`` periods count for old_age and survivor."""
    spans: dict[str, list[tuple[int, int]]] = {scheme: [] for scheme in SCHEMES}
    for period in periods:
        spans[period.scheme].append((_month_number(period.from_), _month_number(period.to)))
    months = {scheme: _union_length(scheme_spans) for scheme, scheme_spans in spans.items()}
    old_age_survivor = months.pop("old_age_survivor")
    return SchemeMonths(**months, old_age=old_age_survivor, survivor=old_age_survivor)


def _month_number(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:]) - 1


def _union_length(spans: list[tuple[int, int]]) -> int:
    total, covered_until = 0, -1
    for start, end in sorted(spans):
        if end > covered_until:
            total += end - max(start, covered_until + 1) + 1
            covered_until = end
    return total


def parse_social_book(data: Mapping[str, Any] | bytes, *, today: date | None = None) -> SocialInsuranceBook:
    """Decode and validate a social insurance book (JSON bytes or a mapping) where it enters the system.

    With ``today`` neither the birth date nor any period may lie in the future. Raises ``InvalidDataError``.
    """
    book = convert_record(data, SocialInsuranceBook)
    check_not_after(book.birth_date, today, "birth_date", "today")
    if today is not None:
        for index, period in enumerate(book.contribution_periods):
            if period.to > today.isoformat()[:7]:
                refuse(f"contribution_periods[{index}].to", "must not be after this month", "in_future")
    return book


def example_social_book(citizen: IdentityRecord) -> SocialInsuranceBook:
    """A deterministic, valid synthetic book for ``citizen``: two employers, all schemes, 2012-07..2025-06."""
    jobs = (
        ("2012-07", "2018-12", "Công ty TNHH Phần mềm Sông Hồng"),
        ("2019-01", "2025-06", "Công ty Cổ phần Dịch vụ Số Việt"),
    )
    return SocialInsuranceBook(
        social_insurance_number=synthetic_social_insurance_number(citizen.citizen_id),
        citizen_id=citizen.citizen_id,
        full_name=citizen.full_name,
        birth_date=citizen.birth_date,
        contribution_periods=tuple(
            ContributionPeriod(from_=start, to=end, employer=employer, scheme=scheme)
            for start, end, employer in jobs
            for scheme in SCHEMES
        ),
    )
