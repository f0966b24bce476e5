"""The OpenID4VP relay, the wallet's side: direct_post answers (OID4VP §8.2), P15, P19 and P20."""

from __future__ import annotations

import json
from typing import Any

import pytest
from relay_support import (
    BASE,
    VP_TOKEN,
    Clinic,
    answer,
    assert_error,
    good_answer,
    ready,
    registered_clinic,
    result,
)


@pytest.fixture
def clinic(client: Any, database_url: str, clock: Any) -> Clinic:
    return registered_clinic(database_url, clock)


def test_a_second_answer_is_refused_before_and_after_retrieval(client: Any, clinic: Clinic) -> None:
    """P19: the same response posted twice."""
    transaction = ready(client, clinic)
    assert answer(client, transaction, good_answer()).status_code == 200
    assert_error(answer(client, transaction, good_answer()), 400, "invalid_request")
    assert result(client, transaction).json()["vp_token"] == VP_TOKEN
    assert_error(answer(client, transaction, good_answer()), 400, "invalid_request")


@pytest.mark.parametrize("state", ["st-other", ""])
def test_an_answer_with_another_state_is_refused(client: Any, clinic: Clinic, state: str) -> None:
    """P20: `state` missing or not matching the live request."""
    transaction = ready(client, clinic)
    assert_error(answer(client, transaction, good_answer(state)), 400, "invalid_request")
    assert_error(answer(client, transaction, {"vp_token": json.dumps(VP_TOKEN)}), 400, "invalid_request")
    assert result(client, transaction).status_code == 202
    assert answer(client, transaction, good_answer()).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"vp_token=%7B%7D&state",  # a field without '='
        b"vp_token=a&vp_token=b&state=st-4ad7f1c0e9b3",
        b"state=st-4ad7f1c0e9b3&presentation_submission=x",
        b"\xff\xfe=1",
        b"state=st-4ad7f1c0e9b3",
        b"",
    ],
)
def test_a_malformed_form_is_400(client: Any, clinic: Clinic, body: bytes) -> None:
    transaction = ready(client, clinic)
    assert_error(answer(client, transaction, body), 400, "invalid_request")


@pytest.mark.parametrize(
    "vp_token",
    [
        '["eyJ..."]',
        '"eyJ..."',
        "{}",
        '{"q": "eyJ..."}',
        '{"q": []}',
        '{"q": [1]}',
        '{"q": [""]}',
        '{"q": ["a"], "q": ["b"]}',
        "{not json",
    ],
)
def test_a_vp_token_that_is_not_an_object_of_string_arrays_is_400(
    client: Any, clinic: Clinic, vp_token: str
) -> None:
    """P15: a legacy string or array `vp_token`, or members that are not arrays of presentations."""
    transaction = ready(client, clinic)
    assert_error(
        answer(client, transaction, {"vp_token": vp_token, "state": "st-4ad7f1c0e9b3"}),
        400,
        "invalid_request",
    )
    assert result(client, transaction).status_code == 202


@pytest.mark.parametrize(
    "form",
    [
        {"error": "access_denied", "vp_token": json.dumps(VP_TOKEN), "state": "st-4ad7f1c0e9b3"},
        {"error": 'bad"quote', "state": "st-4ad7f1c0e9b3"},
        {"error": "access_denied", "error_description": "x" * 1025, "state": "st-4ad7f1c0e9b3"},
    ],
)
def test_a_malformed_error_answer_is_400(client: Any, clinic: Clinic, form: dict[str, str]) -> None:
    transaction = ready(client, clinic)
    assert_error(answer(client, transaction, form), 400, "invalid_request")


def test_an_answer_in_another_media_type_is_400(client: Any, clinic: Clinic) -> None:
    transaction = ready(client, clinic)
    path = transaction["response_uri"].removeprefix(BASE)
    assert_error(client.post(path, json=good_answer()), 400, "invalid_request")


def test_an_oversized_answer_is_413_but_a_large_one_is_accepted(client: Any, clinic: Clinic) -> None:
    transaction = ready(client, clinic)
    large = {"vp_token": json.dumps({"clinic_checkin": ["x" * 200_000]}), "state": "st-4ad7f1c0e9b3"}
    huge = {"vp_token": json.dumps({"clinic_checkin": ["x" * 600_000]}), "state": "st-4ad7f1c0e9b3"}
    assert_error(answer(client, transaction, huge), 413, "payload_too_large")
    assert answer(client, transaction, large).status_code == 200
    assert len(result(client, transaction).json()["vp_token"]["clinic_checkin"][0]) == 200_000
