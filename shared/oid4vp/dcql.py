"""DCQL (OpenID4VP 1.0 §6, §7): parse a query strictly, select claims, plan a wallet's answer, check one."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import msgspec

from shared.errors import (
    AccessDeniedError,
    InvalidClaimError,
    InvalidRequestError,
    VpFormatsNotSupportedError,
)
from shared.sdjwt.process import ClaimPath

SD_JWT_FORMAT = "dc+sd-jwt"
SUPPORTED_FORMATS = frozenset({SD_JWT_FORMAT})
_ID = re.compile(r"[A-Za-z0-9_-]+")


class _Dcql(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Base of the DCQL structs: unknown members are ignored (§6.1)."""


class ClaimsQuery(_Dcql, frozen=True, kw_only=True, omit_defaults=True):
    """§6.3: one claim by its claims path pointer, optionally with the values it must have."""

    path: ClaimPath
    id: str | None = None
    values: tuple[str | int | bool, ...] | None = None


class TrustedAuthority(_Dcql, frozen=True, kw_only=True, omit_defaults=True):
    type: str
    values: tuple[str, ...]


class CredentialQuery(_Dcql, frozen=True, kw_only=True, omit_defaults=True):
    """§6.1: one credential the verifier asks for."""

    id: str
    format: str
    meta: dict[str, Any] | None = None
    claims: tuple[ClaimsQuery, ...] | None = None
    claim_sets: tuple[tuple[str, ...], ...] | None = None
    multiple: bool = False
    require_cryptographic_holder_binding: bool = True
    trusted_authorities: tuple[TrustedAuthority, ...] | None = None

    @property
    def vct_values(self) -> tuple[str, ...]:
        values = (self.meta or {}).get("vct_values")
        return tuple(values) if isinstance(values, list) else ()

    def requested_paths(self) -> tuple[ClaimPath, ...]:
        """Every claim path this query names (in any claim set)."""
        return tuple(c.path for c in self.claims or ())


class CredentialSetQuery(_Dcql, frozen=True, kw_only=True, omit_defaults=True):
    """§6.2: alternatives of credential query ids, of which one must be satisfied when required."""

    options: tuple[tuple[str, ...], ...]
    required: bool = True
    purpose: Any = None


class DcqlQuery(_Dcql, frozen=True, kw_only=True, omit_defaults=True):
    """§6: the whole query."""

    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[CredentialSetQuery, ...] | None = None

    def credential(self, query_id: str) -> CredentialQuery | None:
        return next((c for c in self.credentials if c.id == query_id), None)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result


class Match(NamedTuple):
    """The wallet's choice for one credential query: which candidate, and which claim paths to disclose."""

    candidate: int
    paths: tuple[ClaimPath, ...]


def parse_dcql(obj: Any) -> DcqlQuery:
    """Parse and check a DCQL query; every rule of §6 that it breaks raises `InvalidRequestError`."""
    try:
        query = msgspec.convert(obj, DcqlQuery)
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(f"dcql_query is malformed: {exc}", reason="bad_dcql") from exc
    if not query.credentials:
        raise InvalidRequestError("dcql_query has no credentials", reason="no_credentials")
    ids = [c.id for c in query.credentials]
    for cq in query.credentials:
        _check_credential_query(cq)
    if len(set(ids)) != len(ids):
        raise InvalidRequestError("two credential queries have the same id", reason="duplicate_id")
    if not any(c.format in SUPPORTED_FORMATS for c in query.credentials):
        raise VpFormatsNotSupportedError("no query asks for dc+sd-jwt", reason="unsupported_format")
    if query.credential_sets is not None:
        if not query.credential_sets:
            raise InvalidRequestError("credential_sets must not be empty", reason="empty_credential_sets")
        for cs in query.credential_sets:
            if not cs.options or any(not option for option in cs.options):
                raise InvalidRequestError("a credential set has an empty option", reason="empty_option")
            if any(i not in ids for option in cs.options for i in option):
                raise InvalidRequestError("a credential set names an unknown query", reason="unknown_id")
    return query


