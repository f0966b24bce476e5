"""`verifier check` and the end of `verifier request`: one code path from a wallet's answer to a report.

Status lists come from the cache while fresh (by their ``ttl``), else are fetched without redirects,
verified and cached; ``offline`` never fetches. Which list is fresh enough, or stale but allowed, is
decided by `shared.oid4vp.status` from the token itself.

The process remembers what validated (status list tokens, its own request objects), so that checking many
answers (a cross-device wait, `make bench`) validates each once; a remembered token is handed over only while
it still verifies at ``now``, else the raw token goes to `shared.oid4vp.status`, which reports why (or accepts
it as stale). Certificate chains are remembered across processes, in the clinic's chain cache (`Checker`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import msgspec

from client.verifier import UsageError
from client.verifier.state import CachedStatusList, VerifierState
from shared.errors import CredentialError, InvalidStatusListError
from shared.jose import PublicKey, public_key_from_jwk, verify_jws
from shared.jose.x5c import pem_armored_der
from shared.oid4vp.chains import ChainCache
from shared.oid4vp.report import Report
from shared.oid4vp.request import REQUEST_TYP, AuthorizationRequest
from shared.oid4vp.verify import verify_response
from shared.statuslist import StatusListToken, verify_status_list_token

if TYPE_CHECKING:
    from client.api import RelayApi

LEEWAY_SECONDS = 60
MAX_LISTS = 64
_LISTS: dict[tuple[str, str, bytes], tuple[StatusListToken, object]] = {}
"""Status list tokens that verified: (uri, token, anchor) → the token's claims and its x5c."""


def _own_request(client_id: str | None, public_jwk: bytes, request_jwt: str) -> AuthorizationRequest:
    """This clinic's own request object, its signature checked with the clinic's own public key."""
    request = _verified_request(request_jwt.strip(), public_jwk)
    if request.client_id != client_id:
        raise UsageError("the request was made by another client id", hint="pass this verifier's own request")
    return request


@lru_cache(maxsize=64)
def _verified_request(token: str, public_jwk: bytes) -> AuthorizationRequest:
    """The outcome depends only on the exact token and key, so a request that verified is remembered by
    both (a cross-device wait and `make bench` check many answers to one request); failures are not."""
    try:
        jws = verify_jws(token, _own_key(public_jwk), typ=REQUEST_TYP, what="request object")
        return msgspec.convert(jws.payload, AuthorizationRequest)
    except (CredentialError, msgspec.ValidationError) as exc:
        raise UsageError(
            f"the request is not one this clinic signed: {exc}",
            hint="pass --request with the request.jwt this verifier made for this answer",
        ) from None


