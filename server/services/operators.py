"""Operators and their roles: who may act for which issuer (mps-officer, vss-officer, auditor, admin)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection

import msgspec

from server.context import ServerContext
from server.errors import ForbiddenError, HttpError, InvalidTokenError
from server.store.operators import find_operator, insert_operator

ROLES = ("mps-officer", "vss-officer", "auditor", "admin")
OFFICER_OF = {"mps": "mps-officer", "vss": "vss-officer"}


class Operator(msgspec.Struct, frozen=True):
    id: int
    name: str
    role: str

    def may_act_for(self, issuer: str) -> bool:
        """Officers act for their own issuer only; admins for any."""
        return self.role == "admin" or OFFICER_OF.get(issuer) == self.role


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def create_operator(context: ServerContext, *, name: str, role: str) -> str:
    """Create an operator and return its bearer token (shown once; only its hash is kept)."""
    if role not in ROLES:
        raise HttpError(f"role must be one of {', '.join(ROLES)}")
    if not name.strip() or len(name) > 200:
        raise HttpError("name must be 1 to 200 characters")
    token = "cco_" + secrets.token_urlsafe(32)
    async with context.database.transaction() as connection:
        await insert_operator(
            connection, name=name.strip(), role=role, token_hash=hash_token(token), now=context.clock()
        )
    return token


async def authenticate(context: ServerContext, authorization: str | None) -> Operator:
    """The operator behind an ``Authorization: Bearer`` header (RFC 6750 §2.1), or 401."""
    if not authorization or not authorization.startswith("Bearer ") or len(authorization) > 200:
        raise InvalidTokenError("an operator bearer token is required")
    async with context.database.transaction() as connection:
        found = await find_operator(connection, hash_token(authorization.removeprefix("Bearer ").strip()))
    if found is None:
        raise InvalidTokenError("unknown or disabled operator token")
    return Operator(*found)


async def authorize(
    context: ServerContext,
    authorization: str | None,
    *,
    issuer: str | None = None,
    roles: Collection[str] = (),
) -> Operator:
    """Authenticate, then require one of ``roles`` or an officer of ``issuer`` (admins always pass)."""
    operator = await authenticate(context, authorization)
    if (
        operator.role == "admin"
        or operator.role in roles
        or (issuer is not None and operator.may_act_for(issuer))
    ):
        return operator
    raise ForbiddenError(f"operator role {operator.role} may not do this")
