"""Receiving credentials over OpenID4VCI 1.0 (pre-authorized code flow), as a wallet does.

Every credential is checked against the issuer's own published keys and metadata before the caller
stores anything: signature, `vct` of the configuration, no Key Binding JWT, and `cnf` one of our keys.
The signing key must be published as an issuer's (not the status list signer's, by its certificate role),
and when the wallet pins a national root the credential's ``x5c`` must also chain to it (HAIP 1.0 §5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from client.api import IssuerApi
from client.wallet.trust import PublishedKey, published_keys, require_key_role
from shared.credentials import ALLOWED_ISSUER_ROLE
from shared.errors import CredentialError
from shared.jose import KeyResolver, PrivateKey, PublicKey, generate_private_key
from shared.jose.x5c import ISSUER_ROLES, x5c_issuer_resolver
from shared.oid4vci import (
    AuthorizationServerMetadata,
    CredentialConfiguration,
    CredentialOffer,
    IssuerMetadata,
    JwtVcIssuerMetadata,
    create_proof,
    parse_offer_link,
    well_known_url,
)
from shared.sdjwt.present import read_unverified
from shared.sdjwt_vc import TrustedIssuer, trusted_issuer_keys, verify_credential

MAX_COPIES = 10


class ReceiveError(Exception):
    """The offer cannot be accepted; nothing was stored."""


@dataclass(frozen=True)
class ReceivedCopy:
    """One issued SD-JWT VC, byte for byte as the issuer sent it, and the device key it is bound to."""

    credential: str
    key: PrivateKey


@dataclass(frozen=True)
class ReceivedCard:
    """Every copy of one credential configuration from one issuer."""

    issuer: str
    configuration_id: str
    vct: str
    copies: tuple[ReceivedCopy, ...]
    display: dict[str, dict[str, str]] = field(default_factory=dict)
    """locale → names from the issuer's metadata: "" for the credential, then one per top-level claim."""


@dataclass(frozen=True)
class PendingOffer:
    """An offer read and its issuer's metadata fetched, before the citizen types the transaction code."""

    offer: CredentialOffer
    metadata: IssuerMetadata
    needs_tx_code: bool


def open_offer(api: IssuerApi, link: str) -> PendingOffer:
    """Read an offer link (by value or by reference) and fetch the issuer's metadata (§4.1, §12.2)."""
    reference = parse_offer_link(link)
    offer = reference.offer or api.fetch_offer(reference.offer_uri or "")
    issuer = offer.credential_issuer
    metadata = api.get(well_known_url(issuer, "openid-credential-issuer"), IssuerMetadata)
    if metadata.credential_issuer != issuer:
        raise ReceiveError(f"metadata names issuer {metadata.credential_issuer!r}, not {issuer!r}")
    unknown = set(offer.credential_configuration_ids) - set(metadata.credential_configurations_supported)
    if unknown:
        raise ReceiveError(f"the issuer does not publish {', '.join(sorted(unknown))}")
    grant = offer.grants.pre_authorized_code if offer.grants else None
    if grant is None:
        raise ReceiveError("the offer has no pre-authorized code (only that grant is supported)")
    return PendingOffer(offer, metadata, grant.tx_code is not None)


