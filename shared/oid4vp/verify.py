"""The verifier's check of an OpenID4VP response against its own request (§8.6, §14.1.2, HAIP §5, §6.1).

Every check is named in the `Report`; a failed presentation does not stop the others from being checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple

import msgspec

from shared.errors import CredentialError, InvalidResponseError
from shared.oid4vp.chains import ChainCache
from shared.oid4vp.dcql import (
    ClaimsQuery,
    CredentialQuery,
    DcqlQuery,
    RequestedPaths,
    missing_required,
    parse_dcql,
    select_path,
)
from shared.oid4vp.presentation import CheckedPresentation, PresentationPolicy, check_presentation
from shared.oid4vp.report import Report
from shared.oid4vp.request import AuthorizationRequest
from shared.oid4vp.response import VpResponse, parse_response
from shared.oid4vp.status import StatusLookup
from shared.sdjwt.process import ClaimPath
from shared.sdjwt.verify import KeyBindingPolicy

SAME_HOLDER_CLAIM = "citizen_id"
MAX_QUERIES = 64


class _Asked(NamedTuple):
    """What one credential query asks for, derived once per query."""

    query: CredentialQuery
    vct_values: frozenset[str]
    claims: tuple[ClaimsQuery, ...]
    options: tuple[tuple[ClaimsQuery, ...], ...]
    """The claim sets (§6.4.1), each as its claims queries; one empty option when no claim is asked."""
    paths: RequestedPaths

    @classmethod
    def of(cls, cq: CredentialQuery) -> _Asked:
        claims = cq.claims or ()
        if not claims:
            options: tuple[tuple[ClaimsQuery, ...], ...] = ((),)
        elif cq.claim_sets is None:
            options = (claims,)
        else:
            by_id = {c.id: c for c in claims}
            options = tuple(tuple(by_id[i] for i in option) for option in cq.claim_sets)
        return cls(cq, frozenset(cq.vct_values), claims, options, RequestedPaths(cq.requested_paths()))


class _Query(NamedTuple):
    dcql: DcqlQuery
    asked: tuple[_Asked, ...]

    @classmethod
    def of(cls, query: DcqlQuery) -> _Query:
        return cls(query, tuple(_Asked.of(cq) for cq in query.credentials))


_QUERIES: dict[bytes, _Query] = {}


def verify_response(
    response: VpResponse | Mapping[str, Any] | bytes | str,
    request: AuthorizationRequest,
    *,
    anchors: Sequence[bytes],
    now: datetime,
    status_lookup: StatusLookup | None,
    allow_stale_seconds: float | None = None,
    leeway: int = 60,
    kb_max_age: int = 300,
    chain_cache: ChainCache | None = None,
) -> Report:
    """Check ``response`` as the answer to ``request`` (the verifier's own) and report every finding.

    A verifier that checks many answers passes one ``chain_cache`` to all (same results, fewer path
    validations).
    """
    report = Report()
    query, asked_for = _parse_query(request.dcql_query)
    parsed = report.run(
        "response_shape", lambda: _shape(response, query), "vp_token answers the query's shape"
    )
    if parsed is None:
        return report
    report.run("state", lambda: _state(parsed, request), "state matches the request")
    answered: list[str] = []
    checked: list[CheckedPresentation] = []
    vp_token = parsed.vp_token or {}
    policies: dict[bool, PresentationPolicy] = {}
    for asked in asked_for:
        cq = asked.query
        presentations = vp_token.get(cq.id)
        if not presentations:
            continue
        answered.append(cq.id)
        binding = cq.require_cryptographic_holder_binding
        policy = policies.get(binding)
        if policy is None:
            policies[binding] = policy = PresentationPolicy(
                anchors,
                now,
                status_lookup,
                KeyBindingPolicy(request.client_id, request.nonce, kb_max_age) if binding else None,
                allow_stale_seconds=allow_stale_seconds,
                leeway_seconds=leeway,
                chains=chain_cache,
            )
        for text in presentations:
            result = check_presentation(text, policy, report, query_id=cq.id)
            checked.append(result)
            if result.claims is not None:
                answers = partial(_answers, asked, result.claims, result)
                report.run("dcql", answers, "disclosed exactly what was asked", f"{cq.id}: ")
            if result.credential is not None:
                report.credentials.append(result.credential)
    report.run("dcql", lambda: _required(query, answered), "every required credential is present")
    report.run("same_holder", lambda: _same_holder(checked), "all credentials name the same citizen")
    return report


def _parse_query(dcql_query: dict[str, Any]) -> tuple[DcqlQuery, tuple[_Asked, ...]]:
    """`parse_dcql` and what each credential query asks, remembered by the query's exact JSON (a verifier
    checks many answers to one request).

    A miss parses the JSON itself, not ``dcql_query``: values that encode alike (a tuple and a list) then
    parse alike, whichever came first.
    """
    try:
        key = msgspec.json.encode(dcql_query)
    except (TypeError, msgspec.EncodeError):
        return _Query.of(parse_dcql(dcql_query))  # not JSON: let it say why
    known = _QUERIES.get(key)
    if known is None:
        known = _Query.of(parse_dcql(msgspec.json.decode(key)))
        if len(_QUERIES) >= MAX_QUERIES:
            _QUERIES.clear()
        _QUERIES[key] = known
    return known


def _shape(response: VpResponse | Mapping[str, Any] | bytes | str, query: DcqlQuery) -> VpResponse:
    parsed = response if isinstance(response, VpResponse) else parse_response(response)
    if parsed.error is not None:
        raise InvalidResponseError(f"the wallet answered with error {parsed.error!r}", reason=parsed.error)
    token = parsed.vp_token or {}
    for query_id, presentations in token.items():
        cq = query.credential(query_id)
        if cq is None:  # P15
            raise InvalidResponseError(
                f"vp_token answers unknown query {query_id!r}", reason="unknown_query_id"
            )
        if not presentations:
            raise InvalidResponseError(
                f"{query_id}: an empty array of presentations", reason="empty_presentations"
            )
        if len(presentations) > 1 and not cq.multiple:
            raise InvalidResponseError(
                f"{query_id}: {len(presentations)} presentations where multiple is false",
                reason="not_multiple",
            )
    return parsed


def _state(response: VpResponse, request: AuthorizationRequest) -> None:
    if request.state is not None and response.state != request.state:  # P20
        raise InvalidResponseError("state does not match the request", reason="state_mismatch")


def _answers(asked: _Asked, claims: dict[str, Any], result: CheckedPresentation) -> None:
    vct = claims.get("vct")
    if vct not in asked.vct_values:  # P17
        raise InvalidResponseError(f"vct {vct!r} was not asked for", reason="vct_not_requested")
    present: dict[ClaimPath, bool] = {}
    matches: dict[ClaimPath, bool] = {}
    for c in asked.claims:
        path = c.path
        if len(path) == 1 and type(path[0]) is str and c.values is None:  # a top-level claim, any value
            present[path] = matches[path] = path[0] in claims
            continue
        try:
            found = select_path(claims, path)
        except CredentialError:
            present[path] = matches[path] = False
            continue
        present[path] = True
        matches[path] = c.values is None or any(
            type(f) is type(v) and f == v for f in found for v in c.values
        )
    if not any(all(present[c.path] for c in option) for option in asked.options):  # P16
        raise InvalidResponseError("a requested claim was not disclosed", reason="claim_missing")
    if matches != present and not any(all(matches[c.path] for c in option) for option in asked.options):
        raise InvalidResponseError("a claim does not have a requested value", reason="value_mismatch")  # P24
    extra = asked.paths.uncovered(result.disclosed_paths)
    if extra:
        names = ", ".join("/".join(map(str, p)) for p in extra)
        raise InvalidResponseError(f"disclosed without being asked: {names}", reason="claim_not_requested")


def _required(query: DcqlQuery, answered: list[str]) -> None:
    missing = missing_required(query, answered)
    if missing:  # P16, §8.6 step 3
        raise InvalidResponseError(
            f"required credential missing: {', '.join(missing)}", reason="credential_missing"
        )


def _same_holder(checked: list[CheckedPresentation]) -> None:
    ids = {c.claims[SAME_HOLDER_CLAIM] for c in checked if c.claims and SAME_HOLDER_CLAIM in c.claims}
    if len(ids) > 1:
        raise InvalidResponseError("the credentials name different citizens", reason="different_citizens")
