"""The verifier's status check (Token Status List §8.3): a verified, fresh list, or fail closed.

The caller injects ``status_lookup(uri)``: it returns the status list token fetched or cached for ``uri``
(its compact JWT, or a `StatusListToken` it verified itself) or raises when none can be had.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.errors import CredentialError, InvalidStatusListError, RevokedError, SuspendedError
from shared.jose import decode_jws_unverified
from shared.jose.x5c import x5c_status_resolver
from shared.statuslist import StatusListToken, check_status, parse_status_claim, verify_status_list_token

if TYPE_CHECKING:
    from shared.oid4vp.presentation import PresentationPolicy
    from shared.oid4vp.report import Report

StatusLookup = Callable[[str], "str | StatusListToken"]


def check_credential_status(
    claims: dict[str, Any], policy: PresentationPolicy, report: Report, prefix: str = ""
) -> str:
    """Append the ``status`` check; returns ``valid``, ``revoked``, ``suspended``, ``unknown`` or ``none``."""
    if "status" not in claims:
        report.passed("status", f"{prefix}the credential carries no status reference")
        return "none"
    try:
        reference = parse_status_claim(claims["status"])
        if policy.status_lookup is None:
            raise InvalidStatusListError("no status list source is configured", reason="unreachable")
        token, age = fresh_status_list(
            reference.uri,
            policy.status_lookup,
            policy.anchors,
            now=policy.now,
            allow_stale_seconds=policy.allow_stale_seconds,
            leeway_seconds=policy.leeway_seconds,
        )
        check_status(reference, token)
    except (RevokedError, SuspendedError) as exc:
        report.fail("status", exc, prefix)
        return exc.code
    except CredentialError as exc:
        report.fail("status", exc, prefix)
        return "unknown"
    report.passed("status", f"{prefix}valid (status list {int(age)} s old)")
    return "valid"


def fresh_status_list(
    uri: str,
    lookup: StatusLookup,
    anchors: Sequence[bytes],
    *,
    now: datetime,
    allow_stale_seconds: float | None = None,
    leeway_seconds: int = 60,
) -> tuple[StatusListToken, float]:
    """The verified token for ``uri`` and its age in seconds; older than its ``ttl`` or past ``exp`` is stale,
    accepted only when ``allow_stale_seconds`` covers its age."""
    try:
        raw = lookup(uri)
    except CredentialError as exc:
        raise InvalidStatusListError(
            f"no status list for {uri}: {exc.message}", reason="unreachable"
        ) from exc
    except Exception as exc:  # the lookup is the caller's I/O: any failure means "no statement" (§8.3)
        raise InvalidStatusListError(
            f"status list {uri} is unreachable ({type(exc).__name__})", reason="unreachable"
        ) from exc
    expired = False
    if isinstance(raw, StatusListToken):
        token = raw
        expired = token.exp is not None and now.timestamp() - leeway_seconds >= token.exp
    else:
        resolver = x5c_status_resolver(anchors, now=now)
        try:
            token = verify_status_list_token(
                raw, resolver, expected_uri=uri, now=now, leeway_seconds=leeway_seconds
            )
        except InvalidStatusListError as exc:
            if exc.reason != "expired" or allow_stale_seconds is None:
                raise
            # Stale but perhaps allowed: verify everything else as of just before it expired.
            exp = decode_jws_unverified(raw, what="status list token").payload["exp"]
            then = datetime.fromtimestamp(exp - leeway_seconds - 1, tz=UTC)
            token = verify_status_list_token(
                raw, resolver, expected_uri=uri, now=then, leeway_seconds=leeway_seconds
            )
            expired = True
    if token.sub != uri:
        raise InvalidStatusListError(f"status list token is for {token.sub!r}", reason="sub_mismatch")
    age = now.timestamp() - token.iat
    stale = expired or (token.ttl is not None and age > token.ttl)
    if stale and (allow_stale_seconds is None or age > allow_stale_seconds):
        raise InvalidStatusListError(
            f"no fresh status list: the one at hand is {int(age)} s old", reason="stale"
        )
    return token, age
