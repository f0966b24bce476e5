"""Issue 5's story with real processes only: a server on 127.0.0.1, officers, a citizen's wallet, a clinic.

The officers issue the three credentials; the citizen answers the clinic's `clinic-checkin` request across
devices (through the server's relay) and through files (offline); the clinic's command says VALID with exactly
the asked claims. VSS then revokes the card and the same check-ins say INVALID, the `status` check `revoked`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from server_process import RunningServer, clean_environment, running_server
from vp_support import asked_claims

CANCUOC = Path(sys.executable).parent / "cancuoc"
PIN = "493817"
ALWAYS_VISIBLE = {"iss", "vct", "cnf", "status", "iat", "nbf", "exp"}
ASKED = asked_claims("clinic-checkin")


@dataclass
class World:
    server: RunningServer
    citizen_id: str
    tokens: dict[str, str]
    wallet_home: Path
    clinic_home: Path
    work: Path

    def cancuoc(self, home: Path, *args: str, token: str | None = None, expect: int = 0) -> Any:
        """``cancuoc ARGS`` as its own process; its JSON output when ``--json`` was asked."""
        done = subprocess.run(  # noqa: S603 - our own console script, fixed arguments
            [str(CANCUOC), *args],
            env=self.environment(home, token),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == expect, f"cancuoc {' '.join(args)}: {done.returncode}\n{done.stderr}"
        return json.loads(done.stdout) if "--json" in args else done.stdout

    def environment(self, home: Path, token: str | None = None) -> dict[str, str]:
        extra = {"CANCUOC_HOME": str(home), "CANCUOC_PIN": PIN, "CANCUOC_SERVER": self.server.base_url}
        if token:
            extra["CANCUOC_OPERATOR_TOKEN"] = token
        return clean_environment(extra)

    def cross_device_checkin(self) -> tuple[int, dict[str, Any]]:
        """The clinic shows a link, the wallet answers it, the clinic's command gives its verdict."""
        clinic = subprocess.Popen(  # noqa: S603 - our own console script, fixed arguments
            [str(CANCUOC), "verifier", "request", "--preset", "clinic-checkin", "--json", "--timeout", "60"],
            env=self.environment(self.clinic_home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert clinic.stderr is not None
            link = ""
            for line in clinic.stderr:
                if line.strip().startswith("openid4vp://"):
                    link = line.strip()
                    break
            assert link, "the clinic printed no openid4vp:// link"
            answered = self.cancuoc(self.wallet_home, "wallet", "present", link, "--yes", "--json")
            assert answered
            stdout, _ = clinic.communicate(timeout=90)
        finally:
            if clinic.poll() is None:
                clinic.kill()
        return clinic.returncode, json.loads(stdout)

    def offline_checkin(self, name: str) -> tuple[int, dict[str, Any]]:
        """The same check-in with no connection: the request and the answer travel as files."""
        request, response = self.work / f"{name}-request.jwt", self.work / f"{name}-response.json"
        self.cancuoc(
            self.clinic_home,
            "verifier",
            "request",
            "--preset",
            "clinic-checkin",
            "--offline",
            "--out",
            str(request),
        )
        self.cancuoc(self.wallet_home, "wallet", "present", str(request), "--yes", "--out", str(response))
        done = subprocess.run(  # noqa: S603 - our own console script, fixed arguments
            [str(CANCUOC), "verifier", "check", str(response), "--request", str(request), "--json"],
            env=self.environment(self.clinic_home),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return done.returncode, json.loads(done.stdout)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    work = tmp_path_factory.mktemp("e2e")
    with running_server(work / "server") as server:
        seeded = json.loads(server.command("seed", "--citizens", "6", "--seed", "5", "--json"))
        citizen = next(c for c in seeded if c["has_health_card"] and c["has_social_book"])
        tokens = {role: server.create_operator(role) for role in ("mps-officer", "vss-officer", "admin")}
        world = World(server, citizen["citizen_id"], tokens, work / "citizen", work / "clinic", work)
        root = f"{server.base_url}/pki/root.pem"
        world.cancuoc(world.wallet_home, "wallet", "init", "--trust-anchor", root)
        for issuer, officer, configuration in (
            ("mps", "mps-officer", "identity"),
            ("vss", "vss-officer", "health_insurance"),
            ("vss", "vss-officer", "social_insurance"),
        ):
            offer = world.cancuoc(
                world.work,
                "admin",
                "offer",
                "--issuer",
                issuer,
                "--citizen-id",
                world.citizen_id,
                "--credential",
                configuration,
                "--json",
                token=tokens[officer],
            )
            world.cancuoc(
                world.wallet_home,
                "wallet",
                "receive",
                offer["offer_uri"],
                "--tx-code",
                offer["tx_code"],
                "--copies",
                "4",
                "--json",
            )
        world.cancuoc(
            world.clinic_home,
            "verifier",
            "init",
            "--name",
            "Phòng khám Đa khoa Hồng Ngọc",
            "--trust-anchor",
            root,
        )
        registration = work / "registration.json"
        world.cancuoc(
            world.work,
            "admin",
            "verifier",
            "register",
            "--name",
            "Phòng khám Đa khoa Hồng Ngọc",
            "--purpose",
            "Check-in for an insured visit",
            "--public-key",
            str(world.clinic_home / "verifier" / "clinic-public.jwk"),
            "--allow",
            "clinic-checkin",
            "--out",
            str(registration),
            token=tokens["admin"],
        )
        world.cancuoc(world.clinic_home, "verifier", "enroll", str(registration))
        world.cancuoc(world.clinic_home, "verifier", "sync")
        yield world


def assert_exactly_the_asked_claims(report: dict[str, Any]) -> None:
    disclosed = {c["vct"]: set(c["claims"]) - ALWAYS_VISIBLE for c in report["credentials"]}
    assert disclosed == ASKED


def failed_checks(report: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["code"] for c in report["checks"] if not c["ok"]}


def test_checkin_valid_then_invalid_after_revocation_cross_device_and_offline(world: World) -> None:
    exit_code, report = world.cross_device_checkin()
    assert (exit_code, report["valid"], failed_checks(report)) == (0, True, {})
    assert_exactly_the_asked_claims(report)
    exit_code, report = world.offline_checkin("before")
    assert (exit_code, report["valid"], failed_checks(report)) == (0, True, {})
    assert_exactly_the_asked_claims(report)

    world.cancuoc(
        world.work,
        "admin",
        "revoke",
        "--issuer",
        "vss",
        "--citizen-id",
        world.citizen_id,
        token=world.tokens["vss-officer"],
    )
    world.cancuoc(world.clinic_home, "verifier", "sync")

    exit_code, report = world.cross_device_checkin()
    assert (exit_code, report["valid"], failed_checks(report)) == (1, False, {"status": "revoked"})
    exit_code, report = world.offline_checkin("after")
    assert (exit_code, report["valid"], failed_checks(report)) == (1, False, {"status": "revoked"})

    log = world.cancuoc(world.wallet_home, "wallet", "log", "--json")
    assert len(log) == 4
    assert all("Hồng Ngọc" in json.dumps(entry, ensure_ascii=False) for entry in log)
