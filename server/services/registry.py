"""The registries: validate records where they enter (import, seed), load all or nothing, look them up."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import msgspec

from server.context import ServerContext
from server.errors import HttpError, NotFoundError
from server.services.catalog import CONFIGURATIONS_BY_ISSUER
from server.services.synthetic import synthetic_entries
from server.store import registry as store
from shared.credentials import (
    HealthInsuranceCard,
    IdentityRecord,
    SocialInsuranceBook,
    check_citizen_id,
    parse_health_card,
    parse_identity,
    parse_social_book,
)
from shared.encoding import json_loads
from shared.errors import InvalidDataError, MalformedError

KINDS = ("identity", "health_insurance", "social_insurance")
INSERT_CHUNK = 1000
"""Citizens per multi-row INSERT: large enough to be fast, small enough for a smooth progress bar."""

Advance = Callable[[int], None]


class RegistryEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One citizen's validated records: the identity and the VSS records when there are any."""

    identity: IdentityRecord
    health_insurance: HealthInsuranceCard | None = None
    social_insurance: SocialInsuranceBook | None = None

    @property
    def citizen_id(self) -> str:
        return self.identity.citizen_id

    def stored(self) -> dict[str, dict[str, Any]]:
        """The records as the database keeps them (``msgspec.to_builtins``), by configuration id."""
        return {
            kind: msgspec.to_builtins(record) for kind in KINDS if (record := getattr(self, kind)) is not None
        }


class LineError(msgspec.Struct, frozen=True):
    """A refused line of an import file: ``line: field: rule``."""

    line: int
    field: str
    rule: str


class RegistryRejectedError(Exception):
    """Nothing was loaded; ``errors`` says why, line by line."""

    def __init__(self, errors: Sequence[LineError]) -> None:
        super().__init__(f"{len(errors)} line(s) refused")
        self.errors = list(errors)


class LoadReport(msgspec.Struct, frozen=True):
    """How many citizens were loaded and skipped, and how many records each registry now holds."""

    loaded: int
    skipped: int
    totals: dict[str, int]


_PARSERS: Mapping[str, Callable[..., Any]] = {
    "identity": parse_identity,
    "health_insurance": parse_health_card,
    "social_insurance": parse_social_book,
}


def validate_entry(data: object, *, today: date) -> RegistryEntry:
    """Validate one citizen's records (an import line) through the ``shared.credentials`` parsers.

    The VSS records must belong to the same citizen (ID and birth date) and share one social insurance
    number. Raises ``InvalidDataError`` whose field is a path such as ``health_insurance.card_number``.
    """
    if not isinstance(data, dict):
        raise InvalidDataError("record", "must be a JSON object", reason="wrong_type")
    for name in data:
        if name not in _PARSERS:
            raise InvalidDataError(
                name, f"is not a known field (one of {', '.join(KINDS)})", reason="unknown_field"
            )
    if data.get("identity") is None:
        raise InvalidDataError("identity", "is required", reason="missing_field")
    records: dict[str, Any] = {}
    for kind, parse in _PARSERS.items():
        if (value := data.get(kind)) is None:
            continue
        if not isinstance(value, dict):
            raise InvalidDataError(kind, "must be a JSON object", reason="wrong_type")
        try:
            records[kind] = parse(value, today=today)
        except InvalidDataError as exc:
            raise InvalidDataError(f"{kind}.{exc.field}", exc.rule, reason=exc.reason) from exc
    entry = RegistryEntry(**records)
    _check_same_citizen(entry)
    return entry


def _check_same_citizen(entry: RegistryEntry) -> None:
    person = entry.identity
    for kind in ("health_insurance", "social_insurance"):
        if (record := getattr(entry, kind)) is None:
            continue
        _check_equal(f"{kind}.citizen_id", record.citizen_id, "identity.citizen_id", person.citizen_id)
        _check_equal(f"{kind}.birth_date", record.birth_date, "identity.birth_date", person.birth_date)
    if entry.health_insurance and entry.social_insurance:
        _check_equal(
            "social_insurance.social_insurance_number",
            entry.social_insurance.social_insurance_number,
            "health_insurance.social_insurance_number",
            entry.health_insurance.social_insurance_number,
        )