def _check_credential_query(cq: CredentialQuery) -> None:
    if not _ID.fullmatch(cq.id):
        raise InvalidRequestError(f"credential query id {cq.id!r} has illegal characters", reason="bad_id")
    if cq.meta is None:
        raise InvalidRequestError(f"credential query {cq.id!r} has no meta", reason="missing_meta")
    if cq.format == SD_JWT_FORMAT:
        vct_values = cq.meta.get("vct_values")
        if not isinstance(vct_values, list) or not vct_values:
            raise InvalidRequestError("meta.vct_values must not be empty", reason="missing_vct_values")
        if not all(isinstance(v, str) and v for v in vct_values):
            raise InvalidRequestError("meta.vct_values must hold strings", reason="bad_vct_values")
    if cq.trusted_authorities is not None and (
        not cq.trusted_authorities or any(not ta.values for ta in cq.trusted_authorities)
    ):
        raise InvalidRequestError("trusted_authorities must not be empty", reason="bad_trusted_authorities")
    if cq.claims is None:
        if cq.claim_sets is not None:
            raise InvalidRequestError("claim_sets needs claims", reason="claim_sets_without_claims")
        return
    if not cq.claims:
        raise InvalidRequestError("claims must not be empty", reason="empty_claims")
    paths, claim_ids = set(), []
    for claim in cq.claims:
        check_path(claim.path)
        if claim.path in paths:
            raise InvalidRequestError("a claim is requested twice", reason="duplicate_path")
        paths.add(claim.path)
        if claim.values is not None and not claim.values:
            raise InvalidRequestError("values must not be empty", reason="empty_values")
        if claim.id is not None:
            if not _ID.fullmatch(claim.id):
                raise InvalidRequestError(f"claim id {claim.id!r} has illegal characters", reason="bad_id")
            claim_ids.append(claim.id)
    if len(set(claim_ids)) != len(claim_ids):
        raise InvalidRequestError("two claims queries have the same id", reason="duplicate_claim_id")
    if cq.claim_sets is not None:
        if len(claim_ids) != len(cq.claims):
            raise InvalidRequestError("with claim_sets every claim needs an id", reason="claim_without_id")
        if not cq.claim_sets or any(not option for option in cq.claim_sets):
            raise InvalidRequestError("claim_sets has an empty option", reason="empty_option")
        if any(i not in claim_ids for option in cq.claim_sets for i in option):
            raise InvalidRequestError("claim_sets names an unknown claim id", reason="unknown_claim_id")


def check_path(path: Sequence[Any]) -> None:
    """A claims path pointer (§7): non-empty; strings, null and non-negative integers only."""
    if not path:
        raise InvalidRequestError("a claims path must not be empty", reason="empty_path")
    for component in path:
        if isinstance(component, bool) or not isinstance(component, str | int | None):
            raise InvalidRequestError("a claims path holds a bad component", reason="bad_path")
        if isinstance(component, int) and component < 0:
            raise InvalidRequestError("a claims path index must not be negative", reason="negative_index")


def select_path(claims: Any, path: Sequence[str | int | None]) -> list[Any]:
    """Process a claims path pointer (§7.2.1); nothing selected or a type mismatch is an error."""
    selected = [claims]
    for component in path:
        if isinstance(component, int) and not isinstance(component, bool) and component < 0:
            raise InvalidClaimError("a claims path index must not be negative", reason="negative_index")
        following: list[Any] = []
        for element in selected:
            if isinstance(component, str):
                if not isinstance(element, dict):
                    raise InvalidClaimError("claims path expects an object", reason="path_type_mismatch")
                if component in element:
                    following.append(element[component])
            elif component is None or isinstance(component, int):
                if not isinstance(element, list):
                    raise InvalidClaimError("claims path expects an array", reason="path_type_mismatch")
                if component is None:
                    following.extend(element)
                elif component < len(element):
                    following.append(element[component])
            else:
                raise InvalidClaimError("a claims path holds a bad component", reason="bad_path")
        if not following:
            raise InvalidClaimError("the claims path selects nothing", reason="claim_not_found")
        selected = following
    return selected


def claim_matches(claims: Any, claim: ClaimsQuery) -> bool:
    """True when the path selects something and, with ``values``, one value matches in type and value."""
    try:
        found = select_path(claims, claim.path)
    except InvalidClaimError:
        return False
    if claim.values is None:
        return True
    return any(type(f) is type(v) and f == v for f in found for v in claim.values)


