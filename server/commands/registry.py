"""`cancuoc-server seed` and `cancuoc-server import`: fill the registries with synthetic or real records."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from server.commands import DatabaseUrl, DataDir

if TYPE_CHECKING:
    from server.services.registry import Advance, LineError, LoadReport, RegistryEntry

T = TypeVar("T")
PROGRESS_FROM = 1000
"""Show progress bars (on stderr) from this many citizens or lines on."""
SHOWN_ERRORS = 20


def seed(
    citizens: Annotated[int, typer.Option("--citizens", min=1, max=1_000_000, help="How many citizens.")],
    random_seed: Annotated[int, typer.Option("--seed", help="Same seed, same citizens.")] = 0,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print [{citizen_id, full_name, has_health_card, has_social_book}]."),
    ] = False,
) -> None:
    """Add realistic synthetic citizens with health insurance cards and social insurance books.

    The same seed gives the same citizens; those already registered are left as they are.

    Example: cancuoc-server seed --citizens 1000 --seed 42 --json
    """
    from server.cli import config_from, open_context
    from server.services.registry import load_entries, synthetic_registry

    config = config_from(data_dir=data_dir, database_url=database_url)

    async def run() -> tuple[list[RegistryEntry], LoadReport]:
        async with open_context(config) as context:
            with progress_bars(citizens) as task:
                today = context.clock().date()
                entries = synthetic_registry(citizens, random_seed, today=today, advance=task("generating"))
                numbered = list(enumerate(entries, start=1))
                report = await load_entries(context, numbered, skip_existing=True, advance=task("saving"))
        return entries, report

    entries, report = run_database(run())
    if report.skipped:
        typer.echo(
            f"{report.skipped} of these citizens were already registered and were left as they are", err=True
        )
    if as_json:
        typer.echo(json.dumps([_summary(entry) for entry in entries], ensure_ascii=False))
        return
    typer.echo(f"seeded {report.loaded} new citizens from seed {random_seed}; {_totals(report)}")


def import_records(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, readable=True, help="JSON Lines, one citizen a line."),
    ],
    skip_existing: Annotated[
        bool, typer.Option("--skip-existing", help="Leave citizens already registered as they are.")
    ] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"loaded", "skipped"} or {"errors", "error_count"}.')
    ] = False,
) -> None:
    """Load citizens and their VSS records from a JSON Lines file: all of them, or none if any is bad.

    One JSON object a line, with the records of one citizen by credential type:
      identity          required: citizen_id, full_name, birth_date, sex, place_of_origin,
                        place_of_residence (ward, province, street_address), issue_date, portrait
      health_insurance  optional: the health insurance card of the same citizen_id
      social_insurance  optional: the social insurance book of the same citizen_id

    Every line is checked first; a bad one is reported as FILE:LINE: field: rule and then nothing is
    loaded. Citizens already registered are refused unless --skip-existing.

    Example line (a single line in the file):
      {"identity": {"citizen_id": "001190123456", "full_name": "Trần Thị Bích Ngọc",
      "birth_date": "1990-05-17", "sex": "female", "place_of_origin": "Xã Đông Sơn, Tỉnh Thanh Hóa",
      "place_of_residence": {"ward": "Phường Hoàn Kiếm", "province": "Thành phố Hà Nội"},
      "issue_date": "2024-07-01"}}

    Example: cancuoc-server import citizens.jsonl --data-dir ./data
    """
    from server.cli import config_from, open_context
    from server.services.registry import RegistryRejectedError, load_entries, read_entries

    config = config_from(data_dir=data_dir, database_url=database_url)
    lines = file.read_bytes().splitlines()

    async def run() -> LoadReport:
        async with open_context(config) as context:
            with progress_bars(len(lines)) as task:
                entries, errors = read_entries(lines, today=context.clock().date(), advance=task("checking"))
                if errors:
                    raise RegistryRejectedError(errors)
                return await load_entries(
                    context, entries, skip_existing=skip_existing, advance=task("loading")
                )

    try:
        report = run_database(run())
    except RegistryRejectedError as exc:
        _report_rejected(file, exc.errors, as_json)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps({"loaded": report.loaded, "skipped": report.skipped}))
        return
    skipped = f" ({report.skipped} already registered, skipped)" if report.skipped else ""
    typer.echo(f"loaded {report.loaded} citizens from {file}{skipped}; {_totals(report)}")


def _report_rejected(file: Path, errors: Sequence[LineError], as_json: bool) -> None:
    for error in errors[:SHOWN_ERRORS]:
        typer.echo(f"{file}:{error.line}: {error.field}: {error.rule}", err=True)
    more = f" (first {SHOWN_ERRORS} shown)" if len(errors) > SHOWN_ERRORS else ""
    typer.echo(f"{len(errors)} line(s) refused{more}; nothing was loaded", err=True)
    if as_json:
        shown = [{"line": e.line, "field": e.field, "rule": e.rule} for e in errors[:SHOWN_ERRORS]]
        typer.echo(json.dumps({"loaded": 0, "errors": shown, "error_count": len(errors)}, ensure_ascii=False))


def _totals(report: LoadReport) -> str:
    totals = report.totals
    return (
        f"the registries now hold {totals['identity']} citizens, {totals['health_insurance']} health"
        f" insurance cards and {totals['social_insurance']} social insurance books"
    )


def _summary(entry: RegistryEntry) -> dict[str, Any]:
    return {
        "citizen_id": entry.citizen_id,
        "full_name": entry.identity.full_name,
        "has_health_card": entry.health_insurance is not None,
        "has_social_book": entry.social_insurance is not None,
    }


@contextmanager
def progress_bars(total: int) -> Iterator[Callable[[str], Advance]]:
    """Yields ``task(description)`` → an ``advance(n)`` for a new bar of ``total`` steps, shown on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), disable=total < PROGRESS_FROM) as progress:

        def task(description: str) -> Advance:
            task_id = progress.add_task(description, total=total)
            return lambda steps: progress.advance(task_id, steps)

        yield task


def run_database(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's database work; a database failure is one line and exit 3 (1 for a refused record)."""
    from sqlalchemy.exc import IntegrityError, SQLAlchemyError

    from server.store.database import DatabaseUnavailableError

    try:
        return asyncio.run(coroutine)
    except DatabaseUnavailableError as exc:
        typer.echo(f"error: the database is unreachable ({exc}); nothing was loaded", err=True)
        raise typer.Exit(3) from None
    except IntegrityError as exc:
        typer.echo(f"error: the database refused a record ({exc.orig}); nothing was loaded", err=True)
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        typer.echo(f"error: database failure ({exc.__class__.__name__}); nothing was loaded", err=True)
        raise typer.Exit(3) from None
