"""The clinic's verifier: `verifier check`'s code path against the raw ES256 floor; one CLI process's wall.

Both run on a synced offline clinic made in a temporary CANCUOC_HOME (`bench.verifier_bundle`).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from rich.console import Console
from rich.table import Table

from bench.core import rates
from bench.verifier_bundle import Bundle, build_bundle
from client.verifier.check import Checker, check_answer

WALL_TARGET_MS = 150.0
RATIO_TARGET = 0.6
IMPORT_TOP = 8
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def measure_throughput(bundle: Bundle, seconds: float) -> dict[str, float]:
    """Presentations/s through `Checker.check` (a clinic's state read once, status lists kept while fresh by
    their ``ttl``), beside the raw floor of 2 ES256 verifies per presentation (issuer JWT + KB-JWT) with
    `cryptography`, the two measured in turns (`bench.core.rates`)."""
    checker = Checker(bundle.state, offline=True)
    answer = bundle.response.read_text().strip()
    request_jwt = bundle.request.read_text().strip()

    def check() -> None:
        report = checker.check(answer, request_jwt, now=datetime.now(UTC))
        if not report.valid:
            raise AssertionError([c for c in report.checks if not c.ok])

    check()  # fail loudly before timing anything
    signing_input, _, _ = bundle.issuer_jwt.rpartition(".")
    raw = bundle.issuer_key.key
    if not isinstance(raw, ec.EllipticCurvePrivateKey):
        raise TypeError("the bench issuer key must be P-256")
    signature = raw.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    public, data = raw.public_key(), signing_input.encode()

    def raw_verify_twice() -> None:
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))

    measured = rates({"floor": raw_verify_twice, "check": check}, 2 * seconds)
    floor, responses = measured["floor"], measured["check"]
    ours = responses * bundle.presentations
    return {
        "presentations_per_response": float(bundle.presentations),
        "responses_per_second": responses,
        "presentations_per_second": ours,
        "floor_presentations_per_second": floor,
        "ratio": ours / floor,
        "target_ratio": RATIO_TARGET,
    }


def _wall(argv: list[str], env: dict[str, str], runs: int, *, expect: int = 0) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, check=False)  # noqa: S603
        times.append((time.perf_counter() - started) * 1000)
        if done.returncode != expect:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-400:]}")
    return times


def _summary(times: list[float]) -> dict[str, float]:
    return {"min_ms": min(times), "median_ms": statistics.median(times)}


def import_breakdown(argv: list[str], env: dict[str, str], top: int = IMPORT_TOP) -> list[dict[str, Any]]:
    """The biggest imports of one run (``-X importtime``, top level and their direct children) by cumulative
    time, biggest first; ``depth`` 0 is imported by the entry point itself."""
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-X", "importtime", *argv], env=env, capture_output=True, check=False
    )
    found: list[tuple[float, int, str]] = []
    for line in done.stderr.decode().splitlines():
        match = _IMPORT_LINE.match(line)
        depth = (len(match[3]) - 1) // 2 if match else 2
        if match and depth <= 1:
            found.append((int(match[2]) / 1000, depth, match[4]))
    found.sort(reverse=True)
    return [{"module": name, "depth": depth, "cumulative_ms": ms} for ms, depth, name in found[:top]]


def measure_wall(bundle: Bundle, runs: int) -> dict[str, Any]:
    """`cancuoc verifier check response.json --request request.jwt --offline --json`, ``runs`` times, beside
    ``python -c pass``, ``python -c "import typer"`` and the import of the check's code alone, in turns.

    As installed (pip compiles every module): bytecode is cached, in a folder of the bundle so that the
    working tree stays clean, and written by a first untimed run. The same check without any bytecode of
    ours (PYTHONDONTWRITEBYTECODE, as some sandboxes set) is timed too, fewer times.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"CANCUOC_HOME": str(bundle.home), "PYTHONPYCACHEPREFIX": str(bundle.home / "pycache")}
    source_env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    source_env.pop("PYTHONPYCACHEPREFIX")
    check = [
        str(Path(sys.executable).parent / "cancuoc"),
        "verifier",
        "check",
        str(bundle.response),
        "--request",
        str(bundle.request),
        "--offline",
        "--json",
    ]
    python = sys.executable
    commands = {
        "python": [python, "-c", "pass"],
        "typer": [python, "-c", "import typer"],
        "check_imports": [python, "-c", f"import {check_answer.__module__}"],
        "check": check,
    }
    figures: dict[str, Any] = {"runs": runs, "target_ms": WALL_TARGET_MS}
    times: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():
        _wall(argv, env, 1)  # writes the bytecode
    for _ in range(runs):  # in turns: a burst of other work on the machine slows every command alike
        for name, argv in commands.items():
            times[name] += _wall(argv, env, 1)
    figures |= {name: _summary(measured) for name, measured in times.items()}
    figures["check_without_bytecode"] = _summary(_wall(check, source_env, max(3, runs // 3)))
    figures["imports"] = import_breakdown(check, env)
    return figures


def measure(seconds: float, runs: int, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Build the bundle, time the code path and the CLI process; every figure as JSON-ready numbers."""
    with tempfile.TemporaryDirectory(prefix="cancuoc-bench-verifier-") as folder:
        progress("verifier: building the PKI, credentials, request and answer")
        bundle = build_bundle(Path(folder), datetime.now(UTC) - timedelta(seconds=5))
        progress("verifier: timing check_answer and the raw ES256 floor")
        throughput = measure_throughput(bundle, seconds)
        progress(f"verifier: {runs} runs of `cancuoc verifier check`")
        wall = measure_wall(bundle, runs)
    return {"throughput": throughput, "wall": wall}


def print_figures(console: Console, figures: dict[str, Any]) -> None:
    """The verifier section of `make bench`."""
    speed, wall = figures["throughput"], figures["wall"]
    ratio, met = speed["ratio"], speed["ratio"] >= speed["target_ratio"]
    console.print(
        "\n[bold]Clinic verifier[/] — `verifier check`'s code path (check_answer: own request object, "
        f"clinic-checkin answer of {speed['presentations_per_response']:.0f} presentations with KB-JWTs, "
        "x5c chains to the root, status from the fresh cache), every check on"
    )
    grid = Table(show_header=True)
    for column in ("operation", "ours /s", "raw floor /s", "ours ÷ floor", "target"):
        grid.add_column(column, justify="right")
    grid.add_row(
        "presentations verified",
        f"{speed['presentations_per_second']:,.0f}",
        f"{speed['floor_presentations_per_second']:,.0f} (2 ES256 verifies)",
        f"{ratio:.2f}×",
        f"≥ {speed['target_ratio']}× {'[green]met[/]' if met else '[red]not met[/]'}",
    )
    console.print(grid)
    console.print(
        "floor counts the issuer JWT and KB-JWT of each presentation; ours also verifies the clinic's own "
        "request object (1 ES256, once per request) and each status list token (once per process); x5c "
        "chains come validated from the clinic's chain cache, as `verifier sync` leaves it"
    )
    grid = Table(show_header=True)
    for column in ("process", "min ms", "median ms"):
        grid.add_column(column, justify="right")
    for key, label in (
        ("python", "python -c pass"),
        ("typer", 'python -c "import typer"'),
        ("check_imports", 'python -c "import client.verifier.check"'),
        ("check", "cancuoc verifier check response.json --request request.jwt --offline --json"),
        ("check_without_bytecode", "the same without .pyc of our modules (PYTHONDONTWRITEBYTECODE)"),
    ):
        grid.add_row(label, f"{wall[key]['min_ms']:.0f}", f"{wall[key]['median_ms']:.0f}")
    console.print(grid)
    met = wall["check"]["median_ms"] <= wall["target_ms"]
    console.print(
        f"target: one `verifier check` ≤ {wall['target_ms']:.0f} ms wall, synced offline bundle — median "
        f"{wall['check']['median_ms']:.0f} ms over {wall['runs']} runs: "
        f"{'[green]met[/]' if met else '[red]not met[/]'}"
    )
    imports = ", ".join(f"{'  ' * i['depth']}{i['module']} {i['cumulative_ms']:.0f}" for i in wall["imports"])
    console.print(f"[dim]-X importtime, biggest (cumulative ms, inflated by the tracing): {imports}[/]")
