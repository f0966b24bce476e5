"""`make bench`: throughput figures, each as a ratio to a baseline measured in the same run."""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench import core, credential_load, http, soak, soak_report, verifier

ISSUE_TARGET_PER_CORE = 3_000
ISSUE_TARGET_P99_MS = 50.0
BATCH_TARGET = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per core measurement (default 3)")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    sections = parser.add_mutually_exclusive_group()
    sections.add_argument("--skip-http", action="store_true", help="only the protocol core")
    sections.add_argument("--only-http", action="store_true", help="only issuance over HTTP")
    sections.add_argument("--only-verifier", action="store_true", help="only the clinic verifier")
    sections.add_argument("--only-soak", action="store_true", help="only the PostgreSQL soak")
    parser.add_argument(
        "--http-requests", type=int, default=5_000, help="requests per issuance run (default 5000)"
    )
    parser.add_argument(
        "--http-seconds", type=float, default=20.0, help="time limit per HTTP run (default 20)"
    )
    parser.add_argument(
        "--http-database",
        action="append",
        choices=http.DATABASES,
        help="only this database for issuance over HTTP (repeatable; default both)",
    )
    parser.add_argument(
        "--http-workers",
        action="append",
        type=int,
        help="only this many workers for issuance over HTTP (repeatable; default 1 and 2)",
    )
    parser.add_argument(
        "--no-uvicorn", action="store_true", help="skip /ping under uvicorn in the HTTP section"
    )
    parser.add_argument(
        "--verifier-runs", type=int, default=15, help="`verifier check` processes timed (default 15)"
    )
    parser.add_argument(
        "--soak-seconds", type=float, default=soak.SECONDS, help="length of the soak (default 60)"
    )
    parser.add_argument(
        "--soak-requests",
        type=int,
        default=soak.REQUEST_CAP,
        help=f"request cap of the soak (default {soak.REQUEST_CAP})",
    )
    args = parser.parse_args()
    console = Console(width=140, stderr=args.json)
    figures: dict[str, Any] = {"build": core.build()}
    if not args.json:
        console.print(f"[bold]Build[/]: the protocol core's hot modules {figures['build']}")
    if not (args.only_http or args.only_verifier or args.only_soak):
        figures["core"] = core.measure(args.seconds)
        if not args.json:
            print_core(console, figures["core"])
    if not (args.only_http or args.only_soak):
        figures["verifier"] = verifier.measure(
            args.seconds, args.verifier_runs, progress=lambda line: console.print(f"[dim]{line}[/]")
        )
        if not args.json:
            verifier.print_figures(console, figures["verifier"])
    if not (args.skip_http or args.only_verifier or args.only_soak):
        measured = http.measure(
            issuance=http.Limits(args.http_requests, args.http_seconds),
            ping=http.Limits(10 * args.http_requests, args.http_seconds / 4),
            databases=args.http_database or http.DATABASES,
            workers=args.http_workers or http.WORKERS,
            uvicorn=not args.no_uvicorn,
            progress=lambda line: console.print(f"[dim]{line}[/]"),
        )
        figures["http"] = [m.as_json() for m in measured.measurements]
        figures["http_skipped"] = measured.skipped
        figures["http_server_errors"] = measured.server_errors
        if not args.json:
            print_http(console, measured)
    if not (args.skip_http or args.only_verifier or args.only_http):
        figures["soak"] = soak.measure(
            args.soak_seconds, args.soak_requests, progress=lambda line: console.print(f"[dim]{line}[/]")
        )
        if not args.json:
            soak_report.print_figures(console, figures["soak"])
    if args.json:
        print(json.dumps(figures, indent=2))