def _check_equal(field: str, value: object, other_field: str, other: object) -> None:
    if value != other:
        reason = field.rsplit(".", 1)[-1] + "_mismatch"
        raise InvalidDataError(field, f"{value} does not match {other_field} {other}", reason=reason)


def read_entries(
    lines: Iterable[bytes], *, today: date, advance: Advance = lambda _: None
) -> tuple[list[tuple[int, RegistryEntry]], list[LineError]]:
    """Validate every line of a JSON Lines file (blank lines skipped): (line, entry) pairs and errors."""
    entries: list[tuple[int, RegistryEntry]] = []
    errors: list[LineError] = []
    first_line: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        advance(1)
        text = raw.removeprefix(b"\xef\xbb\xbf") if number == 1 else raw
        if not text.strip():
            continue
        try:
            entry = validate_entry(json_loads(text.strip(), what="line"), today=today)
        except MalformedError as exc:
            errors.append(LineError(number, "record", exc.message))
            continue
        except InvalidDataError as exc:
            errors.append(LineError(number, exc.field, exc.rule))
            continue
        if (seen := first_line.setdefault(entry.citizen_id, number)) != number:
            errors.append(
                LineError(number, "identity.citizen_id", f"{entry.citizen_id} is also on line {seen}")
            )
            continue
        entries.append((number, entry))
    return entries, errors


async def load_entries(
    context: ServerContext,
    entries: Sequence[tuple[int, RegistryEntry]],
    *,
    skip_existing: bool = False,
    advance: Advance = lambda _: None,
) -> LoadReport:
    """Store validated entries in ONE transaction: all of them or, on any error, none.

    Citizens already registered are refused (``RegistryRejectedError`` naming their lines) unless
    ``skip_existing``, which leaves their stored records as they are.
    """
    async with context.database.transaction() as connection:
        existing = await store.existing_citizen_ids(connection, [entry.citizen_id for _, entry in entries])
        if existing and not skip_existing:
            raise RegistryRejectedError(
                [
                    LineError(line, "identity.citizen_id", f"{entry.citizen_id} is already registered")
                    for line, entry in entries
                    if entry.citizen_id in existing
                ]
            )
        fresh = [entry for _, entry in entries if entry.citizen_id not in existing]
        advance(len(entries) - len(fresh))
        now = context.clock()
        for start in range(0, len(fresh), INSERT_CHUNK):
            chunk = fresh[start : start + INSERT_CHUNK]
            await store.insert_records(connection, [entry.stored() for entry in chunk], now=now)
            advance(len(chunk))
        totals = await store.count_records(connection)
    return LoadReport(loaded=len(fresh), skipped=len(existing), totals=totals)


def synthetic_registry(
    count: int, seed: int, *, today: date, advance: Advance = lambda _: None
) -> list[RegistryEntry]:
    """``count`` synthetic citizens from ``seed``, each validated like an imported line."""
    entries = []
    for data in synthetic_entries(count, seed, today):
        entries.append(validate_entry(data, today=today))
        advance(1)
    return entries


async def citizen_records(context: ServerContext, issuer: str, citizen_id: str) -> dict[str, Any]:
    """What ``issuer`` holds about a citizen (MPS: identity; VSS: card and book); 404 when nothing."""
    if (kinds := CONFIGURATIONS_BY_ISSUER.get(issuer)) is None:
        raise NotFoundError(f"no issuer {issuer!r} here")
    try:
        check_citizen_id(citizen_id)
    except InvalidDataError as exc:
        raise HttpError(f"citizen_id: {exc.rule}") from None
    async with context.database.transaction() as connection:
        records = await store.find_records(connection, citizen_id, kinds)
    if not records:
        raise NotFoundError(f"{issuer} holds no record of citizen {citizen_id}")
    return {"citizen_id": citizen_id, **{kind: records.get(kind) for kind in kinds}}
