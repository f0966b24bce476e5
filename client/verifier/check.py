"""`verifier check` and the end of `verifier request`: one code path from a wallet's answer to a report.

Status lists come from the cache while fresh (by their ``ttl``), else are fetched without redirects,
verified and cached; ``offline`` never fetches. Which list is fresh enough, or stale but allowed, is
decided by `shared.oid4vp.status` from the token itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec

from client.verifier import UsageError
from client.verifier.state import CachedStatusList, VerifierState
from shared.errors import CredentialError, InvalidStatusListError
from shared.jose import verify_jws
from shared.jose.x509 import certificate_public_key, pem_to_der
from shared.oid4vp.report import Report
from shared.oid4vp.request import REQUEST_TYP, AuthorizationRequest
from shared.oid4vp.verify import verify_response

if TYPE_CHECKING:
    from client.api import RelayApi


def load_request(state: VerifierState, request_jwt: str) -> AuthorizationRequest:
    """This clinic's own request object, its signature checked against the clinic's certificate."""
    own_key = certificate_public_key(pem_to_der(state.certificate_pem()))
    try:
        jws = verify_jws(request_jwt.strip(), own_key, typ=REQUEST_TYP, what="request object")
        request = msgspec.convert(jws.payload, AuthorizationRequest)
    except (CredentialError, msgspec.ValidationError) as exc:
        raise UsageError(
            f"the request is not one this clinic signed: {exc}",
            hint="pass --request with the request.jwt this verifier made for this answer",
        ) from None
    if request.client_id != state.config().client_id:
        raise UsageError("the request was made by another client id", hint="pass this verifier's own request")
    return request


class StatusSource:
    """``status_lookup`` for `verify_response`: the cached token while fresh, else fetched (not offline)."""

    def __init__(self, state: VerifierState, *, now: datetime, offline: bool) -> None:
        self.state = state
        self.now = now
        self.offline = offline
        self._api: RelayApi | None = None

    def __call__(self, uri: str) -> str:
        cached = self.state.cached_status(uri)
        if cached is not None and _fresh(cached, self.now):
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
            self._api = RelayApi(self.state.config().server)
        try:
            anchor = pem_to_der(self.state.anchor_pem())
            fetched = fetch_status_list(self.state, self._api, uri, anchor=anchor, now=datetime.now(UTC))
        except (ApiError, CredentialError):
            if cached is None:
                raise
            return cached.token
        return fetched.token

    def close(self) -> None:
        if self._api is not None:
            self._api.close()


def check_answer(
    state: VerifierState,
    answer: Mapping[str, Any] | bytes | str,
    request_jwt: str,
    *,
    now: datetime,
    allow_stale: timedelta | None = None,
    offline: bool = False,
) -> Report:
    """Verify a wallet's answer (``{"vp_token", "state"}``) to this clinic's request; every check reported."""
    request = load_request(state, request_jwt)
    anchor = pem_to_der(state.anchor_pem())
    source = StatusSource(state, now=now, offline=offline)
    try:
        return verify_response(
            answer,
            request,
            anchors=[anchor],
            now=now,
            status_lookup=source,
            allow_stale_seconds=None if allow_stale is None else allow_stale.total_seconds(),
        )
    finally:
        source.close()


def _fresh(cached: CachedStatusList, now: datetime) -> bool:
    return cached.ttl is not None and now.timestamp() < cached.fetched_at + cached.ttl