def print_core(console: Console, figures: dict[str, float]) -> None:
    console.print(
        f"[bold]Protocol core[/] — identity credential with {figures['claims']:.0f} top-level claims, "
        f"{figures['credential_bytes']:.0f} bytes issued; verify = presentation with KB-JWT + cached status"
    )
    grid = Table(show_header=True)
    for column in (
        "operation",
        "ours /s",
        "raw floor /s",
        "ours ÷ floor",
        "reference /s",
        "ours ÷ reference",
    ):
        grid.add_column(column, justify="right")
    for name, ours, floor, reference, floor_label in (
        ("issue", figures["issue"], figures["raw_sign"], figures["reference_issue"], "1 ES256 sign"),
        (
            "verify",
            figures["verify"],
            figures["raw_verify2"],
            figures["reference_verify"],
            "2 ES256 verifies",
        ),
    ):
        grid.add_row(
            name,
            f"{ours:,.0f}",
            f"{floor:,.0f} ({floor_label})",
            f"{ours / floor:.2f}×",
            f"{reference:,.0f}",
            f"{ours / reference:.1f}×",
        )
    console.print(grid)
    console.print(
        "targets: issue ≥ 0.4× floor (stretch 0.5×), verify ≥ 0.7× (stretch 0.8×), each ≥ 3× reference"
    )


def print_http(console: Console, figures: http.HttpFigures) -> None:
    console.print(
        "\n[bold]HTTP issuance[/] — `cancuoc-server serve` (granian) on 127.0.0.1, "
        f"{credential_load.CONCURRENCY} keep-alive connections, closed loop; "
        "POST /mps/credential with 1 or 10 proofs (identity), "
        "beside GET /ping of the same app; tokens, nonces and proofs made before the clock starts; "
        "the load generator (one Python process) shares the machine's cores with the server, so "
        "cred/s ÷ workers is not a per-core rate: per server CPU-s is, from the user + system CPU time "
        "of the server's processes (workers included) during the run"
    )
    grid = Table(show_header=True)
    for column in (
        "database",
        "workers",
        "endpoint",
        "batch",
        "requests",
        "req/s",
        "cred/s",
        "÷ workers",
        "per server CPU-s",
        "p50 ms",
        "p99 ms",
        "errors",
        "÷ /ping",
    ):
        grid.add_column(column, justify="right")
    for m in figures.measurements:
        if m.server != "granian":
            continue
        ping = figures.find("granian", database=m.database, workers=m.workers, endpoint="/ping")
        issuing = m.endpoint != "/ping"
        grid.add_row(
            m.database,
            str(m.workers),
            m.endpoint,
            str(m.batch) if issuing else "",
            f"{m.result.requests:,}",
            f"{m.requests_per_second:,.0f}",
            f"{m.credentials_per_second:,.0f}" if issuing else "",
            f"{m.per_worker:,.0f}" if issuing else "",
            f"{m.per_server_cpu_second:,.0f}",
            f"{m.result.percentile(0.5):.1f}",
            f"{m.result.percentile(0.99):.1f}",
            str(m.result.errors),
            f"{m.requests_per_second / ping.requests_per_second:.3f}" if issuing and ping else "",
            end_section=m.batch == max(http.BATCHES),
        )
    console.print(grid)
    for m in figures.measurements:
        if m.result.errors:
            console.print(
                f"[red]non-2xx[/] {m.database}, {m.workers} workers, {m.endpoint}: {m.result.statuses}"
            )
    for line in figures.server_errors:
        console.print(f"[red]server log[/] {escape(line)}", highlight=False)
    for line in figures.skipped:
        console.print(f"[yellow]{line}[/]")
    print_targets(console, figures)
    print_lean(console, figures)
    uvicorn, granian = (
        figures.find(server, database="sqlite", workers=1, endpoint="/ping")
        for server in ("uvicorn", "granian")
    )
    if bare := figures.find(http.BARE):
        console.print(
            f"the machine's HTTP floor (bare granian hello world, 1 worker, no Litestar): "
            f"{bare.requests_per_second:,.0f} req/s, {bare.per_server_cpu_second:,.0f} per server CPU-s; "
            f"the issue measured about {http.ISSUE_BARE_REQUESTS_PER_SECOND:,} req/s here"
            + (
                f"; this app's /ping ÷ bare {granian.requests_per_second / bare.requests_per_second:.2f}"
                if granian
                else ""
            )
        )
    if uvicorn and granian:
        console.print(
            f"hello world (/ping, 1 worker): granian {granian.requests_per_second:,.0f} req/s, "
            f"uvicorn (h11, asyncio loop) {uvicorn.requests_per_second:,.0f} req/s — granian ÷ uvicorn "
            f"{granian.requests_per_second / uvicorn.requests_per_second:.1f}×"
        )


