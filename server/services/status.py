"""Token Status List provider (draft-ietf-oauth-status-list §5.1, §8) and operators' status changes."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

import msgspec

from server.context import ServerContext
from server.errors import ConflictError, HttpError, NotFoundError
from server.pki import STATUS_LIST
from server.services.catalog import known_issuer
from server.store import status as store
from shared.encoding import b64url_encode
from shared.statuslist import INVALID, SUSPENDED, VALID, StatusList, sign_status_list_token

BITS = 2
"""Two bits per entry: VALID, INVALID (revoked) and SUSPENDED (§7.1)."""
FIRST_LIST = 1
LAST_LIST = 2**31 - 1
STATUS_BY_NAME = {"valid": VALID, "revoked": INVALID, "suspended": SUSPENDED}
NAME_BY_STATUS = {value: name for name, value in STATUS_BY_NAME.items()}
EVENT_BY_STATUS = {VALID: "reinstate", INVALID: "revoke", SUSPENDED: "suspend"}
_CITIZEN_ID = re.compile(r"[0-9]{12}")


class SignedStatusList(msgspec.Struct, frozen=True):
    """A Status List Token ready to serve, with its strong ETag."""

    token: str
    etag: str


class StatusChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Body of a status change: the status the families should have."""

    status: str


async def status_list_token(context: ServerContext, issuer: str, list_id: int) -> SignedStatusList:
    """The signed list, from the cache unless the list changed or the token is past half its validity."""
    known_issuer(issuer)
    if not FIRST_LIST <= list_id <= LAST_LIST:
        raise NotFoundError(f"no status list {list_id} for {issuer}")
    now, validity = context.clock(), timedelta(seconds=context.config.status_list_validity)
    async with context.database.transaction() as connection:
        row = await store.find_status_list(connection, issuer, list_id)
        if row is None and list_id == FIRST_LIST:
            await store.create_status_list(connection, issuer, list_id, context.config.status_list_size)
            row = await store.find_status_list(connection, issuer, list_id)
        if row is None:
            raise NotFoundError(f"no status list {list_id} for {issuer}")
        if row.token is not None and _is_fresh(row, now, validity):
            return SignedStatusList(row.token, _etag(issuer, list_id, row.version, row.token))
        # The version is read before the entries: a change committed in between is in the list and only
        # makes the next request sign again, never the other way round.
        entries = await store.non_valid_entries(connection, issuer, list_id)
    status_list = StatusList.new(row.size, BITS)
    for idx, value in entries:
        status_list.set(idx, value)
    expires_at = now + validity
    token = sign_list(context, issuer, list_id, status_list, now, expires_at)
    async with context.database.transaction() as connection:
        await store.save_status_list_token(
            connection, issuer, list_id, token=token, version=row.version, expires_at=expires_at
        )
    return SignedStatusList(token, _etag(issuer, list_id, row.version, token))


def sign_list(
    context: ServerContext,
    issuer: str,
    list_id: int,
    status_list: StatusList,
    iat: datetime,
    exp: datetime,
) -> str:
    """The one place status list tokens are signed: by the status-list signer, its chain in ``x5c``."""
    signer = context.pki.signers[STATUS_LIST]
    return sign_status_list_token(
        status_list,
        signer.key,
        sub=context.config.status_list_uri(issuer, list_id),
        iat=iat,
        exp=exp,
        ttl=context.config.status_list_ttl,
        iss=context.config.issuer_id(issuer),
        x5c=signer.x5c,
    )


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison against each listed tag, or ``*``."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


async def change_status(
    context: ServerContext,
    issuer: str,
    change: StatusChange,
    *,
    family_id: str | None = None,
    citizen_id: str | None = None,
) -> dict[str, Any]:
    """Set a family's status, or that of every family a citizen holds from ``issuer``; revoked is final.

    The families, the versions of their lists and one issuance-log row per family change in one
    transaction. A citizen-wide change leaves revoked families revoked; a single revoked family
    refuses to be suspended or reinstated (409).
    """
    known_issuer(issuer)
    status = _parse_status(change.status)
    if citizen_id is not None:
        check_citizen_id(citizen_id)
    now = context.clock()
    async with context.database.transaction() as connection:
        changed = await store.change_family_status(
            connection, issuer, status, now, family_id=family_id, citizen_id=citizen_id
        )
        families = await store.find_families(connection, issuer, family_id=family_id, citizen_id=citizen_id)
        if family_id is not None and not families:
            raise NotFoundError(f"no credential family {family_id!r} at {issuer}")
        if citizen_id is not None and not await store.citizen_exists(connection, citizen_id):
            raise NotFoundError(f"no citizen {citizen_id} in the registry")
        if family_id is not None and families[0].status == INVALID and status != INVALID:
            raise ConflictError(f"credential family {family_id} is revoked; revocation is final")
        if changed:
            await store.bump_list_versions(connection, [f for f, _ in changed])
            await store.append_status_events(connection, EVENT_BY_STATUS[status], issuer, changed, now)
    return {"families": [_summary(family) for family in families]}


async def list_families(context: ServerContext, issuer: str, citizen_id: str) -> dict[str, Any]:
    """Every credential family a citizen holds from ``issuer``, with its status."""
    known_issuer(issuer)
    check_citizen_id(citizen_id)
    async with context.database.transaction() as connection:
        if not await store.citizen_exists(connection, citizen_id):
            raise NotFoundError(f"no citizen {citizen_id} in the registry")
        families = await store.find_families(connection, issuer, citizen_id=citizen_id)
    return {
        "families": [
            {
                **_summary(family),
                "vct": family.vct,
                "issued_at": family.issued_at.isoformat(),
                "status_changed_at": family.status_changed_at and family.status_changed_at.isoformat(),
            }
            for family in families
        ]
    }


def check_citizen_id(citizen_id: str) -> str:
    if not _CITIZEN_ID.fullmatch(citizen_id):
        raise HttpError("citizen_id must be 12 digits")
    return citizen_id


def _parse_status(name: str) -> int:
    if name not in STATUS_BY_NAME:
        raise HttpError(f"status must be one of {', '.join(STATUS_BY_NAME)}")
    return STATUS_BY_NAME[name]


def _summary(family: store.FamilyRow) -> dict[str, Any]:
    return {
        "id": family.id,
        "configuration_id": family.configuration_id,
        "status": NAME_BY_STATUS[family.status],
    }


def _is_fresh(row: store.StatusListRow, now: datetime, validity: timedelta) -> bool:
    """The cached token is of the list's version and not yet past half its validity."""
    if row.token_version != row.version or row.token_expires_at is None:
        return False
    return now < row.token_expires_at - validity / 2


def _etag(issuer: str, list_id: int, version: int, token: str) -> str:
    """Strong: the list, its version and the signature, which no two signings share (ECDSA is randomized)."""
    seed = f"{issuer}/{list_id}/{version}/{token.rpartition('.')[2]}".encode()
    return f'"{b64url_encode(hashlib.sha256(seed).digest()[:16])}"'
