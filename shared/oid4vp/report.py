"""The verifier's report: every check it ran, by a stable name, each with its outcome and error code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from shared.errors import CredentialError

CHECK_NAMES = (
    "response_shape",
    "state",
    "dcql",
    "certificate_chain",
    "issuer_allowed",
    "signature",
    "typ",
    "validity",
    "disclosures",
    "key_binding",
    "audience",
    "nonce",
    "kb_fresh",
    "sd_hash",
    "status",
    "same_holder",
)
"""Every check name a report can hold; the CLI's JSON and the tests rely on them."""

T = TypeVar("T")


class Check(msgspec.Struct, frozen=True, gc=False):
    """One check: ``code`` is ``ok`` or the failing error's code; ``detail`` never quotes a claim value.

    A Struct rather than a dataclass: a report builds some thirty per answer, and a frozen dataclass's
    construction costs several times more.
    """

    name: str
    ok: bool
    code: str
    detail: str
    reason: str = "ok"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "code": self.code, "detail": self.detail}


class PresentedCredential(msgspec.Struct, frozen=True):
    """A credential whose issuer signature and disclosures verified, with what it disclosed."""

    query_id: str | None
    vct: str
    issuer: str
    claims: dict[str, Any]
    status: str


@dataclass(slots=True)
class Report:
    """The verdict: valid only when every check passed."""

    checks: list[Check] = field(default_factory=list)
    credentials: list[PresentedCredential] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def passed(self, name: str, detail: str) -> None:
        self.checks.append(Check(name, True, "ok", detail))

    def fail(self, name: str, error: CredentialError, prefix: str = "") -> None:
        self.checks.append(Check(name, False, error.code, f"{prefix}{error.message}", error.reason))

    def run(self, name: str, step: Callable[[], T], ok_detail: str, prefix: str = "") -> T | None:
        """Run ``step``; record it passed, or failed with the `CredentialError` it raised (then None)."""
        try:
            result = step()
        except CredentialError as exc:
            self.fail(name, exc, prefix)
            return None
        self.checks.append(Check(name, True, "ok", prefix + ok_detail))
        return result

    @contextmanager
    def check(self, name: str, ok_detail: str, prefix: str = "") -> Iterator[None]:
        """The ``with`` form of `run`: a `CredentialError` inside fails the check and is swallowed."""
        try:
            yield
        except CredentialError as exc:
            self.fail(name, exc, prefix)
        else:
            self.passed(name, f"{prefix}{ok_detail}")

    def to_json(self) -> dict[str, Any]:
        """``{"valid", "checks": [{"name", "ok", "code", "detail"}], "credentials": [...]}``."""
        return {
            "valid": self.valid,
            "checks": [c.to_json() for c in self.checks],
            "credentials": [
                {"vct": c.vct, "issuer": c.issuer, "claims": c.claims, "status": c.status}
                for c in self.credentials
            ],
        }