def print_lean(console: Console, figures: http.HttpFigures) -> None:
    """The issue's lean prototype (`bench.lean`) on the same requests, and the issuer as a ratio of it."""
    rows = [
        (
            lean,
            figures.find("granian", database="sqlite", workers=workers, batch=batch, endpoint="credential"),
        )
        for name in (http.LEAN, http.LEAN_UNCHECKED)
        for workers in http.WORKERS
        for batch in http.BATCHES
        if (lean := figures.find(name, workers=workers, batch=batch))
    ]
    if not rows:
        return
    console.print(
        "\n[bold]Baseline[/] — the issue's lean prototype of issue + SQLite insert (bench.lean: PyJWT checks "
        "each proof and signs a plain JWT, one row per copy; no tokens, nonces, registry, disclosures, "
        "x5c, log or Litestar), granian, the same requests; ours is the SQLite issuer above. With the "
        "proofs' signatures unchecked it is the issue's 'issue + SQLite insert' (about 3,000 per core here)"
    )
    grid = Table(show_header=True)
    for column in (
        "proofs",
        "workers",
        "batch",
        "lean cred/s",
        "lean per server CPU-s",
        "lean p99 ms",
        "errors",
    ):
        grid.add_column(column, justify="right")
    grid.add_column("ours ÷ lean (per server CPU-s)", justify="right")
    for lean, ours in rows:
        grid.add_row(
            "checked" if lean.server == http.LEAN else "unchecked",
            str(lean.workers),
            str(lean.batch),
            f"{lean.credentials_per_second:,.0f}",
            f"{lean.per_server_cpu_second:,.0f}",
            f"{lean.result.percentile(0.99):.1f}",
            str(lean.result.errors),
            f"{ours.per_server_cpu_second / lean.per_server_cpu_second:.2f}×"
            if ours and lean.per_server_cpu_second
            else "",
        )
    console.print(grid)


def print_targets(console: Console, figures: http.HttpFigures) -> None:
    """The issue's SQLite targets beside what each SQLite setup reached.

    "Per core" is credentials per CPU-second of the server's processes: the wall rate divided by the
    workers would blame the server for the cores the load generator takes.
    """
    for m in figures.measurements:
        if m.server != "granian" or m.database != "sqlite" or m.endpoint == "/ping":
            continue
        per_core, p99 = m.per_server_cpu_second, m.result.percentile(0.99)
        if m.batch == 1:
            met = per_core >= ISSUE_TARGET_PER_CORE and p99 < ISSUE_TARGET_P99_MS
            wanted = f"≥ {ISSUE_TARGET_PER_CORE:,}/s per core, p99 < {ISSUE_TARGET_P99_MS:.0f} ms"
            reached = f"{per_core:,.0f} per server CPU-second, p99 {p99:.0f} ms"
        else:
            met = m.credentials_per_second >= BATCH_TARGET
            wanted = f"≥ {BATCH_TARGET:,}/s"
            reached = f"{m.credentials_per_second:,.0f}/s ({per_core:,.0f} per server CPU-second)"
        mark = "[green]met[/]" if met else "[red]not met[/]"
        console.print(
            f"target, SQLite, {m.workers} worker{'s' * (m.workers > 1)}, batch {m.batch}: "
            f"{wanted} — {reached}: {mark}"
        )


if __name__ == "__main__":
    main()
