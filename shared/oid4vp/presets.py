"""The DCQL queries cancuoc's verifiers use by name, and the registration allow-list a query implies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from shared.credentials import VCT_BY_TYPE
from shared.oid4vp.dcql import SD_JWT_FORMAT, parse_dcql

IDENTITY = VCT_BY_TYPE["identity"]
HEALTH_INSURANCE = VCT_BY_TYPE["health_insurance"]
SOCIAL_INSURANCE = VCT_BY_TYPE["social_insurance"]


def _query(query_id: str, vct: str, claims: Sequence[str]) -> dict[str, Any]:
    return {
        "id": query_id,
        "format": SD_JWT_FORMAT,
        "meta": {"vct_values": [vct]},
        "claims": [{"path": [name]} for name in claims],
    }


PRESETS: Mapping[str, dict[str, Any]] = MappingProxyType(
    {
        # Both cards, each carrying citizen_id so the verifier can tell they belong to one citizen.
        "clinic-checkin": {
            "credentials": [
                _query(
                    "health_insurance",
                    HEALTH_INSURANCE,
                    [
                        "card_number",
                        "full_name",
                        "birth_date",
                        "valid_until",
                        "registered_facility",
                        "citizen_id",
                    ],
                ),
                _query("identity", IDENTITY, ["full_name", "portrait", "citizen_id"]),
            ],
            "credential_sets": [{"options": [["health_insurance", "identity"]], "required": True}],
        },
        "age-check": {"credentials": [_query("identity", IDENTITY, ["age_over_18"])]},
        "identity": {
            "credentials": [
                _query("identity", IDENTITY, ["full_name", "birth_date", "citizen_id", "portrait"])
            ]
        },
        "social-insurance": {
            "credentials": [
                _query(
                    "social_insurance",
                    SOCIAL_INSURANCE,
                    ["social_insurance_number", "full_name", "contribution_periods"],
                )
            ]
        },
    }
)
"""Preset name → DCQL query (OpenID4VP §6) as a JSON-ready dict."""


def allowed_claims(dcql: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The registration allow-list covering exactly what ``dcql`` asks: ``[{"vct", "claims": [[path]]}]``."""
    query = parse_dcql(dcql)
    by_vct: dict[str, list[list[Any]]] = {}
    for cq in query.credentials:
        for vct in cq.vct_values:
            paths = by_vct.setdefault(vct, [])
            for path in cq.requested_paths():
                if list(path) not in paths:
                    paths.append(list(path))
    return [{"vct": vct, "claims": claims} for vct, claims in by_vct.items()]
