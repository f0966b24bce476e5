"""Status lists and status changes over HTTP: the signed list, its caching, revoke/suspend/reinstate."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from family_rows import LIST_SIZE, add_citizen, add_family, add_operator, rows, run_on
from sqlalchemy.engine import Connection

from server.store.schema import issuance_log, status_lists
from shared.credentials import VCT_BY_TYPE
from shared.credentials.identifiers import make_citizen_id
from shared.jose import public_key_from_jwk
from shared.statuslist import INVALID, SUSPENDED, VALID, StatusListToken, verify_status_list_token

BASE = "http://127.0.0.1:8000"
MEDIA_TYPE = "application/statuslist+jwt"
OTHER_CITIZEN = make_citizen_id("079", date(1985, 3, 2), "male", 4242)


class World:
    """Two citizens, operators of every role, and families at both issuers, each with status entries."""

    def __init__(self, connection: Connection) -> None:
        self.citizen = add_citizen(connection)
        self.other_citizen = add_citizen(connection, OTHER_CITIZEN)
        self.tokens = {
            r: add_operator(connection, r) for r in ("mps-officer", "vss-officer", "auditor", "admin")
        }
        vss = {"issuer": "vss", "citizen_id": self.citizen}
        self.card = add_family(
            connection, **vss, configuration_id="health_insurance", entries=_at(1, 11, 500, 9)
        )
        self.book = add_family(
            connection, **vss, configuration_id="social_insurance", entries=_at(1, 7, 4000)
        )
        self.old_card = add_family(
            connection, **vss, configuration_id="health_insurance", entries=_at(1, 3), status=INVALID
        )
        self.identity = add_family(
            connection, issuer="mps", citizen_id=self.citizen, configuration_id="identity", entries=_at(1, 11)
        )
        self.neighbour_card = add_family(
            connection,
            issuer="vss",
            citizen_id=self.other_citizen,
            configuration_id="health_insurance",
            entries=[(1, 12), (2, 5)],
        )

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def _at(list_id: int, *indices: int) -> list[tuple[int, int]]:
    return [(list_id, idx) for idx in indices]


@pytest.fixture
def world(client: Any, database_url: str) -> World:
    return run_on(database_url, World)


def fetch_list(client: Any, clock: Any, issuer: str, list_id: int = 1) -> StatusListToken:
    response = client.get(f"/status/{issuer}/{list_id}", headers={"Accept": MEDIA_TYPE})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MEDIA_TYPE
    # Status lists are signed by the status list signer, whose key follows the issuer's in the JWKS.
    jwk = client.get(f"/.well-known/jwt-vc-issuer/{issuer}").json()["jwks"]["keys"][1]
    return verify_status_list_token(
        response.text,
        public_key_from_jwk(jwk),
        expected_uri=f"{BASE}/status/{issuer}/{list_id}",
        now=clock(),
    )


def set_status(client: Any, world: World, path: str, status: str, role: str = "vss-officer") -> Any:
    return client.post(f"/vss/{path}/status", json={"status": status}, headers=world.auth(role))


def statuses(token: StatusListToken, *indices: int) -> list[int]:
    return [token.status_list.get(idx) for idx in indices]


def test_a_new_issuers_first_list_is_served_all_valid(client: Any, clock: Any) -> None:
    token = fetch_list(client, clock, "mps")
    assert token.sub == f"{BASE}/status/mps/1"
    assert token.status_list.bits == 2
    assert len(token.status_list) == LIST_SIZE
    assert set(token.status_list) == {VALID}
    assert token.ttl == 300
    assert token.exp == token.iat + 86_400
    assert token.iat == clock().timestamp()


def test_entries_follow_their_familys_status(client: Any, clock: Any, world: World) -> None:
    token = fetch_list(client, clock, "vss")
    assert statuses(token, 11, 500, 9, 7, 4000, 12) == [VALID] * 6
    assert statuses(token, 3) == [INVALID]

    response = set_status(client, world, f"families/{world.card}", "revoked")
    assert response.status_code == 200, response.text
    card = {"id": world.card, "configuration_id": "health_insurance", "status": "revoked"}
    assert response.json() == {"families": [card]}
    assert response.headers["cache-control"] == "no-store"
    token = fetch_list(client, clock, "vss")
    assert statuses(token, 11, 500, 9) == [INVALID] * 3
    assert statuses(token, 7, 4000, 12) == [VALID] * 3

    assert set_status(client, world, f"families/{world.book}", "suspended").status_code == 200
    assert statuses(fetch_list(client, clock, "vss"), 7, 4000) == [SUSPENDED] * 2
    assert set_status(client, world, f"families/{world.book}", "valid", role="admin").status_code == 200
    assert statuses(fetch_list(client, clock, "vss"), 7, 4000) == [VALID] * 2


def test_revocation_is_final(client: Any, clock: Any, world: World) -> None:
    assert set_status(client, world, f"families/{world.card}", "revoked").status_code == 200
    for status in ("valid", "suspended"):
        response = set_status(client, world, f"families/{world.card}", status)
        assert response.status_code == 409
        assert response.json()["error"] == "conflict"
    again = set_status(client, world, f"families/{world.card}", "revoked")
    assert again.json()["families"][0]["status"] == "revoked"
    assert statuses(fetch_list(client, clock, "vss"), 11, 500, 9) == [INVALID] * 3


def test_each_change_bumps_its_lists_and_is_logged_without_personal_data(
    client: Any, world: World, database_url: str
) -> None:
    set_status(client, world, f"families/{world.neighbour_card}", "suspended")
    set_status(client, world, f"families/{world.neighbour_card}", "suspended")
    set_status(client, world, f"families/{world.neighbour_card}", "valid")
    set_status(client, world, f"families/{world.book}", "revoked")
    versions = {(r["issuer"], r["list_id"]): r["version"] for r in run_on(database_url, _lists)}
    assert versions == {("vss", 1): 3, ("vss", 2): 2, ("mps", 1): 0}
    log = run_on(database_url, lambda c: rows(c, issuance_log))
    assert [(e["event"], e["family_id"]) for e in log] == [
        ("suspend", world.neighbour_card),
        ("reinstate", world.neighbour_card),
        ("revoke", world.book),
    ]
    assert {e["vct"] for e in log} == {VCT_BY_TYPE["health_insurance"], VCT_BY_TYPE["social_insurance"]}
    assert all(e["credential_hash"] is None and e["idx"] is None for e in log)


def _lists(connection: Connection) -> list[dict[str, Any]]:
    return rows(connection, status_lists)


def test_a_whole_citizen_is_revoked_at_one_issuer_only(client: Any, clock: Any, world: World) -> None:
    response = set_status(client, world, f"citizens/{world.citizen}", "revoked")
    assert response.status_code == 200, response.text
    assert {(f["id"], f["status"]) for f in response.json()["families"]} == {
        (world.card, "revoked"),
        (world.book, "revoked"),
        (world.old_card, "revoked"),
    }
    assert statuses(fetch_list(client, clock, "vss"), 11, 500, 9, 7, 4000, 3) == [INVALID] * 6
    assert statuses(fetch_list(client, clock, "vss"), 12) == [VALID]
    assert statuses(fetch_list(client, clock, "mps"), 11) == [VALID]


def test_a_citizen_wide_reinstatement_leaves_revoked_families_revoked(
    client: Any, clock: Any, world: World
) -> None:
    assert set_status(client, world, f"citizens/{world.citizen}", "suspended").status_code == 200
    response = set_status(client, world, f"citizens/{world.citizen}", "valid")
    assert {(f["id"], f["status"]) for f in response.json()["families"]} == {
        (world.card, "valid"),
        (world.book, "valid"),
        (world.old_card, "revoked"),
    }
    assert statuses(fetch_list(client, clock, "vss"), 11, 7, 3) == [VALID, VALID, INVALID]


def test_a_citizen_lists_families_for_officers_auditors_and_admins(client: Any, world: World) -> None:
    for role in ("vss-officer", "auditor", "admin"):
        response = client.get(f"/vss/citizens/{world.citizen}/families", headers=world.auth(role))
        assert response.status_code == 200, (role, response.text)
    families = {f["id"]: f for f in response.json()["families"]}
    assert set(families) == {world.card, world.book, world.old_card}
    assert families[world.old_card]["status"] == "revoked"
    assert families[world.card]["vct"] == VCT_BY_TYPE["health_insurance"]
    assert families[world.card]["issued_at"].startswith("2026-11-24T09:00:00")
    refused = client.get(f"/vss/citizens/{world.citizen}/families", headers=world.auth("mps-officer"))
    assert refused.status_code == 403


def test_officers_act_for_their_own_issuer_only(client: Any, world: World) -> None:
    response = set_status(client, world, f"families/{world.card}", "revoked", role="mps-officer")
    assert response.status_code == 403
    assert response.json() == {
        "error": "access_denied",
        "error_description": "operator role mps-officer may not do this",
    }
    auditor = set_status(client, world, f"citizens/{world.citizen}", "revoked", role="auditor")
    assert auditor.status_code == 403
    # The family exists, but at vss: for mps it is unknown.
    elsewhere = client.post(
        f"/mps/families/{world.card}/status", json={"status": "revoked"}, headers=world.auth("mps-officer")
    )
    assert elsewhere.status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic dXNlcjpwYXNz"])
def test_a_missing_or_unknown_token_is_401(client: Any, world: World, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.post(f"/vss/families/{world.card}/status", json={"status": "revoked"}, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    listing = client.get(f"/vss/citizens/{world.citizen}/families", headers=headers)
    assert listing.status_code == 401


@pytest.mark.parametrize(
    "body",
    [b'{"status": "deleted"}', b"{}", b'{"status": 1}', b'{"status": "revoked", "why": "x"}', b"revoke", b""],
)
def test_a_bad_body_is_400(client: Any, world: World, body: bytes) -> None:
    headers = {**world.auth("vss-officer"), "Content-Type": "application/json"}
    response = client.post(f"/vss/families/{world.card}/status", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"


def test_unknown_families_citizens_and_issuers_are_404(client: Any, world: World) -> None:
    assert set_status(client, world, "families/0123456789abcdef", "revoked").status_code == 404
    assert set_status(client, world, "citizens/001190999999", "revoked").status_code == 404
    assert set_status(client, world, "citizens/12345", "revoked").status_code == 400
    response = client.get("/police/citizens/001190999999/families", headers=world.auth("admin"))
    assert response.status_code == 404
    assert client.get("/vss/citizens/001190999999/families", headers=world.auth("admin")).status_code == 404


@pytest.mark.parametrize(
    "path", ["police/1", "mps/2", "mps/0", "mps/-1", "mps/one", "mps/99999999999999999999"]
)
def test_unknown_status_lists_are_404(client: Any, path: str) -> None:
    response = client.get(f"/status/{path}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_later_list_is_served_at_its_own_uri(client: Any, clock: Any, world: World) -> None:
    token = fetch_list(client, clock, "vss", 2)
    assert token.sub == f"{BASE}/status/vss/2"
    assert statuses(token, 5) == [VALID]
    set_status(client, world, f"families/{world.neighbour_card}", "suspended")
    assert statuses(fetch_list(client, clock, "vss", 2), 5) == [SUSPENDED]


def test_the_list_is_cacheable_and_revalidated_by_etag(client: Any, world: World) -> None:
    first = client.get("/status/vss/1")
    etag = first.headers["etag"]
    assert etag[0] == etag[-1] == '"'
    assert first.headers["cache-control"] == "public, max-age=300"
    for tag in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = client.get("/status/vss/1", headers={"If-None-Match": tag})
        assert again.status_code == 304, tag
        assert again.content == b""
        assert again.headers["etag"] == etag
    assert client.get("/status/vss/1", headers={"If-None-Match": '"other"'}).status_code == 200
    set_status(client, world, f"families/{world.book}", "suspended")
    changed = client.get("/status/vss/1", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


def test_the_signed_token_is_reused_until_the_list_changes_or_half_its_validity_passes(
    client: Any, clock: Any, world: World
) -> None:
    first = client.get("/status/vss/1").text
    clock.advance(3600)
    assert client.get("/status/vss/1").text == first
    clock.advance(43_200 - 3600)
    renewed = client.get("/status/vss/1").text
    assert renewed != first
    assert client.get("/status/vss/1").text == renewed
    set_status(client, world, f"families/{world.book}", "revoked")
    assert client.get("/status/vss/1").text != renewed
