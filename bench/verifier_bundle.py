"""A synced offline clinic for the verifier bench: PKI, enrolled verifier, cached status list, answer.

Everything is made in-process as of ``now``: a national root with mps, vss and status-list leaves, a clinic
enrolled under it, an identity and a health insurance card with ``x5c`` and status, a ``clinic-checkin``
request object (offline) and the wallet's answer (two presentations with KB-JWTs). The clinic is written
with the verifier's own state module, as `verifier init`, `enroll` and `sync` leave it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from client.verifier.state import CachedStatusList, Config, VerifierState
from client.verifier.trust import remember_certificates
from shared.credentials import VCT_BY_TYPE, example_health_card, example_identity
from shared.jose import PrivateKey, generate_private_key, private_key_to_pem
from shared.jose.x5c import x5c_of, x509_hash
from shared.jose.x509 import create_leaf_certificate, create_root_certificate, der_to_pem
from shared.oid4vp.chains import ChainCache
from shared.oid4vp.dcql import parse_dcql, plan
from shared.oid4vp.presets import PRESETS, allowed_claims
from shared.oid4vp.registration import sign_registration
from shared.oid4vp.request import create_request_object, new_request
from shared.oid4vp.response import presentation_for
from shared.sdjwt.present import read_unverified
from shared.sdjwt_vc import issue_credential
from shared.statuslist import StatusList, sign_status_list_token

BASE = "http://127.0.0.1:9"
LIST_URI = f"{BASE}/status/1"
OFFLINE = "urn:cancuoc:offline"
PRESET = "clinic-checkin"


@dataclass(frozen=True)
class Bundle:
    """A synced offline clinic in ``home``, with the request it made and the wallet's answer as files."""

    home: Path
    request: Path
    response: Path
    issuer_key: PrivateKey
    issuer_jwt: str
    presentations: int
    status_key: PrivateKey
    status_x5c: list[str]
    """The status-list signer, for a test that publishes a newer list."""

    @property
    def state(self) -> VerifierState:
        return VerifierState.at(self.home)


def _leaf(root_key: PrivateKey, root: bytes, role: str, name: str, now: datetime, uris: list[str]) -> Any:
    key = generate_private_key()
    cert = create_leaf_certificate(root_key, root, key.public, name=name, role=role, now=now, uris=uris)
    return key, cert


def build_bundle(home: Path, now: datetime) -> Bundle:
    """Write an enrolled clinic verifier (status list cached, fresh), a request and its answer in ``home``."""
    root_key = generate_private_key()
    root = create_root_certificate(root_key, name="Bench National Root", now=now - timedelta(days=1))
    leaves = {
        "mps": _leaf(root_key, root, "mps", "MPS", now, [f"{BASE}/mps"]),
        "vss": _leaf(root_key, root, "vss", "VSS", now, [f"{BASE}/vss"]),
        "status": _leaf(root_key, root, "status-list", "Status lists", now, []),
        "registrar": _leaf(root_key, root, "registrar", "Registrar", now, []),
    }
    clinic_key = generate_private_key()
    clinic = create_leaf_certificate(
        root_key, root, clinic_key.public, name="Phòng khám Bench", role="verifier", now=now
    )
    client_id = "x509_hash:" + x509_hash(clinic)
    state = VerifierState.at(home)
    state.create(
        Config(name="Phòng khám Bench", server=BASE),
        private_key_to_pem(clinic_key),
        clinic_key.public.jwk,
        der_to_pem(root),
    )
    registrar_key, registrar = leaves["registrar"]
    registration = sign_registration(
        registrar_key,
        [registrar],
        issuer=f"{BASE}/registrar",
        client_id=client_id,
        name="Phòng khám Bench",
        purpose="Check-in at the front desk",
        allowed=allowed_claims(PRESETS[PRESET]),
        now=now,
    )
    state.enroll(der_to_pem(clinic), registration, client_id)
    for role in ("mps", "vss", "status"):
        state.cache_issuer_certificate(role, der_to_pem(leaves[role][1]))
    signers = {role: leaves[role][1] for role in ("mps", "vss", "status")}
    remember_certificates(state, ChainCache(), signers, anchor=root, now=now)
    status_key, status_cert = leaves["status"]
    token = sign_status_list_token(
        StatusList.new(1024, 2),
        status_key,
        sub=LIST_URI,
        iat=now,
        exp=now + timedelta(days=1),
        ttl=3600,
        x5c=x5c_of([status_cert]),
    )
    state.cache_status(CachedStatusList(uri=LIST_URI, token=token, fetched_at=now.timestamp(), ttl=3600))
    holder = generate_private_key()
    person = example_identity()
    credentials = []
    for index, (kind, claims) in enumerate(
        (
            ("identity", person.to_claims(today=now.date())),
            ("health_insurance", example_health_card(person).to_claims(today=now.date())),
        )
    ):
        by = "mps" if kind == "identity" else "vss"
        key, cert = leaves[by]
        credentials.append(
            issue_credential(
                claims,
                key,
                issuer=f"{BASE}/{by}",
                vct=VCT_BY_TYPE[kind],
                holder_jwk=holder.public.jwk,
                issued_at=int(now.timestamp()) - 3600,
                expires_at=int((now + timedelta(days=365)).timestamp()),
                status={"status_list": {"idx": index + 1, "uri": LIST_URI}},
                header={"x5c": x5c_of([cert])},
            )
        )
    request = new_request(
        client_id=client_id,
        response_uri=OFFLINE,
        dcql_query=PRESETS[PRESET],
        registration=registration,
        now=now,
    )
    request_jwt = create_request_object(request, clinic_key, [clinic])
    views = [read_unverified(c) for c in credentials]
    chosen = plan(parse_dcql(request.dcql_query), [(v.claims["vct"], v.claims) for v in views])
    vp_token = {
        query_id: [
            presentation_for(
                credentials[match.candidate],
                match.paths,
                holder,
                client_id=client_id,
                nonce=request.nonce,
                issued_at=int(now.timestamp()),
            )
        ]
        for query_id, match in chosen.items()
    }
    request_path, response_path = home / "request.jwt", home / "response.json"
    request_path.write_text(request_jwt + "\n")
    response_path.write_bytes(msgspec.json.encode({"vp_token": vp_token, "state": request.state}))
    return Bundle(
        home,
        request_path,
        response_path,
        leaves["mps"][0],
        credentials[0].split("~")[0],
        sum(len(p) for p in vp_token.values()),
        status_key,
        x5c_of([status_cert]),
    )
