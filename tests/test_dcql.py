"""DCQL (OpenID4VP §6, §7): the parser refuses every malformed query (P13), the wallet plans its answer."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shared.errors import AccessDeniedError, CredentialError, InvalidClaimError
from shared.oid4vp.dcql import missing_required, parse_dcql, plan, select_path, unrequested_paths
from shared.oid4vp.presets import HEALTH_INSURANCE, IDENTITY, PRESETS, allowed_claims

PID = "urn:cancuoc:identity:1"


def _query(**changes: Any) -> dict[str, Any]:
    cq: dict[str, Any] = {
        "id": "pid",
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [PID]},
        "claims": [
            {"id": "a", "path": ["full_name"]},
            {"id": "b", "path": ["place_of_residence", "province"], "values": ["Hà Nội"]},
            {"id": "c", "path": ["age_over_18"], "values": [True]},
        ],
        "claim_sets": [["c"], ["a", "b"]],
    }
    cq.update(changes)
    return {"credentials": [{k: v for k, v in cq.items() if v is not None}]}


CLAIMS = {
    "full_name": "Nguyễn Văn An",
    "place_of_residence": {"province": "Hà Nội", "ward": "Ba Đình"},
    "age_over_18": True,
    "contribution_periods": [{"from": "2020-01", "to": "2021-01"}, {"from": "2022-01", "to": "2023-01"}],
}


def _bad(obj: Any) -> CredentialError:
    with pytest.raises(CredentialError) as info:
        parse_dcql(obj)
    return info.value


@pytest.mark.parametrize(
    ("mutate", "code", "reason"),
    [
        (
            lambda q: q["credentials"].append(copy.deepcopy(q["credentials"][0])),
            "invalid_request",
            "duplicate_id",
        ),
        (lambda q: q["credentials"][0].update(id="p id"), "invalid_request", "bad_id"),
        (lambda q: q["credentials"][0].update(id=""), "invalid_request", "bad_id"),
        (lambda q: q["credentials"][0].pop("claims"), "invalid_request", "claim_sets_without_claims"),
        (lambda q: q["credentials"][0].update(claim_sets=[["z"]]), "invalid_request", "unknown_claim_id"),
        (lambda q: q["credentials"][0].update(claim_sets=[[]]), "invalid_request", "empty_option"),
        (lambda q: q["credentials"][0].pop("meta"), "invalid_request", "missing_meta"),
        (lambda q: q["credentials"][0].update(meta={}), "invalid_request", "missing_vct_values"),
        (
            lambda q: q["credentials"][0].update(meta={"vct_values": []}),
            "invalid_request",
            "missing_vct_values",
        ),
        (lambda q: q["credentials"][0].update(meta={"vct_values": [1]}), "invalid_request", "bad_vct_values"),
        (lambda q: q["credentials"][0].update(claims=[], claim_sets=None), "invalid_request", "empty_claims"),
        (
            lambda q: q["credentials"][0]["claims"][1].update(path=["full_name"]),
            "invalid_request",
            "duplicate_path",
        ),
        (lambda q: q["credentials"][0]["claims"][0].update(path=[]), "invalid_request", "empty_path"),
        (
            lambda q: q["credentials"][0]["claims"][0].update(path=["a", -1]),
            "invalid_request",
            "negative_index",
        ),
        (lambda q: q["credentials"][0]["claims"][0].update(path=[True]), "invalid_request", "bad_dcql"),
        (lambda q: q["credentials"][0]["claims"][0].update(values=[]), "invalid_request", "empty_values"),
        (lambda q: q["credentials"][0]["claims"][0].pop("id"), "invalid_request", "claim_without_id"),
        (lambda q: q["credentials"][0]["claims"][1].update(id="a"), "invalid_request", "duplicate_claim_id"),
        (
            lambda q: q["credentials"][0].update(format="mso_mdoc"),
            "vp_formats_not_supported",
            "unsupported_format",
        ),
        (lambda q: q["credentials"].clear(), "invalid_request", "no_credentials"),
        (lambda q: q.pop("credentials"), "invalid_request", "bad_dcql"),
        (lambda q: q.update(credential_sets=[]), "invalid_request", "empty_credential_sets"),
        (lambda q: q.update(credential_sets=[{"options": [["nope"]]}]), "invalid_request", "unknown_id"),
        (lambda q: q.update(credential_sets=[{"options": []}]), "invalid_request", "empty_option"),
        (
            lambda q: q["credentials"][0].update(trusted_authorities=[]),
            "invalid_request",
            "bad_trusted_authorities",
        ),
        (lambda q: q["credentials"][0].update(multiple="yes"), "invalid_request", "bad_dcql"),
    ],
)
def test_p13_malformed_query_is_refused(mutate: Any, code: str, reason: str) -> None:
    query = _query()
    mutate(query)
    error = _bad(query)
    assert (error.code, error.reason) == (code, reason)


def test_unknown_members_are_ignored_and_unsupported_formats_skipped() -> None:
    query = _query(extra=1)
    query["credentials"].append({"id": "mdl", "format": "mso_mdoc", "meta": {"doctype_value": "x"}})
    parsed = parse_dcql(query)
    assert [c.id for c in parsed.credentials] == ["pid", "mdl"]
    with pytest.raises(AccessDeniedError):  # the mdoc query is required and nothing can answer it
        plan(parsed, [(PID, CLAIMS)])


def test_select_path_follows_section_7() -> None:
    assert select_path(CLAIMS, ["full_name"]) == ["Nguyễn Văn An"]
    assert select_path(CLAIMS, ["contribution_periods", None, "from"]) == ["2020-01", "2022-01"]
    assert select_path(CLAIMS, ["contribution_periods", 1, "to"]) == ["2023-01"]
    for path, reason in [
        (["missing"], "claim_not_found"),
        (["contribution_periods", 5], "claim_not_found"),
        (["full_name", "x"], "path_type_mismatch"),
        (["place_of_residence", None], "path_type_mismatch"),
        (["contribution_periods", -1], "negative_index"),
    ]:
        with pytest.raises(InvalidClaimError) as info:
            select_path(CLAIMS, path)
        assert info.value.reason == reason


def test_plan_takes_the_first_satisfiable_claim_set() -> None:
    parsed = parse_dcql(_query())
    assert plan(parsed, [("other", CLAIMS), (PID, CLAIMS)]) == {"pid": (1, (("age_over_18",),))}
    minor = {**CLAIMS, "age_over_18": False}
    assert plan(parsed, [(PID, minor)])["pid"].paths == (("full_name",), ("place_of_residence", "province"))


def test_plan_values_need_exact_type() -> None:
    parsed = parse_dcql(_query(claims=[{"path": ["age_over_18"], "values": [1]}], claim_sets=None))
    with pytest.raises(AccessDeniedError) as info:
        plan(parsed, [(PID, CLAIMS)])
    assert info.value.reason == "required_credential_missing"


def test_plan_honours_credential_sets() -> None:
    query = PRESETS["clinic-checkin"]
    parsed = parse_dcql(query)
    identity = {"full_name": "A", "portrait": "x", "citizen_id": "001"}
    card = dict.fromkeys(
        ["card_number", "full_name", "birth_date", "valid_until", "registered_facility", "citizen_id"], "v"
    )
    chosen = plan(parsed, [(IDENTITY, identity), (HEALTH_INSURANCE, card)])
    assert {k: v.candidate for k, v in chosen.items()} == {"identity": 0, "health_insurance": 1}
    with pytest.raises(AccessDeniedError) as info:
        plan(parsed, [(IDENTITY, identity)])
    assert (info.value.code, info.value.reason) == ("access_denied", "required_set_missing")
    optional = {
        **query,
        "credential_sets": [
            {"options": [["identity"]]},
            {"options": [["health_insurance"]], "required": False},
        ],
    }
    assert set(plan(parse_dcql(optional), [(IDENTITY, identity)])) == {"identity"}


def test_verifier_helpers() -> None:
    parsed = parse_dcql(PRESETS["clinic-checkin"])
    assert missing_required(parsed, ["identity"]) == ["health_insurance+identity"]
    assert missing_required(parsed, ["identity", "health_insurance"]) == []
    cq = parsed.credential("health_insurance")
    assert cq is not None
    disclosed = [("card_number",), ("registered_facility",), ("registered_facility", "name"), ("sex",)]
    assert unrequested_paths(cq, disclosed) == [("sex",)]


def test_presets_parse_and_allow_exactly_what_they_ask() -> None:
    for dcql in PRESETS.values():
        parse_dcql(dcql)
    assert allowed_claims(PRESETS["age-check"]) == [{"vct": IDENTITY, "claims": [["age_over_18"]]}]
    clinic = allowed_claims(PRESETS["clinic-checkin"])
    assert [a["vct"] for a in clinic] == [HEALTH_INSURANCE, IDENTITY]
    assert ["citizen_id"] in clinic[0]["claims"]