def redeem_offer(
    api: IssuerApi,
    pending: PendingOffer,
    *,
    tx_code: str | None,
    copies: int,
    now: datetime,
    anchor: bytes | None,
) -> list[ReceivedCard]:
    """Token, nonce, proofs, credentials; every credential verified before it is returned.

    ``anchor`` is the wallet's pinned national root (DER): every credential must then also carry an
    ``x5c`` chain to it whose leaf is an issuer allowed for the ``vct`` and names the ``iss``.
    """
    offer, metadata = pending.offer, pending.metadata
    issuer = offer.credential_issuer
    grant = offer.grants.pre_authorized_code if offer.grants else None
    if grant is None:
        raise ReceiveError("the offer has no pre-authorized code")
    server = metadata.authorization_servers[0] if metadata.authorization_servers else issuer
    token_endpoint = api.get(
        well_known_url(server, "oauth-authorization-server"), AuthorizationServerMetadata
    )
    form = {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code"}
    form["pre-authorized_code"] = grant.pre_authorized_code
    if pending.needs_tx_code:
        if not tx_code:
            raise ReceiveError("this offer needs the transaction code sent to you separately")
        form["tx_code"] = tx_code
    token = api.token(token_endpoint.token_endpoint, form)
    batch = metadata.batch_credential_issuance.batch_size if metadata.batch_credential_issuance else 1
    count = max(1, min(copies, batch, MAX_COPIES))
    issuer_keys = _published_keys(api, issuer)
    identifiers = {
        detail.credential_configuration_id or "": detail.credential_identifiers
        for detail in token.authorization_details
        if detail.type == "openid_credential"
    }
    cards = []
    for configuration_id in offer.credential_configuration_ids:
        configuration = metadata.credential_configurations_supported[configuration_id]
        keys = [generate_private_key() for _ in range(count)]
        nonce = api.nonce(metadata.nonce_endpoint) if metadata.nonce_endpoint else ""
        proofs = [create_proof(k, audience=issuer, nonce=nonce, issued_at=int(now.timestamp())) for k in keys]
        body: dict[str, object] = {"proofs": {"jwt": proofs}}
        if identifiers.get(configuration_id):
            body["credential_identifier"] = identifiers[configuration_id][0]
        else:
            body["credential_configuration_id"] = configuration_id
        response = api.credential(metadata.credential_endpoint, token.access_token, body)
        received = tuple(
            _checked_copy(item.credential, keys, issuer, issuer_keys, configuration.vct or "", now, anchor)
            for item in response.credentials
        )
        if len({id(copy.key) for copy in received}) != len(received):
            raise ReceiveError("the issuer bound two credentials to the same key")
        if not received:
            raise ReceiveError(f"the issuer returned no {configuration_id} credential")
        cards.append(
            ReceivedCard(
                issuer, configuration_id, configuration.vct or "", received, display_names(configuration)
            )
        )
    return cards


def display_names(configuration: CredentialConfiguration) -> dict[str, dict[str, str]]:
    """The issuer's display names of a credential and its top-level claims, by locale (OID4VCI §12.2.4)."""
    names: dict[str, dict[str, str]] = {}
    described = configuration.credential_metadata
    if described is None:
        return names
    for display in described.display:
        if display.locale and display.name:
            names.setdefault(display.locale, {})[""] = display.name
    for claim in described.claims:
        if len(claim.path) == 1 and isinstance(claim.path[0], str):
            for display in claim.display:
                if display.locale and display.name:
                    names.setdefault(display.locale, {})[claim.path[0]] = display.name
    return names


def _published_keys(api: IssuerApi, issuer: str) -> tuple[PublishedKey, ...]:
    document = api.get(well_known_url(issuer, "jwt-vc-issuer"), JwtVcIssuerMetadata)
    if document.issuer != issuer:
        raise ReceiveError(f"the issuer's key document names {document.issuer!r}, not {issuer!r}")
    if document.jwks is None or document.jwks_uri is not None:
        raise ReceiveError("the issuer's key document must carry jwks (and not jwks_uri)")
    try:
        return published_keys(document.jwks.keys)
    except CredentialError as exc:
        raise ReceiveError(f"the issuer publishes an unusable key: {exc}") from exc


def _issuer_key_resolver(issuer: str, published: tuple[PublishedKey, ...], vct: str) -> KeyResolver:
    """The published key the credential names by ``kid``, refused when certified for another role."""
    keys = tuple(p.key for p in published)
    by_kid = trusted_issuer_keys([TrustedIssuer(issuer, keys, frozenset({vct}))])
    allowed = ALLOWED_ISSUER_ROLE.get(vct)
    roles = frozenset({allowed}) if allowed else ISSUER_ROLES

    def resolve(header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicKey:
        return require_key_role(published, by_kid(header, payload), roles)

    return resolve


def _checked_copy(
    credential: str,
    keys: list[PrivateKey],
    issuer: str,
    published: tuple[PublishedKey, ...],
    vct: str,
    now: datetime,
    anchor: bytes | None,
) -> ReceivedCopy:
    try:
        if anchor is not None:
            verify_credential(credential, x5c_issuer_resolver([anchor], now=now), now=now, key_binding=None)
    except CredentialError as exc:
        raise ReceiveError(
            f"the issuer sent a credential not certified under your national root: {exc.code}: {exc}"
        ) from exc
    try:
        resolver = _issuer_key_resolver(issuer, published, vct)
        verified = verify_credential(credential, resolver, now=now, key_binding=None)
        read_unverified(credential)
    except CredentialError as exc:
        raise ReceiveError(f"the issuer sent a credential that does not verify: {exc.code}: {exc}") from exc
    cnf = verified.claims.get("cnf", {}).get("jwk", {})
    for key in keys:
        if key.public.jwk.items() <= cnf.items():
            return ReceivedCopy(credential, key)
    raise ReceiveError("the issuer bound a credential to a key this wallet did not prove")
