"""Command-line values shared by `cancuoc verifier` and `cancuoc audit`: times, durations, JSON files."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from client.verifier import UsageError

_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``30s``, ``10m``, ``2h`` or ``1d``."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"{text!r} is not a duration", hint="write a number and a unit: 30s, 10m, 2h or 1d")
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


def parse_time(text: str | None) -> datetime:
    """An ISO 8601 time (``2026-03-01T09:30:00+07:00``, ``...Z``, or a date, read as UTC); now when None."""
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{text!r} is not a time", hint="write ISO 8601, e.g. 2026-03-01T09:30:00+07:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def read_text(path: Path, what: str) -> str:
    """A whole text file, or a `UsageError` naming ``what`` it should have been."""
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not text"
        raise UsageError(f"cannot read {what} {path}: {reason}", hint="check the path") from None


def read_json(path: Path, what: str) -> Any:
    """A JSON document from a file, or a `UsageError`."""
    try:
        return msgspec.json.decode(read_text(path, what))
    except msgspec.DecodeError as exc:
        raise UsageError(
            f"{what} {path} is not JSON: {exc}", hint="pass the file as it was written"
        ) from None
