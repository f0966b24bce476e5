"""A clinic's `Checker` reads its state once and keeps a status list only while its ``ttl`` allows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.verifier_bundle import LIST_URI, Bundle, build_bundle
from client.verifier.check import Checker, check_answer
from client.verifier.state import CHAINS_FILE, CachedStatusList
from shared.oid4vp.report import Report
from shared.statuslist import INVALID, StatusList, sign_status_list_token

MADE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TTL = 3600


@pytest.fixture
def bundle(tmp_path: Path) -> Bundle:
    return build_bundle(tmp_path / "clinic", MADE)


def _status(report: Report) -> set[str]:
    return {c.code for c in report.checks if c.name == "status"}


def _publish_revocation(bundle: Bundle, at: datetime) -> None:
    """`verifier sync` at ``at`` caches a list on which both credentials (idx 1 and 2) are revoked."""
    revoked = StatusList.new(1024, 2)
    revoked.set(1, INVALID)
    revoked.set(2, INVALID)
    token = sign_status_list_token(
        revoked,
        bundle.status_key,
        sub=LIST_URI,
        iat=at,
        exp=at + timedelta(days=1),
        ttl=TTL,
        x5c=bundle.status_x5c,
    )
    bundle.state.cache_status(CachedStatusList(uri=LIST_URI, token=token, fetched_at=at.timestamp(), ttl=TTL))


def _check(checker: Checker, bundle: Bundle, at: datetime) -> Report:
    return checker.check(bundle.response.read_text(), bundle.request.read_text(), now=at)


def test_one_checker_checks_many_answers(bundle: Bundle) -> None:
    checker = Checker(bundle.state, offline=True)
    for seconds in (1, 2, 3):
        report = _check(checker, bundle, MADE + timedelta(seconds=seconds))
        assert report.valid, report.failed()
    assert (
        report.to_json()
        == check_answer(
            bundle.state,
            bundle.response.read_text(),
            bundle.request.read_text(),
            now=MADE + timedelta(seconds=3),
            offline=True,
        ).to_json()
    )


def test_a_list_is_kept_while_fresh_and_read_again_after_its_ttl(bundle: Bundle) -> None:
    checker = Checker(bundle.state, offline=True)
    assert _status(_check(checker, bundle, MADE + timedelta(seconds=10))) == {"ok"}
    _publish_revocation(bundle, MADE + timedelta(seconds=TTL - 60))
    # The list in memory is still fresh by its ttl: a verifier may rely on it that long.
    assert _status(_check(checker, bundle, MADE + timedelta(seconds=TTL - 30))) == {"ok"}
    # A new checker reads the cache folder and sees the newer list at once.
    fresh = Checker(bundle.state, offline=True)
    assert _status(_check(fresh, bundle, MADE + timedelta(seconds=TTL - 30))) == {"revoked"}
    # Past the ttl of the list it kept, the old checker reads the folder again.
    assert _status(_check(checker, bundle, MADE + timedelta(seconds=TTL + 30))) == {"revoked"}


def test_a_stale_list_is_refused_offline_unless_allowed(bundle: Bundle) -> None:
    checker = Checker(bundle.state, offline=True)
    late = MADE + timedelta(seconds=TTL + 120)
    assert _status(_check(checker, bundle, late)) == {"invalid_status_list"}
    allowed = checker.check(
        bundle.response.read_text(), bundle.request.read_text(), now=late, allow_stale=timedelta(hours=2)
    )
    assert _status(allowed) == {"ok"}


def test_a_synced_clinic_checks_without_loading_the_x509_code(bundle: Bundle) -> None:
    """`verifier sync` (here: the bench bundle, made the same way) leaves the signers' chains validated, so a
    `verifier check` process never imports `cryptography.x509` (some 20 ms of its start)."""
    argv = [str(Path(sys.executable).parent / "cancuoc"), "verifier", "check", str(bundle.response)]
    at = (MADE + timedelta(seconds=10)).isoformat()
    argv += ["--request", str(bundle.request), "--offline", "--json", "--at", at]
    env = {**os.environ, "CANCUOC_HOME": str(bundle.home)}
    done = subprocess.run([sys.executable, "-X", "importtime", *argv], env=env, capture_output=True)  # noqa: S603
    assert done.returncode == 0, done.stderr[-400:]
    assert json.loads(done.stdout)["valid"] is True
    assert b"cryptography.x509" not in done.stderr
    assert b"client.verifier.check" in done.stderr  # the import trace is there at all


def test_chains_learnt_by_a_check_are_kept_and_a_broken_cache_is_ignored(bundle: Bundle) -> None:
    chains = bundle.state.root / CHAINS_FILE
    chains.unlink()
    report = _check(Checker(bundle.state, offline=True), bundle, MADE + timedelta(seconds=1))
    assert report.valid  # and not written: close() writes what a checker learnt
    checker = Checker(bundle.state, offline=True)
    assert _check(checker, bundle, MADE + timedelta(seconds=1)).valid
    checker.close()
    assert {tuple(c.roles) for c in bundle.state.known_chains()} == {("mps",), ("vss",), ("status-list",)}
    chains.write_bytes(b'[{"x5c": 1}, "not a chain"')
    assert bundle.state.known_chains() == []
    assert check_answer(
        bundle.state,
        bundle.response.read_text(),
        bundle.request.read_text(),
        now=MADE + timedelta(seconds=2),
        offline=True,
    ).valid
    assert len(bundle.state.known_chains()) == 3
