"""The OpenID4VP relay, the clinic's side: transactions, request objects, one retrieval, expiry."""

from __future__ import annotations

from typing import Any

import pytest
from family_rows import rows, run_on
from relay_support import (
    BASE,
    JWT_TYPE,
    VP_TOKEN,
    Clinic,
    answer,
    assert_error,
    good_answer,
    make_clinic,
    put_request,
    ready,
    registered_clinic,
    result,
    start,
)

from server.store.schema import vp_transactions
from shared.jose import generate_private_key, sign_jwt
from shared.jose.x5c import x5c_of


@pytest.fixture
def clinic(client: Any, database_url: str, clock: Any) -> Clinic:
    return registered_clinic(database_url, clock)


def test_a_cross_device_presentation_is_relayed_once(client: Any, clinic: Clinic) -> None:
    transaction = start(client)
    tid = transaction["transaction_id"]
    assert len(tid) >= 22
    assert len(transaction["read_token"]) >= 22
    assert transaction["request_uri"] == f"{BASE}/verifier/request/{tid}"
    assert transaction["response_uri"] == f"{BASE}/verifier/response/{tid}"
    assert transaction["expires_in"] == 600
    pending = result(client, transaction)
    assert (pending.status_code, pending.json()) == (202, {"status": "pending"})

    signed = clinic.request_object(transaction)
    assert put_request(client, transaction, signed).status_code == 204
    assert put_request(client, transaction, signed).status_code == 204  # a retry of the same object
    fetched = client.get(transaction["request_uri"].removeprefix(BASE))
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == JWT_TYPE
    assert fetched.headers["cache-control"] == "no-store"
    assert fetched.text == signed
    assert result(client, transaction).status_code == 202

    posted = answer(client, transaction, good_answer())
    assert (posted.status_code, posted.json()) == (200, {})
    assert posted.headers["cache-control"] == "no-store"
    first = result(client, transaction)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    assert first.json() == {"vp_token": VP_TOKEN, "state": "st-4ad7f1c0e9b3"}
    assert_error(result(client, transaction), 404, "invalid_request")
    assert_error(client.get(f"/verifier/request/{tid}"), 404, "invalid_request")


def test_nothing_but_hashes_and_timestamps_stay_after_retrieval(
    client: Any, clinic: Clinic, database_url: str
) -> None:
    transaction = ready(client, clinic)
    answer(client, transaction, good_answer())
    assert result(client, transaction).status_code == 200
    (row,) = run_on(database_url, lambda c: rows(c, vp_transactions))
    assert row["response"] is None
    assert row["request_object"] is None
    assert row["read_token_hash"] != transaction["read_token"].encode()


def test_an_error_answer_is_relayed(client: Any, clinic: Clinic) -> None:
    transaction = ready(client, clinic)
    form = {"error": "access_denied", "error_description": "the citizen declined", "state": "st-4ad7f1c0e9b3"}
    assert answer(client, transaction, form).status_code == 200
    assert result(client, transaction).json() == form


@pytest.mark.parametrize("token", ["not-the-token", None])
def test_a_wrong_or_missing_read_token_is_401(client: Any, clinic: Clinic, token: str | None) -> None:
    transaction = ready(client, clinic)
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    path = f"/verifier/transactions/{transaction['transaction_id']}/result"
    response = client.get(path, headers=headers)
    assert_error(response, 401, "invalid_token")
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    other = start(client)
    assert_error(result(client, transaction, other["read_token"]), 401, "invalid_token")
    assert_error(
        put_request(client, other, clinic.request_object(other), Authorization="Bearer x"),
        401,
        "invalid_token",
    )


def test_an_unregistered_clinic_is_refused(client: Any, clock: Any) -> None:
    stranger = make_clinic(clock, name="Not registered")
    transaction = start(client)
    assert_error(
        put_request(client, transaction, stranger.request_object(transaction)), 403, "unauthorized_client"
    )


