"""Credential endpoint (OpenID4VCI 1.0 §8): one SD-JWT VC per proven key, each with its own status entry."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

from server.context import ServerContext
from server.errors import (
    CredentialRequestDeniedError,
    HttpError,
    InvalidNonceError,
    InvalidTokenError,
    ServiceUnavailableError,
)
from server.services.credential_request import (
    bearer_token_hash,
    read_credential_request,
    requested_configuration,
)
from server.services.offers import VIETNAM, hash_secret
from server.services.proofs import ProvenKey, check_proofs
from server.store import issuance as store
from server.store.database import Connection
from server.store.tokens import consume_nonces, find_access_token_and_record
from shared.credentials import VCT_BY_TYPE, parse_record
from shared.errors import CredentialError
from shared.jose import PrivateKey
from shared.oid4vci import CredentialResponse, IssuedCredential
from shared.sdjwt.disclosure import digest
from shared.sdjwt_vc import CredentialTemplate, prepare_credential

ROUNDS_PER_LIST = 8
"""Draws of fresh indices for a copy before its status list counts as full and the next one is opened."""
MAX_NEW_LISTS = 4


class Copy(NamedTuple):
    """One signed copy of a family, the status entry it names and its digest for the issuance log."""

    list_id: int
    idx: int
    credential: str
    digest: str


class Issued(NamedTuple):
    """A committed family's copies, and the newest status list they name."""

    copies: list[Copy]
    newest: store.StatusListSlot


class Template(NamedTuple):
    """What every copy of one family shares, prepared once: copies differ in holder key and status entry."""

    credential: CredentialTemplate
    key: PrivateKey
    vct: str
    status_uri: Callable[[int], str]
    header: Mapping[str, Any] | None
    """The issuer's certificate chain as ``x5c`` beside the ``kid`` of every copy (HAIP 1.0 §6.1)."""

    def sign(self, holder: ProvenKey, list_id: int, idx: int) -> Copy:
        credential = self.credential.issue(
            self.key,
            holder_jwk=holder.key.jwk,
            status={"status_list": {"idx": idx, "uri": self.status_uri(list_id)}},
            header=self.header,
        )
        # Hashed where it is signed: in the read phase, outside the write lock, but for a copy signed again.
        return Copy(list_id, idx, credential, digest(credential))


async def issue_credentials(
    context: ServerContext, issuer: str, authorization: str | None, content_type: str | None, body: bytes
) -> CredentialResponse:
    """Check token, request and proofs; issue one family of copies and use up the proofs' nonces.

    Two phases (`Database.grouped_after_read`). First, without the write lock: the token, the registry
    record and the current status list are read, and each copy is signed for a status entry drawn at
    random. Then one transaction (on SQLite shared with the requests queued beside it, each in a
    savepoint) uses up the nonces and claims the entries; a copy whose entry was taken meanwhile is signed
    again for a free one and the first signature is dropped unseen. The family, its entries, the used
    nonces and the log rows commit together before any copy is returned.
    """
    config, now = context.config, context.clock()
    token_hash = bearer_token_hash(authorization)
    request = read_credential_request(content_type, body, batch_size=config.batch_size)
    # The proofs need no database: checked before the write lock is taken, reported after the token.
    proven: list[ProvenKey] | HttpError
    try:
        proven = check_proofs(request.proofs, audience=config.issuer_id(issuer), now=now, config=config)
    except HttpError as exc:
        proven = exc

    async def read(connection: Connection) -> Callable[[Connection], Awaitable[Issued]]:
        requested = request.credential_identifier or request.credential_configuration_id or ""
        grant, record = await find_access_token_and_record(connection, token_hash, issuer, now, requested)
        if grant is None:
            raise InvalidTokenError("the access token is unknown, expired or for another issuer")
        configuration_id = requested_configuration(request, grant)
        if isinstance(proven, HttpError):
            raise proven
        template = _template(context, issuer, configuration_id, record, now)
        # The newest list this worker saw commit spares the query; a stale one only fills an older list.
        current = context.status_lists.get(issuer) or await store.current_status_list(connection, issuer)
        # Signed before the write lock is taken, so that the other workers need not wait for the
        # signatures: each copy names a status entry drawn now, claimed below before any copy is returned.
        slot = current or store.StatusListSlot(1, config.status_list_size)
        drawn = [(slot.list_id, idx) for idx in _draw(slot.size, len(proven), ())]
        signed = [template.sign(key, list_id, idx) for key, (list_id, idx) in zip(proven, drawn, strict=True)]
        nonce_hashes = {hash_secret(k.nonce) for k in proven}

        async def record_issuance(connection: Connection) -> Issued:
            # Every proof's nonce is used up by the same transaction that records the issuance (§13.8).
            if await consume_nonces(connection, nonce_hashes, issuer, now) != len(nonce_hashes):
                raise InvalidNonceError("a proof's c_nonce is unknown, expired or used; fetch a new one")
            family_id = _family_id(now)
            await store.insert_family(
                connection,
                family_id=family_id,
                issuer=issuer,
                citizen_id=grant.citizen_id,
                configuration_id=configuration_id,
                vct=template.vct,
                now=now,
            )
            if current is None:
                await store.ensure_status_list(connection, issuer, slot.list_id, slot.size)
            slots, newest = await _claim_entries(
                connection, issuer, family_id, slot, drawn, config.status_list_size
            )
            # An entry taken since it was drawn (rare): that copy is signed again, for the entry it now holds.
            copies = [
                copy if slots[n] == drawn[n] else template.sign(proven[n], *slots[n])
                for n, copy in enumerate(signed)
            ]
            await store.append_issue_events(
                connection,
                issuer=issuer,
                family_id=family_id,
                vct=template.vct,
                kid=template.key.kid,
                entries=[store.LogEntry(c.list_id, c.idx, c.digest) for c in copies],
                now=now,
            )
            return Issued(copies, newest)

        return record_issuance

    copies, newest = await context.database.grouped_after_read(read)
    # Committed: the newest list these copies name exists, and is where the next copies go.
    known = context.status_lists.get(issuer)
    if known is None or newest.list_id > known.list_id:
        context.status_lists[issuer] = newest
    return CredentialResponse(credentials=[IssuedCredential(credential=copy.credential) for copy in copies])


