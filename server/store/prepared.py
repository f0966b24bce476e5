"""Hot statements on SQLite run as compiled SQL on the driver's cursor, past SQLAlchemy's execution layer.

A statement built once at import is marked with `prepared`; on SQLite, `Database` then compiles it once
per parameter-key set (SQLAlchemy's own compiler, bind and result processors, so stored values are the
same bytes as through the engine) and runs it with ``cursor.execute`` / ``executemany``: about 5 µs
instead of about 45 µs a statement. What the fast path does not cover (defaults filled in at execution,
literal-execute parameters, RETURNING over many rows) runs through SQLAlchemy as before; PostgreSQL
always does.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

S = TypeVar("S")
_POSTCOMPILE = "__[POSTCOMPILE_{}]"
_PREPARED: dict[int, Prepared] = {}
_SHARED_PROCESSORS: dict[Any, Callable[[Any], Any]] = {}


def prepared(statement: S) -> S:
    """Mark a statement built once (module level) to run on SQLite's cursor directly; returns it unchanged."""
    _PREPARED[id(statement)] = Prepared(statement)
    return statement


def find_prepared(statement: object) -> Prepared | None:
    return _PREPARED.get(id(statement))


class Rows:
    """The slice of SQLAlchemy's ``Result`` that the store uses, over already fetched rows."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        return self._rows

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def scalars(self) -> list[Any]:
        return [row[0] for row in self._rows]

    def scalar_one_or_none(self) -> Any:
        if len(self._rows) > 1:
            raise ValueError("more than one row where at most one was expected")
        return self._rows[0][0] if self._rows else None


class _Plan:
    """One compilation: SQL, where each positional parameter comes from, its processor, the row maker."""

    __slots__ = ("expanding", "make_row", "result_processors", "slots", "sql")

    def __init__(self, compiled: SQLCompiler, dialect: Dialect) -> None:
        self.sql: str = compiled.string
        processors: Mapping[str, Any] = compiled._bind_processors  # SQLAlchemy's own bind processors
        self.slots: list[tuple[str | None, Any, Callable[[Any], Any] | None]] = []
        self.expanding = {bind.key for bind in compiled.post_compile_params}
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            processor = processors.get(name)
            if processor is not None and isinstance(bind.type, DateTime):
                processor = _shared_datetime_processor(processor)
            if bind.required or bind.callable is not None:
                self.slots.append((bind.key, None, processor))
            else:  # a literal inside the statement, e.g. the 1 of `version + 1`
                value = bind.effective_value
                self.slots.append((None, processor(value) if processor else value, None))
        columns = compiled._result_columns
        self.result_processors = [column[3]._cached_result_processor(dialect, None) for column in columns]
        names = [column[0] for column in columns]
        self.make_row: Any = namedtuple("Row", names, rename=True) if columns else None

    def values(self, parameters: Mapping[str, Any]) -> list[Any]:
        values: list[Any] = []
        for key, constant, processor in self.slots:
            if key is None:
                values.append(constant)
            elif key in self.expanding:
                items = parameters[key]
                values += [processor(item) for item in items] if processor else items
            else:
                value = parameters[key]
                values.append(processor(value) if processor else value)
        return values

    def sql_for(self, parameters: Mapping[str, Any]) -> str:
        sql = self.sql
        for key in self.expanding:
            sql = sql.replace(_POSTCOMPILE.format(key), ", ".join("?" * len(parameters[key])))
        return sql


def _shared_datetime_processor(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """One processor, remembering its last value, for every DATETIME bind it stands for.

    A request binds the same ``now`` in several statements and rows, and SQLite's DATETIME processor
    formats it anew each time (about 1.3 µs). Processors made by the same code from the same values (the
    closure's cells) are the same function, so they share one memory. Values are compared by identity,
    and the last one is held, so that its id cannot go to another object meanwhile.
    """
    try:
        cells = tuple(cell.cell_contents for cell in processor.__closure__ or ())
        key = (processor.__code__, cells)
        shared = _SHARED_PROCESSORS.get(key)
    except (TypeError, ValueError, AttributeError):  # unhashable or empty cells: not shared
        return processor
    if shared is None:
        last: list[tuple[Any, Any]] = [(object(), None)]

        def shared(value: Any) -> Any:
            seen, result = last[0]  # one tuple, replaced whole: a consistent pair in any thread
            if seen is not value:
                result = processor(value)
                last[0] = (value, result)
            return result

        _SHARED_PROCESSORS[key] = shared
    return shared


class Prepared:
    """A marked statement and its compilations for SQLite, by the keys of the parameters it is given."""

    __slots__ = ("_plans", "statement")

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, ...], _Plan | None] = {}

    def plan(self, dialect: Dialect, keys: tuple[str, ...]) -> _Plan | None:
        """The compilation for these parameter keys; None when only SQLAlchemy can run it."""
        try:
            return self._plans[keys]
        except KeyError:
            pass
        compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
        plan: _Plan | None = _Plan(compiled, dialect)
        if (
            compiled.insert_prefetch
            or compiled.update_prefetch
            or compiled.literal_execute_params
            or any(bind.key not in keys for bind in compiled.post_compile_params)
            or any(key is not None and key not in keys for key, _, _ in plan.slots)  # type: ignore[union-attr]
        ):
            plan = None
        self._plans[keys] = plan
        return plan

    def run(self, cursor: sqlite3.Cursor, dialect: Dialect, parameters: Any) -> Rows | None:
        """Execute on ``cursor``; None when this call needs SQLAlchemy (the caller then uses it)."""
        kind = type(parameters)
        # Exact types first: the Sequence ABC check costs more than the rest of the dispatch.
        many = (
            kind is list
            or kind is tuple
            or (
                kind is not dict
                and isinstance(parameters, Sequence)
                and not isinstance(parameters, str | bytes)
            )
        )
        first = parameters[0] if many and parameters else parameters
        plan = self.plan(dialect, tuple(first or ()))
        if plan is None or (many and (plan.make_row is not None or plan.expanding)):
            return None
        sql = plan.sql_for(first or {})
        try:
            if many:
                cursor.executemany(sql, [plan.values(p) for p in parameters])
                return Rows([], cursor.rowcount)
            cursor.execute(sql, plan.values(first or {}))
            fetched = cursor.fetchall() if plan.make_row is not None else []
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, parameters, exc, sqlite3.Error) from exc
        if plan.make_row is None:
            return Rows([], cursor.rowcount)
        processors, make = plan.result_processors, plan.make_row
        rows = [make(*[p(v) if p else v for p, v in zip(processors, raw, strict=True)]) for raw in fetched]
        return Rows(rows, cursor.rowcount)
