"""A small national PKI, three credentials, a status list and a clinic, for the OpenID4VP tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from msgspec.structs import replace

from shared.credentials import VCT_BY_TYPE, example_health_card, example_identity, make_citizen_id
from shared.jose import PrivateKey, generate_private_key
from shared.jose.x5c import x5c_of, x509_hash
from shared.jose.x509 import create_leaf_certificate, create_root_certificate
from shared.oid4vp.dcql import parse_dcql, plan
from shared.oid4vp.presets import PRESETS, allowed_claims
from shared.oid4vp.registration import sign_registration
from shared.oid4vp.report import Report
from shared.oid4vp.request import AuthorizationRequest, create_request_object, new_request
from shared.oid4vp.response import VpResponse, presentation_for
from shared.oid4vp.verify import verify_response
from shared.sdjwt.present import read_unverified
from shared.sdjwt_vc import issue_credential
from shared.statuslist import StatusList, sign_status_list_token

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
MPS = "http://127.0.0.1:8000/mps"
VSS = "http://127.0.0.1:8000/vss"
LIST_URI = "http://127.0.0.1:8000/status/1"
RESPONSE_URI = "http://127.0.0.1:8000/verifier/response/t1"
IDENTITY, HEALTH = VCT_BY_TYPE["identity"], VCT_BY_TYPE["health_insurance"]


@dataclass
class Party:
    key: PrivateKey
    certificate: bytes

    @property
    def chain(self) -> list[bytes]:
        return [self.certificate]

    @property
    def x5c(self) -> list[str]:
        return x5c_of(self.chain)


@dataclass
class World:
    root_key: PrivateKey
    root: bytes
    parties: dict[str, Party]
    holder: PrivateKey
    statuses: StatusList = field(default_factory=lambda: StatusList.new(1024, 2))

    @property
    def anchors(self) -> list[bytes]:
        return [self.root]

    def leaf(
        self, role: str, *, name: str, uris: Sequence[str] = (), now: datetime = NOW, days: int = 365
    ) -> Party:
        key = generate_private_key()
        cert = create_leaf_certificate(
            self.root_key, self.root, key.public, name=name, role=role, now=now, days=days, uris=uris
        )
        return Party(key, cert)

    @property
    def clinic(self) -> Party:
        return self.parties["clinic"]

    @property
    def client_id(self) -> str:
        return "x509_hash:" + x509_hash(self.clinic.certificate)

    def issue(
        self,
        vct: str,
        claims: Mapping[Any, Any],
        *,
        by: str,
        issuer: str | None = None,
        idx: int = 0,
        holder: PrivateKey | None = None,
        header: Mapping[str, Any] | None = None,
    ) -> str:
        party = self.parties[by]
        return issue_credential(
            claims,
            party.key,
            issuer=issuer or (MPS if by == "mps" else VSS),
            vct=vct,
            holder_jwk=(holder or self.holder).public.jwk,
            issued_at=int(NOW.timestamp()) - 3600,
            expires_at=int((NOW + timedelta(days=365)).timestamp()),
            status={"status_list": {"idx": idx, "uri": LIST_URI}},
            header={"x5c": party.x5c} if header is None else header,
        )

    def checkin_cards(self) -> tuple[str, str]:
        """One citizen's identity card (status entry 1) and health card (entry 2), as the clinic asks."""
        identity, health = citizen_claims()
        return self.issue(IDENTITY, identity, by="mps", idx=1), self.issue(HEALTH, health, by="vss", idx=2)

    def status_token(
        self, *, sub: str = LIST_URI, iat: datetime = NOW, ttl: int = 300, by: str = "status"
    ) -> str:
        party = self.parties[by]
        return sign_status_list_token(
            self.statuses, party.key, sub=sub, iat=iat, exp=iat + timedelta(days=1), ttl=ttl, x5c=party.x5c
        )

    def registration(
        self, dcql: Mapping[str, Any], *, client_id: str | None = None, now: datetime = NOW
    ) -> str:
        registrar = self.parties["registrar"]
        return sign_registration(
            registrar.key,
            registrar.chain,
            issuer="http://127.0.0.1:8000/registrar",
            client_id=client_id or self.client_id,
            name="Bệnh viện Bạch Mai",
            purpose="Check-in at the front desk",
            allowed=allowed_claims(dcql),
            now=now,
        )

    def request(self, preset: str = "clinic-checkin", **changes: Any) -> AuthorizationRequest:
        dcql = PRESETS[preset]
        request = new_request(
            client_id=self.client_id,
            response_uri=RESPONSE_URI,
            dcql_query=dcql,
            registration=self.registration(dcql),
            now=NOW,
        )
        return replace(request, **changes) if changes else request

    def request_object(self, request: AuthorizationRequest | None = None) -> str:
        return create_request_object(request or self.request(), self.clinic.key, self.clinic.chain)


def asked_claims(preset: str = "clinic-checkin") -> dict[str, set[str]]:
    """vct → the top-level claim names the preset's DCQL query asks of that card."""
    return {
        query["meta"]["vct_values"][0]: {claim["path"][0] for claim in query["claims"]}
        for query in PRESETS[preset]["credentials"]
    }


def make_world() -> World:
    root_key = generate_private_key()
    root = create_root_certificate(root_key, name="Cancuoc National Root", now=NOW - timedelta(days=1))
    world = World(root_key, root, {}, generate_private_key())
    world.parties["mps"] = world.leaf("mps", name="MPS", uris=[MPS])
    world.parties["vss"] = world.leaf("vss", name="VSS", uris=[VSS])
    world.parties["status"] = world.leaf("status-list", name="Status lists")
    world.parties["registrar"] = world.leaf("registrar", name="Registrar")
    world.parties["clinic"] = world.leaf("verifier", name="Bệnh viện Bạch Mai")
    return world


def citizen_claims(*, serial: int = 123456) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """Identity and health card subject claims of one synthetic citizen."""
    person = example_identity()
    if serial != 123456:
        person = replace(person, citizen_id=make_citizen_id("001", person.birth_date, "female", serial))
    return person.to_claims(today=NOW.date()), example_health_card(person).to_claims(today=NOW.date())


def answer(
    request: AuthorizationRequest,
    credentials: Sequence[str],
    *,
    holder: PrivateKey,
    issued_at: int | None = None,
    nonce: str | None = None,
    audience: str | None = None,
) -> VpResponse:
    """What the wallet posts: plan the DCQL answer and present each chosen credential."""
    views = [read_unverified(c) for c in credentials]
    chosen = plan(parse_dcql(request.dcql_query), [(v.claims["vct"], v.claims) for v in views])
    token = {
        query_id: [
            presentation_for(
                credentials[match.candidate],
                match.paths,
                holder,
                client_id=audience or request.client_id,
                nonce=nonce or request.nonce,
                issued_at=issued_at or int(NOW.timestamp()),
            )
        ]
        for query_id, match in chosen.items()
    }
    return VpResponse(vp_token=token, state=request.state)


def verify_with(
    world: World,
    response: Any,
    request: AuthorizationRequest,
    *,
    lookup: Callable[[str], Any] | None = None,
    **kwargs: Any,
) -> Report:
    """Verify as the clinic does, the status list served fresh unless ``lookup`` says otherwise."""
    return verify_response(
        response,
        request,
        anchors=world.anchors,
        now=kwargs.pop("now", NOW),
        status_lookup=lookup or (lambda uri: world.status_token()),
        **kwargs,
    )


def failed_checks(report: Report) -> set[tuple[str, str, str]]:
    assert not report.valid
    return {(c.name, c.code, c.reason) for c in report.checks if not c.ok}
