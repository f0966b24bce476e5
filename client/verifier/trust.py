"""The clinic's trust material: the pinned root; `verifier sync`'s certificates, status lists and names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from client.verifier import TrustAnchorError
from client.verifier.state import CachedStatusList, VerifierState
from shared.errors import CredentialError
from shared.jose.x5c import ROLE_URI_PREFIX, VerifiedChain, pem_armored_der, x5c_of
from shared.jose.x509 import der_to_pem, pem_to_der
from shared.oid4vp.chains import ChainCache
from shared.statuslist import verify_status_list_token

if TYPE_CHECKING:
    from client.api import RelayApi

ROOT_PATH = "/pki/root.pem"
PEM_TYPE = "application/x-pem-file"
STATUS_LIST_TYPE = "application/statuslist+jwt"
ISSUER_ROLES = ("mps", "vss")


def read_trust_anchor(source: str) -> bytes:
    """The root certificate (DER) from a PEM file or an http(s) URL (fetched without following redirects)."""
    if urlsplit(source).scheme in ("http", "https"):
        from client.api import ApiError, RelayApi

        try:
            with RelayApi() as api:
                text = api.get_text(source, PEM_TYPE)
        except ApiError as exc:
            raise TrustAnchorError(f"cannot download the trust anchor: {exc}", hint="check the URL") from exc
        data = text.encode()
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise TrustAnchorError(
                f"cannot read the trust anchor {source}: {exc.strerror}",
                hint="pass the root certificate's PEM file or its URL (e.g. http://127.0.0.1:8000/pki/root.pem)",
            ) from None
    try:
        return pem_to_der(data)
    except (CredentialError, ValueError) as exc:
        raise TrustAnchorError(
            f"{source} holds no PEM certificate: {exc}", hint="pass the root's PEM"
        ) from None


def root_url(server: str) -> str:
    return server.rstrip("/") + ROOT_PATH


@dataclass
class SyncResult:
    """What `verifier sync` stored, and the lists it could not."""

    certificates: dict[str, Path] = field(default_factory=dict)
    status_lists: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    display_names: int = 0


def sync(state: VerifierState, api: RelayApi, *, now: datetime) -> SyncResult:
    """Fetch the server's PKI bundle (same root as pinned), its certificates, lists and display names."""
    from client.api import ApiError

    anchor = pem_armored_der(state.anchor_pem())  # as `verifier check` reads it
    bundle = api.pki()
    try:
        published = pem_to_der(bundle.root.encode())
    except (CredentialError, ValueError) as exc:
        raise TrustAnchorError(f"the server publishes a bad root: {exc}") from None
    if published != anchor:
        raise TrustAnchorError(
            "the server's root certificate is not the pinned trust anchor",
            hint="this server belongs to another trust domain; check --server and the pinned root",
        )
    result = SyncResult()
    issuers: list[str] = []
    certificates = {role: pem_to_der(pem.encode()) for role, pem in bundle.certificates.items()}
    chains = ChainCache()
    for role, chain in remember_certificates(state, chains, certificates, anchor=anchor, now=now).items():
        result.certificates[role] = state.cache_issuer_certificate(role, der_to_pem(chain.leaf))
        if role in ISSUER_ROLES:
            issuers.extend(u for u in chain.uris if not u.startswith(ROLE_URI_PREFIX))
    for uri in bundle.status_lists:
        try:
            fetch_status_list(state, api, uri, anchor=anchor, now=now, chains=chains)
        except (ApiError, CredentialError) as exc:
            result.failed[uri] = str(exc)
        else:
            result.status_lists.append(uri)
    names = _display_names(api, issuers)
    state.cache_display_names(names)
    result.display_names = len(names["credentials"])
    return result


def remember_certificates(
    state: VerifierState,
    chains: ChainCache,
    certificates: dict[str, bytes],
    *,
    anchor: bytes,
    now: datetime,
) -> dict[str, VerifiedChain]:
    """Validate each signer's certificate (DER, by role) under the root, as the ``x5c`` of its tokens will
    carry it, into ``chains`` and the chain cache of ``state``: `verifier check` then finds them validated,
    and need not load the X.509 code at all."""
    chains.remember(state.known_chains())
    verified = {
        role: chains.verify(x5c_of([d]), [anchor], now=now) for role, d in sorted(certificates.items())
    }
    state.remember_chains(chains.known())
    return verified


def fetch_status_list(
    state: VerifierState, api: RelayApi, uri: str, *, anchor: bytes, now: datetime, chains: ChainCache
) -> CachedStatusList:
    """Fetch one status list token, verify it (signer certificate under the root), and cache it."""
    token = api.get_text(uri, STATUS_LIST_TYPE).strip()
    verified = verify_status_list_token(
        token, chains.status_resolver([anchor], now=now), expected_uri=uri, now=now
    )
    cached = CachedStatusList(uri=uri, token=token, fetched_at=now.timestamp(), ttl=verified.ttl)
    state.cache_status(cached)
    return cached


def _display_names(api: RelayApi, issuers: list[str]) -> dict[str, Any]:
    """The issuers' names in each locale: ``{"issuers": {iss: {locale: name}}, "credentials": {vct: {locale:
    {"": credential name, claim: claim name}}}}``, from each issuer's OID4VCI metadata."""
    from client.api import ApiError
    from shared.oid4vci import IssuerMetadata, well_known_url

    by_issuer: dict[str, dict[str, str]] = {}
    by_vct: dict[str, dict[str, dict[str, str]]] = {}
    for issuer in issuers:
        try:
            metadata = api.get(well_known_url(issuer, "openid-credential-issuer"), IssuerMetadata)
        except ApiError:
            continue
        by_issuer[issuer] = {d.locale[:2]: d.name for d in metadata.display if d.name and d.locale}
        for configuration in metadata.credential_configurations_supported.values():
            shown = configuration.credential_metadata
            if configuration.vct is None or shown is None:
                continue
            locales = by_vct.setdefault(configuration.vct, {})
            for display in shown.display:
                if display.name and display.locale:
                    locales.setdefault(display.locale[:2], {})[""] = display.name
            for claim in shown.claims:
                if len(claim.path) == 1 and isinstance(claim.path[0], str):
                    for display in claim.display:
                        if display.name and display.locale:
                            locales.setdefault(display.locale[:2], {})[claim.path[0]] = display.name
    return {"issuers": by_issuer, "credentials": by_vct}
