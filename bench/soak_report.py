"""The soak's figures: what a run recorded, as JSON-ready data and as the section `make bench` prints."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bench.load import LoadResult
from bench.soak_flows import STEPS

ERRORS_KEPT = 5
KINDS = tuple(STEPS)


@dataclass
class Kind:
    """One flow's figures: whole flows (latency = the flow's duration) and each step's requests."""

    flows: LoadResult = field(default_factory=LoadResult)
    steps: dict[str, LoadResult] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return sum(step.requests for step in self.steps.values())

    @property
    def errors(self) -> int:
        return sum(step.errors for step in self.steps.values())


@dataclass
class Run:
    """Everything one run measured, and the first errors in full."""

    kinds: dict[str, Kind] = field(default_factory=lambda: {kind: Kind() for kind in KINDS})
    first_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cap_reached: bool = False

    def record(self, kind: str, step: str, status: int, seconds: float, problem: str | None) -> None:
        result = self.kinds[kind].steps.setdefault(step, LoadResult())
        result.requests += 1
        result.latencies.append(seconds)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if problem is not None:
            result.errors += 1
            if len(self.first_errors) < ERRORS_KEPT:
                self.first_errors.append(f"{kind} / {step}: {problem}")

    @property
    def requests(self) -> int:
        return sum(kind.requests for kind in self.kinds.values())

    @property
    def errors(self) -> int:
        return sum(kind.errors for kind in self.kinds.values())


def summarize(
    timed: Run,
    warm_up: Run,
    setup: dict[str, Any],
    *,
    seconds: float,
    cap: int,
    used: dict[str, float],
    health: int,
    log: list[str],
) -> dict[str, Any]:
    """JSON-ready figures of the timed run (the warm-up's only summed up); ``passed`` is the verdict."""
    kinds = {}
    for name, kind in timed.kinds.items():
        steps = {
            step: {
                "requests": r.requests,
                "errors": r.errors,
                "per_second": round(r.requests / timed.seconds, 1),
            }
            | _percentiles(r)
            | {"statuses": {str(s): c for s, c in sorted(r.statuses.items())}}
            for step, r in kind.steps.items()
        }
        kinds[name] = {
            "flows": kind.flows.requests,
            "failed_flows": kind.flows.errors,
            "flows_per_second": round(kind.flows.requests / timed.seconds, 1),
            "requests": kind.requests,
            "errors": kind.errors,
            "requests_per_second": round(kind.requests / timed.seconds, 1),
            "flow": _percentiles(kind.flows),
            "steps": steps,
        }
    errors = timed.errors + warm_up.errors
    return {
        "database": "postgresql",
        **setup,
        "planned_seconds": seconds,
        "seconds": round(timed.seconds, 3),
        "request_cap": cap,
        "cap_reached": timed.cap_reached,
        "requests": timed.requests,
        "errors": timed.errors,
        "requests_per_second": round(timed.requests / timed.seconds, 1),
        "warm_up": {
            "seconds": round(warm_up.seconds, 3),
            "requests": warm_up.requests,
            "errors": warm_up.errors,
        },
        "kinds": kinds,
        "first_errors": warm_up.first_errors + timed.first_errors,
        "health_after": health,
        "server_log_problems": log,
        "during": {name: round(value, 2) for name, value in used.items()},
        "passed": errors == 0 and health == 200 and not log,
        "load_average": _load_average(),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _percentiles(result: LoadResult) -> dict[str, float]:
    return {"p50_ms": round(result.percentile(0.5), 2), "p99_ms": round(result.percentile(0.99), 2)}


def _load_average() -> list[float] | None:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def print_figures(console: Console, figures: dict[str, Any]) -> None:
    """The soak section of `make bench`."""
    if "skipped" in figures:
        console.print(f"\n[bold]Soak[/] — [yellow]skipped: {figures['skipped']}[/]")
        return
    console.print(
        f"\n[bold]Soak[/] — `cancuoc-server serve --workers {figures['workers']}` on a throw-away PostgreSQL "
        f"database, 127.0.0.1, {figures['concurrency']} keep-alive connections in closed loops, each "
        "alternating an issuance flow (officer's offer → token with tx_code → nonce → credential, one "
        "proof by a fresh key) and a relay round trip (create → PUT the registered clinic's signed request "
        "object → wallet GET → wallet POST direct_post → clinic GET result); every status and answer "
        "checked; "
        f"{figures['planned_seconds']:.0f} s after a {figures['warm_up_seconds']:.0f} s warm-up, at most "
        f"{figures['request_cap']:,} requests"
    )
    grid = Table(show_header=True)
    for column in ("flow", "step", "requests", "errors", "per s", "p50 ms", "p99 ms"):
        grid.add_column(column, justify="right")
    for name, kind in figures["kinds"].items():
        for step, row in kind["steps"].items():
            grid.add_row(
                name,
                step,
                f"{row['requests']:,}",
                str(row["errors"]),
                f"{row['per_second']:,.1f}",
                f"{row['p50_ms']:.1f}",
                f"{row['p99_ms']:.1f}",
            )
        grid.add_row(
            name,
            "[bold]whole flow[/]",
            f"{kind['flows']:,}",
            f"{kind['failed_flows']} failed",
            f"{kind['flows_per_second']:,.1f}",
            f"{kind['flow']['p50_ms']:.1f}",
            f"{kind['flow']['p99_ms']:.1f}",
            end_section=True,
        )
    grid.add_row(
        "all",
        "requests",
        f"{figures['requests']:,}",
        str(figures["errors"]),
        f"{figures['requests_per_second']:,.1f}",
        "",
        "",
    )
    console.print(grid)
    during, load, requests = figures["during"], figures["load_average"], max(1, figures["requests"])
    console.print(
        f"during the run, on {os.cpu_count()} cores: server CPU {during['server_cpu_seconds']:.1f} s "
        f"({1000 * during['server_cpu_seconds'] / requests:.2f} ms per request), load generator CPU "
        f"{during['load_generator_cpu_seconds']:.1f} s; PostgreSQL {during['commits']:,.0f} commits "
        f"({during['commits'] / requests:.2f} per request), {during['rollbacks']:,.0f} rollbacks, "
        f"{during['sessions']:,.0f} sessions opened; load average at the end "
        f"{' '.join(f'{x:.2f}' for x in load) if load else 'unknown'} (a shared machine: other work counts)"
    )
    for line in figures["first_errors"] + figures["server_log_problems"]:
        console.print(Text(line, style="red"))
    warm = figures["warm_up"]
    verdict = "[green]passed[/]" if figures["passed"] else "[red]FAILED[/]"
    console.print(
        f"soak: {verdict} — {figures['seconds']:.1f} s, {figures['requests']:,} requests "
        f"({figures['requests_per_second']:,.0f}/s), {figures['errors']} errors (warm-up: "
        f"{warm['requests']:,} requests, {warm['errors']} errors), /health after {figures['health_after']}, "
        f"{len(figures['server_log_problems'])} server log errors"
        + (" — the request cap ended it early" if figures["cap_reached"] else "")
    )