class Checker:
    """A clinic's verifier with its state read once: `check` any number of answers to its own requests.

    Status list tokens are kept in memory while fresh by their ``ttl`` (the time a verifier may cache them),
    then read again from the cache folder, else fetched without redirects, verified and cached; ``offline``
    never fetches. Certificate chains validated before, in this process or an earlier one, come from the
    state's chain cache; `close` writes back what it learnt. A one-shot `verifier check` and a desk that
    checks answer after answer run the same code.
    """

    def __init__(self, state: VerifierState, *, offline: bool = False) -> None:
        config, public_jwk, anchor_pem = state.checking()
        self.state = state
        self.client_id = config.client_id
        self.server = config.server
        self.public_jwk = public_jwk
        self.anchor = _der(anchor_pem)
        self.offline = offline
        self.chains = ChainCache()
        self.chains.remember(state.known_chains())
        self._lists: dict[str, CachedStatusList] = {}
        self._api: RelayApi | None = None

    def check(
        self,
        answer: Mapping[str, Any] | bytes | str,
        request_jwt: str,
        *,
        now: datetime,
        allow_stale: timedelta | None = None,
    ) -> Report:
        """Verify a wallet's answer (``{"vp_token", "state"}``) to this clinic's request; every check
        reported."""
        request = _own_request(self.client_id, self.public_jwk, request_jwt)
        seen: dict[str, str | StatusListToken] = {}

        def status_lookup(uri: str) -> str | StatusListToken:
            if uri not in seen:  # one answer's presentations share their issuers' lists
                token = self._status_token(uri, now)
                seen[uri] = _verified_list(uri, token, self.anchor, now, self.chains)
            return seen[uri]

        return verify_response(
            answer,
            request,
            anchors=[self.anchor],
            now=now,
            status_lookup=status_lookup,
            allow_stale_seconds=None if allow_stale is None else allow_stale.total_seconds(),
            leeway=LEEWAY_SECONDS,
            chain_cache=self.chains,
        )

    def _status_token(self, uri: str, now: datetime) -> str:
        known = self._lists.get(uri)
        if known is not None and _fresh(known, now):
            return known.token
        cached = self.state.cached_status(uri)
        if cached is not None and _fresh(cached, now):
            self._lists[uri] = cached
            return cached.token
        if self.offline:
            if cached is None:
                raise InvalidStatusListError(
                    f"no cached status list for {uri} (offline)", reason="unreachable"
                )
            return cached.token  # stale: accepted only under --allow-stale
        from client.api import ApiError, RelayApi
        from client.verifier.trust import fetch_status_list

        if self._api is None:
            self._api = RelayApi(self.server)
        try:
            fetched = fetch_status_list(
                self.state, self._api, uri, anchor=self.anchor, now=datetime.now(UTC), chains=self.chains
            )
        except (ApiError, CredentialError):
            if cached is None:
                raise
            return cached.token
        self._lists[uri] = fetched
        return fetched.token

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None
        if self.chains.changed:
            self.chains.changed = False
            with contextlib.suppress(OSError):  # a cache: the next check validates the chains again
                self.state.remember_chains(self.chains.known())


def check_answer(
    state: VerifierState,
    answer: Mapping[str, Any] | bytes | str,
    request_jwt: str,
    *,
    now: datetime,
    allow_stale: timedelta | None = None,
    offline: bool = False,
) -> Report:
    """One answer checked by a `Checker` made for it (`verifier check`, the end of `verifier request`)."""
    checker = Checker(state, offline=offline)
    try:
        return checker.check(answer, request_jwt, now=now, allow_stale=allow_stale)
    finally:
        checker.close()


def _fresh(cached: CachedStatusList, now: datetime) -> bool:
    return cached.ttl is not None and now.timestamp() < cached.fetched_at + cached.ttl


@lru_cache(maxsize=4)
def _own_key(public_jwk: bytes) -> PublicKey:
    return public_key_from_jwk(msgspec.json.decode(public_jwk))


@lru_cache(maxsize=8)
def _der(pem: bytes) -> bytes:
    return pem_armored_der(pem)


def _verified_list(
    uri: str, token: str, anchor: bytes, now: datetime, chains: ChainCache
) -> str | StatusListToken:
    """``token`` verified at ``now`` (once per process: after that its chain and times are checked again),
    or the raw token when it does not verify now, for `shared.oid4vp.status` to say why or allow it stale."""
    key = (uri, token, anchor)
    resolver = chains.status_resolver([anchor], now=now)
    try:
        known = _LISTS.get(key)
        if known is None:
            seen: dict[str, object] = {}

            def remember(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicKey:
                seen["x5c"] = header.get("x5c")
                return resolver(header, payload)

            verified = verify_status_list_token(
                token, remember, expected_uri=uri, now=now, leeway_seconds=LEEWAY_SECONDS
            )
            if len(_LISTS) >= MAX_LISTS:
                _LISTS.clear()
            _LISTS[key] = (verified, seen.get("x5c"))
            return verified
        verified, x5c = known
        resolver({"x5c": x5c}, {})
    except Exception:  # it fails again, the same way, in `shared.oid4vp.status`
        return token
    current = now.timestamp()
    if verified.iat > current + LEEWAY_SECONDS:
        return token
    if verified.exp is not None and current - LEEWAY_SECONDS >= verified.exp:
        return token
    return verified
