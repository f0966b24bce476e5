"""`cancuoc wallet present` refuses bad requests (OpenID4VP §5, P1-P13): nothing sent, stored or logged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from present_support import (
    UNUSED_URI,
    Authority,
    Holder,
    clinic_server,
    copies_used,
    holder,
    home,
    log_of,
    make_clinic,
    run,
)

from shared.encoding import b64url_encode
from shared.jose import sign_jwt
from shared.jose.x5c import x5c_of, x509_hash
from shared.oid4vp.presets import PRESETS, allowed_claims
from shared.oid4vp.request import request_link

__all__ = ["holder", "home"]


def test_declining_sends_nothing_and_logs_nothing(holder: Holder, home: Path) -> None:
    clinic = holder.clinic("Phòng khám Hoàn Mỹ")
    with clinic_server() as endpoint:
        token, _ = clinic.request("age-check", response_uri=f"{endpoint.base}/response")
        endpoint.requests["1"] = token
        result = holder.wallet("present", f"{endpoint.base}/request/1", input="n\n", home=home)
    assert result.exit_code == 1
    assert [p.get("error") for p in endpoint.posts] == ["access_denied"]
    assert log_of(holder, home) == []


def _other_root(holder: Holder) -> tuple[str, str]:
    stranger = make_clinic(Authority.create("Another root"), "Phòng khám Hoàn Mỹ")
    return stranger.request("age-check", response_uri=UNUSED_URI)[0], stranger.client_id


def _unsigned(holder: Holder) -> tuple[str, str]:
    clinic = holder.clinic("Phòng khám Hoàn Mỹ")
    _, request = clinic.request("age-check", response_uri=UNUSED_URI)
    header = b64url_encode(json.dumps({"alg": "none", "typ": "oauth-authz-req+jwt"}).encode())
    return f"{header}.{b64url_encode(json.dumps(_builtins(request)).encode())}.", clinic.client_id


def _wrong_typ(holder: Holder) -> tuple[str, str]:
    clinic = holder.clinic("Phòng khám Hoàn Mỹ")
    _, request = clinic.request("age-check", response_uri=UNUSED_URI)
    return sign_jwt(_builtins(request), clinic.key, typ="JWT", x5c=x5c_of([clinic.leaf])), clinic.client_id


def _over_asking(holder: Holder) -> tuple[str, str]:
    clinic = holder.clinic("Phòng khám Hoàn Mỹ")
    allowed = allowed_claims(PRESETS["age-check"])
    token, _ = clinic.request("identity", response_uri=UNUSED_URI, allowed=allowed)
    return token, clinic.client_id


def _builtins(request: Any) -> dict[str, Any]:
    built: dict[str, Any] = msgspec.to_builtins(request)
    return built


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_unsigned, "the request"),
        (_wrong_typ, "this is not a signed OpenID4VP request object"),
        (_other_root, "the request is not signed by a clinic certified under your national root"),
        (_over_asking, "the clinic asks for more than its registration allows"),
    ],
)
def test_a_bad_request_is_refused_and_nothing_happens(
    holder: Holder, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Any, message: str
) -> None:
    token, _ = make(holder)
    (tmp_path / "request.jwt").write_text(token)
    before = copies_used(home)
    code, _, err = run(
        home,
        ["wallet", "present", str(tmp_path / "request.jwt"), "--yes", "--out", str(tmp_path / "r.json")],
        capsys,
    )
    assert code == 1, err
    assert err.startswith(f"error: {message}"), err
    assert "nothing was sent" in err
    assert not (tmp_path / "r.json").exists()
    assert copies_used(home) == before
    assert log_of(holder, home) == []


def test_a_redirect_on_request_uri_is_refused(
    holder: Holder, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = holder.clinic("Phòng khám Hoàn Mỹ")
    with clinic_server() as endpoint:
        endpoint.requests["1"] = clinic.request("age-check", response_uri=f"{endpoint.base}/response")[0]
        link = request_link(clinic.client_id, f"{endpoint.base}/redirect")
        code, _, err = run(home, ["wallet", "present", link, "--yes"], capsys)
        assert endpoint.posts == []
    assert code == 1
    assert "the request_uri answered with a redirect (HTTP 302)" in err
    assert log_of(holder, home) == []


def test_a_redirect_on_the_answer_leaves_the_copy_unused(
    holder: Holder, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic = holder.clinic("Phòng khám Hoàn Mỹ")
    before = copies_used(home)
    with clinic_server() as endpoint:
        endpoint.requests["1"] = clinic.request("age-check", response_uri=f"{endpoint.base}/redirect")[0]
        code, _, err = run(home, ["wallet", "present", f"{endpoint.base}/request/1", "--yes"], capsys)
    assert code == 1
    assert "the verifier answered with a redirect (HTTP 303)" in err
    assert copies_used(home) == before
    assert log_of(holder, home) == []


def test_a_link_whose_client_id_differs_is_refused(
    holder: Holder, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clinic, other = holder.clinic("Phòng khám Hoàn Mỹ"), holder.clinic("Bệnh viện Bạch Mai")
    with clinic_server() as endpoint:
        endpoint.requests["1"] = clinic.request("age-check", response_uri=f"{endpoint.base}/response")[0]
        link = request_link(other.client_id, f"{endpoint.base}/request/1")
        code, _, err = run(home, ["wallet", "present", link, "--yes"], capsys)
        assert endpoint.posts == []
    assert code == 1
    assert err.startswith("error: the request's client_id is not the one in the link")


def test_an_offline_request_needs_out(
    holder: Holder, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token, request = holder.clinic("Trạm y tế xã").request("age-check")
    (tmp_path / "request.jwt").write_text(token)
    code, _, err = run(home, ["wallet", "present", str(tmp_path / "request.jwt"), "--yes"], capsys)
    assert code == 1
    assert "offline request" in err
    assert "--out" in err
    assert log_of(holder, home) == []
    out = tmp_path / "answer.json"
    code, stdout, err = run(
        home, ["wallet", "present", str(tmp_path / "request.jwt"), "--yes", "--out", str(out)], capsys
    )
    assert code == 0, err
    assert json.loads(out.read_text())["state"] == request.state
    assert "▀" in stdout or "█" in stdout or "▄" in stdout  # age-check fits in a QR code


def test_without_a_pinned_root_present_refuses_with_a_hint(
    holder: Holder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = tmp_path / "bare"
    assert holder.wallet("init", home=bare).exit_code == 0
    (tmp_path / "request.jwt").write_text(
        holder.clinic("Trạm y tế xã").request("age-check", response_uri=UNUSED_URI)[0]
    )
    code, _, err = run(bare, ["wallet", "present", str(tmp_path / "request.jwt"), "--yes"], capsys)
    assert code == 4
    assert "no national root is pinned" in err
    assert "cancuoc wallet trust --set" in err
    assert holder.wallet("trust", "--set", str(holder.anchor_file), home=bare).exit_code == 0
    shown = holder.wallet("trust", "--show", home=bare)
    assert x509_hash(holder.authority.root) in shown.stdout