def _template(
    context: ServerContext, issuer: str, configuration_id: str, record: Any, now: datetime
) -> Template:
    if record is None:
        raise CredentialRequestDeniedError(
            f"the registry no longer holds this citizen's {configuration_id} record"
        )
    vct = VCT_BY_TYPE[configuration_id]
    try:
        claims = parse_record(vct, record).to_claims(today=now.astimezone(VIETNAM).date())
    except CredentialError as exc:
        raise CredentialRequestDeniedError(f"the registry record cannot be issued: {exc}") from exc
    # RFC 9901 §10.1, OID4VCI §15: an iat rounded to the day does not tell which request issued a copy.
    issued_at = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    expires_at = issued_at + timedelta(days=context.config.credential_validity_days)
    x5c = context.pki.signers[issuer].x5c
    credential = prepare_credential(
        claims,
        issuer=context.config.issuer_id(issuer),
        vct=vct,
        issued_at=int(issued_at.timestamp()),
        expires_at=int(expires_at.timestamp()),
    )
    return Template(
        credential=credential,
        key=context.keys[issuer],
        vct=vct,
        status_uri=partial(context.config.status_list_uri, issuer),
        header={"x5c": x5c} if x5c else None,
    )


async def _claim_entries(
    connection: Connection,
    issuer: str,
    family_id: str,
    slot: store.StatusListSlot,
    drawn: list[tuple[int, int]],
    new_list_size: int,
) -> tuple[list[tuple[int, int]], store.StatusListSlot]:
    """Each copy's status entry: the one ``drawn`` for it in ``slot`` while still free, else one drawn
    afresh; and the list the last entries went to. After `ROUNDS_PER_LIST` draws the list counts as full
    and the rest go to a new list."""
    list_id, size = slot
    entries: dict[int, tuple[int, int]] = {}
    pending, wanted = list(range(len(drawn))), [idx for _, idx in drawn]
    taken: set[int] = set()
    rounds = opened = 0
    while True:
        free = await store.claim_status_entries(
            connection, issuer=issuer, list_id=list_id, family_id=family_id, indices=wanted
        )
        for copy, idx in zip(pending, wanted, strict=True):
            if idx in free:
                entries[copy] = (list_id, idx)
        pending = [copy for copy in pending if copy not in entries]
        if not pending:
            return [entries[copy] for copy in range(len(drawn))], store.StatusListSlot(list_id, size)
        taken.update(wanted)
        rounds += 1
        if rounds == ROUNDS_PER_LIST or size - len(taken) < len(pending):
            opened += 1
            if opened > MAX_NEW_LISTS:
                raise ServiceUnavailableError("no free status list entry; try again")
            list_id, size, taken, rounds = list_id + 1, new_list_size, set(), 0
            await store.ensure_status_list(connection, issuer, list_id, size)
        wanted = _draw(size, len(pending), taken)


def _draw(size: int, count: int, taken: Collection[int]) -> list[int]:
    """``count`` distinct random indices below ``size``, none of them in ``taken``."""
    if count > size - len(taken):
        raise ServiceUnavailableError(f"a status list of {size} entries cannot hold {count} more")
    chosen: set[int] = set()
    while len(chosen) < count:
        idx = secrets.randbelow(size)
        if idx not in taken:
            chosen.add(idx)
    return list(chosen)


def _family_id(now: datetime) -> str:
    """32 hex digits: the issuance time in milliseconds, then 80 random bits.

    Ordered by time, the families and status entries that a group commit writes share the index pages at
    the end of their indexes; random ids dirtied a page of each index per family, about 40 % of a
    group's COMMIT on SQLite.
    """
    return f"{int(now.timestamp() * 1000):012x}{secrets.token_hex(10)}"
