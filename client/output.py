"""The client's one output sink: human text through rich, or JSON for scripts."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def step(text: str) -> None:
    """One line of a story told to a person."""
    console.print(f"[bold cyan]›[/] {text}")


def ok(text: str) -> None:
    console.print(f"  [bold green]✔[/] {text}")


def fail(text: str) -> None:
    console.print(f"  [bold red]✘[/] {text}")


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A titled table of plain values."""
    grid = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*(str(cell) for cell in row))
    console.print(grid)


def json(value: Any) -> None:
    """Machine-readable output on stdout, one JSON document."""
    sys.stdout.write(msgspec.json.encode(value).decode() + "\n")


def plain(text: str, *, err: bool = False) -> None:
    """Text exactly as given (no markup, never wrapped): URIs, QR codes, identifiers to copy."""
    (errors if err else console).print(text, markup=False, highlight=False, emoji=False, soft_wrap=True)


def error(message: str, hint: str | None = None) -> None:
    """One readable line on stderr, and an optional hint."""
    errors.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    if hint:
        errors.print(f"[dim]hint: {escape(hint)}[/]", soft_wrap=True)
