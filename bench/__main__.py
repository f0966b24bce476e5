"""`make bench`: throughput figures, each as a ratio to a baseline measured in the same run."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from bench import core


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement (default 3)")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args()
    figures = core.measure(args.seconds)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    console = Console(width=120)
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


if __name__ == "__main__":
    main()
