"""The `cancuoc` console script: process-wide settings, then the command line (`client.cli`)."""

from __future__ import annotations

import gc

GC_THRESHOLDS = (50_000, 20, 20)
"""Starting a command allocates tens of thousands of objects that live as long as the process (modules,
classes, Typer's tree); at the default 700 allocations per young collection the collector walks them over and
over, some 7 ms of a `verifier check` that takes about 110. Cycles are still collected, less often."""


def main() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    from client.cli import main as run_cli

    run_cli()