def satisfied_paths(cq: CredentialQuery, claims: Mapping[str, Any]) -> tuple[ClaimPath, ...] | None:
    """The claim paths answering ``cq`` from ``claims``: the first satisfiable claim set (§6.4.1), or None."""
    if not cq.claims:
        return ()
    if cq.claim_sets is None:
        return tuple(c.path for c in cq.claims) if all(claim_matches(claims, c) for c in cq.claims) else None
    by_id = {c.id: c for c in cq.claims}
    for option in cq.claim_sets:
        chosen = [by_id[i] for i in option]
        if all(claim_matches(claims, c) for c in chosen):
            return tuple(c.path for c in chosen)
    return None


def plan(query: DcqlQuery, candidates: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Match]:
    """Wallet side (§6.4): for each credential query to answer, the candidate (vct, claims) and its paths.

    Raises `AccessDeniedError` when a required credential cannot be provided: then nothing is sent.
    """
    matches: dict[str, Match] = {}
    for cq in query.credentials:
        if cq.format not in SUPPORTED_FORMATS:
            continue
        for index, (vct, claims) in enumerate(candidates):
            if vct not in cq.vct_values:
                continue
            paths = satisfied_paths(cq, claims)
            if paths is not None:
                matches[cq.id] = Match(index, paths)
                break
    if query.credential_sets is None:
        missing = [cq.id for cq in query.credentials if cq.id not in matches]
        if missing:
            raise AccessDeniedError(
                f"no credential answers {', '.join(missing)}", reason="required_credential_missing"
            )
        return matches
    chosen: set[str] = set()
    for cs in query.credential_sets:
        option = next((o for o in cs.options if all(i in matches for i in o)), None)
        if option is None and cs.required:
            raise AccessDeniedError("a required credential set has no answer", reason="required_set_missing")
        chosen.update(option or ())
    return {i: m for i, m in matches.items() if i in chosen}


def missing_required(query: DcqlQuery, answered: Iterable[str]) -> list[str]:
    """Verifier side (§8.6 step 3): the required queries (or sets, by their options) left unanswered."""
    present = set(answered)
    if query.credential_sets is None:
        return [cq.id for cq in query.credentials if cq.id not in present]
    return [
        " or ".join("+".join(o) for o in cs.options)
        for cs in query.credential_sets
        if cs.required and not any(all(i in present for i in o) for o in cs.options)
    ]


def unrequested_paths(cq: CredentialQuery, disclosed: Iterable[ClaimPath]) -> list[ClaimPath]:
    """Verifier side: disclosed paths that no claims query of ``cq`` covers (see `RequestedPaths`)."""
    return RequestedPaths(cq.requested_paths()).uncovered(disclosed)


_END = object()
"""Marks, in a path tree, that a requested path ends at this node."""


class RequestedPaths:
    """The claim paths a query names, as a tree: which disclosed paths lie on the way to or beneath one.

    A requested path covers a disclosed one when they agree on every position both have, where a ``None``
    (every element) in the request agrees with any array index; walking the tree, each disclosed path costs
    its own length, not the number of requested paths. Built once per query by a verifier that checks many
    answers to it.
    """

    __slots__ = ("_tree",)

    def __init__(self, paths: Iterable[ClaimPath]) -> None:
        self._tree: dict[Any, Any] = {}
        for path in paths:
            node = self._tree
            for component in path:
                node = node.setdefault(component, {})
            node[_END] = True

    def uncovered(self, disclosed: Iterable[ClaimPath]) -> list[ClaimPath]:
        """The disclosed paths that no requested path covers, in their order."""
        tree = self._tree
        # A top-level name is covered when a requested path starts with it (the usual disclosure).
        return [
            d
            for d in disclosed
            if not (d[0] in tree if len(d) == 1 and type(d[0]) is str else _covered(tree, d))
        ]


def _covered(tree: dict[Any, Any], placed: ClaimPath) -> bool:
    nodes = [tree]
    for component in placed:
        following = []
        for node in nodes:
            if _END in node:  # a requested path ends above: ``placed`` lies beneath it
                return True
            child = node.get(component)
            if child is not None:
                following.append(child)
            if component is not None and None in node and isinstance(component, int):
                following.append(node[None])
        if not following:
            return False
        nodes = following
    return True  # on the way to (or at) a requested path