def test_a_request_object_must_be_signed_by_the_registered_certificates_key(
    client: Any, clinic: Clinic
) -> None:
    transaction = start(client)
    forged = Clinic(generate_private_key(), clinic.certificate).request_object(transaction)
    assert_error(put_request(client, transaction, forged), 400, "invalid_request")
    header, payload, _ = clinic.request_object(transaction).split(".")
    assert_error(put_request(client, transaction, f"{header}.{payload}.AAAA"), 400, "invalid_request")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"response_uri": f"{BASE}/verifier/response/another"}, "response_uri"),
        ({"state": None}, "state"),
        ({"state": ""}, "state"),
        ({"state": "s" * 129}, "state"),
        ({"response_mode": "fragment"}, "response_mode"),
        ({"client_id": "x509_san_dns:clinic.example"}, "client_id"),
        ({"client_id": "x509_hash:AAAA"}, "x509_hash"),
    ],
)
def test_a_request_object_the_relay_cannot_serve_is_400(
    client: Any, clinic: Clinic, overrides: dict[str, Any], reason: str
) -> None:
    transaction = start(client)
    response = put_request(client, transaction, clinic.request_object(transaction, **overrides))
    assert_error(response, 400, "invalid_request")
    assert reason in response.json()["error_description"]
    assert_error(client.get(transaction["request_uri"].removeprefix(BASE)), 404, "invalid_request")


@pytest.mark.parametrize(
    ("header", "body"),
    [
        ({"Content-Type": "application/jwt"}, None),
        ({}, "not.a.jwt"),
        ({}, "only-one-part"),
        ({}, b"\xff\xfe"),
    ],
)
def test_a_malformed_request_object_is_400(
    client: Any, clinic: Clinic, header: dict[str, str], body: str | bytes | None
) -> None:
    transaction = start(client)
    response = put_request(client, transaction, body or clinic.request_object(transaction), **header)
    assert_error(response, 400, "invalid_request")


def test_a_request_object_without_x5c_or_with_the_wrong_typ_is_400(client: Any, clinic: Clinic) -> None:
    transaction = start(client)
    payload = {"client_id": clinic.client_id, "response_uri": transaction["response_uri"], "state": "s"}
    no_x5c = sign_jwt(payload, clinic.key, typ="oauth-authz-req+jwt")
    assert_error(put_request(client, transaction, no_x5c), 400, "invalid_request")
    wrong_typ = sign_jwt(payload, clinic.key, typ="JWT", x5c=x5c_of([clinic.certificate]))
    assert_error(put_request(client, transaction, wrong_typ), 400, "invalid_request")


def test_an_oversized_request_object_is_413(client: Any, clinic: Clinic) -> None:
    transaction = start(client)
    big = clinic.request_object(transaction, padding="x" * 33_000)
    assert_error(put_request(client, transaction, big), 413, "payload_too_large")


def test_another_request_object_for_the_same_transaction_is_409(client: Any, clinic: Clinic) -> None:
    transaction = ready(client, clinic)
    other = clinic.request_object(transaction, nonce="another-nonce-value-0123456789")
    assert_error(put_request(client, transaction, other), 409, "conflict")


def test_an_expired_transaction_is_gone(client: Any, clinic: Clinic, clock: Any, database_url: str) -> None:
    transaction = ready(client, clinic)
    clock.advance(601)
    assert_error(client.get(transaction["request_uri"].removeprefix(BASE)), 404, "invalid_request")
    assert_error(answer(client, transaction, good_answer()), 404, "invalid_request")
    assert_error(result(client, transaction), 404, "invalid_request")
    assert_error(put_request(client, transaction, clinic.request_object(transaction)), 404, "invalid_request")
    start(client)  # creating a transaction purges the expired ones
    assert len(run_on(database_url, lambda c: rows(c, vp_transactions))) == 1


def test_an_answered_but_unretrieved_transaction_expires_too(client: Any, clinic: Clinic, clock: Any) -> None:
    transaction = ready(client, clinic)
    answer(client, transaction, good_answer())
    clock.advance(601)
    assert_error(result(client, transaction), 404, "invalid_request")


@pytest.mark.parametrize("path", ["request/unknown", "request/" + "a" * 65, "request/bad%20id"])
def test_unknown_transactions_are_404(client: Any, path: str) -> None:
    assert_error(client.get(f"/verifier/{path}"), 404, "invalid_request")
    tid = path.split("/")[1]
    assert_error(client.post(f"/verifier/response/{tid}", data=good_answer()), 404, "invalid_request")
    response = client.get(f"/verifier/transactions/{tid}/result", headers={"Authorization": "Bearer x"})
    assert_error(response, 404, "invalid_request")


def test_an_answer_before_the_request_object_is_404(client: Any, clinic: Clinic) -> None:
    assert_error(answer(client, start(client), good_answer()), 404, "invalid_request")
